"""Gradients: the norm of each layer's weight gradient over training on a log scale (one
curve per layer, so vanishing and exploding gradients stand out at a glance), and the
histogram of the chosen layer's weight gradients now.

The two sit side by side when the page is wider than tall, else stacked; the layers' legend
is a clickable column beside the norms (inside the plot it would cover the curves)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QWidget

from ..style import HIST_BRUSH, TRAIN_COLOR
from ..training.summary import Snapshot
from .batch_curve import BatchCurve
from .legend import LegendList
from .live_plot import LivePlot, NodePicker, choose_node
from .log_axis import use_log_axis
from .pyqtgraph_setup import color, make_plot, set_title
from .ranges import HistogramRanges, StickyRange


class GradientsPlot(LivePlot):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.picker = NodePicker(self, lambda ctx, n: n in ctx.weighted)
        self.body.addWidget(self.picker)
        self.norm_plot = make_plot("Gradient norm per layer (log scale)", "", "epoch")
        use_log_axis(self.norm_plot, "norm of ∂L/∂W")
        self.norm_range = StickyRange(self.norm_plot.getPlotItem(), fill=0.3)
        self.legend = LegendList()
        self.legend.chosen.connect(self.set_node)
        self.hist_plot = make_plot("Weight gradients of the layer", "count", "∂L/∂w")
        self.hist = self.hist_plot.plot([], [], stepMode="center", fillLevel=0,
                                        brush=pg.mkBrush(HIST_BRUSH), pen=pg.mkPen(TRAIN_COLOR))
        self.hist_ranges = HistogramRanges(self.hist_plot.getPlotItem())
        norms = QWidget()
        norm_row = QHBoxLayout(norms)
        norm_row.setContentsMargins(0, 0, 0, 0)
        norm_row.setSpacing(0)
        norm_row.addWidget(self.norm_plot, 1)
        norm_row.addWidget(self.legend)
        self.split = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self.split.addWidget(norms, 3)
        self.split.addWidget(self.hist_plot, 2)
        self.body.addLayout(self.split, 1)
        self.curves: dict[str, BatchCurve] = {}
        self.snapshot: Snapshot | None = None
        self._version = None
        self._emphasis: str | None = None
        self._hist_shown: tuple | None = None
        self.message("Press Train to see the gradients of each layer.")

    def reset(self) -> None:
        for curve in self.curves.values():
            curve.remove()
        self.curves = {node: BatchCurve(self.norm_plot.getPlotItem(), pg.mkPen(color(i), width=1))
                       for i, node in enumerate(self.context.weighted)}
        self.legend.set_entries([(n, color(i)) for i, n in enumerate(self.curves)])
        self.snapshot = None
        self._version = None
        self._emphasis = None
        self._hist_shown = None
        self.hist_ranges.reset()
        self.norm_range.reset()
        if self.context.epochs:
            self.norm_plot.setXRange(0, self.context.epochs, padding=0.02)
        self.picker.fill()

    def resizeEvent(self, event) -> None:  # Qt override: side by side when wide
        super().resizeEvent(event)
        self.split.setDirection(QBoxLayout.Direction.LeftToRight if self.width() > self.height()
                                else QBoxLayout.Direction.TopToBottom)

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
        # Live, the norms follow the batches (a new snapshot alone leaves them as they are);
        # scrubbed back, they end at the snapshot's epoch.
        key = (metrics.version, self.live, None if self.live else snap.x)
        if key != self._version:
            self._version = key
            shown = []
            for n, curve in self.curves.items():
                x, y = metrics.grad_norms(n)
                if not self.live:   # scrubbed to a past epoch: the curves up to it
                    x, y = x[x <= snap.x + 1e-9], y[x <= snap.x + 1e-9]
                curve.set_data(x, y, log=True)
                shown.append(y)
            self.norm_range.update(*shown, log=True)
        if node != self._emphasis:
            # Emphasis by colour, not width: wide pens on long noisy curves are stroked in
            # software and cost tens of milliseconds per repaint.
            for i, (n, curve) in enumerate(self.curves.items()):
                c = pg.mkColor(color(i))
                if n != node:
                    c.setAlpha(110)
                curve.setPen(pg.mkPen(c, width=1))
                curve.setZValue(10 if n == node else 0)
            self.legend.set_current(node)
            self._emphasis = node
        self._draw_histogram(snap, node)

    def csv_series(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        m = self.context.metrics
        if m is None:
            return []
        norms = [(f"{node} gradient norm", *m.grad_norms(node)) for node in self.curves]
        return [n for n in norms if len(n[1])]

    def _draw_histogram(self, snap: Snapshot, node: str | None) -> None:
        """Only when the snapshot or the layer changed: the norms redraw with every batch,
        the histogram's view need not be repainted with them."""
        if self._hist_shown is not None and self._hist_shown[0] is snap and \
                self._hist_shown[1] == node:
            return
        self._hist_shown = (snap, node)
        layer = snap.layers.get(node) if node else None
        h = layer.grad_hist if layer is not None else None
        title = f"Weight gradients of {node}" if node else "Weight gradients"
        if layer is not None and layer.grad_norm is not None:
            title += f" · norm {layer.grad_norm:.3g}"
        set_title(self.hist_plot.getPlotItem(), title)
        if h is None:
            self.hist.setData([], [])
        else:
            self.hist.setData(h.edges, h.counts)
        self.hist_ranges.update(node, [h] if h is not None else [])
