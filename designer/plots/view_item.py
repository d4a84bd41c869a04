"""`ViewItem`: a pyqtgraph item whose bounds are its view's visible rectangle.

The training plots are repainted whole 25 to 30 times a second while training (see
live_plot.py), and the view asks every item for its bounds several times a frame. pyqtgraph's
own items work theirs out from the data and a padding in pixels, in Python, again after each
change of data; an item that only draws inside its view (the view clips it there anyway) can
answer with the view's rectangle, computed once per change of the view's range.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF


class ViewItem(pg.GraphicsObject):
    """Subclasses paint in the view's data coordinates, inside the view."""

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
