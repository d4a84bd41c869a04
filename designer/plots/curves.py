"""Loss and accuracy curves: training per batch (light) and per epoch, validation per epoch.

The x axis is in epochs (a batch sits at epoch − 1 + batch / batches per epoch, an epoch's
mean at its end) and spans the whole run from the start, so axes are not redrawn as data
arrives. The per-batch curves are `BatchCurve`s (clipped to the view and thinned to two
points a pixel column), so a run of a million batches still redraws quickly; the per-epoch
curves are only touched when an epoch ends, and at most twice a second (a fast run ends ten epochs a second, and redrawing four marked
curves every frame for it doubled the cost of a frame).
Both plots live in one GraphicsLayoutWidget (one repaint per frame), side by side when the
widget is wider than tall (the main window's wide, short dock) and stacked otherwise. Their
one legend sits beside the check boxes, so it never covers the curves. A dashed line marks
the epoch the scrubber shows.
The per-epoch curves of a plot are one `EpochLines` item: a frame repaints the whole view,
and each item it holds costs Python calls in every frame.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QWidget

from ..style import MARKER_COLOR, TRAIN_COLOR, TRAIN_LIGHT_COLOR, VALID_COLOR
from .batch_curve import BatchCurve
from .epoch_lines import EpochLines
from .legend import LegendRow, swatch
from .live_plot import LivePlot
from .pyqtgraph_setup import style_plot
from .ranges import StickyRange

MAX_SYMBOLS = 20   # epoch markers are drawn up to this many epochs
EPOCH_POINTS_INTERVAL = 0.5   # seconds between two redraws of the per-epoch curves


class CurvesPlot(LivePlot):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        controls = QHBoxLayout()
        self.log_box = QCheckBox("Log scale (loss)")
        self.batch_box = QCheckBox("Per batch")
        self.batch_box.setChecked(True)
        self.epoch_box = QCheckBox("Per epoch")
        self.epoch_box.setChecked(True)
        for box in (self.batch_box, self.epoch_box, self.log_box):
            box.toggled.connect(self._apply_options)
            controls.addWidget(box)
        controls.addStretch(1)
        self.legend = LegendRow([("train (batch)", swatch(TRAIN_LIGHT_COLOR, 1)),
                                 ("train", swatch(TRAIN_COLOR, 2, dot=True)),
                                 ("validation", swatch(VALID_COLOR, 2, dot=True))])
        controls.addWidget(self.legend)
        self.body.addLayout(controls)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setMinimumSize(200, 120)
        self.loss_plot = self.view.addPlot(row=0, col=0)
        self.acc_plot = self.view.addPlot(row=1, col=0)
        style_plot(self.loss_plot, "Loss", "loss", "epoch")
        style_plot(self.acc_plot, "Accuracy", "accuracy", "epoch")
        self.acc_plot.setXLink(self.loss_plot)
        self.loss_batch = BatchCurve(self.loss_plot, pg.mkPen(TRAIN_LIGHT_COLOR, width=1))
        self.loss_lines = EpochLines(self.loss_plot)
        self.loss_epoch = self.loss_lines.series(TRAIN_COLOR)
        self.val_loss = self.loss_lines.series(VALID_COLOR)
        self.acc_batch = BatchCurve(self.acc_plot, pg.mkPen(TRAIN_LIGHT_COLOR, width=1))
        self.acc_lines = EpochLines(self.acc_plot)
        self.acc_epoch = self.acc_lines.series(TRAIN_COLOR)
        self.val_acc = self.acc_lines.series(VALID_COLOR)
        self.acc_plot.setYRange(0, 1.0, padding=0.04)
        self.acc_plot.enableAutoRange(axis="y", enable=False)
        self.loss_range = StickyRange(self.loss_plot)
        self.markers = []
        for p in (self.loss_plot, self.acc_plot):
            line = pg.InfiniteLine(angle=90, movable=False,
                                   pen=pg.mkPen(MARKER_COLOR, width=1.5, style=Qt.PenStyle.DashLine))
            line.setVisible(False)
            p.addItem(line)
            self.markers.append(line)
        self.body.addWidget(self.view, 1)
        self._version = -1
        self._epochs_drawn = -1
        self._epochs_at = -1e9
        self._epochs_later = QTimer(self)
        self._epochs_later.setSingleShot(True)
        self._epochs_later.timeout.connect(self.request)
        self._accuracy_shown = True
        self._wide: bool | None = None
        self._arrange()
        self.message("Press Train to see the loss and accuracy curves.")

    def reset(self) -> None:
        self._version = -1
        self._epochs_drawn = -1
        self.loss_range.reset()
        for curve in (self.loss_batch, self.acc_batch):
            curve.set_data(np.zeros(0), np.zeros(0))
        for item in (self.loss_epoch, self.val_loss, self.acc_epoch, self.val_acc):
            item.setData([], [])
        self._whole_run()
        self.set_marker(None)

    def _whole_run(self) -> None:
        """The whole run's width from the start: the x axis never has to be redrawn."""
        if self.context.epochs:
            self.loss_plot.setXRange(0, self.context.epochs, padding=0.02)

    def set_marker(self, epoch: float | None) -> None:
        """Show a dashed line at `epoch` (the scrubbed epoch), or hide it (None = live)."""
        for line in self.markers:
            line.setVisible(epoch is not None)
            if epoch is not None:
                line.setValue(epoch)

    def resizeEvent(self, event) -> None:  # Qt override: side by side when wide
        super().resizeEvent(event)
        self._arrange()

    def _arrange(self) -> None:
        """Loss and accuracy side by side when the widget is wider than tall, else stacked
        (loss above, a little taller); without accuracy the loss plot has the whole view."""
        wide = self.width() > self.height()
        if wide == self._wide:
            return
        self._wide = wide
        layout = self.view.ci.layout
        if self._accuracy_shown:
            layout.removeItem(self.acc_plot)
            layout.addItem(self.acc_plot, *((0, 1) if wide else (1, 0)))
        layout.setRowStretchFactor(0, 1 if wide else 3)
        layout.setRowStretchFactor(1, 0 if wide else 2)
        layout.setColumnStretchFactor(0, 1)
        layout.setColumnStretchFactor(1, 1 if wide else 0)

    def _apply_options(self) -> None:
        self.loss_plot.setLogMode(y=self.log_box.isChecked())
        self._whole_run()   # pyqtgraph turns auto-range on with a log mode change
        self.loss_lines.set_style(self.log_box.isChecked(), self.loss_lines.markers)
        for curve in (self.loss_batch, self.acc_batch):
            curve.setVisible(self.batch_box.isChecked())
        for lines in (self.loss_lines, self.acc_lines):
            lines.setVisible(self.epoch_box.isChecked())
        self.legend.set_shown("train (batch)", self.batch_box.isChecked())
        for name in ("train", "validation"):
            self.legend.set_shown(name, self.epoch_box.isChecked())
        self._version = self._epochs_drawn = -1
        self.loss_range.reset()
        self.request()

    def _show_accuracy(self, shown: bool) -> None:
        """Regression has no accuracy: take its plot out of the layout."""
        if shown == self._accuracy_shown:
            return
        self._accuracy_shown = shown
        layout = self.view.ci.layout
        if shown:
            layout.addItem(self.acc_plot, *((0, 1) if self._wide else (1, 0)))
            self.acc_plot.show()
        else:
            layout.removeItem(self.acc_plot)
            self.acc_plot.hide()

    def draw(self) -> None:
        m = self.context.metrics
        if m is None or (len(m) == 0 and not m.epochs):
            self.message("Press Train to see the loss and accuracy curves.")
            return
        self.show_plot()
        if m.version == self._version:
            return
        self._version = m.version
        has_acc = m.has_accuracy
        self._show_accuracy(has_acc)
        x, loss = m.batch_x, m.batch_loss
        log = self.log_box.isChecked()
        self.loss_batch.set_data(x, loss, log)
        shown = [loss] if self.batch_box.isChecked() else []
        if self.epoch_box.isChecked() or not shown:
            shown += [m.epoch_series("loss")[1], m.epoch_series("val_loss")[1]]
        self.loss_range.update(*shown, log=log)
        if has_acc:
            self.acc_batch.set_data(x, m.batch_accuracy)
        if len(m.epochs) != self._epochs_drawn:
            self._draw_epochs(m, has_acc)

    def csv_series(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        m = self.context.metrics
        if m is None:
            return []
        series = [("loss (batch)", m.batch_x, m.batch_loss)]
        if m.has_accuracy:
            series.append(("accuracy (batch)", m.batch_x, m.batch_accuracy))
        series += [(key, *m.epoch_series(key))
                   for key in ("loss", "val_loss", "accuracy", "val_accuracy")]
        return [s for s in series if len(s[1])]

    def flush(self) -> None:
        """A run has ended: its last epochs are drawn now, not after the interval."""
        self._epochs_at = -1e9
        self._version = None
        self.request()

    def _draw_epochs(self, m: Any, has_acc: bool) -> None:
        wait = EPOCH_POINTS_INTERVAL - (time.monotonic() - self._epochs_at)
        if wait > 0 and self._epochs_drawn > 0:
            # The next frame draws them once the interval is over; the timer (restarted by
            # every frame, so it only fires after the last) draws them when frames stop.
            self._version = None
            self._epochs_later.start(int((wait + 0.2) * 1000))
            return
        self._epochs_later.stop()
        self._epochs_at = time.monotonic()
        self._epochs_drawn = len(m.epochs)
        markers = len(m.epochs) <= MAX_SYMBOLS   # markers only while they stay apart
        for lines in (self.loss_lines, self.acc_lines):
            lines.set_style(lines.log, markers)
        self.loss_epoch.setData(*m.epoch_series("loss"))
        self.val_loss.setData(*m.epoch_series("val_loss"))
        if has_acc:
            self.acc_epoch.setData(*m.epoch_series("accuracy"))
            self.val_acc.setData(*m.epoch_series("val_accuracy"))
