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
from array import array
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .summary import Snapshot

BATCH_COLUMNS = ("step", "epoch", "batch", "x", "loss", "accuracy", "size", "seconds")


@dataclass(frozen=True)
class BatchTable:
    """Consecutive optimizer steps, one float64 row each: the BATCH_COLUMNS (x: position in
    epochs; accuracy NaN where there is none; seconds: time.monotonic() at the batch's end),
    then the norm of each layer's weight gradient on that batch (in
    `RunDescription.grad_nodes` order). One array, not an object per batch: the training
    process appends a row per batch and sends ~30 tables a second, so the per-batch cost on
    either side is a few float appends."""

    rows: np.ndarray = field(default_factory=lambda: np.zeros((0, len(BATCH_COLUMNS))))

    @classmethod
    def of(cls, x: Any, loss: Any, accuracy: Any = None, grad_norms: Any = None,
           **columns: Any) -> BatchTable:
        """A table from whole columns (`columns`: any other of BATCH_COLUMNS, default 0;
        `grad_norms`: (n, layers))."""
        x = np.asarray(x, dtype=np.float64).ravel()
        n = len(x)
        given = dict(columns, x=x, loss=loss,
                     accuracy=np.nan if accuracy is None else accuracy)
        norms = np.zeros((n, 0)) if grad_norms is None else \
            np.asarray(grad_norms, dtype=np.float64).reshape(n, np.shape(grad_norms)[-1])
        rows = np.zeros((n, len(BATCH_COLUMNS) + norms.shape[1]))
        for i, name in enumerate(BATCH_COLUMNS):
            rows[:, i] = given.get(name, 0)
        rows[:, len(BATCH_COLUMNS):] = norms
        return cls(rows)

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> np.ndarray:
        return self.rows[:, BATCH_COLUMNS.index(name)]

    step = property(lambda self: self.column("step"))
    epoch = property(lambda self: self.column("epoch"))
    batch = property(lambda self: self.column("batch"))
    x = property(lambda self: self.column("x"))
    loss = property(lambda self: self.column("loss"))
    accuracy = property(lambda self: self.column("accuracy"))
    size = property(lambda self: self.column("size"))
    seconds = property(lambda self: self.column("seconds"))

    @property
    def grad_norms(self) -> np.ndarray:
        """(batches, layers)"""
        return self.rows[:, len(BATCH_COLUMNS):]

    def then(self, later: BatchTable) -> BatchTable:
        """This table followed by `later` (an empty one takes the other's width)."""
        if not len(later):
            return self
        if not len(self):
            return later
        return BatchTable(np.concatenate([self.rows, later.rows]))


class BatchLog:
    """The training process's side of the batch table: rows appended to one growing buffer
    of floats, at most `max_rows` of them. When the window has not read for that long, the
    oldest tenth is dropped (and counted) at once, so a full log costs one move per tenth,
    not one per batch."""

    def __init__(self, max_rows: int):
        self.max_rows = max_rows
        self._values = array("d")
        self._width = 0
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._values) // self._width if self._width else 0

    def append(self, row: tuple[float, ...]) -> None:
        if not self._values:
            self._width = len(row)
        elif len(row) != self._width:
            raise ValueError(f"a batch row of {len(row)} values after rows of {self._width}")
        elif len(self._values) >= self.max_rows * self._width:
            drop = max(1, self.max_rows // 10)
            del self._values[:drop * self._width]
            self.dropped += drop
        self._values.extend(row)

    def take(self) -> tuple[BatchTable, int]:
        """The rows so far and how many were dropped; both start again empty."""
        out = BatchTable(np.frombuffer(self._values, dtype=np.float64)
                         .reshape(-1, self._width).copy()) if self._values else BatchTable()
        dropped, self.dropped = self.dropped, 0
        self._values = array("d")
        return out, dropped


@dataclass
class EpochRecord:
    """One finished epoch: its logs (loss, accuracy, val_loss, val_accuracy, seconds) and the
    snapshot taken at its end (histograms, weights, decision boundary, test predictions)."""

    epoch: int
    logs: dict[str, Any]
    snapshot: Snapshot | None = None
    shows: int = 0      # the number of the snapshot it shows, when it comes on its own


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
    batches: BatchTable = field(default_factory=BatchTable)
    epochs: list[EpochRecord] = field(default_factory=list)
    snapshot: Snapshot | None = None
    events: list[Event] = field(default_factory=list)
    dropped: int = 0
    weights: SentWeights | None = None
    # indexes of `epochs` sent without their snapshot: the one the window received last
    earlier: list[int] = field(default_factory=list)
    watched: list[Snapshot] = field(default_factory=list)   # from the watcher, in order

    def __bool__(self) -> bool:
        return bool(len(self.batches) or self.epochs or self.snapshot is not None or self.events
                    or self.weights is not None or self.watched)

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
        self.batches = self.batches.then(later.batches)
        self.epochs += later.epochs
        self.events += later.events
        self.dropped += later.dropped
        self.watched += later.watched
        self.snapshot = later.snapshot if later.snapshot is not None else self.snapshot
        self.weights = later.weights if later.weights is not None else self.weights


class Mailbox:
    """Bounded buffers: at most `max_batches` batches' rows and `max_epochs` epoch records
    wait between drains (the oldest rows are dropped and counted, the oldest epochs
    dropped); one snapshot slot and one weights slot."""

    def __init__(self, max_batches: int = 50_000, max_epochs: int = 1000):
        self._lock = threading.Lock()
        self._batches = BatchLog(max_batches)
        self._epochs: deque[EpochRecord] = deque(maxlen=max_epochs)
        self._snapshot: Snapshot | None = None
        self._events: list[Event] = []
        self._weights: SentWeights | None = None
        self._handed: Any = None     # the snapshot the last drain left the window with

    def put_batch(self, row: tuple[float, ...]) -> None:
        """One batch's row: the BatchTable's columns, then its layers' gradient norms."""
        with self._lock:
            self._batches.append(row)

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
            batches, dropped = self._batches.take()
            out = Drained(batches, list(self._epochs), self._snapshot, self._events, dropped,
                          self._weights)
            newest = out.newest_snapshot()
            for i, record in enumerate(out.epochs):
                if record.snapshot is not None and record.snapshot is self._handed:
                    out.epochs[i] = EpochRecord(record.epoch, record.logs)
                    out.earlier.append(i)
            if newest is not None:
                self._handed = newest
            self._epochs.clear()
            self._snapshot = self._weights = None
            self._events = []
        return out


class AwaitedSnapshots:
    """The window's pairing of epoch records with the watcher's snapshots: a record names the
    snapshot it shows by number (`EpochRecord.shows`), and that snapshot comes on another
    pipe, before or after the record. The newest `keep` arrived snapshots are remembered;
    records wait for theirs until a later one arrives, from the watcher or the training
    process (numbers count up in the order snapshots are taken, so theirs was lost with a
    watcher that died)."""

    def __init__(self, keep: int = 32):
        self.recent: deque[Snapshot] = deque(maxlen=keep)
        self.waiting: dict[int, list[EpochRecord]] = {}

    def clear(self) -> None:
        self.recent.clear()
        self.waiting.clear()

    def arrived(self, snap: Snapshot) -> None:
        """A snapshot from the watcher: the records waiting for it show it now."""
        self.recent.append(snap)
        for number in [n for n in self.waiting if n <= snap.number]:
            for record in self.waiting.pop(number):
                if number == snap.number:
                    record.snapshot = snap.without_sample_detail()

    def pair(self, record: EpochRecord) -> None:
        """Give a record without its snapshot the one it names, now or when it arrives."""
        if record.snapshot is not None or not record.shows:
            return
        found = next((s for s in reversed(self.recent) if s.number == record.shows), None)
        if found is not None:
            record.snapshot = found
        elif not self.recent or record.shows > self.recent[-1].number:
            self.waiting.setdefault(record.shows, []).append(record)


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
