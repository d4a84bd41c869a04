"""The designer's look in one place: a colour and an icon per catalogue category, fonts,
sizes and the canvas palette, plus text formats for shapes and parameter counts.

The canvas and the palette both read from here, so a category looks the same everywhere.
Icons are drawn with QPainter (no image files); `draw_category_glyph` paints the same glyph
into a node's header.
"""
from __future__ import annotations

import math
from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QIcon,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QAbstractScrollArea, QFrame

import nnengine
from nnengine.catalogue import CATEGORIES

# --- sizes (scene pixels) --------------------------------------------------------------------
GRID = 20                 # snapping step and background grid spacing
NODE_WIDTH = 200
HEADER_HEIGHT = 26
CORNER_RADIUS = 7
PORT_RADIUS = 6
PORT_FIRST_Y = HEADER_HEIGHT + 18   # centre of the first port, from the node's top
PORT_SPACING = 22
LINE_HEIGHT = 17
BADGE_RADIUS = 9

# --- colours ---------------------------------------------------------------------------------
# Seven hues, dark enough that white header text stays legible (contrast >= 4.5:1).
CATEGORY_COLORS: dict[str, str] = {
    "Input and output": "#0e7490",                  # cyan
    "Core": "#1d4ed8",                              # blue
    "Activations": "#c2410c",                       # orange
    "Convolution and pooling": "#15803d",           # green
    "Normalization and regularization": "#7e22ce",  # purple
    "Recurrent and embedding": "#be185d",           # pink
    "Merge": "#854d0e",                             # brown
}
FALLBACK_COLOR = "#64748b"  # unknown layer types

CANVAS_BACKGROUND = QColor("#f6f7f9")
GRID_DOT = QColor("#c9ced6")
GRID_MAJOR = QColor("#b3bac5")
NODE_BODY = QColor("#ffffff")
NODE_BORDER = QColor("#c3c9d2")
TEXT = QColor("#1f2933")
TEXT_MUTED = QColor("#66727f")
ACCENT = QColor("#2563eb")           # selection, hover, connect-drag
ACCENT_HOVER = QColor("#1d4ed8")     # an accent-coloured button under the mouse
NOTICE_BACKGROUND = "#fef3c7"        # a notice above the canvas (not an error): amber 100
NOTICE_BORDER = "#f59e0b"
ERROR = QColor("#dc2626")
EDGE = QColor("#7b8594")
EDGE_LABEL_BACKGROUND = QColor("#ffffff")
PORT_FILL = QColor("#ffffff")

# --- training plots and panel (pyqtgraph takes colours as strings) ----------------------------
PLOT_TEXT = "#1f2933"
PLOT_MUTED = "#66727f"
PLOT_ACCENT = "#2563eb"
TRAIN_COLOR = "#2563eb"          # training curves (blue)
TRAIN_LIGHT_COLOR = "#93b4f5"    # per-batch training curve
VALID_COLOR = "#ea580c"          # validation curves (orange)
GOOD_COLOR = "#15803d"           # a right prediction
BAD_COLOR = "#dc2626"            # a wrong prediction
ERROR_TEXT = "#b91c1c"           # the training panel's error line
MARKER_COLOR = "#64748b"         # the scrubber's epoch marker
HIGHLIGHT_COLOR = "#f59e0b"      # the chosen confusion cell
BOUNDARY_LINE = "#111827"        # the decision boundary's contour
ON_DARK_TEXT = "#ffffff"         # a count on a dark cell
SELECTED_ROW = "#dbeafe"         # the legend's chosen row
POINT_OUTLINE = (255, 255, 255, 220)
HIST_BRUSH = (37, 99, 235, 110)
# Ten well-separated hues for classes and layers (colour-blind-safer "tab10" order).
CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
# Colour maps as (position, RGB) stops.
SEQUENTIAL_STOPS = ([0.0, 0.35, 0.75, 1.0],     # white through blue to navy: counts, shares
                    [(255, 255, 255), (147, 180, 245), (29, 78, 216), (12, 30, 92)])
DIVERGING_STOPS = ([0.0, 0.5, 1.0],            # blue (negative), white (zero), red (positive)
                   [(33, 102, 172), (247, 247, 247), (178, 24, 43)])



def category_color(category: str) -> QColor:
    return QColor(CATEGORY_COLORS.get(category, FALLBACK_COLOR))


def type_category(type_name: str) -> str | None:
    try:
        return nnengine.layer_spec(type_name).category
    except KeyError:
        return None


def type_color(type_name: str) -> QColor:
    return category_color(type_category(type_name) or "")


# --- fonts -----------------------------------------------------------------------------------
def title_font() -> QFont:
    f = QFont()
    f.setPointSizeF(9.5)
    f.setBold(True)
    return f


def body_font() -> QFont:
    f = QFont()
    f.setPointSizeF(8.5)
    return f


def small_font() -> QFont:
    f = QFont()
    f.setPointSizeF(7.5)
    return f


# --- text formats ----------------------------------------------------------------------------
def format_shape(shape: tuple[int, ...] | list[int] | None) -> str:
    """[32, 8, 8] for a known shape (batch excluded), ? when unknown."""
    if shape is None:
        return "?"
    return "[" + ", ".join(str(int(v)) for v in shape) + "]"


def format_params(count: int) -> str:
    if count == 0:
        return "no weights"
    return f"{count:,} param{'s' if count != 1 else ''}"


def format_value(value: object) -> str:
    if value is None:  # nullable parameters: None means "derived" (pool stride = pool size)
        return "auto"
    if isinstance(value, (list, tuple)):
        return format_shape(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


# --- icons -----------------------------------------------------------------------------------
def draw_category_glyph(painter: QPainter, rect: QRectF, category: str,
                        color: QColor) -> None:
    """Paint the category's small line drawing into `rect` (a square) with `color`."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = min(rect.width(), rect.height())
    pen = QPen(color, max(1.2, s / 11))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    x0, y0 = rect.center().x() - s / 2, rect.center().y() - s / 2

    def p(u: float, v: float) -> QPointF:  # unit square -> rect
        return QPointF(x0 + u * s, y0 + v * s)

    drawer = _GLYPHS.get(category, _glyph_unknown)
    drawer(painter, p, s, color)
    painter.restore()


def _dot(painter: QPainter, c: QPointF, r: float, color: QColor) -> None:
    painter.save()
    painter.setBrush(color)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(c, r, r)
    painter.restore()


def _glyph_input(painter, p, s, color):
    # an arrow entering a bracket
    painter.drawLine(p(0.12, 0.5), p(0.62, 0.5))
    painter.drawPolyline([p(0.45, 0.32), p(0.63, 0.5), p(0.45, 0.68)])
    painter.drawPolyline([p(0.66, 0.18), p(0.86, 0.18), p(0.86, 0.82), p(0.66, 0.82)])


def _glyph_core(painter, p, s, color):
    # a tiny fully connected layer: three units feeding two
    left = [p(0.2, 0.2), p(0.2, 0.5), p(0.2, 0.8)]
    right = [p(0.8, 0.33), p(0.8, 0.67)]
    thin = QPen(painter.pen())
    thin.setWidthF(max(0.8, s / 20))
    painter.save()
    painter.setPen(thin)
    for a in left:
        for b in right:
            painter.drawLine(a, b)
    painter.restore()
    for c in left + right:
        _dot(painter, c, s * 0.09, color)


def _glyph_activation(painter, p, s, color):
    # a sigmoid over a faint axis
    path = QPainterPath(p(0.1, 0.8))
    path.cubicTo(p(0.55, 0.8), p(0.45, 0.2), p(0.9, 0.2))
    painter.drawPath(path)


def _glyph_conv(painter, p, s, color):
    # a 3x3 kernel with its centre cell filled
    cell = 0.24
    for i in range(3):
        for j in range(3):
            r = QRectF(p(0.14 + i * cell, 0.14 + j * cell), p(0.14 + (i + 1) * cell,
                                                           0.14 + (j + 1) * cell))
            if i == 1 and j == 1:
                painter.fillRect(r, color)
            painter.drawRect(r)


def _glyph_norm(painter, p, s, color):
    # a bell curve over a baseline
    path = QPainterPath(p(0.08, 0.8))
    for k in range(1, 25):
        u = k / 24
        x = (u - 0.5) * 4.5
        path.lineTo(p(0.08 + 0.84 * u, 0.8 - 0.6 * math.exp(-x * x / 2)))
    painter.drawPath(path)


def _glyph_recurrent(painter, p, s, color):
    # a loop arrow
    r = QRectF(p(0.18, 0.18), p(0.82, 0.82))
    painter.drawArc(r, 40 * 16, 290 * 16)
    tip = p(0.5 + 0.32 * math.cos(math.radians(40)), 0.5 - 0.32 * math.sin(math.radians(40)))
    painter.drawPolyline([QPointF(tip.x() - s * 0.2, tip.y() - s * 0.02), tip,
                          QPointF(tip.x() + s * 0.02, tip.y() - s * 0.2)])


def _glyph_merge(painter, p, s, color):
    # two branches joining into one
    path = QPainterPath(p(0.1, 0.2))
    path.cubicTo(p(0.4, 0.2), p(0.4, 0.5), p(0.6, 0.5))
    path.moveTo(p(0.1, 0.8))
    path.cubicTo(p(0.4, 0.8), p(0.4, 0.5), p(0.6, 0.5))
    path.lineTo(p(0.9, 0.5))
    painter.drawPath(path)


def _glyph_unknown(painter, p, s, color):
    painter.drawEllipse(QRectF(p(0.2, 0.2), p(0.8, 0.8)))


_GLYPHS = {
    "Input and output": _glyph_input,
    "Core": _glyph_core,
    "Activations": _glyph_activation,
    "Convolution and pooling": _glyph_conv,
    "Normalization and regularization": _glyph_norm,
    "Recurrent and embedding": _glyph_recurrent,
    "Merge": _glyph_merge,
}
assert set(_GLYPHS) == set(CATEGORIES), "every catalogue category needs a glyph"


@lru_cache(maxsize=64)
def category_icon(category: str, size: int = 16) -> QIcon:
    """A white glyph on a rounded square of the category's colour (needs a QGuiApplication)."""
    icon = QIcon()
    for scale in (1, 2):  # crisp on high-dpi screens
        n = size * scale
        pm = QPixmap(n, n)
        pm.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pm)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(category_color(category))
        painter.drawRoundedRect(QRectF(0, 0, n, n), n * 0.22, n * 0.22)
        draw_category_glyph(painter, QRectF(n * 0.14, n * 0.14, n * 0.72, n * 0.72), category,
                            QColor("white"))
        painter.end()
        icon.addPixmap(pm)
    return icon


def type_icon(type_name: str, size: int = 16) -> QIcon:
    return category_icon(type_category(type_name) or "", size)


def on_window_background(area: QAbstractScrollArea) -> None:
    """A list or text area drawn on its panel's own background, without a frame. Through the
    palette, not a style sheet: "background: transparent" on a scroll area paints its scroll
    bar's groove black in a real X11 window."""
    area.setFrameShape(QFrame.Shape.NoFrame)
    palette = area.palette()
    palette.setColor(QPalette.ColorRole.Base, palette.color(QPalette.ColorRole.Window))
    area.setPalette(palette)
