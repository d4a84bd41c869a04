"""The training side of the main window: the Train menu and tool-bar actions, the training
panel (right, tabbed with the inspector) and the plots (bottom), and what comes after
training (evaluate, predict, export and load weights).

`install_training(window)` sets `window.training` (the controller), `window.training_panel`,
`window.dashboard`, `window.training_dock` and `window.plots_dock`, and adds its actions to
`window.actions`. Selecting a node brings up its plots; clicking an alarm about a layer
selects that layer.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QScrollArea, QStyle

from nnengine import NNEngineError

from ..files import read_off_thread, short
from ..model_io import sentence
from ..plots.dashboard import TrainingDashboard
from ..prediction_view import PredictionView
from .controller import TrainingController
from .panel import TrainingPanel
from .states import ACTIVE, TrainingState
from .weights import read_weights

if TYPE_CHECKING:
    from ..main_window import MainWindow

MENU = ("train", "train_on", "pause", "resume", "stop", "step", None, "evaluate", "predict",
        None, "export_weights", "export_bundle", "load_weights")
TOOL_BAR = ("train", "pause", "resume", "stop", "step")
# Disabled while a run is active, with the reason as their tooltip. Exports stay enabled:
# they write the weights the training process last sent, without waiting for it.
IDLE_ONLY = {
    "evaluate": "Stop training first: the window evaluates the weights of a finished run",
    "predict": "Stop training first: the window predicts with the weights of a finished run",
    "load_weights": "Stop training first: loaded weights would replace the ones it learns",
    "train_on": "A run is active: stop it first to train on from its weights",
}


class TrainingActions(QObject):
    """Owns the slots of the training actions; the widgets live on the window."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.controller = TrainingController(window.document, parent=window)
        self.prediction_view: PredictionView | None = None
        self.panel = TrainingPanel(self.controller, window.document)
        self.dashboard = TrainingDashboard(self.controller)
        scroll = QScrollArea()   # the panel's form may be taller than a small window
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.panel)
        self.training_dock = window.add_dock("training", "Training", scroll,
                                             Qt.DockWidgetArea.RightDockWidgetArea)
        self.plots_dock = window.add_dock("plots", "Training plots", self.dashboard,
                                          Qt.DockWidgetArea.BottomDockWidgetArea)
        window.tabifyDockWidget(window.inspector_dock, self.training_dock)
        window.inspector_dock.raise_()
        self._create_actions()
        self._idle_tips = {key: window.actions[key].toolTip() for key in IDLE_ONLY}
        self._create_menu()
        c = self.controller
        c.state_changed.connect(self._state_changed)
        self._state_changed(c.state)
        c.message.connect(window.show_message)
        window.view.selection_changed.connect(
            lambda ids: self.dashboard.show_node(ids[0]) if ids else None)
        self.dashboard.node_chosen.connect(lambda node: window.view.select_nodes([node]))

    # --- actions -------------------------------------------------------------------------
    def _create_actions(self) -> None:
        a, c, p = self.window.add_action, self.controller, self.panel
        a("train", "&Train", p.train, "F5", None,
          "Train: from fresh weights, or on from weights just loaded or imported")
        a("train_on", "Train &On from Current Weights", p.train_on, "Ctrl+F5", None,
          "Continue training from the current weights (trained or loaded)")
        a("pause", "&Pause", c.pause, "F6", None, "Pause training")
        a("resume", "&Resume", c.resume, "F7", None, "Resume training")
        a("stop", "S&top", c.stop, "Shift+F5", None, "Stop training, keeping the weights")
        a("step", "Step One &Batch", p.step, "F10", None, "Train one batch, then pause")
        a("evaluate", "&Evaluate on Test Split", self.guarded(self.evaluate))
        a("predict", "P&redict the Chosen Sample", self.guarded(self.predict))
        a("export_weights", "Export &Weights…", self.guarded(self.export_weights))
        a("export_bundle", "Export Model &Bundle…", self.guarded(self.export_bundle))
        a("load_weights", "&Load Weights…", self.guarded(self.load_weights, needs_fit=False))
        sp, std = QStyle.StandardPixmap, self.window.style().standardIcon
        for key, pixmap in (("train", sp.SP_MediaPlay), ("pause", sp.SP_MediaPause),
                            ("resume", sp.SP_MediaSeekForward), ("stop", sp.SP_MediaStop),
                            ("step", sp.SP_MediaSkipForward)):
            self.window.actions[key].setIcon(std(pixmap))

    def _create_menu(self) -> None:
        w = self.window
        menu = QMenu("T&rain", w)
        for key in MENU:
            menu.addAction(w.actions[key]) if key else menu.addSeparator()
        help_action = next((m for m in w.menuBar().actions() if m.text() == "&Help"), None)
        w.menuBar().insertMenu(help_action, menu)
        self.menu = menu
        w.tool_bar.addSeparator()
        for key in TOOL_BAR:
            w.tool_bar.addAction(w.actions[key])
        for dock in (self.training_dock, self.plots_dock):
            w.view_menu.addAction(dock.toggleViewAction())

    def _state_changed(self, state: str) -> None:
        actions = self.window.actions
        active = state in ACTIVE
        actions["train"].setEnabled(not active)
        actions["pause"].setEnabled(state in (TrainingState.STARTING, TrainingState.RUNNING))
        actions["resume"].setEnabled(state in (TrainingState.PAUSED, TrainingState.DIVERGED))
        actions["stop"].setEnabled(active or state == TrainingState.DIVERGED)
        actions["step"].setEnabled(state not in (TrainingState.STARTING, TrainingState.RUNNING,
                                                 TrainingState.STOPPING))
        for key, why in IDLE_ONLY.items():
            actions[key].setEnabled(not active)
            actions[key].setToolTip(why if active else self._idle_tips[key])
        if state in (TrainingState.STARTING, TrainingState.DIVERGED):
            self.plots_dock.show()

    # --- slots ---------------------------------------------------------------------------
    def guarded(self, fn: Callable[[], None], needs_fit: bool = True
                ) -> Callable[[], None]:
        """`fn` with any failure shown in a message box (the app never crashes on it); with
        `needs_fit`, refused (saying why) while the run shown does not fit the graph."""
        def run() -> None:
            refusal = self.window.runs.refusal() if needs_fit else None
            if refusal:
                QMessageBox.information(self.window, "Training", refusal)
                return
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - show any failure, never crash
                QMessageBox.warning(self.window, "Training", str(e))
        return run

    def ask(self, save: bool, title: str, filt: str) -> str:
        f = QFileDialog.getSaveFileName if save else QFileDialog.getOpenFileName
        return f(self.window, title, "", filt)[0]

    def export_weights(self) -> None:
        path = self.ask(True, "Export weights", "Weights (*.npz)")
        if path:
            self.controller.export_weights(path if path.endswith(".npz") else path + ".npz")

    def export_bundle(self) -> None:
        path = self.ask(True, "Export the model bundle", "Model bundle (*.zip)")
        if path:
            self.controller.export_bundle(path if path.endswith(".zip") else path + ".zip")

    def load_weights(self) -> None:
        name = self.ask(False, "Load weights", "Weights or model bundle (*.npz *.zip)")
        if name:
            self.load_weights_from(Path(name))

    def load_weights_from(self, path: Path) -> bool:
        """Read the file off the GUI thread (progress and Cancel if it takes a while), then
        make its weights current; on failure or Cancel the graph and weights stay as they
        were, and a failure is said in one sentence."""
        try:
            done, weights = read_off_thread(self.window, f"Reading “{short(path.name)}”…",
                                            lambda: read_weights(path))
            if done:
                self.controller.set_weights(weights, source=path.name)
        except (NNEngineError, OSError, ValueError) as e:
            QMessageBox.warning(self.window, "Load Weights",
                                f"“{short(path.name)}” could not be loaded.\n\n"
                                f"{sentence(e, path)}")
            return False
        return done

    def evaluate(self) -> None:
        result = self.controller.evaluate() or {}
        self.window.show_message("test split: " + ", ".join(f"{k} {v:.4g}"
                                                            for k, v in result.items()))

    def predict(self) -> None:
        """Show the chosen sample, its prediction and every class's probability."""
        c = self.controller
        split, index = c.sample or ("test", 0)
        r = c.predict(index, split)
        if self.prediction_view is None:
            self.prediction_view = PredictionView(self.window)
        run = c.run
        self.prediction_view.show_result(split, index, r, list(run.class_names) if run else [],
                                         tuple(np.shape(r["input"])))
        self.prediction_view.show()
        self.prediction_view.raise_()


def install_training(window: MainWindow) -> TrainingActions:
    """Add training to `window` and set the attributes listed in the module's docstring."""
    t = TrainingActions(window)
    window.training, window.training_panel, window.dashboard = \
        t.controller, t.panel, t.dashboard
    window.training_dock, window.plots_dock = t.training_dock, t.plots_dock
    return t
