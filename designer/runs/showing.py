"""Showing a stored run: the controller takes the run's weights, description, curves and
epoch records as its own (copies: its next run clears them in place) and the plots redraw
from it, as they do when a run ends. `clear_run` leaves nothing shown (a new or opened
document without runs).

A run reopened from a project file has no description yet: it is made here once, from the
run's own graph and weights and its data set loaded again (`Probe.describe`), and kept on
the run. When the data set cannot be loaded (a file that moved), the curves still show.

`ShowRunMixin` is one side of `TrainingController` (controller.py), which provides the
attributes its other mixins declare, its signals, `_reset_run` and `_set_state`.
"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import nnengine
from nnengine import NNEngineError, Trainer, TrainingConfig

from ..training.mailbox import EpochHistory, SentWeights
from ..training.metrics import Progress, SnapshotTimeline
from ..training.probe import Probe
from ..training.run_setup import keep_scaling, load_run_data
from ..training.states import TRAINED, TrainingState
from ..training.weights import structure

if TYPE_CHECKING:
    from .record import Run


class ShowRunMixin:
    def show_run(self, run: Run) -> bool:
        """Make `run` what the controller holds and the plots show: its weights (Evaluate,
        Predict, the exports and Train On use them while they fit the graph), description,
        curves, epoch records and last snapshot. False while a run is active."""
        if self.is_active:
            return False
        config = TrainingConfig.from_dict(run.graph.training)
        probe = self._describe(run, config)
        self._reset_run()
        self.config = config
        self.weights = SentWeights(dict(run.weights), len(run.metrics), run.epochs)
        self.metrics = copy.deepcopy(run.metrics)
        self.epoch_history = EpochHistory(run.history.capacity)
        self.epoch_history.records = list(run.history.records)
        self.timeline = SnapshotTimeline(run.timeline.capacity)
        self.timeline.entries = list(run.timeline.entries)
        self.snapshot = run.snapshot
        self.test_metrics = dict(run.test) or None
        self.alarms = list(run.snapshot.alarms) if run.snapshot is not None else []
        self.weights_source = TRAINED
        self._run_graph = structure(run.graph)
        self.progress = Progress(epoch=run.epochs, epochs=run.epochs)
        self.run = run.description
        if self.run is not None:
            self.sample = (self.run.default_split, 0)
        if run.snapshot is not None:
            self.sample = tuple(run.snapshot.sample)
        if probe is not None:
            self.model, self.dataset, self.probe = probe.model, probe.dataset, probe
            self._probe_made_for = (self.weights, self._run_graph)
        self._set_state(TrainingState.IDLE)
        self.run_started.emit()
        self.metrics_changed.emit(self.metrics)
        if self.epoch_history.records:
            self.epoch_recorded.emit(self.epoch_history.last())
        self.alarms_changed.emit(self.alarms)
        if self.snapshot is not None:
            self.snapshot_changed.emit(self.snapshot)
        return True

    def clear_run(self) -> None:
        """Hold no run: the plots go back to "Press Train"."""
        if self.is_active:
            return
        self._reset_run()
        self.config = None
        self._run_graph = None
        self._set_state(TrainingState.IDLE)
        self.run_started.emit()
        self.metrics_changed.emit(self.metrics)
        self.alarms_changed.emit([])

    def _describe(self, run: Run, config: TrainingConfig) -> Probe | None:
        """A probe around the run's own model and data (None when the data set cannot be
        loaded); fills in `run.description` the first time."""
        try:
            model = nnengine.compile_model(run.graph.copy(), seed=config.seed)
            model.set_weights(run.weights, source=run.name)
            dataset = load_run_data(model, config, self.base_dir)
            probe = Probe(Trainer(model, dataset, keep_scaling(model, config)))
        except (NNEngineError, OSError):
            return None
        if run.description is None:
            run.description = probe.describe(run.epochs, list(run.metrics.grad_nodes))
        return probe
