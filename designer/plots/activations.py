"""Activations of one layer: how the distribution of its outputs moves over training (an
image whose columns are histograms, one per snapshot, on a common value axis), and the value
of each unit for the sample under inspection (each channel's mean for conv layers)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QHBoxLayout, QWidget

from ..style import HIST_BRUSH, TRAIN_COLOR
from ..training.summary import Snapshot, resample
from .live_plot import LivePlot, NodePicker, choose_node
from .pyqtgraph_setup import make_plot, sequential_map, set_axis_label, set_title
from .ranges import StickyRange

ROWS = 60       # value bins of the over-time image
COLUMNS = 240   # time steps of the over-time image


def describe_sample(snap: Snapshot, ctx) -> str:
    split, index = snap.sample
    text = f"{split} #{index}"
    if ctx.classification and snap.target is not None and np.ndim(snap.target) == 0:
        label = int(snap.target)
        names = ctx.class_names
        text += f" (label {names[label] if label < len(names) else label})"
    return text


class ActivationsPlot(LivePlot):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.picker = NodePicker(self, lambda ctx, n: True)
        self.body.addWidget(self.picker)
        row = QHBoxLayout()
        self.time_plot = make_plot("Distribution over training", "activation", "epoch")
        self.image = pg.ImageItem(autoLevels=False)
        self.image.setColorMap(sequential_map())
        self.image.setLevels((0.0, 1.0))
        self.time_plot.addItem(self.image)
        self.time_range = StickyRange(self.time_plot.getPlotItem())
        self.unit_plot = make_plot("Units for the sample", "activation", "unit")
        self.units = self.unit_plot.plot([], [], stepMode="center", fillLevel=0,
                                         brush=pg.mkBrush(HIST_BRUSH), pen=pg.mkPen(TRAIN_COLOR))
        self.unit_range = StickyRange(self.unit_plot.getPlotItem(), fill=0.25)
        self._unit_count = -1
        row.addWidget(self.time_plot, 3)
        row.addWidget(self.unit_plot, 2)
        self.body.addLayout(row, 1)
        self.snapshot: Snapshot | None = None
        self._drawn = None
        self.message("Press Train to see each layer's activations.")

    def reset(self) -> None:
        self.snapshot = None
        self._drawn = None
        self._unit_count = -1
        self.time_range.reset()
        self.unit_range.reset()
        if self.context.epochs:   # the whole run from the start: the x axis stays put
            self.time_plot.setXRange(0, self.context.epochs, padding=0.02)
        self.picker.fill()

    def draw(self) -> None:
        node = choose_node(self, self.picker)
        snap = self.snapshot
        if snap is None or node is None or node not in snap.layers:
            self.message("Press Train to see each layer's activations.")
            return
        self.show_plot()
        self.picker.sync()
        layer = snap.layers[node]
        timeline = self.context.timeline
        key = (node, id(snap), timeline.version if timeline else 0)
        if key == self._drawn:
            return
        if self._drawn is None or self._drawn[0] != node:   # another layer: its own ranges
            self.time_range.reset()
            self.unit_range.reset()
        self._drawn = key
        self.picker.info.setText(f"{layer.type_name}{f' ({layer.function})' if layer.function else ''}"
                                 f" · output {list(layer.shape)}")
        self._draw_time(node, snap.x)
        self._draw_units(layer, snap)

    def _draw_time(self, node: str, up_to: float) -> None:
        timeline = self.context.timeline
        pairs = [(x, h) for x, h in (timeline.hists(node) if timeline else []) if x <= up_to + 1e-9]
        if not pairs:
            self.image.clear()
            return
        lo = min(h.lo for _, h in pairs)
        hi = max(h.hi for _, h in pairs)
        cols = np.stack([resample(h, lo, hi, ROWS) for _, h in pairs], axis=1)  # (ROWS, T)
        peak = cols.max(axis=0, keepdims=True)
        cols = np.divide(cols, peak, out=np.zeros_like(cols), where=peak > 0)
        cols = np.sqrt(cols)   # a spike (ReLU's zeros) must not hide the rest of the shape
        # Snapshots are not evenly spaced in epochs: each image column shows the newest
        # snapshot at or before its x, so the picture keeps the true time axis.
        xs = np.array([x for x, _ in pairs])
        x0, x1 = xs[0], xs[-1]
        if x1 <= x0:
            x1 = x0 + 1.0
        grid = np.linspace(x0, x1, COLUMNS)
        idx = np.clip(np.searchsorted(xs, grid, side="right") - 1, 0, len(xs) - 1)
        img = cols[:, idx].astype(np.float32)
        self.image.setImage(img, autoLevels=False, levels=(0.0, 1.0))
        self.image.setRect(QRectF(x0, lo, x1 - x0, hi - lo))
        self.time_range.update(np.array([lo, hi]))

    def _draw_units(self, layer, snap: Snapshot) -> None:
        item = self.unit_plot.getPlotItem()
        what = describe_sample(snap, self.context)
        if layer.feature_maps is not None and len(layer.feature_maps) >= 4:
            values = layer.feature_maps.reshape(len(layer.feature_maps), -1).mean(axis=1)
            set_title(item, f"Channel means · {what}")
            set_axis_label(item, "bottom", "channel")
        elif layer.unit_values is not None:
            values = layer.unit_values
            set_title(item, f"Units · {what}")
            set_axis_label(item, "bottom", "unit")
        else:
            self.units.setData([], [])
            return
        values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
        x = np.arange(len(values) + 1) - 0.5
        self.units.setData(x, values)
        if len(values) != self._unit_count:
            self._unit_count = len(values)
            item.setXRange(-0.5, len(values) - 0.5, padding=0.02)
        self.unit_range.update(values, np.zeros(1))   # the bars stand on zero
