"""Tool bar and menu icons, drawn with QPainter so they look the same on every platform and
theme (no image files). One stroke style: round caps, 1.6 px at 24 px, in `INK`."""
from __future__ import annotations

from collections.abc import Callable
from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from . import style

INK = QColor("#334155")
SIZE = 24


def _page(p: QPainter) -> None:
    path = QPainterPath(QPointF(6, 3))
    path.lineTo(14, 3)
    path.lineTo(19, 8)
    path.lineTo(19, 21)
    path.lineTo(6, 21)
    path.closeSubpath()
    p.drawPath(path)
    p.drawPolyline([QPointF(14, 3), QPointF(14, 8), QPointF(19, 8)])


def _new(p: QPainter) -> None:
    _page(p)
    p.drawLine(QPointF(12.5, 11), QPointF(12.5, 17))
    p.drawLine(QPointF(9.5, 14), QPointF(15.5, 14))


def _open(p: QPainter) -> None:
    path = QPainterPath(QPointF(3, 19))
    path.lineTo(3, 6)
    path.lineTo(9, 6)
    path.lineTo(11, 8)
    path.lineTo(18, 8)
    path.lineTo(18, 10.5)
    p.drawPath(path)
    shelf = QPainterPath(QPointF(3, 19))
    shelf.lineTo(6.5, 10.5)
    shelf.lineTo(21.5, 10.5)
    shelf.lineTo(18, 19)
    shelf.closeSubpath()
    p.drawPath(shelf)


def _save(p: QPainter) -> None:
    path = QPainterPath(QPointF(4, 4))
    path.lineTo(17, 4)
    path.lineTo(20, 7)
    path.lineTo(20, 20)
    path.lineTo(4, 20)
    path.closeSubpath()
    p.drawPath(path)
    p.drawRect(QRectF(8, 4, 7, 5))
    p.drawRect(QRectF(7.5, 13, 9, 7))


def _undo(p: QPainter, mirror: bool = False) -> None:
    if mirror:
        p.translate(SIZE, 0)
        p.scale(-1, 1)
    path = QPainterPath(QPointF(6, 10))
    path.lineTo(15, 10)
    path.cubicTo(QPointF(22, 10), QPointF(22, 19), QPointF(15, 19))
    path.lineTo(10, 19)
    p.drawPath(path)
    p.drawPolyline([QPointF(10, 6), QPointF(6, 10), QPointF(10, 14)])


def _redo(p: QPainter) -> None:
    _undo(p, mirror=True)


def _templates(p: QPainter) -> None:
    for x in (4, 13):
        for y in (4, 13):
            p.drawRoundedRect(QRectF(x, y, 7, 7), 1.5, 1.5)


def _fit(p: QPainter) -> None:
    for (x, y), (dx, dy) in zip(((4, 4), (20, 4), (4, 20), (20, 20)),
                                ((1, 1), (-1, 1), (1, -1), (-1, -1))):
        p.drawPolyline([QPointF(x, y + 5 * dy), QPointF(x, y), QPointF(x + 5 * dx, y)])
    p.drawRoundedRect(QRectF(9, 9, 6, 6), 1, 1)


def _magnifier(p: QPainter, plus: bool) -> None:
    p.drawEllipse(QPointF(10.5, 10.5), 6, 6)
    p.drawLine(QPointF(15, 15), QPointF(20.5, 20.5))
    p.drawLine(QPointF(7.5, 10.5), QPointF(13.5, 10.5))
    if plus:
        p.drawLine(QPointF(10.5, 7.5), QPointF(10.5, 13.5))


def _delete(p: QPainter) -> None:
    p.drawLine(QPointF(4, 6.5), QPointF(20, 6.5))
    p.drawPolyline([QPointF(9, 6.5), QPointF(9, 3.5), QPointF(15, 3.5), QPointF(15, 6.5)])
    path = QPainterPath(QPointF(6, 6.5))
    path.lineTo(7, 20.5)
    path.lineTo(17, 20.5)
    path.lineTo(18, 6.5)
    p.drawPath(path)
    p.drawLine(QPointF(10.5, 10), QPointF(10.5, 17))
    p.drawLine(QPointF(13.5, 10), QPointF(13.5, 17))


def _copy(p: QPainter) -> None:
    p.drawRoundedRect(QRectF(8, 8, 12, 13), 1.5, 1.5)
    p.drawPolyline([QPointF(5, 16), QPointF(4, 16), QPointF(4, 3), QPointF(16, 3),
                    QPointF(16, 5)])


def _paste(p: QPainter) -> None:
    p.drawRoundedRect(QRectF(5, 5, 14, 16), 1.5, 1.5)
    p.drawRoundedRect(QRectF(9, 3, 6, 4), 1, 1)


def _cut(p: QPainter) -> None:
    p.drawEllipse(QPointF(7, 17.5), 3, 3)
    p.drawEllipse(QPointF(17, 17.5), 3, 3)
    p.drawLine(QPointF(9, 15.5), QPointF(17, 3))
    p.drawLine(QPointF(15, 15.5), QPointF(7, 3))


def _duplicate(p: QPainter) -> None:
    _copy(p)
    p.drawLine(QPointF(14, 11.5), QPointF(14, 17.5))
    p.drawLine(QPointF(11, 14.5), QPointF(17, 14.5))


_DRAW: dict[str, Callable[[QPainter], None]] = {
    "new": _new, "open": _open, "save": _save, "save_as": _save, "undo": _undo, "redo": _redo,
    "templates": _templates, "fit": _fit, "zoom_in": lambda p: _magnifier(p, True),
    "zoom_out": lambda p: _magnifier(p, False), "delete": _delete, "copy": _copy,
    "paste": _paste, "cut": _cut, "duplicate": _duplicate,
}


@cache
def icon(name: str) -> QIcon:
    """A named action icon; normal and disabled (greyed) states, 1x and 2x."""
    result = QIcon()
    for color, mode in ((INK, QIcon.Mode.Normal), (QColor("#b0b8c4"), QIcon.Mode.Disabled),
                        (style.ACCENT, QIcon.Mode.Active)):
        for scale in (1, 2):
            pm = QPixmap(SIZE * scale, SIZE * scale)
            pm.fill(Qt.GlobalColor.transparent)
            p = QPainter(pm)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.scale(scale, scale)
            pen = QPen(color, 1.6)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            _DRAW[name](p)
            p.end()
            pm.setDevicePixelRatio(scale)
            result.addPixmap(pm, mode)
    return result


def names() -> list[str]:
    return list(_DRAW)
