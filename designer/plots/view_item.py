"""`ViewItem`: a pyqtgraph item whose bounds are its view's visible rectangle.

The training plots are repainted whole 25 to 30 times a second while training (see
live_plot.py), and the view asks every item for its bounds several times a frame. pyqtgraph's
own items work theirs out from the data and a padding in pixels, in Python, again after each
change of data; an item that only draws inside its view (the view clips it there anyway) can
answer with the view's rectangle, computed once per change of the view's range.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF


def log10_positive(y: np.ndarray) -> np.ndarray:
    """y in log10 units for a log axis; values <= 0 (and NaN) become NaN gaps."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(np.where(y > 0, y, np.nan))


def finite_bounds(values: np.ndarray) -> tuple[float | None, float | None]:
    """(lowest, highest) finite value, (None, None) without one: pyqtgraph's dataBounds."""
    v = values[np.isfinite(values)]
    return (float(v.min()), float(v.max())) if v.size else (None, None)


class ViewItem(pg.GraphicsObject):
    """Subclasses paint in the view's data coordinates, inside the view, and give their
    data's extent with `dataBounds` (for auto-range: their bounds are not their data's)."""

    def __init__(self) -> None:
        super().__init__()
        self._rect: QRectF | None = None

    def viewRangeChanged(self) -> None:  # pyqtgraph's hook
        self.prepareGeometryChange()
        self._rect = None

    def boundingRect(self) -> QRectF:  # Qt override
        if self._rect is None:
            view = self.getViewBox()
            self._rect = QRectF(view.viewRect()) if view is not None else QRectF()
        return self._rect
