"""Learning-rate finder from the window: the range test off the GUI thread, loss against
learning rate on a log axis, the suggested rate marked, and one button that writes it into
the graph's training settings as an undoable edit. The run's weights are not touched."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

import nnengine

from .. import style
from .context import ContextError, ToolContext, ToolJob


class LRFinderDialog(QDialog):
    """`apply_rate(rate)` writes the chosen rate into the training block (undoably)."""

    def __init__(self, context_provider: Callable[[], ToolContext],
                 apply_rate: Callable[[float], bool], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Learning-Rate Finder")
        self.resize(620, 460)
        self.apply_rate = apply_rate
        self.result: nnengine.tools.LRFinderResult | None = None
        layout = QVBoxLayout(self)
        self.summary = QLabel("Training a copy of the model while the learning rate grows from "
                              "1e-6 to 10…")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.progress = QProgressBar()
        layout.addWidget(self.progress)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setLogMode(x=True, y=False)
        self.plot.setLabel("bottom", "learning rate")
        self.plot.setLabel("left", "loss (smoothed)")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.curve = self.plot.plot([], [], pen=pg.mkPen(style.ACCENT, width=2))
        self.marker = pg.InfiniteLine(angle=90, pen=pg.mkPen("#c2410c", width=1.5,
                                                             style=pg.QtCore.Qt.PenStyle.DashLine))
        self.marker.hide()
        self.plot.addItem(self.marker)
        layout.addWidget(self.plot, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.use_button = QPushButton("Use Suggested Rate")
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self.use_suggestion)
        self.buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.rejected.connect(self.cancel_or_close)
        layout.addWidget(self.buttons)
        self.job: ToolJob | None = None
        try:
            context = context_provider()
        except ContextError as e:
            self._finish_with(f"The finder cannot run: {e}.")
            return
        self.summary.setText(self.summary.text() + f" Starting from {context.weights_note}, "
                             f"optimizer {context.config.optimizer.get('type', 'adam')}.")
        self.job = ToolJob(lambda progress, cancelled: nnengine.lr_find(
            context.model, context.dataset, context.config, progress=progress,
            cancelled=cancelled), self)
        self.job.progressed.connect(self._progressed)
        self.job.finished.connect(self.show_result)
        self.job.failed.connect(lambda m: self._finish_with(f"The finder failed: {m}."))
        self.job.start()

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setMaximum(total)
        self.progress.setValue(done)

    def cancel_or_close(self) -> None:
        if self.job is not None and self.result is None and not self.job.cancelled:
            self.job.cancel()
            return
        self.reject()

    def _finish_with(self, sentence: str) -> None:
        self.summary.setText(sentence)
        self.progress.hide()
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Close")

    def show_result(self, result: nnengine.tools.LRFinderResult) -> None:
        self.result = result
        if len(result.losses):
            self.curve.setData(np.asarray(result.learning_rates), np.asarray(result.losses))
        if result.suggestion is None:
            self._finish_with(f"No rate made the loss fall ({result.stopped_because}); try "
                              "another optimizer or check the data.")
            return
        self.marker.setValue(np.log10(result.suggestion))
        self.marker.show()
        self.use_button.setEnabled(True)
        self.use_button.setText(f"Use {result.suggestion:.2g}")
        self._finish_with(f"Suggested learning rate {result.suggestion:.2g}: where the loss "
                          f"falls fastest, before its minimum. The sweep stopped because "
                          f"{result.stopped_because}.")

    def use_suggestion(self) -> None:
        rate = self.result.suggestion if self.result is not None else None
        if rate is not None and self.apply_rate(float(f"{rate:.2g}")):
            self.accept()
