"""Compare runs: the loss and accuracy per epoch of two or more runs on the same axes, each
run in a colour of its own, named in a legend beside the plots (never over the curves).

Validation is drawn solid and training dashed, so a gap between them (overfitting) reads
the same way in every run; a run without a validation split draws its training curve solid.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ..plots.legend import LegendList, LegendRow, swatch
from ..plots.pyqtgraph_setup import color, style_plot
from ..style import PLOT_MUTED
from .record import Run


class OverlayPlot(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setMinimumSize(160, 120)
        self.loss_plot = self.view.addPlot(row=0, col=0)
        self.acc_plot = self.view.addPlot(row=0, col=1)
        style_plot(self.loss_plot, "Loss per epoch", "loss", "epoch")
        style_plot(self.acc_plot, "Accuracy per epoch", "accuracy", "epoch")
        self.acc_plot.setXLink(self.loss_plot)
        self.legend = LegendList()
        self.legend.setToolTip("The runs ticked in the Runs panel")
        self.hint = QLabel("Tick two or more runs in the Runs panel to compare them here.")
        self.hint.setStyleSheet(f"color: {PLOT_MUTED};")
        self.hint.setWordWrap(True)
        key = LegendRow([("validation", swatch(PLOT_MUTED, 2)),
                         ("training", swatch(PLOT_MUTED, 1.5, dashed=True))])
        top = QHBoxLayout()
        top.setContentsMargins(4, 0, 4, 0)
        top.addWidget(self.hint, 1)
        top.addWidget(key)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.view, 1)
        row.addWidget(self.legend, 0, Qt.AlignmentFlag.AlignTop)
        col = QVBoxLayout(self)
        col.setContentsMargins(2, 2, 2, 2)
        col.addLayout(top)
        col.addLayout(row, 1)
        self.runs: list[Run] = []
        self.curves: dict[str, list[pg.PlotDataItem]] = {}   # run id -> its curves
        self.set_runs([])

    def set_runs(self, runs: list[Run]) -> None:
        """Draw `runs` (in this order, each in its own colour)."""
        self.runs = list(runs)
        for plot in (self.loss_plot, self.acc_plot):
            plot.clear()
        self.curves = {}
        entries = []
        any_accuracy = False
        for i, run in enumerate(self.runs):
            c = color(i)
            entries.append((run.name, c))
            items = []
            for plot, key in ((self.loss_plot, "loss"), (self.acc_plot, "accuracy")):
                x_val, y_val = run.metrics.epoch_series(f"val_{key}")
                x_tr, y_tr = run.metrics.epoch_series(key)
                if key == "accuracy" and len(y_tr) + len(y_val):
                    any_accuracy = True
                if len(y_val):
                    items.append(plot.plot(x_val, y_val, pen=pg.mkPen(c, width=2),
                                           name=run.name))
                if len(y_tr):
                    style = Qt.PenStyle.DashLine if len(y_val) else Qt.PenStyle.SolidLine
                    items.append(plot.plot(x_tr, y_tr, pen=pg.mkPen(c, width=1.5, style=style),
                                           name=run.name))
            self.curves[run.id] = items
        self.legend.set_entries(entries)
        rows = max(len(entries), 1) * max(self.legend.sizeHintForRow(0), 18)
        self.legend.setFixedHeight(rows + 2 * self.legend.frameWidth() + 6)
        self.acc_plot.setVisible(any_accuracy or not self.runs)
        self.hint.setText("" if len(self.runs) >= 2 else
                          "Tick two or more runs in the Runs panel to compare them here.")
        for plot in (self.loss_plot, self.acc_plot):
            plot.enableAutoRange()

    def legend_names(self) -> list[str]:
        return [self.legend.item(i).text() for i in range(self.legend.count())]

