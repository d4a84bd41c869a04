"""What the stepper draws on the canvas: a ring around the current node, and beside each
edge the values (forward) or gradients (backward) it carries for the chosen sample.

The overlays are extra scene items; they never change the document or the canvas items,
and `clear()` removes them all. A tag lists up to 16 numbers; above that it shows a small
heat map of the sample's values (the first channel of an image) with their range.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

from .. import style

SMALL = 16
PER_ROW = 4
HEAT_SIZE = 44
Z_OVERLAY = 50  # above nodes (1) and edges (0)


def short(v: float) -> str:
    return f"{float(v):.3g}"


def heat_image(values: np.ndarray) -> QImage:
    """One sample as a diverging blue-white-red image, symmetric around zero."""
    a = np.asarray(values, dtype=np.float64)
    while a.ndim > 2:
        a = a[0]
    if a.ndim == 1:
        side = int(np.ceil(np.sqrt(a.size)))
        a = np.pad(a, (0, side * side - a.size)).reshape(side, side)
    scale = float(np.abs(a).max()) or 1.0
    u = np.clip(a / scale, -1, 1)
    red = np.where(u > 0, 1.0, 1.0 + u)
    blue = np.where(u < 0, 1.0, 1.0 - u)
    green = 1.0 - np.abs(u)
    rgb = (np.stack([red, green, blue], axis=-1) * 255).astype(np.uint8)
    rgb = np.ascontiguousarray(rgb)
    h, w, _ = rgb.shape
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class ValueTag(QGraphicsItem):
    """Numbers or a heat map for one sample's values, in a rounded box at `anchor`."""

    def __init__(self, values: np.ndarray, anchor: QPointF, gradient: bool,
                 edge_point: QPointF | None = None):
        super().__init__()
        self.edge_point = edge_point  # a leader line runs up to the edge it belongs to
        self.setZValue(Z_OVERLAY)
        sample = np.asarray(values)[0] if np.ndim(values) > 1 else np.asarray(values)
        self.gradient = gradient
        self.lines: list[str] = []
        self.image: QImage | None = None
        metrics = QFontMetricsF(style.small_font())
        if sample.size <= SMALL:
            flat = [short(v) for v in np.ravel(sample)]
            self.lines = [" ".join(flat[i:i + PER_ROW]) for i in range(0, len(flat), PER_ROW)]
            width = max(metrics.horizontalAdvance(line) for line in self.lines) + 10
            height = metrics.height() * len(self.lines) + 6
        else:
            self.image = heat_image(sample)
            flat = np.ravel(sample)
            self.lines = [f"{short(flat.min())} … {short(flat.max())}"]
            width = max(HEAT_SIZE, metrics.horizontalAdvance(self.lines[0])) + 10
            height = HEAT_SIZE + metrics.height() + 8
        self.rect = QRectF(anchor.x() - width / 2, anchor.y(), width, height)
        kind = "gradient dL/d(value)" if gradient else "value"
        self.setToolTip(f"{kind} for the chosen sample, shape {list(sample.shape)}")

    def boundingRect(self) -> QRectF:
        r = self.rect.adjusted(-1, -1, 1, 1)
        if self.edge_point is not None:
            r = r.united(QRectF(self.edge_point, self.edge_point).adjusted(-2, -2, 2, 2))
        return r

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        border = QColor("#c2410c") if self.gradient else style.ACCENT
        if self.edge_point is not None:
            painter.setPen(QPen(border, 1, Qt.PenStyle.DashLine))
            painter.drawLine(self.edge_point, QPointF(self.rect.center().x(), self.rect.top()))
            painter.setBrush(border)
            painter.drawEllipse(self.edge_point, 2.5, 2.5)
        painter.setPen(QPen(border, 1.2))
        painter.setBrush(QColor(255, 255, 255, 235))
        painter.drawRoundedRect(self.rect, 5, 5)
        painter.setFont(style.small_font())
        painter.setPen(style.TEXT)
        metrics = QFontMetricsF(style.small_font())
        y = self.rect.top() + 3
        if self.image is not None:
            target = QRectF(self.rect.center().x() - HEAT_SIZE / 2, y, HEAT_SIZE, HEAT_SIZE)
            painter.drawImage(target, self.image)
            y += HEAT_SIZE + 2
        for line in self.lines:
            painter.drawText(QRectF(self.rect.left(), y, self.rect.width(), metrics.height()),
                             Qt.AlignmentFlag.AlignCenter, line)
            y += metrics.height()


class NodeRing(QGraphicsItem):
    """A highlight around the node being computed (blue forward, orange backward)."""

    def __init__(self, rect: QRectF, backward: bool):
        super().__init__()
        self.setZValue(Z_OVERLAY)
        self.rect = rect.adjusted(-6, -6, 6, 6)
        self.color = QColor("#c2410c") if backward else style.ACCENT

    def boundingRect(self) -> QRectF:
        return self.rect.adjusted(-3, -3, 3, 3)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        glow = QColor(self.color)
        glow.setAlpha(60)
        painter.setPen(QPen(glow, 7))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(self.rect, 10, 10)
        painter.setPen(QPen(self.color, 2.5))
        painter.drawRoundedRect(self.rect, 10, 10)


class StepperOverlay:
    """Owns the stepper's items in `scene` (a CanvasScene: `node_item`, `edge_item`)."""

    def __init__(self, scene: QGraphicsScene):
        self.scene = scene
        self.items: list[QGraphicsItem] = []

    def clear(self) -> None:
        for item in self.items:
            if item.scene() is self.scene:
                self.scene.removeItem(item)
        self.items = []

    def show(self, current: str | None, backward: bool,
             edge_values: dict[tuple[str, str], np.ndarray]) -> None:
        """Ring `current`; tag each (source, target) edge with its array."""
        self.clear()
        node = self.scene.node_item(current) if current else None
        if node is not None:
            self._add(NodeRing(node.sceneBoundingRect(), backward))
        for (source, target), value in edge_values.items():
            edge = self.scene.edge_item(source, target)
            if edge is None or value is None:
                continue
            mid = edge.path().pointAtPercent(0.5)
            below = max(edge.source.sceneBoundingRect().bottom(),
                        edge.target.sceneBoundingRect().bottom()) + 14
            self._add(ValueTag(value, QPointF(mid.x(), below), backward, mid))

    def tags(self) -> list[ValueTag]:
        return [i for i in self.items if isinstance(i, ValueTag)]

    def _add(self, item: QGraphicsItem) -> None:
        self.scene.addItem(item)
        self.items.append(item)
