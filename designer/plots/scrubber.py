"""The epoch scrubber: a slider over the epochs kept in the history. Dragging it back shows
that epoch's curves position, histograms, weights and decision boundary together; "Live"
(or dragging to the end while training) follows training again."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from ..steady_label import SteadyLabel
from ..style import PLOT_MUTED


class EpochScrubber(QWidget):
    epoch_chosen = Signal(object)    # an epoch number, or None for live

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        # Opaque: its label and slider change at every epoch's end, and a see-through
        # widget has its parents (the dashboard, the dock and its title bar) painted first.
        self.setAutoFillBackground(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 0, 4, 0)
        row.addWidget(QLabel("Epoch:"))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setEnabled(False)
        self.slider.setToolTip("Drag back to see a past epoch's plots")
        self.slider.valueChanged.connect(self._moved)
        self.label = SteadyLabel("no epochs yet", min_width=150)
        self.label.setStyleSheet(f"color: {PLOT_MUTED};")
        self.live_button = QPushButton("Live")
        self.live_button.setCheckable(True)
        self.live_button.setChecked(True)
        self.live_button.setToolTip("Follow training as it runs")
        self.live_button.clicked.connect(self.go_live)
        row.addWidget(self.slider, 1)
        row.addWidget(self.label)
        row.addWidget(self.live_button)
        self.epochs: list[int] = []
        self.chosen: int | None = None   # None = live

    @property
    def live(self) -> bool:
        return self.chosen is None

    def reset(self) -> None:
        self.epochs = []
        self.chosen = None
        self.slider.blockSignals(True)
        self.slider.setRange(0, 0)
        self.slider.blockSignals(False)
        self.slider.setEnabled(False)
        self.live_button.setChecked(True)
        self.label.setText("no epochs yet")
        self.label.fit()

    def set_epochs(self, epochs: list[int]) -> None:
        """The epochs in the history; while live the slider follows the newest."""
        self.epochs = list(epochs)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(len(self.epochs) - 1, 0))
        if self.live:
            self.slider.setValue(self.slider.maximum())
        self.slider.blockSignals(False)
        self.slider.setEnabled(len(self.epochs) > 1)
        self._label()

    def show_epoch(self, epoch: int) -> None:
        """Move to the kept epoch nearest `epoch` (as if dragged there)."""
        if not self.epochs:
            return
        index = min(range(len(self.epochs)), key=lambda i: abs(self.epochs[i] - epoch))
        if self.slider.value() == index:
            self._moved(index)
        else:
            self.slider.setValue(index)

    def go_live(self) -> None:
        self.chosen = None
        self.live_button.setChecked(True)
        self.slider.blockSignals(True)
        self.slider.setValue(self.slider.maximum())
        self.slider.blockSignals(False)
        self._label()
        self.epoch_chosen.emit(None)

    def _moved(self, index: int) -> None:
        if not self.epochs:
            return
        self.chosen = self.epochs[index]
        self.live_button.setChecked(False)
        self._label()
        self.epoch_chosen.emit(self.chosen)

    def _label(self) -> None:
        if not self.epochs:
            self.label.setText("no epochs yet")
        elif self.live:
            self.label.setText(f"live · {self.epochs[-1]} epochs")
        else:
            self.label.setText(f"epoch {self.chosen} of {self.epochs[-1]}")
