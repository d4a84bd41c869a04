"""Feature maps: every channel of a conv or pool layer's output for the sample under
inspection, as a grid of small images beside the input image.

Two colour scales, chosen above the maps and named in the caption: each channel stretched
to its own range (the default: one strong channel no longer washes out the others), or one
scale for the whole layer, whose levels are fixed and only drift slowly so the maps do not
flicker as training runs."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from ..style import PLOT_MUTED
from ..training.summary import Snapshot
from .activations import describe_sample
from .images import as_image, tile
from .live_plot import LivePlot, NodePicker, choose_node
from .pyqtgraph_setup import diverging_map, image_view, magnitude_map
from .ranges import steady_levels

EACH_CHANNEL, WHOLE_LAYER = "each channel", "whole layer"


ROBUST_QUANTILE = 0.95   # a few extreme values (a padded border) must not wash a channel out


def per_channel(maps: np.ndarray, signed: bool) -> np.ndarray:
    """maps: (C, H, W) scaled channel by channel: signed ones by the ROBUST_QUANTILE of their
    magnitudes onto [-1, 1], others from their minimum to that quantile onto [0, 1], clipped
    (a flat channel: 0)."""
    m = np.nan_to_num(np.asarray(maps, dtype=np.float32))
    flat = m.reshape(len(m), -1)
    if signed:
        peak = np.quantile(np.abs(flat), ROBUST_QUANTILE, axis=1)[:, None, None]
        scaled = np.divide(m, peak, out=np.zeros_like(m), where=peak > 0)
        return np.clip(scaled, -1.0, 1.0)
    lo = flat.min(axis=1)[:, None, None]
    span = np.quantile(flat, ROBUST_QUANTILE, axis=1)[:, None, None] - lo
    return np.clip(np.divide(m - lo, span, out=np.zeros_like(m), where=span > 0), 0.0, 1.0)


class FeatureMapsPlot(LivePlot):
    redraw_on_resize = True

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.picker = NodePicker(self, lambda ctx, n: ctx.is_image_node(n)
                                 and ctx.kinds.get(n, ("",))[0] != "Input")
        self.body.addWidget(self.picker)
        self.scale = QComboBox()
        self.scale.addItem("Colour scale: each channel its own", EACH_CHANNEL)
        self.scale.addItem("Colour scale: one for the whole layer", WHOLE_LAYER)
        self.scale.setToolTip("Each channel stretched to its own range shows every channel's "
                              "pattern; one scale for the layer compares their strengths")
        self.scale.currentIndexChanged.connect(lambda _i: self.request())
        self.picker.layout().addWidget(self.scale)
        row = QHBoxLayout()
        self.input_widget, self.input_box, self.input_image = image_view(title="Input")
        self.input_image.setColorMap(pg.colormap.get("CET-L1"))
        self.input_widget.setMaximumWidth(220)
        self.maps_widget, self.maps_box, self.maps = image_view(title="Channels")
        row.addWidget(self.input_widget, 1)
        row.addWidget(self.maps_widget, 4)
        self.body.addLayout(row, 1)
        self.caption = QLabel()
        self.caption.setStyleSheet(f"color: {PLOT_MUTED};")
        self.body.addWidget(self.caption)
        self.snapshot: Snapshot | None = None
        self._levels: dict[str, tuple[float, float]] = {}
        self._signed: dict[str, bool] = {}
        self._input_levels: tuple[float, float] | None = None
        self._cmap_node: str | None = None
        self.message("Press Train to see the feature maps of conv and pool layers.")

    def reset(self) -> None:
        self.snapshot = None
        self._levels.clear()
        self._signed.clear()
        self._input_levels = None
        self._cmap_node = None
        self.picker.fill()

    def draw(self) -> None:
        if not self.picker.nodes():
            self.message("This network has no conv or pool layer, so there are no feature "
                         "maps to show.")
            return
        node = choose_node(self, self.picker)
        snap = self.snapshot
        layer = snap.layers.get(node) if snap is not None else None
        if layer is None or layer.feature_maps is None:
            self.message("Press Train to see the feature maps of conv and pool layers.")
            return
        self.show_plot()
        self.picker.sync()
        maps = layer.feature_maps                                  # (C, H, W)
        if node not in self._signed:
            self._signed[node] = bool(np.nanmin(maps) < 0)
        signed = self._signed[node]
        if node != self._cmap_node:
            self.maps.setColorMap(diverging_map() if signed else magnitude_map())
            self._cmap_node = node
        self._levels[node] = steady_levels(self._levels.get(node), maps, signed)
        aspect = self.maps_widget.width() / max(1, self.maps_widget.height() - 30)
        if self.scale.currentData() == EACH_CHANNEL:
            shown_maps, levels = per_channel(maps, signed), ((-1.0, 1.0) if signed
                                                            else (0.0, 1.0))
            scale_text = "each channel scaled to its own range"
        else:
            shown_maps, levels = maps, self._levels[node]
            lo, hi = (0.0 if abs(v) < 1e-12 else v for v in levels)
            scale_text = f"one colour scale for the layer, {lo:.3g} to {hi:.3g}"
        mosaic = tile(shown_maps, aspect=min(max(aspect, 0.5), 4.0))
        self.maps.setImage(mosaic, autoLevels=False, levels=levels)
        self.maps_box.autoRange(padding=0.02)
        c, h, w = maps.shape
        total = layer.shape[0] if layer.shape else c
        shown = f"{c} of {total}" if total > c else f"{c}"
        self.caption.setText(f"{node}: {shown} channels of {h}×{w} · "
                             f"{describe_sample(snap, self.context)} · {scale_text}")
        self.picker.info.setText(f"{layer.type_name} · output {list(layer.shape)}")
        self._draw_input(snap)

    def _draw_input(self, snap: Snapshot) -> None:
        shape = self.context.image_shape
        if shape is None or snap.sample_input is None:
            self.input_widget.setVisible(False)
            return
        self.input_widget.setVisible(True)
        img = as_image(snap.sample_input, shape)
        if img.ndim == 3:   # RGB: scale to 0..255 for display
            lo, hi = float(img.min()), float(img.max())
            img = (img - lo) / (hi - lo + 1e-9) * 255.0
            self.input_image.setImage(img, autoLevels=False, levels=(0, 255))
        else:
            self._input_levels = steady_levels(self._input_levels, img, False)
            self.input_image.setImage(img, autoLevels=False, levels=self._input_levels)
        self.input_box.autoRange(padding=0.02)
