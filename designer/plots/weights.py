"""Weights: the histogram of each weight of the chosen layer (W, b, ...), and the first
conv layer's filters as small images (what the network has learned to look for)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QWidget

from ..steady_label import SteadyLabel
from ..style import PLOT_MUTED
from ..training.summary import Snapshot
from .images import tile
from .legend import title_legend
from .live_plot import LivePlot, NodePicker, choose_node
from .pyqtgraph_setup import color, diverging_map, image_view, make_plot, set_title
from .ranges import HistogramRanges


class WeightsPlot(LivePlot):
    redraw_on_resize = True

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.picker = NodePicker(self, lambda ctx, n: n in ctx.weighted)
        self.body.addWidget(self.picker)
        row = QHBoxLayout()
        self.hist_plot = make_plot("Weight values", "count", "value")
        self.hist_ranges = HistogramRanges(self.hist_plot.getPlotItem())
        self._mosaic_shape: tuple[int, ...] | None = None
        self.hists: dict[str, pg.PlotDataItem] = {}
        self.colors: dict[str, str] = {}     # each weight name's colour, fixed when first seen
        self.filters_widget, self.filters_box, self.filters = image_view(
            title="First conv layer's filters")
        self.filters.setColorMap(diverging_map())
        row.addWidget(self.hist_plot, 3)
        row.addWidget(self.filters_widget, 2)
        self.body.addLayout(row, 1)
        self.caption = SteadyLabel()   # its ±max changes with every snapshot
        self.caption.setStyleSheet(f"color: {PLOT_MUTED};")
        self.body.addWidget(self.caption, 0, Qt.AlignmentFlag.AlignLeft)
        self.snapshot: Snapshot | None = None
        self.message("Press Train to see the weights of each layer.")

    def reset(self) -> None:
        self.snapshot = None
        self.hist_ranges.reset()
        self._mosaic_shape = None
        self.caption.fit()
        self.picker.fill()

    def _hist_item(self, name: str, i: int) -> pg.PlotDataItem:
        item = self.hists.get(name)
        if item is None:
            self.colors[name] = color(i)
            c = pg.mkColor(color(i))
            fill = pg.mkColor(c)
            fill.setAlpha(90)
            item = self.hist_plot.plot([], [], stepMode="center", fillLevel=0,
                                       brush=pg.mkBrush(fill), pen=pg.mkPen(c))
            self.hists[name] = item
        return item

    def draw(self) -> None:
        snap = self.snapshot
        if not self.picker.nodes():
            self.message("This network has no layer with weights.")
            return
        if snap is None:
            self.message("Press Train to see the weights of each layer.")
            return
        self.show_plot()
        node = choose_node(self, self.picker)
        self.picker.sync()
        layer = snap.layers.get(node)
        hists = layer.weight_hists if layer is not None else {}
        for i, name in enumerate(hists):
            self._hist_item(name, i)
        for name, item in self.hists.items():
            h = hists.get(name)
            item.setVisible(h is not None)
            if h is not None:
                item.setData(h.edges, h.counts)
        self.hist_ranges.update(node, list(hists.values()))
        title = f"Weight values of {node}"
        if layer is not None and layer.weight_norm is not None:
            title += f" · norm {layer.weight_norm:.3g}"
        # The legend in the title: inside the plot it would cover the histogram's tails.
        title = title_legend(title, [(n, self.colors[n]) for n in hists])
        set_title(self.hist_plot.getPlotItem(), title)
        self._draw_filters(snap)

    def _draw_filters(self, snap: Snapshot) -> None:
        conv = next((s for s in snap.layers.values() if s.filters is not None), None)
        if conv is None:
            self.filters_widget.setVisible(False)
            self.caption.setText("")
            return
        self.filters_widget.setVisible(True)
        w = conv.filters                                   # (F, Cin, kh, kw)
        m = float(np.nanmax(np.abs(w))) or 1e-6
        if w.shape[1] == 3:   # RGB filters: one colour image each
            rgb = np.clip((np.moveaxis(w, 1, -1) / m + 1.0) * 127.5, 0, 255)
            mosaic = np.stack([tile(rgb[..., k]) for k in range(3)], axis=-1)
            self.filters.setImage(np.nan_to_num(mosaic, nan=255.0), autoLevels=False,
                                  levels=(0, 255))
            which = "RGB"
        else:
            aspect = self.filters_widget.width() / max(1, self.filters_widget.height() - 30)
            self.filters.setImage(tile(w[:, 0], aspect=min(max(aspect, 0.5), 4.0)),
                                  autoLevels=False, levels=(-m, m))
            which = "input channel 0" if w.shape[1] > 1 else "one input channel"
        shape = self.filters.image.shape
        if shape != self._mosaic_shape:   # fit the view only when the mosaic changes shape
            self._mosaic_shape = shape
            self.filters_box.autoRange(padding=0.02)
        self.caption.setText(f"{conv.node_id}: {len(w)} filters of {w.shape[2]}×{w.shape[3]} "
                             f"({which}); blue negative, red positive, ±{m:.3g}")
