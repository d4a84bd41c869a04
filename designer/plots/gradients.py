"""Gradients: the norm of each layer's weight gradient over training on a log scale (one
curve per layer, so vanishing and exploding gradients stand out at a glance), and the
histogram of the chosen layer's weight gradients now."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from ..training.summary import Snapshot
from .base import (
    HIST_BRUSH,
    TRAIN,
    LivePlot,
    NodePicker,
    StickyRange,
    choose_node,
    color,
    make_plot,
)


class GradientsPlot(LivePlot):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.picker = NodePicker(self, lambda ctx, n: n in ctx.weighted)
        self.body.addWidget(self.picker)
        self.norm_plot = make_plot("Gradient norm per layer (log scale)", "‖∂L/∂W‖", "epoch")
        self.norm_plot.getPlotItem().setLogMode(y=True)
        self.norm_range = StickyRange(self.norm_plot.getPlotItem(), fill=0.3)
        self.legend = self.norm_plot.addLegend(offset=(-8, 8), labelTextColor="#1f2933",
                                               brush=pg.mkBrush(255, 255, 255, 200))
        self.hist_plot = make_plot("Weight gradients of the layer", "count", "∂L/∂w")
        self.hist = self.hist_plot.plot([], [], stepMode="center", fillLevel=0,
                                        brush=pg.mkBrush(HIST_BRUSH), pen=pg.mkPen(TRAIN))
        self.body.addWidget(self.norm_plot, 3)
        self.body.addWidget(self.hist_plot, 2)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.snapshot: Snapshot | None = None
        self._version = None
        self._emphasis: str | None = None
        self.message("Press Train to see the gradients of each layer.")

    def reset(self) -> None:
        for item in self.curves.values():
            self.norm_plot.removeItem(item)
        self.legend.clear()
        self.curves = {}
        for i, node in enumerate(self.context.weighted):
            item = self.norm_plot.plot([], [], pen=pg.mkPen(color(i), width=1), name=node)
            item.setDownsampling(auto=True, method="peak")
            item.setClipToView(True)
            self.curves[node] = item
        self.snapshot = None
        self._version = None
        self._emphasis = None
        self.norm_range.reset()
        if self.context.epochs:
            self.norm_plot.setXRange(0, self.context.epochs, padding=0.02)
        self.picker.fill()

    def set_snapshot(self, snap: Snapshot | None) -> None:
        self.snapshot = snap
        self.request()

    def draw(self) -> None:
        if not self.curves:
            self.message("This network has no layer with weights, so there are no weight "
                         "gradients to show.")
            return
        snap, metrics = self.snapshot, self.context.metrics
        if snap is None or metrics is None:
            self.message("Press Train to see the gradients of each layer.")
            return
        self.show_plot()
        node = choose_node(self, self.picker)
        self.picker.sync()
        key = (metrics.version, snap.x, self.live)
        if key != self._version:
            self._version = key
            shown = []
            for n, item in self.curves.items():
                x, y = metrics.grad_norms(n)
                if not self.live:   # scrubbed to a past epoch: the curves up to it
                    x, y = x[x <= snap.x + 1e-9], y[x <= snap.x + 1e-9]
                y = np.where(y > 0, y, np.nan)
                item.setData(x, y, connect="finite")
                shown.append(y)
            self.norm_range.update(*shown, log=True)
        if node != self._emphasis:
            # Emphasis by colour, not width: wide pens on long noisy curves are stroked in
            # software and cost tens of milliseconds per repaint.
            for i, (n, item) in enumerate(self.curves.items()):
                c = pg.mkColor(color(i))
                if n != node:
                    c.setAlpha(110)
                item.setPen(pg.mkPen(c, width=1))
                item.setZValue(10 if n == node else 0)
            self._emphasis = node
        layer = snap.layers.get(node) if node else None
        h = layer.grad_hist if layer is not None else None
        title = f"Weight gradients of {node}" if node else "Weight gradients"
        if layer is not None and layer.grad_norm is not None:
            title += f" · norm {layer.grad_norm:.3g}"
        self.hist_plot.getPlotItem().setTitle(title, size="10pt")
        if h is None:
            self.hist.setData([], [])
        else:
            self.hist.setData(h.edges, h.counts)
