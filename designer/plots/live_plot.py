"""`LivePlot`: a widget that keeps only the newest data and draws it when it is visible,
at most MAX_FPS times a second; `NodePicker` and `choose_node` for plots of one layer."""
from __future__ import annotations

import time
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from ..style import PLOT_MUTED
from ..training.summary import Snapshot
from .run_context import RunContext

# Redraws per second of one plot at most: above the controller's 30 Hz, so each tick's new
# data is drawn at once; a second request within one tick waits for the next.
MAX_FPS = 40.0
TRAILING = 0.1     # seconds: longer than the controller's tick (see `LivePlot.request`)


class LivePlot(QWidget):
    """Keeps the newest data and draws it only while visible: a hidden tab costs nothing,
    and a shown one draws at most once per controller tick. Subclasses implement `draw()`.

    `message(text)` swaps the plot for a centred sentence (e.g. "no conv layer here")."""

    redraw_on_resize = False  # True: image mosaics that follow the widget's shape
    # Optional snapshot parts (summary.OPTIONAL_PARTS) this plot shows: the training process
    # makes them only while such a plot is in front.
    snapshot_parts: frozenset[str] = frozenset()

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
        self._note.setStyleSheet(f"color: {PLOT_MUTED}; font-size: 11pt; padding: 24px;")
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

    def draw_pending(self) -> None:
        """Draw data that arrived while this plot was hidden (an export of a page whose
        dock is behind another tab)."""
        if self._dirty:
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

    def csv_series(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """(name, x, y) of each curve this plot draws itself, for Export the Plot in View as
        CSV; empty: the export reads pyqtgraph's own curves."""
        return []

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
        self.info.setStyleSheet(f"color: {PLOT_MUTED};")
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
