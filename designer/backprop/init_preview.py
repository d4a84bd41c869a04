"""Initialisation preview: what a fresh initialisation does before any training, as bars
down the network (one row per layer, input at the top): the activations' spread, the share
of dead (ReLU) or saturated (sigmoid, tanh) units, and the gradient norm reaching each
layer's weights on a log scale. It recomputes, off the GUI thread, a moment after any edit,
so changing an initialiser or an activation in the inspector shows its effect at once.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

import nnengine

from .. import style
from .context import ContextError, ToolContext, ToolJob

DEBOUNCE_MS = 400
BATCH = 64
SHARE_COLORS = {"dead": "#64748b", "saturated": "#c2410c"}


class InitPreview(QWidget):
    """`context_provider()` must give fresh (untrained) weights: the preview is about the
    initialisation, whatever run is selected."""

    def __init__(self, context_provider: Callable[[], ToolContext],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.context_provider = context_provider
        self.rows: list[nnengine.tools.LayerInit] = []
        self.job: ToolJob | None = None
        self._pending = False
        layout = QVBoxLayout(self)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        plots = QHBoxLayout()
        self.std_plot = self._plot("activation std")
        self.share_plot = self._plot("dead / saturated share")
        self.grad_plot = self._plot("weight-gradient norm (log)")
        for plot in (self.std_plot, self.share_plot, self.grad_plot):
            plots.addWidget(plot, 1)
        for plot in (self.share_plot, self.grad_plot):  # one set of layer names, on the left
            plot.setYLink(self.std_plot)
            plot.getAxis("left").setStyle(showValues=False)
        layout.addLayout(plots, 1)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self.refresh)

    def _plot(self, title: str) -> pg.PlotWidget:
        plot = pg.PlotWidget(background="w")
        plot.setTitle(title, color=style.TEXT.name(), size="9pt")
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.getPlotItem().invertY(True)
        return plot

    def schedule(self) -> None:
        """Recompute a moment after the last of a burst of edits."""
        self.timer.start()

    def refresh(self) -> None:
        if self.job is not None:  # one at a time; the newest edit is computed next
            self._pending = True
            return
        try:
            context = self.context_provider()
        except ContextError as e:
            self.summary.setText(f"No preview: {e}.")
            self.show_rows([])
            return

        def work(progress, cancelled):
            clone, batch = nnengine.probe_batch(context.model, context.dataset, context.config,
                                                size=BATCH)
            return nnengine.init_report(clone, batch.xs, batch.targets, batch.loss)

        self.job = ToolJob(work, self)
        self.job.finished.connect(self._done)
        self.job.failed.connect(lambda m: self._done(None, m))
        self.summary.setText("Computing…")
        self.job.start()

    def _done(self, rows, error: str | None = None) -> None:
        self.job = None
        if error is not None:
            self.summary.setText(f"No preview: {error}.")
            rows = []
        else:
            self.summary.setText(
                f"One forward and backward pass over {BATCH} training samples at "
                "initialisation (before any training). Gradients that shrink towards the "
                "input mean the first layers will barely learn.")
        self.show_rows(rows)
        if self._pending:
            self._pending = False
            self.schedule()

    def show_rows(self, rows: list[nnengine.tools.LayerInit]) -> None:
        self.rows = rows
        names = [r.node_id for r in rows]
        ticks = [list(enumerate(names))]
        y = np.arange(len(rows), dtype=float)
        for plot in (self.std_plot, self.share_plot, self.grad_plot):
            plot.clear()
            plot.getAxis("left").setTicks(ticks)
        self.std_plot.setYRange(-0.6, max(len(rows), 1) - 0.4, padding=0)
        if not rows:
            return
        std = np.array([r.activation_std for r in rows])
        self.std_plot.addItem(pg.BarGraphItem(x0=0, y=y, height=0.6, width=std,
                                              brush=style.ACCENT.name()))
        shown = []
        for kind, attr in (("dead", "dead_share"), ("saturated", "saturated_share")):
            share = np.array([getattr(r, attr) or 0.0 for r in rows])
            if share.any():
                shown.append(kind)
                self.share_plot.addItem(pg.BarGraphItem(x0=0, y=y, height=0.6, width=share,
                                                        brush=SHARE_COLORS[kind]))
        measured = any(r.dead_share is not None or r.saturated_share is not None for r in rows)
        title = ("dead / saturated share: " + " and ".join(shown) if shown else
                 "dead / saturated share: none" if measured else
                 "dead / saturated share (ReLU, sigmoid, tanh only)")
        self.share_plot.setTitle(title, color=style.TEXT.name(), size="9pt")
        self.share_plot.setXRange(0, 1)
        norms = np.array([r.weight_grad_norm or np.nan for r in rows])
        self._log_bars(y, norms)

    def _log_bars(self, y: np.ndarray, norms: np.ndarray) -> None:
        known = norms[np.isfinite(norms) & (norms > 0)]
        if not known.size:
            return
        low = np.floor(np.log10(known.min())) - 1
        high = np.ceil(np.log10(known.max()))
        widths = np.where(np.isfinite(norms) & (norms > 0),
                          np.log10(np.where(norms > 0, norms, 1)) - low, 0)
        self.grad_plot.addItem(pg.BarGraphItem(x0=low, y=y, height=0.6, width=widths,
                                               brush="#15803d"))
        step = max(1, int(high - low) // 4)  # at most about five labels, never overlapping
        decades = range(int(low), int(high) + 1, step)
        self.grad_plot.getAxis("bottom").setTicks([[(d, f"1e{d}") for d in decades]])
        self.grad_plot.setXRange(low, high)
