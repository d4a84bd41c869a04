"""The watcher: a process beside the training process that takes the run's snapshots, so the
training thread only copies its weights out.

Why a third process: a snapshot (one `Model.inspect` on the probe rows, summarized and
diagnosed, then pickled for the window) ran on the training thread between two batches, and
cost the digits CNN about 2.5% of its training time in all (3 ms each, five a second, and
pickling messages five times larger) with a core left idle beside it. A thread could not
use that core: the snapshot's small NumPy calls hold the interpreter lock most of the time.
Here the training thread writes a `SnapshotRequest` (the weights, 86 KB for the digits CNN,
and where the run stands) on a pipe and goes on; the watcher loads the weights into its own
copy of the model, takes the snapshot (`Probe.snapshot`), sends it to the window on a pipe of
its own, and acknowledges with the processor seconds it spent.

The watcher builds model and data from the same `Job`, exactly as the training process does
(`run_setup.build_run`), so its probe rows and test split are the same, and its snapshots the
ones the training process would have taken. Requests come one at a time (`WatcherLink` sends
the next only after the last is acknowledged), so snapshots come in order; a snapshot that
is due while the watcher is busy waits for a later batch, one that must be taken (an epoch's
end in a short run, a pause, the run's end) waits for the watcher (MUST_WAIT at most: one
that does not answer by then is given up). The acknowledged seconds go to the snapshot
budget (see reporter.SnapshotBudget): where training fills every core, the watcher's time
comes out of training's. Until the watcher has built its model (it starts with the training
process, on the other core), and if it ever dies or is given up, the training process takes
its snapshots itself, as before.

What the watcher sends never waits for the window (`SnapshotOutbox`). It ends at the end of
its requests (the run is over; it writes out what is left first), or at the end of its stdin
(the window closed or died). No Qt.
"""
from __future__ import annotations

import os
import select
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nnengine import Trainer

from .probe import Probe
from .protocol import Command, Report, encode, read_message, write_pending
from .run_setup import build_run
from .summary import Snapshot

ACK = struct.Struct("<dd")      # processor seconds: on the snapshot, on its test predictions
READY = (-1.0, -1.0)            # the first acknowledgement: the model is built
MUST_WAIT = 5.0                 # seconds a snapshot that must be taken waits for the watcher
KEPT_MAX = 400                  # snapshots waiting for the window at most (its epoch history's)


@dataclass
class SnapshotRequest:
    """One snapshot to take: the weights after `step` steps, where the run stands, and the
    epochs' logs that ended since the last request (the alarms read them)."""

    number: int
    weights: dict[str, np.ndarray] | None    # None: the model's own, where it trains
    sample: tuple[str, int]
    step: int
    epoch: int
    batch: int
    x: float
    new_epochs: list[dict] = field(default_factory=list)
    test: int = 0                              # predictions on the first `test` test samples
    predictions: np.ndarray | None = None      # predictions already made (the run's end)
    test_budgeted: bool = False    # the live matrix's: its seconds go to the test budget
                                   # (the whole split, asked for or at the end, is not)


class WatcherLink:
    """The training thread's side of the watcher: one request at a time, acknowledgements
    read without waiting (except where a snapshot must be taken)."""

    def __init__(self, request_fd: int, ack_fd: int):
        self.request_fd = request_fd
        self.ack_fd = ack_fd
        os.set_blocking(ack_fd, False)
        self.ready = False
        self.alive = True
        self.outstanding = 0
        self.sent = 0
        self.spent = (0.0, 0.0)     # acknowledged seconds not yet charged to a budget
        self._bytes = b""

    @property
    def usable(self) -> bool:
        self.read_acks()
        return self.alive and self.ready

    @property
    def idle(self) -> bool:
        return self.usable and self.outstanding == 0

    def read_acks(self) -> None:
        """Take in every acknowledgement that has arrived; the end of the pipe is the
        watcher's end."""
        while self.alive:
            try:
                chunk = os.read(self.ack_fd, 4096)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self._lost()
                return
            self._bytes += chunk
            while len(self._bytes) >= ACK.size:
                ack = ACK.unpack_from(self._bytes)
                self._bytes = self._bytes[ACK.size:]
                if ack == READY:
                    self.ready = True
                else:
                    self.outstanding -= 1
                    self.spent = (self.spent[0] + ack[0], self.spent[1] + ack[1])

    def take_spent(self) -> tuple[float, float]:
        spent, self.spent = self.spent, (0.0, 0.0)
        return spent

    def wait_idle(self, timeout: float = MUST_WAIT) -> bool:
        """Wait (without the interpreter lock) until the watcher has answered; a watcher
        that takes longer than `timeout` is given up, and the training process snapshots."""
        end = time.monotonic() + timeout
        while self.usable and self.outstanding:
            left = end - time.monotonic()
            if left <= 0:
                self._lost()
                break
            select.select([self.ack_fd], [], [], left)
        return self.idle

    def send(self, request: SnapshotRequest) -> bool:
        """Write the request whole (the watcher is idle, reading); False if it is gone."""
        data = encode("snap", request)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self.request_fd, view):]
        except OSError:
            self._lost()
            return False
        self.outstanding += 1
        self.sent += 1
        return True

    def close(self, timeout: float = 2.0) -> None:
        """The run is over: the watcher writes out what it has and ends; wait for that, when
        it took any snapshot (so they reach the window before the training process's last
        report)."""
        try:
            os.close(self.request_fd)
        except OSError:
            pass
        end = time.monotonic() + timeout
        while self.sent and self.alive and time.monotonic() < end:
            select.select([self.ack_fd], [], [], end - time.monotonic())
            self.read_acks()
        self.alive = False

    def _lost(self) -> None:
        self.alive = False
        self.outstanding = 0


class SnapshotOutbox:
    """The watcher's pipe to the window, never waited on while the run goes on: snapshots
    taken while a message is still being written wait (the newest KEPT_MAX of them) and go
    together in the next, all but the newest without per-sample detail (an epoch record may
    show any of them, and the window keeps only that much of them)."""

    def __init__(self, fd: int):
        self.fd = fd
        os.set_blocking(fd, False)
        self.waiting: deque[Snapshot] = deque(maxlen=KEPT_MAX)
        self.pending = bytearray()

    def put(self, snap: Snapshot) -> None:
        if self.waiting:
            self.waiting[-1] = self.waiting[-1].without_sample_detail()
        self.waiting.append(snap)
        self.write()

    @property
    def unwritten(self) -> bool:
        return bool(self.pending or self.waiting)

    def write(self) -> None:
        """Write what the pipe takes: the last message, then what waits, as the next one."""
        while self.unwritten:
            if not self.pending:
                self.pending += encode(Report.WATCHED, list(self.waiting))
                self.waiting.clear()
            try:
                if not write_pending(self.fd, self.pending):
                    return
            except OSError:
                os._exit(0)     # the window is gone

    def flush(self) -> None:
        """Everything, waiting for the window: the run is over."""
        os.set_blocking(self.fd, True)
        self.write()


class Watcher:
    """The snapshots of one run, in its own copy of the model."""

    def __init__(self, job: Any):
        model, dataset, config = build_run(job)
        self.trainer = Trainer(model, dataset, config)
        self.probe = Probe(self.trainer)
        self.epochs_logs: list[dict] = list(job.epochs_logs)
        with self.trainer.threads(), np.errstate(all="ignore"):
            # The first snapshot is several times dearer (the probe's buffers are made):
            # taken now, while the training process builds its run, it costs no budget.
            self.probe.snapshot((self.probe.default_split(), 0))

    def take(self, r: SnapshotRequest) -> tuple[Snapshot, float, float]:
        """The snapshot asked for, and the processor seconds it and its test predictions
        took: what watching takes from training where training fills every core (wall
        seconds, stretched by training's threads, held an MNIST-size CNN at 2 snapshots a
        second instead of 4)."""
        self.trainer.model.set_weights(r.weights, source="the training process's weights")
        self.epochs_logs += r.new_epochs
        return take_snapshot(self.probe, r, self.epochs_logs, time.process_time)


def take_snapshot(probe: Probe, r: SnapshotRequest, epochs_logs: list[dict],
                  clock: Callable[[], float]) -> tuple[Snapshot, float, float]:
    """The snapshot `r` asks for, of the probe's model as it is, and the seconds (by `clock`)
    it and its budgeted test predictions took: the one way both the watcher and the
    training process (while the watcher is not up) take them."""
    began = clock()
    with np.errstate(all="ignore"):
        snap = probe.snapshot(r.sample, r.step, r.epoch, r.batch, r.x, epochs_logs)
    snapped = clock()
    if r.predictions is not None:
        snap.test_predictions = r.predictions
    elif r.test:
        snap.test_predictions = probe.test_predictions(r.test)
    snap.number = r.number
    return snap, snapped - began, clock() - snapped if r.test_budgeted else 0.0


def serve(watcher: Watcher, requests: Any, ack_fd: int, outbox: SnapshotOutbox) -> None:
    """Answer requests until their pipe ends, keeping the window's pipe written meanwhile."""
    request_fd = requests.fileno()
    while True:
        writable = [outbox.fd] if outbox.unwritten else []
        readable, _, _ = select.select([request_fd], writable, [])
        if not readable:
            outbox.write()
            continue
        message = read_message(requests)
        if message is None:
            return
        snap, snap_s, test_s = watcher.take(message[1])
        outbox.put(snap)
        try:
            os.write(ack_fd, ACK.pack(snap_s, test_s))
        except OSError:
            return      # the training process is gone: its run is over


def watch_stdin() -> None:
    """The end of stdin (the window closed or died) ends the watcher at once."""
    while True:
        message = read_message(sys.stdin.buffer)
        if message is None or message[0] == Command.QUIT:
            os._exit(0)


def main(report_fd: int, request_fd: int, ack_fd: int) -> None:
    message = read_message(sys.stdin.buffer)
    if message is None or message[0] != Command.RUN:
        os._exit(0)
    threading.Thread(target=watch_stdin, name="nn-designer watcher stdin", daemon=True).start()
    try:
        watcher = Watcher(message[1])
    except Exception:  # noqa: BLE001 - a run that cannot be built fails in the training
        os._exit(0)    # process too, which says why
    try:
        os.write(ack_fd, ACK.pack(*READY))
        outbox = SnapshotOutbox(report_fd)
        with open(request_fd, "rb") as requests, watcher.trainer.threads():
            serve(watcher, requests, ack_fd, outbox)
        outbox.flush()
    except OSError:
        pass            # the training process or the window is gone: nobody to watch for
    except Exception as e:  # noqa: BLE001 - the training process takes the snapshots itself
        print(f"nn-designer: the snapshot process ended: {e!r}", file=sys.stderr)
    os._exit(0)
