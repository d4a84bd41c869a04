"""`EpochLines`: the per-epoch curves of one plot (training and validation), lines with a
round marker at each epoch while the markers stay apart, painted by one item.

The plot they sit in is repainted whole 25 to 30 times a second while training (see
live_plot.py). As pyqtgraph PlotDataItems, each curve was a curve item and a scatter item,
and the view asked each of them several times a frame for its bounds in pixels, computed
in Python; here one item paints every series of its plot, its bounds are the view's
(`ViewItem`), and it is kept as a pixmap between changes.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QGraphicsItem

from .view_item import ViewItem, finite_bounds, log10_positive

LINE_WIDTH = 2.0
MARKER_RADIUS = 3.0   # pixels


class EpochSeries:
    """One curve of an `EpochLines`: `setData(x, y)`, `getData()` as pyqtgraph's items."""

    def __init__(self, owner: EpochLines, color: str):
        self.owner = owner
        self.color = QColor(color)
        self.x = self.y = np.zeros(0)

    def setData(self, x, y) -> None:
        self.x, self.y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        self.owner.update()

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x, self.y


class EpochLines(ViewItem):
    """Added to `plot`; `series(color)` adds a curve. `log`: y shown as log10 (a log axis);
    `markers`: a marker at each point."""

    def __init__(self, plot: pg.PlotItem):
        super().__init__()
        self.curves: list[EpochSeries] = []
        self.log = False
        self.markers = True
        # Redrawn at most twice a second but painted with every frame: kept as a pixmap, a
        # frame blits it instead of stroking lines and markers again.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        plot.addItem(self)

    def series(self, color: str) -> EpochSeries:
        curve = EpochSeries(self, color)
        self.curves.append(curve)
        return curve

    def set_style(self, log: bool, markers: bool) -> None:
        if (log, markers) != (self.log, self.markers):
            self.log, self.markers = log, markers
            self.update()

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None
                   ) -> tuple[float | None, float | None]:
        """The data's extent along x (0) or y (1), for the view's auto-range (pyqtgraph)."""
        values = [c.x if ax == 0 else self._y(c) for c in self.curves]
        return finite_bounds(np.concatenate(values) if values else np.zeros(0))

    def pixelPadding(self) -> float:
        return MARKER_RADIUS + LINE_WIDTH

    def _y(self, curve: EpochSeries) -> np.ndarray:
        return log10_positive(curve.y) if self.log else curve.y

    def paint(self, painter: QPainter, *_args) -> None:  # Qt override
        # Drawn in device pixels, so the line width and the markers' size are in pixels.
        t = painter.transform()
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for curve in self.curves:
            x, y = curve.x, self._y(curve)
            if len(x) == 0:
                continue
            px = t.m11() * x + t.m21() * y + t.dx()
            py = t.m12() * x + t.m22() * y + t.dy()
            painter.setPen(pg.mkPen(curve.color, width=LINE_WIDTH))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(pg.arrayToQPath(px, py, connect="finite"))
            if self.markers:
                painter.setBrush(curve.color)
                for u, v in zip(px.tolist(), py.tolist()):
                    if np.isfinite(u) and np.isfinite(v):
                        painter.drawEllipse(QPointF(u, v), MARKER_RADIUS, MARKER_RADIUS)
        painter.restore()
