"""Regression fit: for a network with one input number and one output number trained on
regression data (the sine card), the network's curve over the training points, redrawn as
it learns."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from ..style import POINT_OUTLINE, TRAIN_COLOR, VALID_COLOR
from .legend import title_legend
from .live_plot import LivePlot
from .pyqtgraph_setup import make_plot, set_title
from .run_context import trained_for


class RegressionFitPlot(LivePlot):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = make_plot("Fit", "y (target and prediction)", "x (input)")
        self.points = pg.ScatterPlotItem(size=5, brush=pg.mkBrush(TRAIN_COLOR + "80"),
                                         pen=pg.mkPen(*POINT_OUTLINE, width=0.6))
        self.curve = self.plot.plot([], [], pen=pg.mkPen(VALID_COLOR, width=3))
        self.plot.addItem(self.points)
        self.curve.setZValue(2)
        self.body.addWidget(self.plot, 1)
        self._points_drawn = False
        self.message("The fitted curve is drawn for regression with one input and one "
                     "output number (the sine data set).")

    def reset(self) -> None:
        self._points_drawn = False
        self.points.clear()
        self.curve.setData([], [])

    def draw(self) -> None:
        ctx, snap = self.context, self.snapshot
        if ctx.fit_points is None:
            self.message("The fitted curve is drawn for regression with one input and one "
                         "output number (the sine data set); this run is not one.")
            return
        fit = None if snap is None else snap.extras.get("fit")
        if fit is None:
            self.message("Press Train to see the network's curve over the data.")
            return
        self.show_plot()
        if not self._points_drawn:
            pts = np.asarray(ctx.fit_points, dtype=float)
            self.points.setData(pos=pts)
            pad = 0.15 * float(np.ptp(pts[:, 1]) or 1.0)
            self.plot.getPlotItem().setRange(
                xRange=(float(fit[0, 0]), float(fit[-1, 0])),
                yRange=(float(pts[:, 1].min()) - pad, float(pts[:, 1].max()) + pad), padding=0)
            self._points_drawn = True
        self.curve.setData(fit[:, 0], fit[:, 1])
        when = trained_for(snap)
        set_title(self.plot.getPlotItem(), title_legend(
            "Fit" + (f" · {when}" if when else ""),
            [("training data", TRAIN_COLOR), ("network", VALID_COLOR)]))
