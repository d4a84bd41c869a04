"""The training plots' shared pyqtgraph look: global options, plot and image widgets with
the same grid, axes and titles, colour maps and class colours (their values live in
designer/style.py).

Plots follow pyqtgraph's real-time examples: items are created once and updated with
`setData` / `setImage`; images use fixed levels (`autoLevels=False`) and row-major order.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem, QWidget

from ..style import CLASS_COLORS, DIVERGING_STOPS, PLOT_MUTED, PLOT_TEXT, SEQUENTIAL_STOPS

pg.setConfigOptions(imageAxisOrder="row-major", background="w", foreground=PLOT_TEXT,
                    antialias=False)

GRID_ALPHA = 0.25


def color(i: int) -> str:
    return CLASS_COLORS[i % len(CLASS_COLORS)]


def class_rgb(n: int) -> np.ndarray:
    """(n, 3) uint8 colours for n classes."""
    cols = [QColor(color(i)) for i in range(max(n, 1))]
    return np.array([[c.red(), c.green(), c.blue()] for c in cols], dtype=np.uint8)


def make_plot(title: str = "", left: str = "", bottom: str = "",
              parent: QWidget | None = None) -> pg.PlotWidget:
    """A PlotWidget with the shared look: grid, axis labels, no context-menu clutter."""
    w = pg.PlotWidget(parent=parent)
    style_plot(w.getPlotItem(), title, left, bottom)
    w.setMinimumSize(160, 100)
    return w


def style_plot(item: pg.PlotItem, title: str = "", left: str = "", bottom: str = "") -> None:
    """The shared look of a PlotItem (also for several plots in one GraphicsLayoutWidget,
    which repaints as one view: cheaper than one PlotWidget each)."""
    if title:
        item.setTitle(title, color=PLOT_TEXT, size="10pt")
    if left:
        item.setLabel("left", left, color=PLOT_MUTED)
    if bottom:
        item.setLabel("bottom", bottom, color=PLOT_MUTED)
    # Horizontal grid lines only: each axis with a grid is a plot-sized layer painted again
    # with every frame, and the values are read off the y axis.
    item.showGrid(x=False, y=True, alpha=GRID_ALPHA)
    item.setMenuEnabled(False)
    item.hideButtons()
    for axis in ("left", "bottom"):
        ax = item.getAxis(axis)
        ax.setTextPen(PLOT_TEXT)
        ax.enableAutoSIPrefix(False)
        # Grid lines at major ticks only: the minor levels triple the cost of every repaint.
        ax.setStyle(maxTickLevel=0)
    for axis in ("left", "bottom", "top", "right"):
        # The axes (with their grid lines and tick labels) change only when the range does;
        # cached as pixmaps they are not re-painted with every new batch.
        item.getAxis(axis).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def set_title(item: pg.PlotItem, text: str) -> None:
    """A plot's title, set only when its text changed: setting one lays the plot out anew."""
    if getattr(item, "_shown_title", None) != text:
        item._shown_title = text
        item.setTitle(text, size="10pt")


def set_axis_label(item: pg.PlotItem, axis: str, text: str) -> None:
    """An axis label, set only when its text changed (see `set_title`)."""
    if item.getAxis(axis).labelText != text:
        item.setLabel(axis, text, color=PLOT_MUTED)


def image_view(parent: QWidget | None = None, title: str = "") -> tuple[pg.GraphicsLayoutWidget,
                                                                          pg.ViewBox,
                                                                          pg.ImageItem]:
    """A locked-aspect ViewBox holding one ImageItem (y axis pointing down, like images)."""
    w = pg.GraphicsLayoutWidget(parent=parent)
    if title:
        w.addLabel(title, color=PLOT_TEXT, size="10pt")
        w.nextRow()
    vb = w.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
    vb.setMenuEnabled(False)
    img = pg.ImageItem(autoLevels=False)
    vb.addItem(img)
    w.setMinimumSize(100, 100)
    return w, vb, img


def sequential_map() -> pg.ColorMap:
    """White through blue to navy: counts and shares on a white background."""
    return pg.ColorMap(*SEQUENTIAL_STOPS)


def diverging_map() -> pg.ColorMap:
    """Blue (negative), white (zero), red (positive)."""
    return pg.ColorMap(*DIVERGING_STOPS)


def magnitude_map() -> pg.ColorMap:
    return pg.colormap.get("viridis")
