"""Reading the training process's reports: they become the controller's state and Qt
signals, on the GUI thread.

`poll` is the controller's timer slot (30 Hz). It reads what has arrived without waiting,
merges it into one `Drained`, and dispatches it, so the plots refresh at a bounded rate
however fast training runs. Order matters within one dispatch: the "ready" event first (it
announces what the records carry), then batches, epochs, weights and the newest snapshot,
then the other events ("finished", "diverged", "failed"), which end or pause the run.

The same tick watches the child: one that has ended without a final report (killed, crashed,
out of memory) or has said nothing for `stuck_after` seconds (it is then killed; it sends a
heartbeat twice a second however long a batch takes) fails the run with one sentence; the
weights it last sent stay.

`DispatchMixin` is one side of `TrainingController` (see controller.py), which provides the
attributes declared below, its signals, and `_set_state`, `_say`, `_fail` and `_end_run`.
"""
from __future__ import annotations

import time
from typing import Any

from .mailbox import AwaitedSnapshots, Drained, EpochHistory, SentWeights
from .metrics import MetricsStore, Progress, SnapshotTimeline, SpeedMeter
from .probe import Probe
from .process import TrainingProcess
from .protocol import Report
from .run_description import RunDescription
from .states import ACTIVE, TrainingState
from .summary import Snapshot

PROGRESS_INTERVAL = 0.5   # seconds between progress updates (text, not plots)
# Seconds a new child may take before its first word: Python's start and the imports of
# NumPy and nnengine, on a machine that may be busy (it beats twice a second afterwards).
START_PATIENCE = 60.0


class DispatchMixin:
    """Turns the training process's reports into state and signals."""

    run: RunDescription | None
    weights: SentWeights | None
    probe: Probe | None
    snapshot: Snapshot | None
    alarms: list
    test_metrics: dict | None
    sample: tuple[str, int] | None
    metrics: MetricsStore
    epoch_history: EpochHistory
    timeline: SnapshotTimeline
    progress: Progress
    speed: SpeedMeter
    stuck_after: float
    _process: TrainingProcess | None
    _received: Snapshot | None       # the last snapshot the current process sent
    _awaited: AwaitedSnapshots
    _shown: int                      # the number of the run's snapshot shown last
    _early: list[Snapshot]           # the watcher's, arrived before the run's "ready"
    _retired: list[TrainingProcess]
    _start_paused: bool
    _step: int
    _started_at: float
    _progress_at: float

    def poll(self) -> Drained:
        """Dispatch every report that has arrived, and watch the child (the timer's slot)."""
        self._reap()
        p = self._process
        d = Drained()
        if p is None:
            return d
        p.flush()
        for kind, payload in p.receive():
            if kind == Report.UPDATE:
                self._received = payload.fill_in(self._received)
                d.merge(payload)
            elif kind == Report.WATCHED:
                d.watched += payload
        self._quiet_ended_pipes()
        if d:
            self._dispatch(d)
        if p is self._process and self.state in ACTIVE:
            if p.ended:
                self._lost(f"The training process {p.exit_text()}")
            elif p.quiet_for() > (self.stuck_after if p.heard else
                                  max(self.stuck_after, START_PATIENCE)):
                p.kill()
                self._lost(f"The training process stopped answering for "
                           f"{self.stuck_after:.0f} s and was ended")
        return d

    def _reap(self) -> None:
        """Forget processes that have exited after their run; kill one that lingers."""
        for p in list(self._retired):
            p.receive()   # anything left: its run is over
            if not p.alive or p.quiet_for() > self.stuck_after:
                p.kill()
                self._retired.remove(p)
        if not self._retired and self._process is None:
            self._timer.stop()

    def _lost(self, what: str) -> None:
        """The child is gone without a final report."""
        kept = self.weights
        if kept is not None:
            kept_text = f"the weights after {kept.step} steps (epoch {kept.epoch}) are kept"
        else:
            kept_text = "no weights had arrived yet"
        self._fail(f"{what} during epoch {max(self.progress.epoch, 1)}; {kept_text}.")
        self._end_run()

    def _dispatch(self, d: Drained) -> None:
        for event in d.events:   # "ready" first: it announces what the records carry
            if event.kind == "ready":
                self._handle(event.kind, event.payload)
        if len(d.batches):
            self.metrics.add_batches(d.batches)
            self.speed.add(d.batches)
            self._step = step = int(d.batches.step[-1])
            self.progress.epoch, self.progress.batch, self.progress.step = \
                int(d.batches.epoch[-1]), int(d.batches.batch[-1]), step
        if self.run is None:   # the watcher was quicker than the run's description
            self._early += d.watched
            d.watched = []
        elif self._early:
            d.watched[:0], self._early = self._early, []
        # the newest snapshot that came is shown; the others this dispatch brings go to the
        # curves over training, oldest first (a short run has several in one tick)
        fresh = [s for s in (d.snapshot, *d.watched) if s is not None]
        newest = max(fresh, key=lambda s: s.number, default=None)
        others = {id(s): s for s in (*(r.snapshot for r in d.epochs), *fresh)
                  if s is not None and s is not newest}
        for record in d.epochs:   # before the snapshots arrive: each finds its own among them
            self._awaited.pair(record)
        for snap in sorted(fresh, key=lambda s: s.number):
            self._awaited.arrived(snap)
        for snap in sorted(others.values(), key=lambda s: s.number):
            self.timeline.add(snap)
        for record in d.epochs:
            self.metrics.add_epoch(record.logs)
            self.epoch_history.add(record)
        if d.weights is not None:
            self.weights = d.weights
        if newest is not None and newest.number > self._shown:
            # (a watcher given up as too slow may still send one older than the training
            # process's own since)
            self._shown = newest.number
            self._publish_snapshot(newest)
        for record in d.epochs:
            self.epoch_recorded.emit(record)
        if len(d.batches) or d.epochs:
            self.metrics_changed.emit(self.metrics)
            now = time.monotonic()
            # throttled while running; paused or stepping, every batch shows at once
            if now - self._progress_at >= PROGRESS_INTERVAL or \
                    self.state != TrainingState.RUNNING:
                self._progress_at = now
                self._update_progress()
                self.progress_changed.emit(self.progress)
        for event in d.events:
            if event.kind != "ready":
                self._handle(event.kind, event.payload)

    def _handle(self, kind: str, payload: Any) -> None:
        if kind == "ready":
            self.run = payload
            self.progress.batches = payload.batches_per_epoch
            self.progress.epochs = payload.epochs
            self.metrics.set_grad_nodes(payload.grad_nodes)
            if self.sample is None:
                self.sample = (payload.default_split, 0)
            if self.state == TrainingState.STARTING:
                self._set_state(TrainingState.PAUSED if self._start_paused
                                else TrainingState.RUNNING)
            self.run_started.emit()
        elif kind == "finished":
            self.test_metrics = payload.get("test")
            stopped = payload.get("stopped")
            self._set_state(TrainingState.STOPPED if stopped else TrainingState.FINISHED)
            self._update_progress()
            self.progress_changed.emit(self.progress)
            test = self.test_metrics or {}
            shown = ", ".join(f"{k} {v:.4g}" for k, v in test.items())
            self._say(("training stopped" if stopped else "training finished")
                      + (f"; test {shown}" if shown else ""))
            self._end_run()
            self.finished.emit(payload)
        elif kind == "diverged":
            self._set_state(TrainingState.DIVERGED)
            self._say(payload["message"])
            self._end_run()
            self.diverged.emit(payload["message"], payload.get("node_id") or "")
        elif kind == "failed":
            self._fail(str(payload))
            self._end_run()

    def _publish_snapshot(self, snap: Snapshot) -> None:
        self.snapshot = snap
        self.timeline.add(snap)
        self.snapshot_changed.emit(snap)
        if [str(a) for a in snap.alarms] != [str(a) for a in self.alarms]:
            self.alarms = list(snap.alarms)
            self.alarms_changed.emit(self.alarms)

    def _local_snapshot(self, test: bool) -> Snapshot:
        """A snapshot taken here, around the weights this window holds (no run alive), e.g.
        of a chosen sample after training or of loaded weights; it keeps the last one's
        position in the run. `test`: with predictions on the whole test split."""
        probe = self._ready_probe()
        last = self.snapshot
        step, epoch, batch, x = (last.step, last.epoch, last.batch, last.x) if last else \
            (0, 0, 0, 0.0)
        sample = self.sample or (probe.default_split(), 0)
        return probe.snapshot(sample, step, epoch, batch, x, self.metrics.epochs,
                              test=probe.split_size("test") if test else 0)

    def _update_progress(self) -> None:
        """Speed and time left only while the run goes at its own pace: paused, stepping
        or ended, a rate would describe the person's clicks, not the training."""
        p = self.progress
        running = self.state in (TrainingState.STARTING, TrainingState.RUNNING)
        p.samples_per_second = self.speed.rate() if running else 0.0
        p.elapsed = time.monotonic() - self._started_at
        total = p.epochs * p.batches
        done = (p.epoch - 1) * p.batches + p.batch if p.epoch else 0
        train_size = self.run.train_size if self.run else 0
        if p.samples_per_second > 0 and total and train_size:
            per_batch = train_size / max(p.batches, 1)
            p.seconds_left = (total - done) * per_batch / p.samples_per_second
        else:
            p.seconds_left = None
