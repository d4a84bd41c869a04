"""Showing a stored run: the controller takes the run's weights, curves and epoch records as
its own (copies: its next run clears them in place) and the plots redraw from it, as they
do when a run ends. `clear_run` leaves nothing shown (a new or opened document without
runs).

`ShowRunMixin` is one side of `TrainingController` (controller.py), which provides the
attributes its other mixins declare, its signals, `_reset_run` and `_set_state`.
"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import nnengine
from nnengine import NNEngineError, Trainer, TrainingConfig

from ..training.mailbox import EpochHistory
from ..training.metrics import Progress, Timeline
from ..training.probe import Probe
from ..training.states import IDLE, TRAINED
from ..training.weights import structure
from ..training.worker import keep_scaling, load_run_data

if TYPE_CHECKING:
    from .record import Run


class ShowRunMixin:
    def show_run(self, run: Run) -> bool:
        """Make `run` what the controller holds and the plots show: its weights (Evaluate,
        Predict and Train On use them), curves, epoch records and last snapshot. The data
        set is loaded again for the per-sample views; when it cannot be, the curves still
        show. False while a run is active."""
        if self.is_active:
            return False
        config = TrainingConfig.from_dict(run.graph.training)
        model = nnengine.compile_model(run.graph.copy(), seed=config.seed)
        model.set_weights(run.weights, source=run.name)
        self._reset_run()
        self.config, self.model = config, model
        self.metrics = copy.deepcopy(run.metrics)
        self.epoch_history = EpochHistory(run.history.capacity)
        self.epoch_history.records = list(run.history.records)
        self.timeline = Timeline(run.timeline.capacity)
        self.timeline.entries = list(run.timeline.entries)
        self.snapshot = run.snapshot
        self.test_metrics = dict(run.test) or None
        self.alarms = list(run.snapshot.alarms) if run.snapshot is not None else []
        self.weights_source = TRAINED
        self._run_graph = structure(run.graph)
        self.progress = Progress(epoch=run.epochs, epochs=run.epochs)
        try:
            self.dataset = load_run_data(model, config, self.base_dir)
            self.probe = Probe(Trainer(model, self.dataset, keep_scaling(model, config)))
            if run.snapshot is not None:
                self.sample = tuple(run.snapshot.sample)
        except (NNEngineError, OSError):
            self.dataset = self.probe = None
        self._set_state(IDLE)
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
        self._set_state(IDLE)
        self.run_started.emit()
        self.metrics_changed.emit(self.metrics)
        self.alarms_changed.emit([])
