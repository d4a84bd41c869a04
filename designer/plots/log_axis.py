"""A log-scale axis whose tick labels never run into each other.

pyqtgraph labels 2, 3, ... 9 between the decades of a log axis whenever they fit its rough
estimate, and on a plot 150 pixels tall spanning one or two decades the labels overlap.
`LogAxis` chooses the densest of three label sets (every decade; 1, 2 and 5 in each decade;
1 to 9) whose labels stay `LABEL_GAP` pixels apart, and thins the decades when even they
are too close.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from .pyqtgraph_setup import GRID_ALPHA, style_plot

LABEL_GAP = 22   # pixels between two tick labels of a vertical axis
MANTISSAS = ((1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 5), (1,))


def log_ticks(low: float, high: float, pixels: float, gap: float = LABEL_GAP) -> list[float]:
    """Tick positions (log10 units) between `low` and `high` (log10 units) on an axis
    `pixels` long, at least `gap` pixels apart."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low or pixels <= 0:
        return []
    per_unit = pixels / (high - low)
    decades = range(math.floor(low), math.ceil(high) + 1)
    for mantissas in MANTISSAS:
        ticks = [d + math.log10(m) for d in decades for m in mantissas]
        ticks = [t for t in ticks if low <= t <= high]
        if len(ticks) >= 2 and np.min(np.diff(ticks)) * per_unit >= gap:
            return ticks
    step = max(1, math.ceil(gap / per_unit))   # decades too close: every step-th one
    return [float(d) for d in decades if d % step == 0 and low <= d <= high]


def log_label(value: float) -> str:
    """10**value as a short label: 0.001, 20, 1e-6."""
    x = 10.0 ** value
    if 1e-3 <= x < 1e4:
        return f"{x:.4g}"
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


class LogAxis(pg.AxisItem):
    def tickValues(self, minVal, maxVal, size):  # pyqtgraph override
        if not self.logMode:
            return super().tickValues(minVal, maxVal, size)
        return [(1.0, log_ticks(min(minVal, maxVal), max(minVal, maxVal), size))]

    def tickStrings(self, values, scale, spacing):  # pyqtgraph override
        if not self.logMode:
            return super().tickStrings(values, scale, spacing)
        return [log_label(v) for v in values]


def use_log_axis(plot: pg.PlotWidget, label: str) -> None:
    """Give `plot` a log-scale left axis of `LogAxis` labelled `label`."""
    item = plot.getPlotItem()
    axis = LogAxis("left")
    item.setAxisItems({"left": axis})
    style_plot(item, left=label)
    axis.setGrid(int(GRID_ALPHA * 255))   # the plot's grid setting does not reach a new axis
    item.setLogMode(y=True)
