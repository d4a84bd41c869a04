"""`CellCounts`: the numbers in a square matrix's cells, as one graphics item.

A 10-class confusion matrix has 100 counts. As 100 pyqtgraph TextItems they took 54 ms to
make, most of the Confusion tab's 80 ms first draw, which came during a run's first epochs
when the tab was in front; each also kept its own transform up to date. This item paints
them all itself, in pixels at the cells' centres, so a count never scales with the view.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter


class CellCounts(pg.GraphicsObject):
    """Texts centred in the cells of a k x k matrix spanning (0, 0)-(k, k) in view
    coordinates, cell (row, column) at x = column, y = row; one font for all of them."""

    def __init__(self) -> None:
        super().__init__()
        self.k = 0
        self.texts: list[str] = []        # row-major, "" for an empty cell
        self.colors: list[QColor] = []
        self.font = QFont()
        self.shown = True                 # False while the cells are too small for a count

    def set_cells(self, texts: list[str], colors: list[str]) -> None:
        """Row-major texts (k * k of them, or none) and their colours."""
        k = round(len(texts) ** 0.5)
        if k != self.k:
            self.prepareGeometryChange()
            self.k = k
        self.texts = list(texts)
        self.colors = [QColor(c) for c in colors]
        self.update()

    def set_font(self, font: QFont, shown: bool) -> None:
        self.font = QFont(font)
        self.shown = shown
        self.update()

    def boundingRect(self) -> QRectF:  # Qt override
        return QRectF(0, 0, self.k, self.k)

    def paint(self, painter: QPainter, *_args) -> None:  # Qt override
        if not self.shown or not self.k:
            return
        to_device = painter.transform()
        height = QFontMetricsF(self.font).height()
        painter.save()
        painter.resetTransform()
        painter.setFont(self.font)
        for i, text in enumerate(self.texts):
            if text:
                row, column = divmod(i, self.k)
                centre = to_device.map(QPointF(column + 0.5, row + 0.5))
                painter.setPen(self.colors[i])
                painter.drawText(QRectF(centre.x() - 4 * height, centre.y() - height,
                                        8 * height, 2 * height),
                                 Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()
