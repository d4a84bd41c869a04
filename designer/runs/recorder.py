"""RunRecorder: every training run of the controller becomes a `Run` in the store.

A run begins when the controller starts one (not when it resumes after a divergence: that is
the same run going on) and is recorded when it ends: finished, stopped, diverged (at the
node named by the engine) or failed after it had learned something. The record takes copies
of the controller's curves and epoch records, so the controller's next run cannot change it.
"""
from __future__ import annotations

import copy
import datetime
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject

from nnengine import Graph
from nnengine.run_card import run_card

from ..training.mailbox import EpochHistory
from ..training.metrics import SnapshotTimeline
from ..training.states import TrainingState
from .record import Run
from .store import RunStore

ENDED = {TrainingState.FINISHED: "finished", TrainingState.STOPPED: "stopped",
         TrainingState.DIVERGED: "diverged", TrainingState.FAILED: "failed"}


@dataclass
class _Session:
    id: str
    started: float        # time.time() at the start
    began: float          # time.monotonic() at the start
    graph: Graph          # as it was when the run started
    diverged_at: str = ""


class RunRecorder(QObject):
    def __init__(self, controller, store: RunStore, parent: QObject | None = None):
        super().__init__(parent)
        self.controller = controller
        self.store = store
        self._session: _Session | None = None
        self._previous = controller.state
        self.last: Run | None = None     # the run recorded last (the plots show it already)
        controller.state_changed.connect(self._state_changed)
        controller.diverged.connect(self._diverged)

    def _state_changed(self, state: str) -> None:
        previous, self._previous = self._previous, state
        c = self.controller
        if state == TrainingState.STARTING and previous != TrainingState.DIVERGED:
            self._session = _Session(self.store.new_id(), time.time(), time.monotonic(),
                                     c.graph.copy())
        elif state in ENDED and self._session is not None:
            if state == TrainingState.DIVERGED or (
                    state == TrainingState.STOPPED and previous == TrainingState.DIVERGED):
                return   # recorded with its node by `_diverged`; stopping it keeps that
            self.record(ENDED[state])

    def forget(self) -> None:
        """The run under way belongs to a document that is gone: do not record it."""
        self._session = None

    def _diverged(self, _message: str, node_id: str) -> None:
        if self._session is not None:
            self._session.diverged_at = node_id
            self.record("diverged")

    def record(self, ended: str) -> Run | None:
        """The controller's last run as a Run, added to the store (and shown)."""
        c, s = self.controller, self._session
        if s is None or c.weights is None or c.config is None or c.run is None or \
                (ended == "failed" and not c.metrics.epochs):
            return None
        weights = c.current_weights()   # the last the training process sent
        graph = s.graph.copy()
        graph.training = c.config.to_dict()
        test = c.test_metrics if ended in ("finished", "stopped") else None
        started = datetime.datetime.fromtimestamp(s.started).astimezone()
        card = run_card(graph, graph.training,
                        {"name": c.config.dataset, "sha256": c.run.dataset_sha256}, started,
                        round(time.monotonic() - s.began, 3), len(c.metrics.epochs), ended,
                        test)
        history = EpochHistory(c.epoch_history.capacity)
        history.records = list(c.epoch_history.records)
        timeline = SnapshotTimeline(c.timeline.capacity)
        timeline.entries = list(c.timeline.entries)
        existing = self.store.get(s.id)
        run = Run(s.id, existing.name if existing else s.id.replace("-", " "), card, graph,
                  weights, copy.deepcopy(c.metrics), history, timeline, c.snapshot,
                  s.diverged_at if ended == "diverged" else "", description=c.run)
        self.last = run
        self.store.add(run)
        return run
