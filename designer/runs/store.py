"""RunStore: the current document's runs, in the order they were made, and which one the
plots show.

Runs belong to the document: New, Open and a template replace them all (`reset`), so the
window never shows another document's results. Deleting and renaming go through undo
commands (commands.py) that call `remove` / `insert` / `rename` here. `unsaved` counts the
runs whose weights exist nowhere but in memory (quitting, New and Open ask first).
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from .record import Run


class RunStore(QObject):
    changed = Signal()              # runs added, removed, renamed or reset
    shown_changed = Signal(object)  # the Run the plots show now, or None

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.runs: list[Run] = []
        self.shown: Run | None = None
        self._counter = 0

    def __len__(self) -> int:
        return len(self.runs)

    def get(self, run_id: str | None) -> Run | None:
        return next((r for r in self.runs if r.id == run_id), None)

    def new_id(self) -> str:
        """A fresh id ("run-7") and the default name that goes with it ("run 7")."""
        taken = {r.id for r in self.runs}
        while True:
            self._counter += 1
            if f"run-{self._counter}" not in taken:
                return f"run-{self._counter}"

    @property
    def unsaved(self) -> list[Run]:
        return [r for r in self.runs if not r.saved]

    # --- changes ------------------------------------------------------------------------
    def reset(self, runs: list[Run] | None = None, shown: Run | None = None) -> None:
        self.runs = list(runs or [])
        self._counter = max([_number(r.id) for r in self.runs] + [0])
        self.changed.emit()
        self.show(shown)

    def add(self, run: Run) -> None:
        """A new run (or a diverged run that went on: the same id replaces it)."""
        old = self.get(run.id)
        if old is not None:
            self.runs[self.runs.index(old)] = run
        else:
            self.runs.append(run)
        self.changed.emit()
        self.show(run)

    def insert(self, index: int, run: Run) -> None:
        self.runs.insert(min(index, len(self.runs)), run)
        self.changed.emit()

    def remove(self, run_id: str) -> tuple[int, Run] | None:
        run = self.get(run_id)
        if run is None:
            return None
        index = self.runs.index(run)
        self.runs.remove(run)
        self.changed.emit()
        if self.shown is run:
            self.show(None)
        return index, run

    def rename(self, run_id: str, name: str) -> None:
        run = self.get(run_id)
        if run is not None and name and name != run.name:
            run.name = name
            run.saved = False
            self.changed.emit()

    def show(self, run: Run | None) -> None:
        if run is not self.shown:
            self.shown = run
            self.shown_changed.emit(run)

    def mark_saved(self) -> None:
        for r in self.runs:
            r.saved = True
        self.changed.emit()


def _number(run_id: str) -> int:
    tail = run_id.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0
