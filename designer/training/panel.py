"""The training panel: the run's settings (data set, loss, optimizer, learning rate, batch
size, epochs, validation split, L2, gradient clipping, standardization, seed), the Train /
Pause / Resume / Stop / Step / Train on buttons and a progress bar. Train starts from fresh
weights, or on from weights just loaded or imported; Train on always continues from the
current weights (trained or loaded).

Settings start from the graph's `training` block (defaults where it is silent). With a
document, each edit is written back through `document.set_training` (one undo step), and
undo/redo of such an edit updates the fields; without one the panel keeps its own dict.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nnengine import TrainingConfig
from nnengine.catalogue import LOSSES, OPTIMIZERS
from nnengine.datasets import builtin_names
from nnengine.training_config import suggested_settings

from ..steady_label import SteadyLabel
from ..style import ERROR_TEXT, PLOT_MUTED
from .controller import TrainingController
from .dataset_preview import DatasetPreview
from .metrics import Progress, format_duration
from .pace_control import PaceControl
from .states import ACTIVE, TrainingState

FILE_ITEM = "File…"
TARGETS = [("labels", "labels"), ("one_hot", "labels as one-hot vectors"),
           ("inputs", "the input (autoencoder)")]


def _double(lo: float, hi: float, decimals: int, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setDecimals(decimals)
    box.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
    box.setKeyboardTracking(False)
    box.setToolTip(tip)
    return box


def _int(lo: int, hi: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setKeyboardTracking(False)
    box.setToolTip(tip)
    return box


class TrainingPanel(QWidget):
    settings_changed = Signal(dict)

    def __init__(self, controller: TrainingController, document: Any = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.document = document
        self._training: dict[str, Any] = {}
        self._loading = False
        self.ask_file = self._ask_file   # replaced in tests
        self._build()
        controller.state_changed.connect(self._state_changed)
        controller.progress_changed.connect(self.show_progress)
        controller.message.connect(self._message)
        controller.diverged.connect(lambda msg, _node: self._message(msg, error=True))
        controller.failed.connect(lambda msg: self._message(msg, error=True))
        if document is not None:
            document.training_changed.connect(self.reload)
            document.graph_reset.connect(self.reload)
        self.reload()
        self._state_changed(controller.state)

    # --- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.dataset = QComboBox()
        self.dataset.setToolTip("A built-in data set, or a file: .csv (label last), .npz, IDX, "
                                "or a folder of images with one sub-folder per class")
        self.loss = QComboBox()
        for name in LOSSES.names():
            self.loss.addItem(name, name)
            self.loss.setItemData(self.loss.count() - 1, LOSSES.get(name).description,
                                  Qt.ItemDataRole.ToolTipRole)
        self.optimizer = QComboBox()
        for name in OPTIMIZERS.names():
            self.optimizer.addItem(name, name)
            self.optimizer.setItemData(self.optimizer.count() - 1,
                                       OPTIMIZERS.get(name).description,
                                       Qt.ItemDataRole.ToolTipRole)
        self.learning_rate = _double(1e-6, 10.0, 6, "Step size of the optimizer")
        self.batch_size = _int(1, 1_000_000, "Samples per optimizer step")
        self.epochs = _int(1, 1_000_000, "Passes over the training data")
        self.validation_split = _double(0.0, 0.95, 2, "Share of the training data held "
                                                      "out to measure validation loss")
        self.validation_split.setSingleStep(0.05)
        self.l2 = _double(0.0, 10.0, 6, "Weight decay: adds l2·Σw² over W, U and E")
        self.clip = QCheckBox("clip at")
        self.clip.setToolTip("Scale the gradient down when its norm exceeds this value")
        self.clip_norm = _double(1e-4, 1e6, 4, "Largest gradient norm allowed")
        self.standardize = QCheckBox("standardize inputs")
        self.standardize.setToolTip("Scale each input feature to mean 0 and standard "
                                    "deviation 1 (statistics of the training split)")
        self.seed = _int(0, 2**31 - 1, "Same seed, same weights, bit for bit")
        self.target = QComboBox()
        for key, text in TARGETS:
            self.target.addItem(text, key)
        self.target.setToolTip("What the network learns to output")
        form = QFormLayout()
        form.setVerticalSpacing(4)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # a narrow dock (1024-pixel window, vertical scroll bar showing) puts a field that
        # does not fit beside its label under it, rather than scrolling sideways
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow("Data set", self.dataset)
        form.addRow("Target", self.target)
        form.addRow("Loss", self.loss)
        form.addRow("Optimizer", self.optimizer)
        form.addRow("Learning rate", self.learning_rate)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Epochs", self.epochs)
        form.addRow("Validation split", self.validation_split)
        form.addRow("L2", self.l2)
        clip_row = QHBoxLayout()
        clip_row.addWidget(self.clip)
        clip_row.addWidget(self.clip_norm, 1)
        form.addRow("Gradient clipping", clip_row)
        form.addRow("", self.standardize)
        form.addRow("Seed", self.seed)
        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Train from fresh weights drawn from the seed (or on "
                                     "from weights just loaded or imported)")
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after this batch; the weights learned are kept")
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("Train exactly one batch, then pause")
        self.train_on_button = QPushButton("Train on")
        self.train_on_button.setToolTip("Continue training from the current weights (trained "
                                        "or loaded) instead of fresh ones")
        buttons = QGridLayout()
        for i, b in enumerate((self.train_button, self.pause_button, self.resume_button,
                               self.stop_button, self.step_button, self.train_on_button)):
            buttons.addWidget(b, i // 3, i % 3)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.speed = SteadyLabel()
        self.speed.setStyleSheet(f"color: {PLOT_MUTED};")
        self.status = QLabel("Ready to train.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        col = QVBoxLayout(self)
        # the buttons and progress first: on a small screen the settings scroll, not they
        col.addLayout(buttons)
        col.addWidget(self.progress)
        self.pace = PaceControl(self.controller.set_pace)
        col.addWidget(self.pace)
        col.addWidget(self.speed, 0, Qt.AlignmentFlag.AlignLeft)
        col.addWidget(self.status)
        col.addSpacing(6)
        col.addLayout(form)
        self.preview = DatasetPreview()
        col.addWidget(self.preview)
        col.addStretch(1)
        self.train_button.clicked.connect(self.train)
        self.train_on_button.clicked.connect(self.train_on)
        self.pause_button.clicked.connect(self.controller.pause)
        self.resume_button.clicked.connect(self.controller.resume)
        self.stop_button.clicked.connect(self.controller.stop)
        self.step_button.clicked.connect(self.step)
        self.dataset.activated.connect(self._dataset_chosen)
        for combo, key in ((self.loss, "loss"), (self.target, "target")):
            combo.activated.connect(lambda _i, c=combo, k=key: self._edit(k, c.currentData()))
        self.optimizer.activated.connect(self._optimizer_chosen)
        self.learning_rate.valueChanged.connect(self._learning_rate_changed)
        for box, key in ((self.batch_size, "batch_size"), (self.epochs, "epochs"),
                         (self.validation_split, "validation_split"), (self.l2, "l2"),
                         (self.seed, "seed")):
            box.valueChanged.connect(lambda v, k=key: self._edit(k, v))
        self.clip.toggled.connect(self._clip_changed)
        self.clip_norm.valueChanged.connect(self._clip_changed)
        self.standardize.toggled.connect(lambda v: self._edit("standardize", bool(v)))

    # --- settings <-> fields -------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """The training block these fields describe (keys the panel does not show, such as
        an optimizer's momentum, are kept as they were)."""
        return copy.deepcopy(self._training)

    def reload(self) -> None:
        """Fill the fields from the graph's training block (defaults where it is silent)."""
        training = self.document.graph.training if self.document is not None else \
            self._training or self.controller.training_settings()
        self._training = copy.deepcopy(dict(training))
        defaults = TrainingConfig()
        # where the block is silent: the data set's suggested settings, as training uses
        suggested = suggested_settings(self._training.get("dataset"))
        value = {k: self._training.get(k, suggested.get(k, getattr(defaults, k))) for k in
                 ("dataset", "loss", "optimizer", "batch_size", "epochs", "validation_split",
                  "l2", "clip_norm", "standardize", "seed", "target")}
        self._loading = True
        try:
            self._fill_datasets(value["dataset"])
            self.loss.setCurrentIndex(max(0, self.loss.findData(value["loss"])))
            opt = value["optimizer"] or {}
            self.optimizer.setCurrentIndex(max(0, self.optimizer.findData(
                opt.get("type", "adam"))))
            self.learning_rate.setValue(float(opt.get("learning_rate", self._default_lr(
                opt.get("type", "adam")))))
            self.batch_size.setValue(int(value["batch_size"]))
            self.epochs.setValue(max(1, int(value["epochs"])))
            self.validation_split.setValue(float(value["validation_split"]))
            self.l2.setValue(float(value["l2"]))
            clip = value["clip_norm"]
            self.clip.setChecked(clip is not None)
            self.clip_norm.setValue(float(clip) if clip is not None else 1.0)
            self.clip_norm.setEnabled(clip is not None)
            self.standardize.setChecked(bool(value["standardize"]))
            self.seed.setValue(int(value["seed"]))
            self.target.setCurrentIndex(max(0, self.target.findData(value["target"])))
        finally:
            self._loading = False
        self.update_preview()

    def update_preview(self) -> None:
        """The chosen data set, with the validation split as set now."""
        path = getattr(self.document, "path", None)
        self.preview.show_dataset(self._training.get("dataset"),
                                  Path(path).parent if path else None,
                                  float(self.validation_split.value()))

    def _fill_datasets(self, current: str | None) -> None:
        self.dataset.clear()
        names = builtin_names()
        self.dataset.addItem("(choose a data set)", None)
        for name in names:
            self.dataset.addItem(name, name)
        if current and current not in names:
            self.dataset.addItem(current, current)
        self.dataset.addItem(FILE_ITEM, FILE_ITEM)
        self.dataset.setCurrentIndex(max(0, self.dataset.findData(current)))

    @staticmethod
    def _default_lr(optimizer: str) -> float:
        spec = OPTIMIZERS.get(optimizer) if optimizer in OPTIMIZERS else None
        for p in getattr(spec, "params", ()):
            if p.name == "learning_rate" and p.default is not None:
                return float(p.default)
        return 0.001

    def _edit(self, key: str, value: Any) -> None:
        if self._loading:
            return
        new = copy.deepcopy(self._training)
        new[key] = value
        self._write(new)

    def _write(self, new: dict[str, Any]) -> None:
        if new == self._training:
            return
        self._training = new
        if self.document is not None:
            self.document.set_training(copy.deepcopy(new))
        self.settings_changed.emit(copy.deepcopy(new))
        self.update_preview()

    def _dataset_chosen(self, _index: int) -> None:
        data = self.dataset.currentData()
        if data == FILE_ITEM:
            path = self.ask_file()
            if not path:
                self._loading = True
                self._fill_datasets(self._training.get("dataset"))
                self._loading = False
                return
            self.set_dataset(path)
        elif data:
            self._edit("dataset", data)

    def set_dataset(self, name_or_path: str) -> None:
        """Choose a built-in data set by name or a data file by path."""
        self._edit("dataset", str(name_or_path))
        self._loading = True
        self._fill_datasets(str(name_or_path))
        self._loading = False

    def _ask_file(self) -> str:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a data file", "", "Data files (*.csv *.npz *.gz *.idx *ubyte);;"
                                            "All files (*)")
        return path

    def _optimizer_chosen(self, _index: int) -> None:
        if self._loading:
            return
        name = self.optimizer.currentData()
        old = dict(self._training.get("optimizer") or {"type": "adam"})
        opt = {"type": name, "learning_rate": self.learning_rate.value()}
        if old.get("type") == name:   # keep momentum, betas, ... of the same optimizer
            opt = {**old, **opt}
        self._edit("optimizer", opt)

    def _learning_rate_changed(self, value: float) -> None:
        if self._loading:
            return
        opt = dict(self._training.get("optimizer") or {"type": self.optimizer.currentData()})
        opt["learning_rate"] = float(value)
        self._edit("optimizer", opt)

    def _clip_changed(self, *_args: Any) -> None:
        self.clip_norm.setEnabled(self.clip.isChecked())
        self._edit("clip_norm", float(self.clip_norm.value()) if self.clip.isChecked()
                   else None)

    # --- buttons and progress ------------------------------------------------------------
    def train(self) -> bool:
        """Fresh weights, or on from weights just loaded or imported (never lost by a click)."""
        return self.controller.start(self.settings())

    def train_on(self) -> bool:
        """Continue from the current weights (trained or loaded)."""
        return self.controller.train_on(self.settings())

    def step(self) -> None:
        """One batch; a new run (paused) with these settings when none is active."""
        c = self.controller
        if not c.is_active and c.state != TrainingState.DIVERGED and \
                not c.start(self.settings(), paused=True):
            return
        c.step()

    def _state_changed(self, state: str) -> None:
        running = state in (TrainingState.STARTING, TrainingState.RUNNING)
        active = state in ACTIVE
        self.train_button.setEnabled(not active)
        self.train_on_button.setEnabled(not active)
        self.pause_button.setEnabled(running)
        self.resume_button.setEnabled(state in (TrainingState.PAUSED, TrainingState.DIVERGED))
        self.stop_button.setEnabled(active or state == TrainingState.DIVERGED)
        self.step_button.setEnabled(state not in (TrainingState.STARTING, TrainingState.RUNNING,
                                                  TrainingState.STOPPING))
        words = {TrainingState.IDLE: "Ready to train.", TrainingState.STARTING: "Preparing the data…",
                 TrainingState.RUNNING: "Training…", TrainingState.PAUSED: "Paused.",
                 TrainingState.STOPPING: "Stopping after this batch…"}
        if state in words:
            self._message(words[state])
        if state == TrainingState.FINISHED:
            self.progress.setValue(1000)
        if not active:
            self.speed.fit()

    def show_progress(self, p: Progress) -> None:
        self.progress.setValue(int(p.fraction * 1000))
        self.progress.setFormat(p.position())
        self.speed.setText(p.speed())
        elapsed = format_duration(p.elapsed) if p.elapsed else ""
        self.progress.setToolTip(f"elapsed {elapsed}" if elapsed else "")

    def _message(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {ERROR_TEXT};" if error else "")
