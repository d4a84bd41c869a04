"""`BatchCurve`: a curve with a point per training batch, cheap to redraw however long the
run.

The loss, accuracy and gradient-norm curves get new points with every batch and are redrawn
25 to 30 times a second while training, in the same process as everything else the window
does, on a machine whose cores the training process is using. pyqtgraph's PlotDataItem
redoes its mapping, clipping, downsampling and bounds bookkeeping in Python with every
`setData` (about 0.4 ms a curve, most of a frame's own work); a `BatchCurve` is a bare
path (its bounds the view's, see `ViewItem`) of only what the view can show: the points
inside the view's x range, at most two per pixel column (the lowest and the highest, so a
spike stays visible, as pyqtgraph's "peak" downsampling keeps it), in log10 units when the
axis is logarithmic.
Zooming or resizing the view recomputes them from the whole data, which the curve keeps.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QPainter, QPainterPath, QPen

from .view_item import ViewItem, finite_bounds, log10_positive


def peak_points(x: np.ndarray, y: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """At most about 2 * `columns` points tracing (x, y) (x increasing, evenly spaced): each
    run of points that falls in one column becomes its lowest and its highest y at the run's
    first x. NaN gaps stay gaps (a column of NaNs only gives NaN)."""
    step = len(x) // max(columns, 1)
    if step < 2:
        return x, y
    whole = len(x) // step * step
    runs = y[:whole].reshape(-1, step)
    low, high = np.fmin.reduce(runs, axis=1), np.fmax.reduce(runs, axis=1)
    px = np.repeat(x[:whole:step], 2)
    py = np.column_stack([low, high]).ravel()
    return np.concatenate([px, x[whole:]]), np.concatenate([py, y[whole:]])


class BatchCurve(ViewItem):
    """One per-batch curve, added to `plot`: `set_data(x, y, log)`, `setPen(pen)`."""

    def __init__(self, plot: pg.PlotItem, pen: QPen):
        super().__init__()
        self.plot = plot
        self.view = plot.getViewBox()
        self.pen = QPen(pen)
        self.pen.setCosmetic(True)   # its width in pixels, whatever the view's scale
        self.x = self.y = np.zeros(0)
        self.log = False
        self.shown = (np.zeros(0), np.zeros(0))
        self.path = QPainterPath()
        plot.addItem(self)
        self.view.sigXRangeChanged.connect(self._show)
        self.view.sigResized.connect(self._show)

    def set_data(self, x: np.ndarray, y: np.ndarray, log: bool = False) -> None:
        """The whole curve (y as it is; `log`: shown as log10, values <= 0 left out)."""
        self.x, self.y, self.log = np.asarray(x), np.asarray(y), log
        self._show()

    def setPen(self, pen: QPen) -> None:
        self.pen = QPen(pen)
        self.pen.setCosmetic(True)
        self.update()

    def remove(self) -> None:
        """Take the curve out of its plot (a new run has other layers)."""
        self.view.sigXRangeChanged.disconnect(self._show)
        self.view.sigResized.disconnect(self._show)
        self.plot.removeItem(self)

    def getOriginalDataset(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x, self.y

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        """The points drawn now (clipped, thinned, log10 on a log axis)."""
        return self.shown

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None
                   ) -> tuple[float | None, float | None]:
        """The drawn points' extent along x (0) or y (1), for the view's auto-range."""
        return finite_bounds(self.shown[ax])

    def paint(self, painter: QPainter, *_args) -> None:  # Qt override
        painter.setPen(self.pen)
        painter.drawPath(self.path)

    def _show(self) -> None:
        x, y = self.x, self.y
        if len(x) > 2:
            low, high = self.view.viewRange()[0]
            # One point beyond each edge, so the line runs out of the view, not up to it.
            start = max(int(np.searchsorted(x, low)) - 1, 0)
            stop = int(np.searchsorted(x, high, side="right")) + 1
            x, y = x[start:stop], y[start:stop]
        if self.log:
            y = log10_positive(y)
        self.shown = peak_points(x, y, int(self.view.width()))
        self.path = pg.arrayToQPath(*self.shown, connect="finite") if len(self.shown[0]) \
            else QPainterPath()
        self.update()
