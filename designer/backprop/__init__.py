"""The backprop tools in the window: the stepper, the gradient check, the learning-rate
finder and the initialisation preview, in the Train menu and each node's context menu.

`install_backprop_tools(window)` adds the actions and the two docks (Stepper, Initialisation)
and returns the object that owns their slots. The tools run on the graph on the canvas with
the weights `weights_source()` gives (the selected run's), or fresh ones.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDockWidget, QMenu

from ..training.states import TRAINED
from .context import ContextError, ToolContext, WeightsSource, build_context
from .gradcheck_dialog import GradientCheckDialog
from .init_preview import InitPreview
from .lr_finder_dialog import LRFinderDialog
from .stepper import StepperPanel

if TYPE_CHECKING:
    from ..main_window import MainWindow

TOOL_ACTIONS = ("stepper", "gradient_check", "lr_finder", "init_preview")

__all__ = ["BackpropTools", "ContextError", "ToolContext", "install_backprop_tools"]


class BackpropTools(QObject):
    def __init__(self, window: MainWindow, weights_source: WeightsSource | None = None):
        super().__init__(window)
        self.window = window
        self.weights_source = weights_source
        self.stepper = StepperPanel(window.view.scene(), self.context)
        self.stepper_dock = window.add_dock("stepper", "Stepper", self.stepper,
                                            Qt.DockWidgetArea.RightDockWidgetArea)
        self.init_preview = InitPreview(self.fresh_context)
        self.init_dock = window.add_dock("init_preview", "Initialisation", self.init_preview,
                                         Qt.DockWidgetArea.BottomDockWidgetArea)
        window.tabifyDockWidget(window.inspector_dock, self.stepper_dock)
        for dock in (self.stepper_dock, self.init_dock):
            dock.hide()
            window.view_menu.addAction(dock.toggleViewAction())
        self.init_dock.visibilityChanged.connect(
            lambda shown: self.init_preview.schedule() if shown else None)
        doc = window.document
        for signal in (doc.analysis_changed, doc.training_changed, doc.graph_reset):
            signal.connect(self._graph_changed)
        self.dialog = None
        a = window.add_action
        a("stepper", "Step Through a &Sample…", self.show_stepper, "Ctrl+Shift+T", None,
          "Follow one sample forward and its error backward, node by node")
        a("gradient_check", "&Gradient Check…", lambda: self.gradient_check(None), None, None,
          "Compare backprop's gradients with numerical ones")
        a("lr_finder", "Find &Learning Rate…", self.find_learning_rate, None, None,
          "Sweep the learning rate and suggest one")
        a("init_preview", "&Initialisation Preview", self.show_init_preview, None, None,
          "Activations and gradients at initialisation, before training")
        self._add_to_train_menu()
        window.view.node_menu_hooks.append(self._node_menu)
        dashboard = getattr(window, "dashboard", None)
        if dashboard is not None:  # a test sample clicked in the confusion matrix
            dashboard.sample_chosen.connect(self.stepper.choose_test_sample)
        controller = getattr(window, "training", None)
        if controller is not None:
            controller.state_changed.connect(lambda _state: self._enable(controller))
            self._enable(controller)

    def _enable(self, controller) -> None:
        """The tools work on a still graph: not while a run is going."""
        busy = controller.is_active
        for key in TOOL_ACTIONS:
            action = self.window.actions[key]
            action.setEnabled(not busy)
            action.setToolTip("Stop or finish the run first" if busy else action.statusTip())

    # --- contexts --------------------------------------------------------------------------
    def context(self) -> ToolContext:
        return build_context(self.window.document.graph, self.weights_source)

    def fresh_context(self) -> ToolContext:
        return build_context(self.window.document.graph, None)

    # --- menus -----------------------------------------------------------------------------
    def _add_to_train_menu(self) -> None:
        menu = next((a.menu() for a in self.window.menuBar().actions()
                     if a.text().replace("&", "") == "Train" and a.menu()), None)
        if menu is None:
            menu = self.window.menuBar().addMenu("T&rain")
        self.menu = menu
        menu.addSeparator()
        for key in TOOL_ACTIONS:
            menu.addAction(self.window.actions[key])

    def _node_menu(self, menu: QMenu, node_id: str) -> None:
        if not self.window.actions["stepper"].isEnabled():
            return
        menu.addSeparator()
        menu.addAction(f"Step a Sample Through (from {node_id})").triggered.connect(
            self.show_stepper)
        menu.addAction(f"Gradient Check of {node_id}…").triggered.connect(
            lambda: self.gradient_check(node_id))
        menu.addAction("Find Learning Rate…").triggered.connect(self.find_learning_rate)
        menu.addAction("Initialisation Preview").triggered.connect(self.show_init_preview)

    # --- tools -----------------------------------------------------------------------------
    def show_stepper(self) -> None:
        self.stepper_dock.show()
        self.stepper_dock.raise_()
        self.stepper.setFocus()

    def show_init_preview(self) -> None:
        plots_dock = self.window.findChild(QDockWidget, "plots_dock")
        if plots_dock is not None and plots_dock.isVisible() and not self.init_dock.isVisible():
            self.window.tabifyDockWidget(plots_dock, self.init_dock)  # full width, as a tab
        self.init_dock.show()
        self.init_dock.raise_()
        self.init_preview.schedule()

    def gradient_check(self, node_id: str | None) -> GradientCheckDialog:
        self.dialog = GradientCheckDialog(self.context, node_id, self.window)
        self.dialog.show()
        return self.dialog

    def find_learning_rate(self) -> LRFinderDialog:
        self.dialog = LRFinderDialog(self.context, self.set_learning_rate, self.window)
        self.dialog.show()
        return self.dialog

    def set_learning_rate(self, rate: float) -> bool:
        """Write `rate` into the training block's optimizer: one undoable edit."""
        doc = self.window.document
        training = dict(doc.graph.training or {})
        optimizer = dict(training.get("optimizer") or {"type": "adam"})
        optimizer["learning_rate"] = rate
        training["optimizer"] = optimizer
        return doc.set_training(training)

    def _graph_changed(self) -> None:
        if self.init_dock.isVisible():
            self.init_preview.schedule()
        self.stepper.overlay.clear()


def controller_weights(window: MainWindow) -> WeightsSource:
    """The weights the training controller holds for this graph (those of the run shown in
    the Runs panel, or loaded ones), read without waiting for a training process; None when
    it holds none that fit the graph on the canvas."""
    def source() -> tuple[dict, str] | None:
        controller = getattr(window, "training", None)
        if controller is None or not controller.has_weights:
            return None
        origin = controller.weights_source
        runs = getattr(window, "runs", None)
        shown = runs.store.shown if runs is not None else None
        if shown is not None and runs.stale() is None:
            name = f"the weights of run “{shown.name}”"
        elif origin == TRAINED:
            name = "the trained weights"
        else:
            name = f"the weights from {origin}"
        return controller.current_weights(), name
    return source


def install_backprop_tools(window: MainWindow, weights_source: WeightsSource | None = None
                           ) -> BackpropTools:
    return BackpropTools(window, weights_source or controller_weights(window))
