"""Draining the mailbox: what the training thread posted becomes the controller's state and
Qt signals, on the GUI thread.

`poll` is the controller's timer slot (11 Hz), so the plots refresh at a bounded rate
however fast training runs. Order matters within one drain: the "ready" event first (it
announces what the records carry), then batches, epochs and the newest snapshot, then the
other events ("finished", "diverged", "failed"), which end or pause the run.

`DispatchMixin` is one side of `TrainingController` (see controller.py), which provides the
attributes declared below, its signals, and `_set_state`, `_say` and `_fail`.
"""
from __future__ import annotations

import time
from contextlib import nullcontext
from typing import Any

from nnengine import TrainingControl

from .mailbox import Drained, EpochHistory, Mailbox
from .metrics import MetricsStore, Progress, SpeedMeter, Timeline
from .probe import Probe
from .states import DIVERGED, FINISHED, PAUSED, RUNNING, STARTING, STOPPED
from .summary import Snapshot

PROGRESS_INTERVAL = 0.5   # seconds between progress updates (text, not plots)


class DispatchMixin:
    """Turns drained mailbox contents into state and signals."""

    probe: Probe | None
    snapshot: Snapshot | None
    alarms: list
    test_metrics: dict | None
    sample: tuple[str, int] | None
    metrics: MetricsStore
    epoch_history: EpochHistory
    timeline: Timeline
    progress: Progress
    speed: SpeedMeter
    _mailbox: Mailbox
    _control: TrainingControl
    _step: int
    _started_at: float
    _progress_at: float

    def poll(self) -> Drained:
        """Take everything the worker posted and emit signals for it (the timer's slot).
        While training runs, the plots draw what arrived in a turn of their own, with the
        training thread parked between two batches (see turns.py)."""
        d = self._mailbox.drain()
        with self._mailbox.turns.taken() if d.batches else nullcontext():
            self._dispatch(d)
        return d

    def _dispatch(self, d: Drained) -> None:
        for event in d.events:   # "ready" first: it announces what the records carry
            if event.kind == "ready":
                self._handle(event.kind, event.payload)
        if d.batches:
            self.metrics.add_batches(d.batches)
            self.speed.add(d.batches)
            last = d.batches[-1]
            self._step = last.step
            self.progress.epoch, self.progress.batch, self.progress.step = \
                last.epoch, last.batch, last.step
        for record in d.epochs:
            self.metrics.add_epoch(record.logs)
            self.epoch_history.add(record)
        if d.snapshot is not None:
            self._publish_snapshot(d.snapshot)
        for record in d.epochs:
            self.epoch_recorded.emit(record)
        if d.batches or d.epochs:
            self.metrics_changed.emit(self.metrics)
            now = time.monotonic()
            if now - self._progress_at >= PROGRESS_INTERVAL:
                self._progress_at = now
                self._update_progress()
                self.progress_changed.emit(self.progress)
        for event in d.events:
            if event.kind != "ready":
                self._handle(event.kind, event.payload)

    def _handle(self, kind: str, payload: Any) -> None:
        if kind == "ready":
            self.probe = payload["probe"]
            self.model, self.dataset = self.probe.model, self.probe.dataset
            self.progress.batches = payload["batches_per_epoch"]
            self.progress.epochs = payload["epochs"]
            self.metrics.set_grad_nodes(payload.get("grad_nodes", []))
            if self.sample is None:
                self.sample = (self.probe.default_split(), 0)
            if self.state == STARTING:
                self._set_state(PAUSED if self._control.paused else RUNNING)
            self.run_started.emit()
        elif kind == "finished":
            self._update_progress()
            self.progress_changed.emit(self.progress)
            self.test_metrics = payload.get("test")
            self._set_state(STOPPED if payload.get("stopped") else FINISHED)
            test = self.test_metrics or {}
            shown = ", ".join(f"{k} {v:.4g}" for k, v in test.items())
            self._say(("training stopped" if payload.get("stopped") else "training finished")
                      + (f"; test {shown}" if shown else ""))
            self.finished.emit(payload)
        elif kind == "diverged":
            self._set_state(DIVERGED)
            self._say(payload["message"])
            self.diverged.emit(payload["message"], payload.get("node_id") or "")
        elif kind == "failed":
            self._fail(str(payload))

    def _publish_snapshot(self, snap: Snapshot) -> None:
        self.snapshot = snap
        self.timeline.add(snap)
        self.snapshot_changed.emit(snap)
        if [str(a) for a in snap.alarms] != [str(a) for a in self.alarms]:
            self.alarms = list(snap.alarms)
            self.alarms_changed.emit(self.alarms)

    def _local_snapshot(self, test: bool) -> Snapshot:
        """A snapshot taken here on the GUI thread (no run alive), e.g. of a chosen sample
        after training or of loaded weights; it keeps the last one's position in the run."""
        last = self.snapshot
        step, epoch, batch, x = (last.step, last.epoch, last.batch, last.x) if last else \
            (0, 0, 0, 0.0)
        sample = self.sample or (self.probe.default_split(), 0)
        return self.probe.snapshot(sample, step, epoch, batch, x, self.metrics.epochs,
                                   test=test)

    def _update_progress(self) -> None:
        p = self.progress
        p.samples_per_second = self.speed.rate()
        p.elapsed = time.monotonic() - self._started_at
        total = p.epochs * p.batches
        done = (p.epoch - 1) * p.batches + p.batch if p.epoch else 0
        train_size = len(self.probe.trainer.y_train) if self.probe else 0
        if p.samples_per_second > 0 and total and train_size:
            per_batch = train_size / max(p.batches, 1)
            p.seconds_left = (total - done) * per_batch / p.samples_per_second
        else:
            p.seconds_left = None
