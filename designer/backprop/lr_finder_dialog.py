"""Learning-rate finder from the window: the range test off the GUI thread, loss against
learning rate on a log axis, the suggested rate marked, and one button that writes it into
the graph's training settings as an undoable edit. The run's weights are not touched."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QPushButton, QWidget

import nnengine

from .. import style
from .context import ToolContext
from .tool_dialog import ToolDialog


class LRFinderDialog(ToolDialog):
    """`apply_rate(rate)` writes the chosen rate into the training block (undoably)."""

    noun = "the finder"

    def __init__(self, context_provider: Callable[[], ToolContext],
                 apply_rate: Callable[[float], bool], parent: QWidget | None = None):
        super().__init__("Learning-Rate Finder", "Training a copy of the model while the "
                         "learning rate grows from 1e-6 to 10.", parent)
        self.resize(620, 460)
        self.apply_rate = apply_rate
        self.plot = pg.PlotWidget(background="w")
        self.plot.setLogMode(x=True, y=False)
        self.plot.setLabel("bottom", "learning rate")
        self.plot.setLabel("left", "loss (smoothed)")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.curve = self.plot.plot([], [], pen=pg.mkPen(style.ACCENT, width=2))
        self.marker = pg.InfiniteLine(angle=90, pen=pg.mkPen("#c2410c", width=1.5,
                                                             style=Qt.PenStyle.DashLine))
        self.marker.hide()
        self.plot.addItem(self.marker)
        self.body.addWidget(self.plot, 1)
        self.use_button = QPushButton("Use Suggested Rate")
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self.use_suggestion)
        self.buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.start(context_provider)

    def work(self, context, progress, cancelled):
        return nnengine.lr_find(context.model, context.dataset, context.config,
                                progress=progress, cancelled=cancelled)

    def show_result(self, result: nnengine.tools.LRFinderResult) -> None:
        if len(result.losses):
            self.curve.setData(np.asarray(result.learning_rates), np.asarray(result.losses))
        if result.suggestion is None:
            self.finish_with(f"No rate made the loss fall ({result.stopped_because}); try "
                             "another optimizer or check the data.")
            return
        self.marker.setValue(np.log10(result.suggestion))
        self.marker.show()
        self.use_button.setEnabled(True)
        self.use_button.setText(f"Use {result.suggestion:.2g}")
        self.finish_with(f"Suggested learning rate {result.suggestion:.2g}: where the loss "
                         f"falls fastest, before its minimum. The sweep stopped because "
                         f"{result.stopped_because}.")

    def use_suggestion(self) -> None:
        rate = self.result.suggestion if self.result is not None else None
        if rate is not None and self.apply_rate(float(f"{rate:.2g}")):
            self.accept()
