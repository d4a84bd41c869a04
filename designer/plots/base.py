"""What every training plot shares: pyqtgraph set-up, colours, the run context, and
`LivePlot`, a widget that keeps only the newest data and draws it when it is visible.

Plots follow pyqtgraph's real-time examples: items are created once and updated with
`setData` / `setImage`; images use fixed levels (`autoLevels=False`) and row-major order.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from ..training.summary import Snapshot

pg.setConfigOptions(imageAxisOrder="row-major", background="w", foreground="#1f2933",
                    antialias=False)

TEXT = "#1f2933"
MUTED = "#66727f"
GRID_ALPHA = 0.25
TRAIN = "#2563eb"          # training curves (blue)
TRAIN_LIGHT = "#93b4f5"    # per-batch training curve
VALID = "#ea580c"          # validation curves (orange)
ACCENT = "#2563eb"
GOOD = "#15803d"
BAD = "#dc2626"
# Ten well-separated hues for classes and layers (colour-blind-safer "tab10" order).
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
HIST_BRUSH = (37, 99, 235, 110)
# Redraws per second of one plot at most: above the controller's 30 Hz, so each tick's new
# data is drawn at once; a second request within one tick waits for the next.
MAX_FPS = 40.0
TRAILING = 0.1     # seconds: longer than the controller's tick (see `LivePlot.request`)


def trained_for(snap: Any) -> str:
    """How far training was when `snap` was taken, counted as the epoch scrubber counts
    (completed epochs): "after 151 epochs", "after 151 epochs + 3 batches"; "" before
    any batch (e.g. weights just loaded)."""
    x = float(getattr(snap, "x", 0.0) or 0.0)
    if getattr(snap, "epoch", 0) <= 0 or x <= 0:
        return ""
    done = math.floor(x + 1e-9)
    text = f"after {done} epoch{'s' * (done != 1)}"
    batches = int(getattr(snap, "batch", 0)) if x - done > 1e-9 else 0
    return text + (f" + {batches} batch{'es' * (batches != 1)}" if batches else "")


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def class_rgb(n: int) -> np.ndarray:
    """(n, 3) uint8 colours for n classes."""
    cols = [QColor(color(i)) for i in range(max(n, 1))]
    return np.array([[c.red(), c.green(), c.blue()] for c in cols], dtype=np.uint8)


def make_plot(title: str = "", left: str = "", bottom: str = "",
              parent: QWidget | None = None) -> pg.PlotWidget:
    """A PlotWidget with the shared look: grid, axis labels, no context-menu clutter."""
    w = pg.PlotWidget(parent=parent)
    style_plot(w.getPlotItem(), title, left, bottom)
    w.setMinimumSize(160, 100)
    return w


def style_plot(item: pg.PlotItem, title: str = "", left: str = "", bottom: str = "") -> None:
    """The shared look of a PlotItem (also for several plots in one GraphicsLayoutWidget,
    which repaints as one view: cheaper than one PlotWidget each)."""
    if title:
        item.setTitle(title, color=TEXT, size="10pt")
    if left:
        item.setLabel("left", left, color=MUTED)
    if bottom:
        item.setLabel("bottom", bottom, color=MUTED)
    # Horizontal grid lines only: each axis with a grid is a plot-sized layer painted again
    # with every frame, and the values are read off the y axis.
    item.showGrid(x=False, y=True, alpha=GRID_ALPHA)
    item.setMenuEnabled(False)
    item.hideButtons()
    for axis in ("left", "bottom"):
        ax = item.getAxis(axis)
        ax.setTextPen(TEXT)
        ax.enableAutoSIPrefix(False)
        # Grid lines at major ticks only: the minor levels triple the cost of every repaint.
        ax.setStyle(maxTickLevel=0)
    for axis in ("left", "bottom", "top", "right"):
        # The axes (with their grid lines and tick labels) change only when the range does;
        # cached as pixmaps they are not re-painted with every new batch.
        item.getAxis(axis).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def set_title(item: pg.PlotItem, text: str) -> None:
    """A plot's title, set only when its text changed: setting one lays the plot out anew."""
    if getattr(item, "_shown_title", None) != text:
        item._shown_title = text
        item.setTitle(text, size="10pt")


def set_axis_label(item: pg.PlotItem, axis: str, text: str) -> None:
    """An axis label, set only when its text changed (see `set_title`)."""
    if item.getAxis(axis).labelText != text:
        item.setLabel(axis, text, color=MUTED)


def image_view(parent: QWidget | None = None, title: str = "") -> tuple[pg.GraphicsLayoutWidget,
                                                                          pg.ViewBox,
                                                                          pg.ImageItem]:
    """A locked-aspect ViewBox holding one ImageItem (y axis pointing down, like images)."""
    w = pg.GraphicsLayoutWidget(parent=parent)
    if title:
        w.addLabel(title, color=TEXT, size="10pt")
        w.nextRow()
    vb = w.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
    vb.setMenuEnabled(False)
    img = pg.ImageItem(autoLevels=False)
    vb.addItem(img)
    w.setMinimumSize(100, 100)
    return w, vb, img


def tile(images: np.ndarray, columns: int | None = None, gap: int = 1,
         aspect: float = 1.2) -> np.ndarray:
    """Images (n, h, w) into one (rows·(h+gap)−gap, cols·(w+gap)−gap) mosaic shaped for a
    view `aspect` times wider than high; the gaps are NaN, which ImageItem draws
    transparent."""
    n, h, w = images.shape[:3]
    cols = columns or max(1, math.ceil(math.sqrt(n * h / max(w, 1) * aspect)))
    cols = min(cols, n)
    rows = math.ceil(n / cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = images[i]
    return out


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


@dataclass
class RunContext:
    """What the plots need to know about the run, fixed when it starts.

    points/point_labels: up to 1000 training points of a 2-D data set; test_images:
    (test samples, h, w) or (n, h, w, 3) for image data, else None."""

    order: list[str] = field(default_factory=list)
    kinds: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    input_id: str | None = None
    output_id: str | None = None
    classification: bool = False
    num_classes: int = 0
    class_names: list[str] = field(default_factory=list)
    autoencoder: bool = False
    points: np.ndarray | None = None
    point_labels: np.ndarray | None = None
    test_labels: np.ndarray | None = None
    test_images: np.ndarray | None = None
    watched_test: int = 0      # test samples predicted while training runs (the first ones)
    image_shape: tuple[int, ...] | None = None
    timeline: Any = None
    metrics: Any = None
    epochs: int = 0
    extent: tuple[float, float, float, float] | None = None
    weighted: list[str] = field(default_factory=list)   # nodes with trainable weights

    def is_image_node(self, node_id: str) -> bool:
        return len(self.shapes.get(node_id, ())) == 3


def image_shape_for(shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """How one sample of this input shape is drawn as an image: (h, w), (h, w, 3), or None."""
    if len(shape) == 3 and shape[0] in (1, 3):
        return (shape[1], shape[2]) if shape[0] == 1 else (shape[1], shape[2], 3)
    if len(shape) == 2 and min(shape) >= 4:
        return shape
    if len(shape) == 1:
        side = round(math.sqrt(shape[0]))
        if side * side == shape[0] and side >= 7:
            return (side, side)
    return None


def as_image(sample: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """One sample reshaped for display (channels last for RGB)."""
    a = np.asarray(sample, dtype=np.float32)
    if len(shape) == 3:
        return np.moveaxis(a.reshape(3, shape[0], shape[1]), 0, -1)
    return a.reshape(shape)


def as_images(samples: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Many samples (n, ...) at once, as `as_image` shows each: (n, *shape)."""
    a = np.asarray(samples, dtype=np.float32)
    if len(shape) == 3:
        return np.moveaxis(a.reshape(len(a), 3, shape[0], shape[1]), 1, -1)
    return a.reshape(len(a), *shape)


class LivePlot(QWidget):
    """Keeps the newest data and draws it only while visible: a hidden tab costs nothing,
    and a shown one draws at most once per controller tick. Subclasses implement `draw()`.

    `message(text)` swaps the plot for a centred sentence (e.g. "no conv layer here")."""

    redraw_on_resize = False  # True: image mosaics that follow the widget's shape

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = RunContext()
        self.node_id: str | None = None
        self.snapshot: Snapshot | None = None
        self.draws = 0
        self.live = True      # False while the epoch scrubber shows a past epoch
        self.min_interval = 1.0 / MAX_FPS
        self._last_draw = -1e9
        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.timeout.connect(self._throttled)
        self._dirty = False
        self._graphics_views: list[QGraphicsView] | None = None
        self._stack = QStackedLayout()
        self._note = QLabel()
        self._note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._note.setWordWrap(True)
        self._note.setStyleSheet(f"color: {MUTED}; font-size: 11pt; padding: 24px;")
        self._body = QWidget()
        self.body = QVBoxLayout(self._body)
        self.body.setContentsMargins(2, 2, 2, 2)
        self._stack.addWidget(self._body)
        self._stack.addWidget(self._note)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(self._stack)

    # --- content switching ---------------------------------------------------------------
    def message(self, text: str) -> None:
        self._note.setText(text)
        self._stack.setCurrentWidget(self._note)

    def show_plot(self) -> None:
        self._stack.setCurrentWidget(self._body)

    @property
    def showing_message(self) -> bool:
        return self._stack.currentWidget() is self._note

    # --- data flow -------------------------------------------------------------------------
    def set_context(self, context: RunContext) -> None:
        self.context = context
        self.reset()
        self.request()

    def reset(self) -> None:
        """Forget run-specific data (a new run started)."""

    def set_snapshot(self, snap: Snapshot | None) -> None:
        """The newest snapshot (activations, gradients, weights of the chosen sample)."""
        self.snapshot = snap
        self.request()

    def set_node(self, node_id: str | None) -> None:
        if node_id != self.node_id:
            self.node_id = node_id
            self.request()

    def request(self) -> None:
        """New data arrived: draw now if visible and not drawn within the last
        1 / MAX_FPS seconds, else when next shown. A request that comes sooner (a second one
        from the same drain: new batches and a snapshot) is drawn by the next request, or
        TRAILING seconds after the last one when no more come (training ended or paused):
        never twice per drain, and never from a timer while drains keep coming."""
        self._dirty = True
        if not self.isVisible():
            return
        if time.monotonic() - self._last_draw >= self.min_interval:
            self._throttle.stop()
            self.refresh()
        else:
            self._throttle.start(int(TRAILING * 1000))

    def _throttled(self) -> None:
        if self._dirty and self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        self._dirty = False
        self._last_draw = time.monotonic()
        self.draws += 1
        self._views()
        self.draw()

    def _views(self) -> list[QGraphicsView]:
        """This plot's pyqtgraph views, set up once the plot is built. A plot has a few dozen
        items and most change every frame, so the scene keeps no spatial index and the view
        repaints whole: working out which parts changed asks every item for its bounds, in
        Python, and cost more than painting it all."""
        if self._graphics_views is None:
            self._graphics_views = self.findChildren(QGraphicsView)
            for view in self._graphics_views:
                view.scene().setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
                view.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        return self._graphics_views

    def draw(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def resizeEvent(self, event: Any) -> None:  # Qt override
        super().resizeEvent(event)
        if self.redraw_on_resize and self.snapshot is not None:
            self.request()  # image mosaics follow the widget's shape

    def showEvent(self, event: Any) -> None:  # Qt override
        super().showEvent(event)
        if self._dirty:
            # Right after the layout has given the children their sizes, not before.
            self._throttle.start(0)


class NodePicker(QWidget):
    """"Layer: [combo]" for plots that show one node; lists the nodes `accepts` allows."""

    def __init__(self, plot: LivePlot, accepts: Any, label: str = "Layer:"):
        from PySide6.QtWidgets import QComboBox

        super().__init__()
        self.plot = plot
        self.accepts = accepts
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        caption = QLabel(label)
        self.combo = QComboBox()
        self.combo.setMinimumContentsLength(14)
        self.combo.currentTextChanged.connect(self._chosen)
        row.addWidget(caption)
        row.addWidget(self.combo)
        self.info = QLabel()
        self.info.setStyleSheet(f"color: {MUTED};")
        row.addWidget(self.info, 1)

    def nodes(self) -> list[str]:
        ctx = self.plot.context
        return [n for n in ctx.order if self.accepts(ctx, n)]

    def fill(self) -> None:
        nodes = self.nodes()
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItems(nodes)
        self.combo.blockSignals(False)
        self.sync()

    def sync(self) -> None:
        nodes = self.nodes()
        if self.plot.node_id in nodes:
            self.combo.blockSignals(True)
            self.combo.setCurrentText(self.plot.node_id)
            self.combo.blockSignals(False)

    def _chosen(self, node_id: str) -> None:
        if node_id:
            self.plot.set_node(node_id)


def choose_node(plot: LivePlot, picker: NodePicker, fallback_last: bool = False) -> str | None:
    """The plot's node if the picker accepts it, else the first (or last) non-Input node it
    accepts, which then becomes the plot's node."""
    nodes = picker.nodes()
    if plot.node_id in nodes:
        return plot.node_id
    inner = [n for n in nodes if plot.context.kinds.get(n, ("",))[0] != "Input"] or nodes
    if not inner:
        return None
    plot.node_id = inner[-1] if fallback_last else inner[0]
    return plot.node_id


def sequential_map() -> pg.ColorMap:
    """White through blue to navy: counts and shares on a white background."""
    return pg.ColorMap([0.0, 0.35, 0.75, 1.0],
                       [(255, 255, 255), (147, 180, 245), (29, 78, 216), (12, 30, 92)])


def diverging_map() -> pg.ColorMap:
    """Blue (negative), white (zero), red (positive)."""
    return pg.ColorMap([0.0, 0.5, 1.0], [(33, 102, 172), (247, 247, 247), (178, 24, 43)])


def magnitude_map() -> pg.ColorMap:
    return pg.colormap.get("viridis")


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
