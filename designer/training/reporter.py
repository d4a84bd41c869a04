"""Inside the training process: the trainer's callback that reports to the window.

`TrainingReporter` writes every batch's metrics into the `Mailbox`, the weights at every
epoch's end (and whenever training pauses), and, within a `SnapshotBudget`, a snapshot of
the sample under inspection (see probe.Probe). Snapshots are limited both in rate and in
the share of the run's time they may take (the seconds they took, counted from the
training's start with time.monotonic), so watching does not slow training noticeably,
however fast or slow a batch is. While training runs the
confusion matrix is fed predictions on a fixed part of the test split (the first
`RunDescription.watched_test` samples), only while the window shows it (`watch`), within a
budget of their own: at most every TEST_INTERVAL seconds and within TEST_SHARE of the time
(they cost as much as several snapshots, and charged to the snapshots' share they held
the next ones back: 4.4-4.9 snapshots a second with the matrix in front, 5.4 without). The
whole split is predicted at the end.

When a watcher process is up (watcher.py) the snapshots are taken there: the training thread
only sends the weights and where the run stands, and charges the budgets with the
processor seconds the watcher reports it spent. An epoch record then names the snapshot it
shows by its number (`EpochRecord.shows`); the window pairs them. No Qt.
"""
from __future__ import annotations

import math
import time

import numpy as np

from nnengine import Callback, Trainer, TrainingControl

from .mailbox import EpochRecord, Mailbox, SentWeights
from .pacer import Pacer
from .probe import Probe
from .run_description import RunDescription
from .summary import OPTIONAL_PARTS, TEST_PREDICTIONS, Snapshot
from .watcher import SnapshotRequest, WatcherLink, take_snapshot

NAN = float("nan")
# Seconds between two predictions on the watched test samples (a matrix of counts changes
# slowly), and the share of the time they may take: the digits CNN's 359 take 11-15 ms
# between two batches of a run.
TEST_INTERVAL = 2.0
TEST_SHARE = 0.01
# Activations over training get this many points in a run (a snapshot every
# ceil(epochs / EPOCH_SNAPSHOTS) epochs: every epoch of a short run, #17), more whenever the
# budget allows; on longer runs these too wait while snapshots are over their share.
EPOCH_SNAPSHOTS = 20


class SnapshotBudget:
    """When a snapshot is due: at most `max_hz` a second, and only while snapshots have
    taken at most `share` of the time since training began."""

    def __init__(self, max_hz: float = 10.0, share: float = 0.05):
        self.min_interval = 1.0 / max_hz if max_hz > 0 else float("inf")
        self.share = share
        self.start = time.monotonic()
        self.last = -float("inf")
        self.spent = 0.0

    def due(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return now - self.last >= self.min_interval and self.within_share(now)

    def within_share(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return self.spent <= self.share * (now - self.start)

    def record(self, began: float, ended: float) -> None:
        self.last = ended
        self.spent += ended - began

    def restart(self) -> None:
        """Count the share from now on, forgetting what was spent before (the rate limit
        still counts from the last snapshot)."""
        self.start = time.monotonic()
        self.spent = 0.0


class LayerGradNorms:
    """Each layer's weight-gradient norm on the last training batch, from the squared
    norms the trainer already computes for its NaN check (no extra pass over gradients)."""

    def __init__(self, keys: list[str]):
        self.nodes: list[str] = list(dict.fromkeys(k.split("/")[0] for k in keys))
        index = {n: i for i, n in enumerate(self.nodes)}
        self._slots = [(k, index[k.split("/")[0]]) for k in keys]

    def read(self, squares: dict[str, float]) -> list[float]:
        sq = [0.0] * len(self.nodes)
        for key, slot in self._slots:
            sq[slot] += squares.get(key, 0.0)
        return [math.sqrt(v) for v in sq]


class TrainingReporter(Callback):
    """Trainer callback: metrics into the mailbox every batch, weights every epoch,
    snapshots when the budget allows. `step_offset`, `epoch_offset` and `epochs_logs` carry
    on the count of a run this one continues (after a divergence); `watched`: the optional
    snapshot parts the window shows (summary.OPTIONAL_PARTS)."""

    def __init__(self, mailbox: Mailbox, control: TrainingControl,
                 sample: tuple[str, int] | None, budget: SnapshotBudget,
                 step_offset: int = 0, epoch_offset: int = 0,
                 epochs_logs: list[dict] | None = None, pacer: Pacer | None = None,
                 watched: frozenset[str] = OPTIONAL_PARTS, watcher: WatcherLink | None = None):
        self.mailbox = mailbox
        self.watcher = watcher
        self.watched = frozenset(watched)
        self.pacer = pacer if pacer is not None else Pacer()
        self.control = control
        self.sample = sample
        self.budget = budget
        self.test_budget = SnapshotBudget(1.0 / TEST_INTERVAL, TEST_SHARE)
        self.epoch_offset = epoch_offset
        self.epochs_logs: list[dict] = list(epochs_logs or [])
        self.probe: Probe | None = None
        self.trainer: Trainer | None = None
        self.norms: LayerGradNorms | None = None
        self.description: RunDescription | None = None
        self.latest: Snapshot | None = None   # the newest snapshot, when taken here
        self.number = 0                        # the newest snapshot's number
        self._epochs_sent = len(self.epochs_logs)   # epoch logs the watcher has
        self.bpe = 1
        self.step = step_offset
        self.epoch = epoch_offset
        self.batch = 0
        self._weights_step = -1
        self._batch_end = time.monotonic()

    def x(self) -> float:
        return self.epoch - 1 + self.batch / self.bpe if self.epoch else 0.0

    def on_train_begin(self, trainer: Trainer) -> None:
        self.trainer = trainer
        self.bpe = max(trainer.batches_per_epoch, 1)
        self.probe = Probe(trainer)
        self.norms = LayerGradNorms(trainer.model.trainable_keys)
        if self.sample is None:
            self.sample = (self.probe.default_split(), 0)
        self.description = self.probe.describe(trainer.config.epochs + self.epoch_offset,
                                               self.norms.nodes)
        self.mailbox.put_event("ready", self.description)
        self.snap()
        # The first snapshot is start-up work, as building the model is: it makes the
        # probe's buffers and runs while the window reads the run's description (an
        # MNIST-size test split: 31 MB). It took 11-87 ms where later ones take 5, and
        # charged to the share it held every snapshot back for up to 4 s of a 5 s run.
        self.budget.restart()
        self.test_budget.restart()

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        self.epoch = epoch + self.epoch_offset
        self.batch = 0

    def on_batch_end(self, trainer: Trainer, epoch: int, batch: int, logs: dict) -> None:
        self.step += 1
        self.batch = batch
        now = time.monotonic()
        accuracy = logs.get("accuracy")
        self.mailbox.put_batch((self.step, self.epoch, batch, self.x(), logs["loss"],
                                NAN if accuracy is None else accuracy, logs["batch_size"], now,
                                *self.norms.read(trainer.grad_squares)))
        if self.control.paused:
            # A pause or single step shows the state it stopped in, and its weights are the
            # ones an export made while paused writes.
            self.snap()
            self.send_weights(self.epoch - 1)
        elif self.budget.due(now) and not self.epoch_end_snaps_soon(epoch, batch,
                                                                    now - self._batch_end):
            self.snap(must=False)
        self._batch_end = now
        self.pacer.wait(lambda: self.control.paused or self.control.stopped)

    def epoch_end_snaps_soon(self, epoch: int, batch: int, batch_seconds: float) -> bool:
        """Whether this epoch's end takes a snapshot anyway (the run's spread, or its last
        epoch) within the snapshot interval, at the pace of the last batch: a snapshot due now
        then waits for it. (Otherwise a fast run whose every few epochs end with a snapshot
        took another a few batches before each: the digits CNN 7.5 snapshots a second
        instead of 6.)"""
        left = (self.bpe - batch) * batch_seconds
        return left < self.budget.min_interval and \
            (epoch == self.trainer.config.epochs or self.spread(epoch))

    def spread(self, epoch: int) -> bool:
        """Whether `epoch` (of this Trainer's run) ends with a snapshot of the run's spread:
        a run of up to EPOCH_SNAPSHOTS epochs, or a paced one, gets every epoch whatever it
        costs (it is over in moments, or slow on purpose); a longer one its every-so-many
        epochs while within the share."""
        epochs = self.trainer.config.epochs
        if epochs <= EPOCH_SNAPSHOTS or self.pacer.pace is not None:
            return True
        return epoch % -(-epochs // EPOCH_SNAPSHOTS) == 0 and self.budget.within_share()

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict) -> None:
        """The epoch's record for the scrubber, with a fresh snapshot when one is due and at
        the end; otherwise with the newest snapshot taken before. The weights go too."""
        logs = dict(logs, epoch=self.epoch)
        self.epochs_logs.append(logs)
        last = epoch == trainer.config.epochs or self.control.stopped
        must = last or self.spread(epoch)
        if must or self.budget.due():
            self.snap(with_test=not last and self.test_due(), must=must)
        self.mailbox.put_epoch(EpochRecord(self.epoch, logs, self.latest, shows=self.number))
        self.send_weights(self.epoch)

    def test_due(self) -> bool:
        """Whether the watched test samples' predictions are shown and due (see the module)."""
        return TEST_PREDICTIONS in self.watched and self.test_budget.due()

    def watch(self, parts: frozenset[str]) -> None:
        """The window now shows these optional parts (on the training thread, between
        batches); a part that comes into view is sent at once, when it is due."""
        added = frozenset(parts) - self.watched
        self.watched = frozenset(parts)
        if TEST_PREDICTIONS in added and self.probe is not None and self.test_due():
            self.snap(with_test=True)

    def send_weights(self, epoch: int) -> None:
        if self._weights_step != self.step:
            self._weights_step = self.step
            self.mailbox.put_weights(SentWeights(self.trainer.model.get_weights(), self.step,
                                                 epoch))

    def finish(self) -> dict[str, float] | None:
        """After the run: the test metrics, and the last snapshot with predictions on the
        whole test split (one pass over it for both)."""
        metrics, predictions = self.probe.final_test()
        self.snap(full_test=True, predictions=predictions)
        return metrics

    def snap(self, with_test: bool = False, full_test: bool = False,
             predictions: np.ndarray | None = None, must: bool = True) -> None:
        """Take a snapshot of the chosen sample now: in the watcher when it is up (which
        sends it to the window), else here (into the mailbox). `with_test`: with
        predictions on the watched test samples; `full_test`: on all (`predictions`: those
        already made). One that need not be taken now (`must` False) is not while the
        watcher is busy."""
        w = self.watcher
        if w is not None and w.usable:
            spent, test_spent = w.take_spent()
            self.budget.spent += spent
            self.test_budget.spent += test_spent
            if w.outstanding and not must:
                return
            if w.wait_idle() and self._ask_watcher(with_test, full_test, predictions):
                return
        self._snap_here(with_test, full_test, predictions)

    def _request(self, with_test: bool, full_test: bool, predictions: np.ndarray | None,
                 weights: dict[str, np.ndarray] | None = None) -> SnapshotRequest:
        """The next snapshot, as `snap` describes it (the whole split, asked for or at the
        end, is charged to no budget: not watching, so none pays for it)."""
        test = self.description.watched_test if with_test else \
            (1 << 62 if full_test and predictions is None else 0)
        return SnapshotRequest(
            self.number + 1, weights, self.sample, self.step, self.epoch, self.batch,
            self.x(), self.epochs_logs[self._epochs_sent:], test, predictions,
            test_budgeted=with_test)

    def _ask_watcher(self, with_test: bool, full_test: bool,
                     predictions: np.ndarray | None) -> bool:
        began = time.monotonic()
        if not self.watcher.send(self._request(with_test, full_test, predictions,
                                               self.trainer.model.weights)):
            return False
        self._epochs_sent = len(self.epochs_logs)
        self.number += 1
        self.latest = None
        ended = time.monotonic()
        self.budget.record(began, ended)
        if with_test:
            self.test_budget.record(ended, ended)   # its time comes with the acknowledgement
        return True

    def _snap_here(self, with_test: bool, full_test: bool,
                   predictions: np.ndarray | None) -> None:
        began = time.monotonic()
        snap, seconds, test_seconds = take_snapshot(
            self.probe, self._request(with_test, full_test, predictions), self.epochs_logs,
            time.monotonic)
        self.budget.record(began, began + seconds)
        if with_test:
            self.test_budget.record(began + seconds, began + seconds + test_seconds)
        self.number = snap.number
        self.latest = snap
        self.mailbox.put_snapshot(snap)

    def end_watching(self) -> None:
        """The run is over: the watcher sends its last snapshots before the last report."""
        if self.watcher is not None:
            self.watcher.close()
