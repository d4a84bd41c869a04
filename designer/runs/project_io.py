"""Project files from the window: File ▸ Open reads graphs, model bundles and projects
alike; Save keeps the runs with the graph when the user wants them (one .zip, see
`nnengine.project`), or saves the graph alone.

Plugged into `files.FileController` as its `projects` (the `files.Projects` protocol).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox, QWidget

from nnengine import Analysis, Graph
from nnengine.project import Project, is_project, load_project, save_project

from ..files import SaveCancelled
from .record import Run
from .store import RunStore

if TYPE_CHECKING:
    from ..document import GraphDocument

PROJECT_SUFFIX = ".zip"


class ProjectFiles:
    def __init__(self, document: GraphDocument, store: RunStore, window: QWidget):
        self.document = document
        self.store = store
        self.window = window

    def unsaved_runs(self) -> int:
        return len(self.store.unsaved)

    # --- opening --------------------------------------------------------------------------
    def reads(self, path: Path) -> bool:
        """A .zip (project or model bundle) opens with its runs."""
        return path.suffix.lower() == PROJECT_SUFFIX or is_project(path)

    def read(self, path: Path) -> tuple[Project, list[Run]]:
        """The project and its runs (plain data: this runs off the GUI thread); raises
        before the document changes."""
        project = load_project(path)
        return project, [Run.from_project(r) for r in project.runs]

    def graph_of(self, found: tuple[Project, list[Run]]) -> Graph:
        return found[0].graph

    def apply(self, path: Path, found: tuple[Project, list[Run]], analysis: Analysis) -> None:
        project, runs = found
        self.document.new(project.graph, analysis)
        self.document.set_path(path)
        if project.is_bundle:
            for run in runs:
                run.name = f"from {path.name}"
        shown = next((r for r in runs if r.id == project.selected), None)
        self.store.reset(runs, shown)

    # --- saving ---------------------------------------------------------------------------
    def save(self, path: Path, keep_runs: bool | None) -> Path | None:
        """The project file written (beside `path`, as .zip), or None: save the graph only."""
        is_zip = path.suffix.lower() == PROJECT_SUFFIX
        if not self.store.runs and not is_zip:
            return None
        if keep_runs is None:
            keep_runs = True if is_zip else self._ask_keep()
        if not keep_runs:
            if not is_zip:
                return None
            path = path.with_suffix(".json")   # a graph alone is a graph file
            self.document.save(path)
            return path
        target = path if is_zip else path.with_suffix(PROJECT_SUFFIX)
        shown = self.store.shown
        save_project(target, Project(self.document.graph,
                                     [r.to_project() for r in self.store.runs],
                                     shown.id if shown is not None else None))
        self.store.mark_saved()
        if target != self.document.path:
            self.document.set_path(target)
        self.document.undo_stack.setClean()
        return target

    def _ask_keep(self) -> bool:
        n = len(self.store.runs)
        box = QMessageBox.question(
            self.window, "Keep the runs?",
            f"This graph has {n} run{'s' * (n != 1)} with trained weights and curves. Save "
            f"them with it in a project file (.zip)? A graph file (.json) holds the graph "
            "alone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Yes)
        if box == QMessageBox.StandardButton.Cancel:
            raise SaveCancelled
        return box == QMessageBox.StandardButton.Yes
