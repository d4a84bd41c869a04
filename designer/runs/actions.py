"""Runs in the main window: the Runs panel (bottom, left of the plots), the "Compare runs"
tab of the plots, the "earlier version" banner above the canvas, project files in File ▸
Open and Save, and the rules that keep results true to the graph on screen:

- every run of the controller becomes a record in the document's store (recorder.py) and
  is shown; selecting another shows that one;
- New, Open and a template replace the runs (none, or the file's), so no other document's
  results are ever shown;
- a structural edit leaves the shown run and its weights alone and raises the banner;
  undo back to its structure makes it current again; "go back" undoes to that version when
  the undo history holds it, or restores the run's graph as one undoable edit;
- Evaluate, Predict and the exports refuse, saying why, while the shown run does not fit.

`install_runs(window)` adds the dock, tab and banner; the window keeps it as `window.runs`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from nnengine.run_card import graph_sha256

from ..commands import AddNodes, Macro, RemoveItems
from ..training.states import TRAINED, TrainingState
from .banner import VersionBanner
from .commands import DeleteRun, RenameRun
from .overlay import OverlayPlot
from .panel import RunsPanel
from .project_io import ProjectFiles
from .record import Run
from .recorder import RunRecorder
from .store import RunStore

if TYPE_CHECKING:
    from ..main_window import MainWindow

COMPARE_TAB = "Compare runs"


class RunsActions(QObject):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.document = doc = window.document
        self.controller = c = window.training
        self.store = RunStore(self)
        self.recorder = RunRecorder(c, self.store, self)
        self.panel = RunsPanel()
        self.dock = window.add_dock("runs", "Runs", self.panel,
                                    Qt.DockWidgetArea.BottomDockWidgetArea)
        window.splitDockWidget(self.dock, window.plots_dock, Qt.Orientation.Horizontal)
        window.view_menu.addAction(self.dock.toggleViewAction())
        self.overlay = OverlayPlot()
        window.dashboard.tabs.addTab(self.overlay, COMPARE_TAB)
        self._set_compare_visible(False)
        self.banner = VersionBanner()
        self._wrap_canvas()
        window.files.projects = ProjectFiles(doc, self.store, window)
        self._hash_at: dict[int, str] = {}
        self._keep_weights = False   # the run shown is dropped, the controller's weights stay
        self._sha = graph_sha256(doc.graph)
        self._hash_at[doc.undo_stack.index()] = self._sha
        # signals
        doc.graph_reset.connect(self._document_replaced)
        # (the document's signal, not the undo stack's indexChanged: the stack is destroyed
        # before this object when the window closes, and still signals while it goes)
        doc.analysis_changed.connect(self._graph_edited)
        doc.only_moved.connect(self._remember_hash)   # a move keeps the structure
        self.store.changed.connect(self._refresh)
        self.store.shown_changed.connect(self._shown_changed)
        c.state_changed.connect(self._state_changed)
        c.run_started.connect(self._weights_changed)
        doc.clean_changed.connect(lambda _clean: self._mark_title())
        p = self.panel
        p.run_chosen.connect(self.show)
        p.ticks_changed.connect(self._ticks_changed)
        p.rename_requested.connect(self.rename)
        p.delete_requested.connect(self.delete)
        p.export_requested.connect(self.export)
        p.go_back_requested.connect(self.go_back)
        self.banner.go_back.connect(lambda: self.store.shown and self.go_back(
            self.store.shown.id))
        self.banner.train.connect(lambda: window.actions["train"].trigger())
        self._refresh()

    def _wrap_canvas(self) -> None:
        """The banner above the canvas (the canvas stays the window's view)."""
        w = self.window
        view = w.takeCentralWidget()
        holder = QWidget()
        col = QVBoxLayout(holder)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        col.addWidget(self.banner)
        col.addWidget(view, 1)
        w.setCentralWidget(holder)

    # --- what is current --------------------------------------------------------------------
    def stale(self) -> Run | None:
        """The shown run when its weights do not fit the graph on the canvas."""
        shown = self.store.shown
        return shown if shown is not None and shown.sha != self._sha else None

    def refusal(self) -> str | None:
        """Why Evaluate, Predict and the exports cannot use the shown run now (None: they
        can)."""
        run = self.stale()
        if run is None:
            return None
        return (f"“{run.name}” was trained on an earlier version of this graph, so its weights "
                "do not fit the graph on the canvas. Go back to that version (the button above "
                "the canvas), export the run as trained from the Runs panel, or train again.")

    def _document_replaced(self) -> None:
        """New, Open, a template: the runs of the new document (none until a project's are
        put in)."""
        c = self.controller
        if c.is_active:
            self.recorder.forget()
            c.shutdown()
        # The analysis of the new graph follows at once: `_graph_edited` hashes it then.
        self._hash_at = {}
        self.store.reset([])
        c.clear_run()

    def _graph_edited(self) -> None:
        self._sha = graph_sha256(self.document.graph)
        self._remember_hash()
        shown = self.store.shown
        c = self.controller
        if shown is not None and shown.sha == self._sha and not c.is_active \
                and not c.has_weights:
            c.show_run(shown)   # back to its structure: its weights are current again
        self._refresh()

    def _remember_hash(self) -> None:
        """The graph at this undo index has the structure hashed last."""
        stack = self.document.undo_stack
        self._hash_at = {i: h for i, h in self._hash_at.items() if i <= stack.count()}
        self._hash_at[stack.index()] = self._sha

    def _weights_changed(self) -> None:
        """Weights loaded from a file or imported are no run's: the plots show them, and
        the run shown before no longer speaks for the controller's weights."""
        c = self.controller
        if c.weights_source not in (None, TRAINED) and self.store.shown is not None:
            self._keep_weights = True
            try:
                self.store.show(None)
            finally:
                self._keep_weights = False

    def _mark_title(self) -> None:
        """The window's unsaved mark also counts runs saved nowhere yet."""
        self.window.setWindowModified(self.document.is_modified or bool(self.store.unsaved))

    def _refresh(self) -> None:
        self._mark_title()
        self.panel.set_runs(self.store.runs, self.store.shown, self._sha)
        stale = self.stale()
        if stale is not None and not self.controller.is_active:
            self.banner.show_for(stale.name)
        else:
            self.banner.hide()
        self._ticks_changed(self.panel.ticked())

    # --- showing ----------------------------------------------------------------------------
    def show(self, run_id: str) -> None:
        run = self.store.get(run_id)
        if run is None or run is self.store.shown:
            return
        if self.controller.is_active:
            self.window.show_message("Training runs: the plots show it until it ends")
            self._refresh()
            return
        self.store.show(run)

    def _shown_changed(self, run: Run | None) -> None:
        c = self.controller
        if run is None:
            if not c.is_active and not self._keep_weights:
                c.clear_run()
        elif run is self.recorder.last:
            self.recorder.last = None   # just recorded: the controller holds it already
        else:
            c.show_run(run)
        self._refresh()

    def _state_changed(self, state: str) -> None:
        if state == TrainingState.STARTING:
            self.store.show(None)   # the plots follow the new run
        self._refresh()

    def _ticks_changed(self, ids: list[str]) -> None:
        runs = [r for r in self.store.runs if r.id in ids]
        if [r.id for r in runs] != [r.id for r in self.overlay.runs] or \
                [r.name for r in runs] != self.overlay.legend_names():
            self.overlay.set_runs(runs)
        shown = len(runs) >= 2
        was = self._compare_visible()
        self._set_compare_visible(shown)
        if shown and not was:
            self.window.dashboard.tabs.setCurrentWidget(self.overlay)
            self.window.plots_dock.show()

    def _compare_index(self) -> int:
        return self.window.dashboard.tabs.indexOf(self.overlay)

    def _compare_visible(self) -> bool:
        return self.window.dashboard.tabs.isTabVisible(self._compare_index())

    def _set_compare_visible(self, visible: bool) -> None:
        self.window.dashboard.tabs.setTabVisible(self._compare_index(), visible)

    # --- editing the list -------------------------------------------------------------------
    def rename(self, run_id: str, name: str) -> None:
        run = self.store.get(run_id)
        if run is not None and name and name != run.name:
            self.document.undo_stack.push(RenameRun(self.store, run, name))
        elif run is not None and not name:
            self._refresh()   # an empty name puts the old one back

    def delete(self, run_id: str) -> None:
        run = self.store.get(run_id)
        if run is not None:
            self.document.undo_stack.push(DeleteRun(self.store, run))
            self.window.show_message(f"Deleted “{run.name}” (Edit ▸ Undo brings it back)")

    def export(self, run_id: str, kind: str) -> None:
        run = self.store.get(run_id)
        if run is not None:
            self.window.model_io.export_run(run, kind)

    # --- going back -------------------------------------------------------------------------
    def go_back(self, run_id: str) -> bool:
        """Make the graph on the canvas the one `run` was trained on: undo to it when the
        undo history holds it (Redo comes back), else replace the graph by the run's as one
        undoable edit (positions of the nodes still there are kept)."""
        run = self.store.get(run_id)
        if run is None:
            return False
        if self.controller.is_active:
            self.window.show_message("Stop training first")
            return False
        stack = self.document.undo_stack
        here = stack.index()
        if self._sha != run.sha:
            candidates = sorted((i for i, h in self._hash_at.items()
                                 if h == run.sha and i <= stack.count()),
                                key=lambda i: (abs(i - here), -i))
            for i in candidates:
                stack.setIndex(i)
                if self._sha == run.sha:
                    break
            else:
                stack.setIndex(here)
                stack.push(self._restore_command(run))
        self.store.show(run)
        if not self.controller.has_weights:
            self.controller.show_run(run)
        self._refresh()
        self.window.show_message(f"The graph is the one “{run.name}” was trained on")
        return self._sha == run.sha

    def _restore_command(self, run: Run) -> Macro:
        doc, g = self.document, run.graph
        nodes = [{"id": n, "type": g.type_of(n), "params": g.params_of(n),
                  "position": doc.graph.node(n).get("position") if n in doc.graph
                  else g.node(n).get("position")} for n in g.node_ids()]
        return Macro(doc, f"Go back to the graph of “{run.name}”",
                     [RemoveItems(doc, doc.graph.node_ids()), AddNodes(doc, nodes, g.edges())])


def install_runs(window: MainWindow) -> RunsActions:
    """Add runs to `window` (after training and File ▸ Export are installed)."""
    return RunsActions(window)
