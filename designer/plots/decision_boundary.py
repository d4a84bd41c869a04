"""The decision boundary of a classifier on a 2-D data set: the predicted class over a grid
of the input plane (pale where the network is unsure), with the training points on top and
the sample under inspection ringed."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QWidget

from ..style import BOUNDARY_LINE, POINT_OUTLINE
from ..training.summary import Boundary, Snapshot
from .live_plot import LivePlot
from .pyqtgraph_setup import class_rgb, make_plot, set_title
from .run_context import trained_for


def boundary_rgb(b: Boundary, n_classes: int) -> np.ndarray:
    """(rows, cols, 3) uint8: each class's colour, blended towards white by uncertainty."""
    rgb = class_rgb(max(n_classes, int(b.classes.max()) + 1)).astype(np.float32)
    base = rgb[np.clip(b.classes, 0, len(rgb) - 1)]
    lo = 1.0 / max(n_classes, 2)   # the confidence of a uniform guess
    strength = np.clip((b.confidence - lo) / (1.0 - lo), 0.0, 1.0)[..., None]
    strength = 0.25 + 0.45 * strength
    return (255.0 + (base - 255.0) * strength).astype(np.uint8)


class DecisionBoundaryPlot(LivePlot):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = make_plot("Decision boundary", "x₂", "x₁")
        self.plot.getPlotItem().setAspectLocked(True)
        self.image = pg.ImageItem(autoLevels=False)
        self.plot.addItem(self.image)
        self.points = pg.ScatterPlotItem(size=6, pen=pg.mkPen(*POINT_OUTLINE, width=0.8))
        self.plot.addItem(self.points)
        self.ring = pg.ScatterPlotItem(size=16, symbol="o", brush=None,
                                       pen=pg.mkPen(BOUNDARY_LINE, width=2.2))
        self.plot.addItem(self.ring)
        self.body.addWidget(self.plot, 1)
        self.snapshot: Snapshot | None = None
        self._points_drawn = False
        self.message("The decision boundary is drawn for classifiers on 2-D data sets.")

    def reset(self) -> None:
        self.snapshot = None
        self._points_drawn = False
        self.points.clear()
        self.ring.clear()
        self.image.clear()

    def draw(self) -> None:
        ctx, snap = self.context, self.snapshot
        if ctx.points is None:
            self.message("The decision boundary is drawn for classifiers on 2-D data sets; "
                         "this data set is not one.")
            return
        if snap is None or snap.boundary is None:
            self.message("Press Train to see the decision boundary.")
            return
        self.show_plot()
        b = snap.boundary
        self.image.setImage(boundary_rgb(b, ctx.num_classes), autoLevels=False,
                            levels=(0, 255))
        x0, x1, y0, y1 = b.extent
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        if not self._points_drawn:
            rgb = class_rgb(ctx.num_classes)
            labels = np.clip(ctx.point_labels.astype(int), 0, len(rgb) - 1)
            brushes = [pg.mkBrush(*rgb[k]) for k in range(len(rgb))]
            self.points.setData(pos=ctx.points, brush=[brushes[k] for k in labels])
            self.plot.getPlotItem().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
            self._points_drawn = True
        if snap.sample_input is not None and np.size(snap.sample_input) == 2:
            self.ring.setData(pos=np.asarray(snap.sample_input, dtype=float).reshape(1, 2))
        when = trained_for(snap)
        set_title(self.plot.getPlotItem(), "Decision boundary" + (f" · {when}" if when else ""))
