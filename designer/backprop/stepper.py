"""The stepper: follow one sample forward through the graph node by node, then its error
backward, with the numbers on the canvas's edges and the computation in a side panel.

Keyboard: Left/Right step, Home/End jump to the first/last event. "Apply one SGD step"
changes the stepper's own copy of the weights (never a run's) and traces again, showing
every weight's change and the sample's new loss.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

import nnengine
from nnengine.tools import BackwardEvent, ForwardEvent, LossEvent, sgd_step, trace
from nnengine.tools.batches import training_setup

from .context import ContextError, ToolContext, ToolJob
from .overlays import StepperOverlay
from .step_text import describe, fmt


class StepperSession:
    """The stepper's data: a working model, one sample, and the events of its trace."""

    def __init__(self, context: ToolContext, split: str, index: int,
                 typed: tuple[str, str] | None = None):
        self.context = context
        self.model, trainer = training_setup(context.model, context.dataset, context.config)
        self.loss = context.config.loss
        if typed is not None:
            self.xs, self.targets = typed_sample(self.model, trainer, *typed)
        else:
            self.xs, self.targets = dataset_sample(trainer, split, index)
        self.events = trace(self.model, self.xs, self.targets, self.loss)

    def apply_sgd(self, learning_rate: float) -> nnengine.tools.SGDStep:
        result = sgd_step(self.model, self.xs, self.targets, self.loss, learning_rate)
        self.events = trace(self.model, self.xs, self.targets, self.loss)
        return result


def dataset_sample(trainer: nnengine.Trainer, split: str, index: int
                   ) -> tuple[list[np.ndarray], np.ndarray]:
    """Sample `index` of the validation split (train when empty) or the test split."""
    if split == "test":
        d = trainer.dataset
        xs = trainer.model.as_inputs(d.x_test)
        n = len(xs[0])
        if n == 0:
            raise ContextError("the data set has no test split")
        i = index % n
        targets = trainer.prepare_targets(trainer.targets(d.x_test, d.y_test), "test")
        return [a[i:i + 1] for a in xs], targets[i:i + 1]
    return trainer.sample(index)


def typed_sample(model: nnengine.Model, trainer: nnengine.Trainer, x_text: str, t_text: str
                 ) -> tuple[list[np.ndarray], np.ndarray]:
    """Values typed as comma-separated numbers for a single small Input, and its target."""
    if len(model.input_ids) != 1:
        raise ContextError("typed values work for a graph with one Input")
    shape = model.shapes[model.input_ids[0]]
    x = parse_numbers(x_text, "input values")
    if x.size != int(np.prod(shape)):
        raise ContextError(f"the input needs {int(np.prod(shape))} values, "
                           f"received {x.size}")
    t = parse_numbers(t_text, "target")
    try:
        targets = trainer.prepare_targets(t.reshape(1, -1) if t.size > 1 else t, "typed")
    except nnengine.NNEngineError as e:
        raise ContextError(str(e)) from None
    return [x.reshape(1, *shape).astype(model.dtype)], targets


def parse_numbers(text: str, what: str) -> np.ndarray:
    parts = [p for p in text.replace(";", ",").split(",") if p.strip()]
    try:
        return np.array([float(p) for p in parts])
    except ValueError:
        raise ContextError(f"the {what} must be numbers separated by commas, "
                           f"received '{text}'") from None


class StepperPanel(QWidget):
    """Dock content. `context_provider()` builds a ToolContext or raises ContextError."""

    position_changed = Signal(int)

    def __init__(self, scene, context_provider: Callable[[], ToolContext],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.scene = scene
        self.context_provider = context_provider
        self.overlay = StepperOverlay(scene)
        self.session: StepperSession | None = None
        self.position = 0
        self.job: ToolJob | None = None
        self._build()
        for key, slot in ((Qt.Key.Key_Right, self.forward), (Qt.Key.Key_Left, self.back),
                          (Qt.Key.Key_Home, self.first), (Qt.Key.Key_End, self.last)):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    # --- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.weights_label = QLabel("Press Start to trace a sample through the graph.")
        self.weights_label.setWordWrap(True)
        layout.addWidget(self.weights_label)
        row = QHBoxLayout()
        self.split_box = QComboBox()
        self.split_box.addItem("validation sample", "val")
        self.split_box.addItem("test sample", "test")
        self.index_box = QSpinBox()
        self.index_box.setRange(0, 10_000_000)
        self.index_box.setToolTip("Which sample of the split")
        row.addWidget(self.split_box)
        row.addWidget(self.index_box)
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Trace the chosen sample with the current weights")
        self.start_button.clicked.connect(self.start)
        row.addWidget(self.start_button)
        layout.addLayout(row)
        typed = QHBoxLayout()
        self.typed_x = QLineEdit()
        self.typed_x.setPlaceholderText("or type input values: 0, 1")
        self.typed_t = QLineEdit()
        self.typed_t.setPlaceholderText("target: 1")
        self.typed_t.setMaximumWidth(90)
        typed.addWidget(self.typed_x, 3)
        typed.addWidget(self.typed_t, 1)
        layout.addLayout(typed)
        nav = QHBoxLayout()
        self.buttons = {}
        icons = QStyle.StandardPixmap
        for key, icon, tip, slot in (
                ("first", icons.SP_MediaSkipBackward, "First event (Home)", self.first),
                ("back", icons.SP_ArrowLeft, "Step back (Left)", self.back),
                ("forward", icons.SP_ArrowRight, "Step on (Right)", self.forward),
                ("last", icons.SP_MediaSkipForward, "Last event (End)", self.last)):
            button = QPushButton()
            button.setIcon(self.style().standardIcon(icon))
            button.setToolTip(tip)
            button.setFixedWidth(40)
            button.clicked.connect(slot)
            nav.addWidget(button)
            self.buttons[key] = button
        self.where_label = QLabel("")
        nav.addWidget(self.where_label, 1)
        layout.addLayout(nav)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        mono = QFont("DejaVu Sans Mono")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSizeF(8.5)
        self.text.setFont(mono)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        layout.addWidget(self.text, 1)
        sgd = QHBoxLayout()
        sgd.addWidget(QLabel("learning rate"))
        self.lr_box = QDoubleSpinBox()
        self.lr_box.setDecimals(4)
        self.lr_box.setRange(0.0001, 10.0)
        self.lr_box.setSingleStep(0.01)
        self.lr_box.setValue(0.1)
        sgd.addWidget(self.lr_box)
        self.sgd_button = QPushButton("Apply One SGD Step")
        self.sgd_button.setToolTip("w ← w − rate·dL/dw on the stepper's copy of the weights")
        self.sgd_button.clicked.connect(self.apply_sgd)
        sgd.addWidget(self.sgd_button, 1)
        layout.addLayout(sgd)
        self._update_controls()

    # --- running ---------------------------------------------------------------------------
    def start(self) -> None:
        """Build the context and the trace off the GUI thread; show the first event."""
        typed = None
        if self.typed_x.text().strip():
            typed = (self.typed_x.text(), self.typed_t.text())
        split, index = self.split_box.currentData(), self.index_box.value()
        try:
            context = self.context_provider()
        except ContextError as e:
            self._say(f"The stepper cannot start: {e}.")
            return
        self.start_button.setEnabled(False)
        self.weights_label.setText(f"Tracing with {context.weights_note}…")
        self.job = ToolJob(lambda progress, cancelled: StepperSession(context, split, index,
                                                                      typed), self)
        self.job.finished.connect(self._started)
        self.job.failed.connect(lambda m: self._say(f"The stepper cannot start: {m}."))
        self.job.start()

    def _started(self, session: StepperSession) -> None:
        self.session = session
        self.start_button.setEnabled(True)
        self.weights_label.setText(f"Weights: {session.context.weights_note}. Loss "
                                   f"{session.loss}.")
        self.show_event(0)

    def _say(self, sentence: str) -> None:
        self.start_button.setEnabled(True)
        self.weights_label.setText(sentence)

    def choose_test_sample(self, index: int) -> None:
        """A test sample picked elsewhere (the confusion matrix): trace it if the stepper
        is open, else remember it for Start."""
        self.split_box.setCurrentIndex(self.split_box.findData("test"))
        self.index_box.setValue(index)
        self.typed_x.clear()
        if self.isVisible():
            self.start()

    def start_with(self, session: StepperSession) -> None:
        """Show an already built session (tests, and a sample picked elsewhere)."""
        self._started(session)

    # --- moving ----------------------------------------------------------------------------
    def forward(self) -> None:
        self.show_event(self.position + 1)

    def back(self) -> None:
        self.show_event(self.position - 1)

    def first(self) -> None:
        self.show_event(0)

    def last(self) -> None:
        if self.session is not None:
            self.show_event(len(self.session.events) - 1)

    def show_event(self, position: int) -> None:
        if self.session is None:
            return
        events = self.session.events
        self.position = max(0, min(position, len(events) - 1))
        event = events[self.position]
        config = {}
        node_id = getattr(event, "node_id", None)
        if node_id is not None:
            config = self.session.model.steps[self.session.model.step_index[node_id]].layer.config
        self.text.setPlainText(describe(event, config))
        backward = isinstance(event, BackwardEvent)
        ring = node_id if node_id is not None else self.session.model.output_id
        self.overlay.show(ring, backward, self.edge_values())
        self.where_label.setText(self.where_text(event))
        self._update_controls()
        self.position_changed.emit(self.position)

    def where_text(self, event) -> str:
        events = self.session.events
        n_forward = sum(isinstance(e, ForwardEvent) for e in events)
        if isinstance(event, ForwardEvent):
            return f"forward {self.position + 1}/{n_forward}: {event.node_id}"
        if isinstance(event, LossEvent):
            return f"loss {fmt(event.value)}"
        done = self.position - n_forward
        return f"backward {done}/{len(events) - n_forward - 1}: {event.node_id}"

    def edge_values(self) -> dict[tuple[str, str], np.ndarray]:
        """Values on the edges forward (up to the current node), gradients backward."""
        events = self.session.events[:self.position + 1]
        if isinstance(events[-1], BackwardEvent):
            out = {}
            for e in events:
                if isinstance(e, BackwardEvent):
                    out.update({(s, e.node_id): g for s, g in e.input_gradients
                                if g is not None})
            return out
        return {(s, e.node_id): v for e in events if isinstance(e, ForwardEvent)
                for s, v in e.inputs if s != "(data)"}

    def apply_sgd(self) -> None:
        if self.session is None:
            return
        result = self.session.apply_sgd(self.lr_box.value())
        head = (f"One SGD step at rate {result.learning_rate:g}: loss "
                f"{fmt(result.loss_before)} → {fmt(result.loss_after)}")
        lines = [head, ""]
        for key, change in result.changes.items():
            biggest = float(np.abs(change).max()) if change.size else 0.0
            lines.append(f"{key}: ‖Δ‖ {fmt(np.linalg.norm(change))}, largest |Δ| {fmt(biggest)}")
        self.overlay.clear()
        self.position = len(self.session.events) - 1
        self.text.setPlainText("\n".join(lines))
        self.where_label.setText(f"after one step: loss {fmt(result.loss_after)}")
        self._update_controls()

    def _update_controls(self) -> None:
        has = self.session is not None
        n = len(self.session.events) if has else 0
        self.buttons["first"].setEnabled(has and self.position > 0)
        self.buttons["back"].setEnabled(has and self.position > 0)
        self.buttons["forward"].setEnabled(has and self.position < n - 1)
        self.buttons["last"].setEnabled(has and self.position < n - 1)
        self.sgd_button.setEnabled(has)

    def hideEvent(self, event) -> None:
        self.overlay.clear()
        super().hideEvent(event)
