"""Autoencoders: the sample under inspection next to its reconstruction, as images for
image data (same fixed colour levels on both sides), else as two curves over the values."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from ..style import PLOT_MUTED, TRAIN_COLOR, VALID_COLOR
from ..training.summary import Snapshot
from .images import as_image
from .legend import title_legend
from .live_plot import LivePlot
from .pyqtgraph_setup import image_view, make_plot
from .run_context import trained_for


class ReconstructionPlot(LivePlot):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        row = QHBoxLayout()
        self.input_widget, self.input_box, self.input_image = image_view(title="Input")
        self.output_widget, self.output_box, self.output_image = image_view(
            title="Reconstruction")
        # a denoising autoencoder's clean target, beside the noisy input and the output
        self.target_widget, self.target_box, self.target_image = image_view(
            title="Clean target")
        for img in (self.input_image, self.output_image, self.target_image):
            img.setColorMap(pg.colormap.get("CET-L1"))
        row.addWidget(self.input_widget)
        row.addWidget(self.output_widget)
        row.addWidget(self.target_widget)
        self.images = QWidget()
        self.images.setLayout(row)
        self.curve_plot = make_plot(title_legend("Sample", [("input", TRAIN_COLOR),
                                                            ("reconstruction", VALID_COLOR)]),
                                    "value", "element")
        self.input_curve = self.curve_plot.plot([], [], pen=pg.mkPen(TRAIN_COLOR, width=2))
        self.output_curve = self.curve_plot.plot([], [], pen=pg.mkPen(VALID_COLOR, width=2))
        self.body.addWidget(self.images, 1)
        self.body.addWidget(self.curve_plot, 1)
        self.caption = QLabel()
        self.caption.setStyleSheet(f"color: {PLOT_MUTED};")
        self.body.addWidget(self.caption)
        self.snapshot: Snapshot | None = None
        self.levels = (0.0, 1.0)
        self.message("Reconstructions are shown for autoencoders (training target: the input).")

    def reset(self) -> None:
        self.snapshot = None
        imgs = self.context.test_images
        if imgs is not None:
            self.levels = (float(np.nanmin(imgs)), float(np.nanmax(imgs)))

    def draw(self) -> None:
        ctx, snap = self.context, self.snapshot
        if not ctx.autoencoder:
            self.message("Reconstructions are shown for autoencoders, whose training target "
                         "is the input; this network learns labels.")
            return
        if snap is None or snap.output is None or snap.sample_input is None:
            self.message("Press Train to see the input next to its reconstruction.")
            return
        self.show_plot()
        x = np.asarray(snap.sample_input, dtype=np.float32).ravel()
        y = np.asarray(snap.output, dtype=np.float32).ravel()
        t = None if snap.target is None else np.asarray(snap.target, dtype=np.float32).ravel()
        denoising = t is not None and t.size == x.size and not np.array_equal(t, x)
        shape = ctx.image_shape
        as_images = shape is not None and x.size == y.size
        self.images.setVisible(as_images)
        self.curve_plot.setVisible(not as_images)
        self.target_widget.setVisible(as_images and denoising)
        if as_images:
            shown = [(self.input_image, self.input_box, x), (self.output_image, self.output_box, y)]
            if denoising:
                shown.append((self.target_image, self.target_box, t))
            for image, box, values in shown:
                image.setImage(as_image(values, shape), autoLevels=False, levels=self.levels)
                box.autoRange(padding=0.02)
        else:
            self.input_curve.setData(np.arange(x.size), x)
            self.output_curve.setData(np.arange(y.size), y)
        split, index = snap.sample
        when = trained_for(snap)
        if denoising:
            noisy, out = float(np.mean((x - t) ** 2)), float(np.mean((y - t) ** 2))
            what = (f"noisy input to clean: mean squared error {noisy:.4g} · output to clean: "
                    f"{out:.4g} ({'closer' if out < noisy else 'not closer'} than the input)")
        else:
            n = min(x.size, y.size)
            mse = float(np.mean((x[:n] - y[:n]) ** 2)) if n else float("nan")
            what = f"mean squared error {mse:.4g}"
        self.caption.setText(f"{split} sample #{index} · {what}"
                             + (f" · {when}" if when else ""))
