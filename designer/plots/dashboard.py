"""The training dashboard: every plot in tabs, the health list beside them and the epoch
scrubber above, fed by a `TrainingController`.

Only the visible tab draws (see `LivePlot`), so the cost of watching stays flat however
many plots exist; the controller is told which optional snapshot parts the tab in front
shows, so the training process makes only those. `show_node(node_id)` points every
per-layer plot at a node and brings up the tab that suits it (feature maps for conv and
pool, weights for dense layers, ...).
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSplitter, QTabWidget, QVBoxLayout, QWidget

from nnengine.diagnostics import ERROR, Alarm

from ..training.controller import TrainingController
from ..training.summary import Snapshot
from .activations import ActivationsPlot
from .confusion import ConfusionPlot
from .curves import CurvesPlot
from .decision_boundary import DecisionBoundaryPlot
from .feature_maps import FeatureMapsPlot
from .generated import GeneratedPlot
from .gradients import GradientsPlot
from .health import HealthPanel
from .live_plot import LivePlot
from .loss_terms import LossTermsPlot
from .nearest_words import NearestWordsPlot
from .reconstruction import ReconstructionPlot
from .regression_fit import RegressionFitPlot
from .run_context import RunContext, run_context
from .scrubber import EpochScrubber
from .weights import WeightsPlot


class TrainingDashboard(QWidget):
    node_chosen = Signal(str)        # an alarm naming a layer was clicked
    sample_chosen = Signal(int)      # a test sample was clicked (already sent to the controller)

    def __init__(self, controller: TrainingController | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.controller: TrainingController | None = None
        self.context = RunContext()
        self.scrubber = EpochScrubber()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.curves = CurvesPlot()
        self.activations = ActivationsPlot()
        self.feature_maps = FeatureMapsPlot()
        self.gradients = GradientsPlot()
        self.weights = WeightsPlot()
        self.boundary = DecisionBoundaryPlot()
        self.confusion = ConfusionPlot()
        self.reconstruction = ReconstructionPlot()
        self.loss_terms = LossTermsPlot()
        self.fit = RegressionFitPlot()
        self.generated = GeneratedPlot()
        self.nearest_words = NearestWordsPlot()
        self.pages: list[tuple[str, LivePlot]] = [
            ("Curves", self.curves), ("Activations", self.activations),
            ("Feature maps", self.feature_maps), ("Gradients", self.gradients),
            ("Weights", self.weights), ("Decision boundary", self.boundary),
            ("Confusion", self.confusion), ("Reconstruction", self.reconstruction),
            ("Loss terms", self.loss_terms), ("Fit", self.fit), ("Generated", self.generated),
            ("Nearest words", self.nearest_words)]
        for title, page in self.pages:
            self.tabs.addTab(page, title)
        self.health = HealthPanel()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.tabs)
        split.addWidget(self.health)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        split.setSizes([760, 260])
        col = QVBoxLayout(self)
        col.setContentsMargins(2, 2, 2, 2)
        col.addWidget(self.scrubber)
        col.addWidget(split, 1)
        self.scrubber.epoch_chosen.connect(self._epoch_chosen)
        self.confusion.sample_chosen.connect(self._sample_chosen)
        self.confusion.whole_split_wanted.connect(
            lambda: self.controller.count_whole_test_split() if self.controller else None)
        self.health.node_chosen.connect(self.node_chosen)
        self.tabs.currentChanged.connect(self._watch)
        if controller is not None:
            self.set_controller(controller)

    # --- wiring ----------------------------------------------------------------------------
    def set_controller(self, controller: TrainingController) -> None:
        self.controller = controller
        controller.run_started.connect(self._run_started)
        controller.metrics_changed.connect(self._metrics_changed)
        controller.snapshot_changed.connect(self._snapshot_changed)
        controller.epoch_recorded.connect(self._epoch_recorded)
        controller.alarms_changed.connect(self._alarms_changed)
        controller.diverged.connect(self._diverged)
        controller.finished.connect(lambda _outcome: self.curves.flush())
        self.context = run_context(controller)
        for _, page in self.pages:
            page.set_context(self.context)
        self._watch()

    def _watch(self, _index: int = 0) -> None:
        page = self.tabs.currentWidget()
        if self.controller is not None and isinstance(page, LivePlot):
            self.controller.watch(page.snapshot_parts)

    @property
    def snapshot_plots(self) -> list[LivePlot]:
        return [self.activations, self.feature_maps, self.gradients, self.weights,
                self.boundary, self.confusion, self.reconstruction, self.fit, self.generated,
                self.nearest_words]

    def _run_started(self) -> None:
        c = self.controller
        self.context = run_context(c)
        node = next((p.node_id for p in self.snapshot_plots if p.node_id), None)
        for _, page in self.pages:
            page.node_id = node if node in self.context.kinds else None
            page.set_context(self.context)
        self.scrubber.reset()
        self.health.set_alarms([], started=True, epochs=0)
        ctx = self.context
        visible = {"Feature maps": any(ctx.is_image_node(n) and ctx.kinds[n][0] != "Input"
                                       for n in ctx.order),
                   "Decision boundary": ctx.points is not None,
                   "Confusion": ctx.classification and ctx.test_labels is not None,
                   "Reconstruction": ctx.autoencoder,
                   "Loss terms": bool(ctx.loss_terms),
                   "Fit": ctx.fit_points is not None,
                   "Generated": ctx.code_node is not None and ctx.image_shape is not None,
                   "Nearest words": bool(ctx.embeddings)}
        for i, (title, _) in enumerate(self.pages):
            self.tabs.setTabVisible(i, visible.get(title, True))
        if c.snapshot is not None:
            self._snapshot_changed(c.snapshot)

    def _metrics_changed(self, _metrics) -> None:
        self.curves.request()
        self.loss_terms.request()
        if self.scrubber.live:
            self.gradients.request()   # per-batch gradient norms

    def _snapshot_changed(self, snap: Snapshot) -> None:
        if not self.scrubber.live:
            return
        self._feed(snap)

    def _feed(self, snap: Snapshot | None) -> None:
        for plot in self.snapshot_plots:
            plot.live = self.scrubber.live
            plot.set_snapshot(snap)

    def _epoch_recorded(self, _record) -> None:
        self.scrubber.set_epochs(self.controller.epoch_history.epochs())
        # The alarms may not change at an epoch's end, but the verdict on the loss does.
        self._alarms_changed(self.controller.alarms)

    def _alarms_changed(self, alarms: list) -> None:
        self.health.set_alarms(alarms, epochs=len(self.controller.metrics.epochs))

    def _diverged(self, message: str, node_id: str) -> None:
        self.health.add_alarm(Alarm(ERROR, node_id or None, message, "diverged"))

    def _sample_chosen(self, index: int) -> None:
        if self.controller is not None:
            self.scrubber.go_live()
            self.controller.set_sample(index, "test")
        self.sample_chosen.emit(index)

    def _epoch_chosen(self, epoch: int | None) -> None:
        c = self.controller
        if c is None:
            return
        if epoch is None:
            self.curves.set_marker(None)
            self._feed(c.snapshot)
            return
        record = c.epoch_history.nearest(epoch)
        if record is None:
            return
        self.curves.set_marker(record.epoch)
        if record.snapshot is not None:
            self._feed(record.snapshot)

    # --- for the main window ----------------------------------------------------------------
    def show_node(self, node_id: str | None) -> None:
        """Point the per-layer plots at `node_id` and bring up the tab that suits it."""
        if not node_id:
            return
        for plot in self.snapshot_plots:
            plot.set_node(node_id)
        current = self.tabs.currentWidget()
        if current in (self.gradients, self.weights) and node_id in current.picker.nodes():
            return   # the user is comparing gradients or weights: stay on that view
        page = self.best_page(node_id)
        if page is not None:
            self.tabs.setCurrentWidget(page)

    def best_page(self, node_id: str) -> LivePlot | None:
        ctx = self.context
        if node_id not in ctx.kinds:
            return None
        kind = ctx.kinds[node_id][0]
        if node_id in ctx.embeddings:
            return self.nearest_words
        if node_id == ctx.code_node:
            return self.generated
        if node_id == ctx.output_id:
            if ctx.fit_points is not None:
                return self.fit
            if ctx.autoencoder:
                return self.reconstruction
            if ctx.points is not None:
                return self.boundary
            if ctx.classification and ctx.test_labels is not None:
                return self.confusion
        if ctx.is_image_node(node_id) and kind != "Input":
            return self.feature_maps
        if node_id in ctx.weighted:
            return self.weights
        return self.activations

    def show_page(self, title: str) -> None:
        for t, page in self.pages:
            if t == title:
                self.tabs.setCurrentWidget(page)

    def show_epoch(self, epoch: int | None) -> None:
        """Scrub to a past epoch (None: back to live)."""
        if epoch is None:
            self.scrubber.go_live()
        else:
            self.scrubber.show_epoch(epoch)

    def refresh_all(self) -> None:
        """Draw every plot now, visible or not (tests, screenshots)."""
        for _, page in self.pages:
            page.refresh()
