"""The bounded, thread-safe hand-over inside the training process, from the training thread
to the thread that sends reports to the window.

The trainer's callback appends per-batch and per-epoch metrics to bounded buffers,
overwrites a latest-only snapshot slot and a latest-only weights slot, and posts a few
events (ready, finished, diverged, failed). The sender takes everything at once about 30
times a second and sends it as one message (`Drained`); the window merges what arrived
between two of its ticks (`Drained.merge`). An epoch record whose snapshot went out in an
earlier message goes without it (a fast run ends several epochs per snapshot, and each
would carry and pickle it again); the window gives it back the snapshot it received last
(`Drained.fill_in`). Nothing here blocks for long: each call holds the lock for a few
appends. No Qt.

`EpochHistory` is the window's, bounded record of past epochs for the epoch scrubber.
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .summary import Snapshot


@dataclass(frozen=True)
class BatchRecord:
    """One optimizer step. x: position in epochs; seconds: time.monotonic() at its end;
    grad_norms: the norm of each layer's weight gradient on this batch."""

    step: int
    epoch: int
    batch: int
    x: float
    loss: float
    accuracy: float | None
    size: int
    seconds: float
    grad_norms: tuple[float, ...] | None = None   # per layer, in `grad_nodes` order


@dataclass
class EpochRecord:
    """One finished epoch: its logs (loss, accuracy, val_loss, val_accuracy, seconds) and the
    snapshot taken at its end (histograms, weights, decision boundary, test predictions)."""

    epoch: int
    logs: dict[str, Any]
    snapshot: Snapshot | None = None


@dataclass
class Event:
    kind: str            # "ready", "finished", "diverged", "failed"
    payload: Any = None


@dataclass
class SentWeights:
    """A copy of the model's weights (keyed "node/weight") after `step` optimizer steps;
    `epoch`: the last completed epoch then."""

    weights: dict[str, np.ndarray]
    step: int
    epoch: int


@dataclass
class Drained:
    batches: list[BatchRecord] = field(default_factory=list)
    epochs: list[EpochRecord] = field(default_factory=list)
    snapshot: Snapshot | None = None
    events: list[Event] = field(default_factory=list)
    dropped: int = 0
    weights: SentWeights | None = None
    # indexes of `epochs` sent without their snapshot: the one the window received last
    earlier: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.batches or self.epochs or self.snapshot is not None or self.events
                    or self.weights is not None)

    def newest_snapshot(self) -> Any:
        """The last snapshot this message carries (its slot's, else its last epoch's)."""
        if self.snapshot is not None:
            return self.snapshot
        return next((e.snapshot for e in reversed(self.epochs) if e.snapshot is not None), None)

    def fill_in(self, last: Any) -> Any:
        """Give the epochs sent without their snapshot `last`, the snapshot received before
        this message; return the one received last after it."""
        for i in self.earlier:
            self.epochs[i].snapshot = last
        self.earlier = []
        newest = self.newest_snapshot()
        return last if newest is None else newest

    def merge(self, later: Drained) -> None:
        """Add what was drained after this (the newest snapshot and weights win)."""
        self.batches += later.batches
        self.epochs += later.epochs
        self.events += later.events
        self.dropped += later.dropped
        self.snapshot = later.snapshot if later.snapshot is not None else self.snapshot
        self.weights = later.weights if later.weights is not None else self.weights


class Mailbox:
    """Bounded buffers: at most `max_batches` batch records and `max_epochs` epoch records
    wait between drains (the oldest are dropped and counted); one snapshot slot and one
    weights slot."""

    def __init__(self, max_batches: int = 50_000, max_epochs: int = 1000):
        self._lock = threading.Lock()
        self._batches: deque[BatchRecord] = deque(maxlen=max_batches)
        self._epochs: deque[EpochRecord] = deque(maxlen=max_epochs)
        self._snapshot: Snapshot | None = None
        self._events: list[Event] = []
        self._dropped = 0
        self._weights: SentWeights | None = None
        self._handed: Any = None     # the snapshot the last drain left the window with

    def put_batch(self, record: BatchRecord) -> None:
        with self._lock:
            if len(self._batches) == self._batches.maxlen:
                self._dropped += 1
            self._batches.append(record)

    def put_epoch(self, record: EpochRecord) -> None:
        with self._lock:
            self._epochs.append(record)

    def put_snapshot(self, snapshot: Snapshot) -> None:
        """Replace the waiting snapshot: the GUI only ever wants the newest one."""
        with self._lock:
            self._snapshot = snapshot

    def put_weights(self, weights: SentWeights) -> None:
        with self._lock:
            self._weights = weights

    def put_event(self, kind: str, payload: Any = None) -> None:
        with self._lock:
            self._events.append(Event(kind, payload))

    def drain(self) -> Drained:
        with self._lock:
            out = Drained(list(self._batches), list(self._epochs), self._snapshot,
                          self._events, self._dropped, self._weights)
            newest = out.newest_snapshot()
            for i, record in enumerate(out.epochs):
                if record.snapshot is not None and record.snapshot is self._handed:
                    out.epochs[i] = EpochRecord(record.epoch, record.logs)
                    out.earlier.append(i)
            if newest is not None:
                self._handed = newest
            self._batches.clear()
            self._epochs.clear()
            self._snapshot = self._weights = None
            self._events = []
            self._dropped = 0
        return out


class EpochHistory:
    """Past epochs for the scrubber, at most `capacity` of them: when full, every other
    older record is dropped (the first and the newest stay), so a long run keeps an even
    spread of epochs in bounded memory."""

    def __init__(self, capacity: int = 400):
        self.capacity = max(4, capacity)
        self.records: list[EpochRecord] = []

    def __len__(self) -> int:
        return len(self.records)

    def clear(self) -> None:
        self.records.clear()

    def add(self, record: EpochRecord) -> None:
        if record.snapshot is not None:
            record.snapshot = record.snapshot.without_sample_detail()
        self.records.append(record)
        if len(self.records) > self.capacity:
            keep = self.records[:-1:2] + [self.records[-1]]
            self.records = keep

    def epochs(self) -> list[int]:
        return [r.epoch for r in self.records]

    def nearest(self, epoch: int) -> EpochRecord | None:
        """The record of `epoch`, or the closest one kept."""
        if not self.records:
            return None
        numbers = np.array(self.epochs())
        return self.records[int(np.argmin(np.abs(numbers - epoch)))]

    def last(self) -> EpochRecord | None:
        return self.records[-1] if self.records else None
