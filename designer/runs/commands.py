"""Undoable changes to the run list, on the document's undo stack (one Ctrl+Z for all)."""
from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from .record import Run
from .store import RunStore


class DeleteRun(QUndoCommand):
    def __init__(self, store: RunStore, run: Run):
        super().__init__(f"Delete run “{run.name}”")
        self.store = store
        self.run = run
        self.index = store.runs.index(run)

    def redo(self) -> None:
        self.store.remove(self.run.id)

    def undo(self) -> None:
        self.store.insert(self.index, self.run)


class RenameRun(QUndoCommand):
    def __init__(self, store: RunStore, run: Run, name: str):
        super().__init__(f"Rename run “{run.name}” to “{name}”")
        self.store = store
        self.run_id = run.id
        self.old, self.new = run.name, name

    def redo(self) -> None:
        self.store.rename(self.run_id, self.new)

    def undo(self) -> None:
        self.store.rename(self.run_id, self.old)
