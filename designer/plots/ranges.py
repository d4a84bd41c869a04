"""Plot ranges that change rarely: axis ranges that stick until the data leaves them or
shrinks well inside them, and colour levels that widen at once but narrow slowly. A changed
axis is regenerated and the whole plot repainted, and flickering colours hide what changed:
both keep frames cheap and readable."""
from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg


def steady_levels(previous: tuple[float, float] | None, data: np.ndarray,
                  symmetric: bool) -> tuple[float, float]:
    """Fixed colour levels that only widen, or narrow slowly (so colours do not flicker
    from frame to frame, yet a shrinking range is still followed)."""
    finite = data[np.isfinite(data)]
    if finite.size == 0:
        return previous or (0.0, 1.0)
    # The 99th percentile, not the maximum: one extreme value must not wash out the rest.
    if symmetric:
        m = float(np.percentile(np.abs(finite), 99)) or float(np.abs(finite).max()) or 1e-6
        lo, hi = -m, m
    else:
        lo, hi = float(finite.min()), float(np.percentile(finite, 99))
        if hi - lo < 1e-9:
            hi = max(float(finite.max()), lo + 1e-6)
    if previous is None:
        return lo, hi
    plo, phi = previous
    return (min(lo, plo * 0.9 + lo * 0.1), max(hi, phi * 0.9 + hi * 0.1))


class StickyRange:
    """A y (or x) range set by hand that changes only when the data leaves it or fills less
    than `fill` of it. Auto-ranging on every new batch would change the axes every frame, and
    a changed axis is regenerated and the whole plot repainted: this keeps frames cheap.

    In log mode the range is kept in decades (pyqtgraph's view coordinates)."""

    def __init__(self, plot: pg.PlotItem, pad: float = 0.06, fill: float = 0.4,
                 axis: str = "y"):
        self.plot = plot
        self.pad = pad
        self.fill = fill
        self.axis = axis
        self.current: tuple[float, float] | None = None
        plot.enableAutoRange(axis=axis, enable=False)

    def reset(self) -> None:
        self.current = None

    def update(self, *series: np.ndarray, log: bool = False) -> None:
        values = [np.asarray(s, dtype=float) for s in series if len(s)]
        if not values:
            return
        v = np.concatenate(values)
        v = v[np.isfinite(v) & (v > 0)] if log else v[np.isfinite(v)]
        if v.size == 0:
            return
        lo, hi = (float(np.log10(v.min())), float(np.log10(v.max()))) if log else \
            (float(v.min()), float(v.max()))
        if hi - lo < 1e-12:
            lo, hi = lo - 0.5, hi + 0.5
        cur = self.current
        if cur is not None and cur[0] <= lo and hi <= cur[1] and \
                (hi - lo) >= self.fill * (cur[1] - cur[0]):
            return
        pad = (hi - lo) * self.pad
        self.current = (lo - pad, hi + pad)
        if self.axis == "y":
            self.plot.setYRange(*self.current, padding=0)
        else:
            self.plot.setXRange(*self.current, padding=0)


class HistogramRanges:
    """Sticky x and y ranges for the histograms of one layer at a time (bars stand on zero);
    another layer starts from its own ranges."""

    def __init__(self, plot: pg.PlotItem, fill: float = 0.5):
        self.x = StickyRange(plot, fill=fill, axis="x")
        self.y = StickyRange(plot, fill=fill)
        self.layer: str | None = None

    def reset(self) -> None:
        self.layer = None

    def update(self, layer: str | None, hists: list[Any]) -> None:
        """hists: summary.Hist of `layer` now shown."""
        if layer != self.layer:
            self.layer = layer
            self.x.reset()
            self.y.reset()
        if hists:
            self.x.update(*(h.edges for h in hists))
            self.y.update(np.zeros(1), *(h.counts for h in hists))
