"""The decision boundary of a classifier on a 2-D data set: the predicted class over a grid
of the input plane (pale where the network is unsure), with the training points on top, the
sample under inspection ringed, and the classes' colours named beside it.

One unit is as long on both axes (a circle stays a circle), and the plot is no wider than the
data's own proportions need, so the plane fills it rather than a strip in the middle."""
from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from ..style import BOUNDARY_LINE, PLOT_MUTED, POINT_OUTLINE
from ..training.summary import Boundary, Snapshot
from .live_plot import LivePlot
from .pyqtgraph_setup import class_rgb, color, make_plot
from .run_context import trained_for


def boundary_rgb(b: Boundary, n_classes: int) -> np.ndarray:
    """(rows, cols, 3) uint8: each class's colour, blended towards white by uncertainty."""
    rgb = class_rgb(max(n_classes, int(b.classes.max()) + 1)).astype(np.float32)
    base = rgb[np.clip(b.classes, 0, len(rgb) - 1)]
    lo = 1.0 / max(n_classes, 2)   # the confidence of a uniform guess
    strength = np.clip((b.confidence - lo) / (1.0 - lo), 0.0, 1.0)[..., None]
    strength = 0.25 + 0.45 * strength
    return (255.0 + (base - 255.0) * strength).astype(np.uint8)


AXIS_MARGIN = 12   # pixels of the plot's layout beside the left axis and the view


class DecisionBoundaryPlot(LivePlot):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = make_plot("Decision boundary", "x₂", "x₁")
        self.plot.getPlotItem().setAspectLocked(True)
        self.plot.setMinimumWidth(100)
        self.image = pg.ImageItem(autoLevels=False)
        self.plot.addItem(self.image)
        self.points = pg.ScatterPlotItem(size=6, pen=pg.mkPen(*POINT_OUTLINE, width=0.8))
        self.plot.addItem(self.points)
        self.ring = pg.ScatterPlotItem(size=16, symbol="o", brush=None,
                                       pen=pg.mkPen(BOUNDARY_LINE, width=2.2))
        self.plot.addItem(self.ring)
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.plot.getPlotItem().getViewBox().sigResized.connect(self._view_resized)
        row = QHBoxLayout()
        row.addWidget(self.plot, 1)
        row.addWidget(self.legend)
        row.addStretch(0)
        self.body.addLayout(row, 1)
        self.snapshot: Snapshot | None = None
        self._points_drawn = False
        self._legend_html = ""
        self.message("The decision boundary is drawn for classifiers on 2-D data sets.")

    def reset(self) -> None:
        self.snapshot = None
        self._points_drawn = False
        self.points.clear()
        self.ring.clear()
        self.image.clear()
        ctx = self.context
        names = [str(n) for n in (ctx.class_names or range(ctx.num_classes))]
        self._legend_html = "<b>class</b><br>" + "<br>".join(
            f"<span style='color:{color(i)}; font-size:14pt'>●</span> {html.escape(n)}"
            for i, n in enumerate(names)) if names and ctx.points is not None else ""
        self.legend.setText(self._legend_html)
        self._fit_width()

    def data_aspect(self) -> float | None:
        """Width over height of the plane shown, or None before there is one."""
        extent = self.context.extent
        if extent is None:
            return None
        x0, x1, y0, y1 = extent
        return (x1 - x0) / (y1 - y0) if y1 > y0 and x1 > x0 else None

    def _fit_width(self) -> None:
        """No wider than the plane's proportions at this height (plus the axes)."""
        aspect = self.data_aspect()
        if aspect is None:
            self.plot.setMaximumWidth(16_777_215)
            return
        vb = self.plot.getPlotItem().getViewBox()
        if vb.height() <= 0:
            return
        item = self.plot.getPlotItem()
        around = item.getAxis("left").width() + AXIS_MARGIN   # what lies beside the view
        self.plot.setMaximumWidth(int(vb.height() * aspect + around) + 1)

    def _view_resized(self, *_args) -> None:
        # after the plot's own resize has been handled: resizing it from inside that
        # handler would leave its scene laid out for the old size
        QTimer.singleShot(0, self._fit_width)
        self._fit_range()

    def _fit_range(self, *_args) -> None:
        """The whole plane in view after any resize (the locked aspect widens one axis)."""
        extent = self.context.extent
        if extent is not None and self._points_drawn:
            x0, x1, y0, y1 = extent
            self.plot.getPlotItem().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)


    def draw(self) -> None:
        ctx, snap = self.context, self.snapshot
        if ctx.points is None:
            self.message("The decision boundary is drawn for classifiers on 2-D data sets; "
                         "this data set is not one.")
            return
        if snap is None or snap.boundary is None:
            self.message("Press Train to see the decision boundary.")
            return
        self.show_plot()
        b = snap.boundary
        self.image.setImage(boundary_rgb(b, ctx.num_classes), autoLevels=False,
                            levels=(0, 255))
        x0, x1, y0, y1 = b.extent
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        if not self._points_drawn:
            rgb = class_rgb(ctx.num_classes)
            labels = np.clip(ctx.point_labels.astype(int), 0, len(rgb) - 1)
            brushes = [pg.mkBrush(*rgb[k]) for k in range(len(rgb))]
            self.points.setData(pos=ctx.points, brush=[brushes[k] for k in labels])
            self._points_drawn = True
            self._fit_range()
        if snap.sample_input is not None and np.size(snap.sample_input) == 2:
            self.ring.setData(pos=np.asarray(snap.sample_input, dtype=float).reshape(1, 2))
        when = trained_for(snap)   # beside the plot: a long title would be cut
        self.legend.setText(self._legend_html + (f"<br><br><span style='color:{PLOT_MUTED}'>"
                                                 f"{html.escape(when)}</span>" if when else ""))
