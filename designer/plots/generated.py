"""Generated: what a variational autoencoder's decoder makes of codes it was never given, a
grid over the first two code numbers (from −span to +span standard deviations, the others 0)
and a fixed set of random codes drawn from N(0, 1). Neighbouring codes should decode to
similar digits, and random codes to digits at all, once the KL term has done its work."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from ..style import PLOT_MUTED
from .images import as_images, tile
from .live_plot import LivePlot
from .pyqtgraph_setup import image_view
from .run_context import trained_for


class GeneratedPlot(LivePlot):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        row = QHBoxLayout()
        self.grid_widget, self.grid_box, self.grid_image = image_view(
            title="Decoded grid over code numbers 1 (→) and 2 (↑)")
        self.random_widget, self.random_box, self.random_image = image_view(
            title="Random codes from N(0, 1)")
        for img in (self.grid_image, self.random_image):
            img.setColorMap(pg.colormap.get("CET-L1"))
        row.addWidget(self.grid_widget, 3)
        row.addWidget(self.random_widget, 2)
        holder = QWidget()
        holder.setLayout(row)
        self.body.addWidget(holder, 1)
        self.caption = QLabel()
        self.caption.setStyleSheet(f"color: {PLOT_MUTED};")
        self.caption.setWordWrap(True)
        self.body.addWidget(self.caption)
        self.message("Generated images are drawn for variational autoencoders: a Sampling "
                     "node whose decoder turns codes into images.")

    def draw(self) -> None:
        ctx, snap = self.context, self.snapshot
        if ctx.code_node is None:
            self.message("Generated images are drawn for variational autoencoders (a "
                         "Sampling node before the decoder); this network has none.")
            return
        if ctx.image_shape is None:
            self.message("The decoder's output is not an image, so codes cannot be shown "
                         "as pictures.")
            return
        grid = None if snap is None else snap.extras.get("decoded_grid")
        if grid is None:
            self.message("Press Train to see what the decoder makes of codes it was "
                         "never given.")
            return
        self.show_plot()
        shape = ctx.image_shape
        n = grid.shape[0]
        cells = as_images(grid.reshape(n * n, -1), shape)
        levels = (0.0, max(1.0, float(np.nanmax(cells))))
        self.grid_image.setImage(tile(cells, columns=n), autoLevels=False, levels=levels)
        rand = snap.extras["decoded_random"]
        cols = int(np.ceil(np.sqrt(len(rand))))
        self.random_image.setImage(tile(as_images(rand, shape), columns=cols),
                                   autoLevels=False, levels=levels)
        self.grid_box.autoRange(padding=0.01)
        self.random_box.autoRange(padding=0.01)
        when = trained_for(snap)
        span = ctx.grid_span
        self.caption.setText(
            f"Codes from the decoder of '{ctx.code_node}': the grid sets code numbers 1 and 2 "
            f"from −{span:g} to +{span:g}, the rest 0" + (f" · {when}" if when else ""))
