"""The bounded, thread-safe hand-over between the training thread and the GUI.

The worker appends per-batch and per-epoch metrics to bounded buffers, overwrites a
latest-only snapshot slot, and posts a few events (ready, finished, diverged, failed). The
GUI's timer calls `drain()` about 11 times a second and takes everything at once. Nothing
here blocks for long: each call holds the lock for a few appends. No Qt.

`EpochHistory` is the GUI-side, bounded record of past epochs for the epoch scrubber.
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .summary import Snapshot
from .turns import Turns


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
class Drained:
    batches: list[BatchRecord] = field(default_factory=list)
    epochs: list[EpochRecord] = field(default_factory=list)
    snapshot: Snapshot | None = None
    events: list[Event] = field(default_factory=list)
    dropped: int = 0

    def __bool__(self) -> bool:
        return bool(self.batches or self.epochs or self.snapshot is not None or self.events)


class Mailbox:
    """Bounded buffers: at most `max_batches` batch records and `max_epochs` epoch records
    wait between drains (the oldest are dropped and counted); one snapshot slot; and the
    `turns` the two threads take while the GUI draws (see turns.py)."""

    def __init__(self, max_batches: int = 50_000, max_epochs: int = 1000):
        self._lock = threading.Lock()
        self._batches: deque[BatchRecord] = deque(maxlen=max_batches)
        self._epochs: deque[EpochRecord] = deque(maxlen=max_epochs)
        self._snapshot: Snapshot | None = None
        self._events: list[Event] = []
        self._dropped = 0
        self.turns = Turns()

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

    def put_event(self, kind: str, payload: Any = None) -> None:
        with self._lock:
            self._events.append(Event(kind, payload))

    def drain(self) -> Drained:
        with self._lock:
            out = Drained(list(self._batches), list(self._epochs), self._snapshot,
                          self._events, self._dropped)
            self._batches.clear()
            self._epochs.clear()
            self._snapshot = None
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
