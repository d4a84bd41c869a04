"""The training panel's pace chooser (see pacer.py for what a pace does)."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from .pacer import CHOICES, pace_text


class PaceControl(QWidget):
    """"Pace: [as fast as possible ▾]" for the training panel."""

    def __init__(self, set_pace: Callable[[float | None], None], parent: QWidget | None = None):
        super().__init__(parent)
        self.combo = QComboBox()
        for pace in CHOICES:
            self.combo.addItem(pace_text(pace), pace)
        self.combo.setToolTip("Slow training down to watch it learn batch by batch; every "
                              "epoch then gets a snapshot of the layers")
        self.combo.currentIndexChanged.connect(lambda _i: set_pace(self.combo.currentData()))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Pace"))
        row.addWidget(self.combo, 1)

    def choose(self, pace: float | None) -> None:
        index = self.combo.findData(pace)
        self.combo.setCurrentIndex(max(index, 0))
