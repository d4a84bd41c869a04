"""The training process: runs one `Job` with the engine's Trainer, reporting by messages.

Started by `process.TrainingProcess` as `python -c "...child.main(fds)"`, beside a watcher
process that takes the snapshots (watcher.py); it imports nnengine and NumPy only (never
Qt), then waits for its job (a warm process waits here ahead of the next Train press). Three
threads:

- the main thread builds the model and data exactly as `nnengine train` does (run_setup.py)
  and runs `Trainer.fit()` with a `TrainingReporter` writing into a `Mailbox`;
- a command thread reads the window's commands from stdin and turns them into the
  `TrainingControl` token's pause / resume / stop / step, or tasks posted to run between two
  batches (snapshot another sample, send the weights). At the end of stdin (the window
  closed, or died) the process ends at once: it can never outlive the window;
- the training thread itself sends what the mailbox holds, as one message on the report
  pipe, after a batch when a thirtieth of a second has passed since the last one, and after
  every task it runs for the window (`Outbox`). It never waits for the pipe: a message the
  window has not read yet stays in the outbox, and until it is written the mailbox keeps
  its bounded contents (latest-only snapshot and weights), so training never waits on the
  window. A sender thread of its own, waking 30 times a second, cost training 10% on the
  2-core machine (an MNIST-size CNN whose engine threads use both cores: each wake-up took
  a core and the interpreter lock from them; measured against `nnengine train` in a fresh
  process, 1.11 with it, 0.98 at 5 wake-ups a second);
- a heartbeat thread, ten times a second, sends what the training thread has left (while
  it builds the model, evaluates at the end, or waits paused) and a heartbeat after a quiet
  half second.

After the run it waits for the watcher to send its last snapshots, then sends the final
weights and test metrics, flushes, and exits.
"""
from __future__ import annotations

import os
import queue
import select
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, BinaryIO

import numpy as np

from nnengine import (
    Callback,
    NNEngineError,
    Trainer,
    TrainingControl,
    TrainingDiverged,
)

from .mailbox import Mailbox, SentWeights
from .pacer import Pacer
from .protocol import Command, Job, Report, encode, read_message, write_pending
from .reporter import SnapshotBudget, TrainingReporter
from .run_setup import build_run
from .watcher import WatcherLink

SEND_HZ = 30.0      # messages a second at most while batches end
TICK_HZ = 10.0      # the heartbeat thread's wake-ups a second
BEAT_AFTER = 0.5    # seconds without a message before a heartbeat is sent


class Outbox:
    """The report pipe, written by the training thread and the heartbeat thread in turn,
    never blocking training while the run goes on (see the module)."""

    def __init__(self, mailbox: Mailbox, fd: int):
        self.mailbox = mailbox
        self.fd = fd
        os.set_blocking(fd, False)
        self._lock = threading.Lock()
        self._pending = bytearray()
        self.unsent = threading.Event()   # set while a message waits for the pipe
        self.last = -float("inf")          # when a message last went out

    def due(self, ahead: float = 0.0) -> bool:
        """Whether a message is due, or will be within `ahead` seconds."""
        return time.monotonic() + ahead - self.last >= 1.0 / SEND_HZ

    def send(self, beat: bool = False) -> None:
        """What the mailbox holds as one message, written as far as the pipe takes it now
        (the heartbeat thread writes the rest as the window reads); with `beat`, a heartbeat
        when there is nothing new and nothing went out for BEAT_AFTER seconds. While an
        earlier message is still partly unwritten nothing is drained: the mailbox keeps its
        bounded contents."""
        with self._lock:
            if self._pending:
                return
            drained = self.mailbox.drain()
            now = time.monotonic()
            if drained:
                self._pending += encode(Report.UPDATE, drained)
            elif beat and now - self.last >= BEAT_AFTER:
                self._pending += encode(Report.BEAT)
            else:
                return
            self.last = now
            if not self._write():
                self.unsent.set()

    def write_unsent(self, timeout: float) -> None:
        """Wait up to `timeout` for the pipe to take more (without the interpreter lock),
        and write it: a large message (a data set's test images with the run's
        description) goes out as fast as the window reads it."""
        select.select([], [self.fd], [], timeout)
        with self._lock:
            if self._write():
                self.unsent.clear()

    def close(self) -> None:
        """Everything left, waiting for the pipe now that training is over."""
        with self._lock:
            os.set_blocking(self.fd, True)
            drained = self.mailbox.drain()
            if drained:
                self._pending += encode(Report.UPDATE, drained)
            self._write()
        os.close(self.fd)

    def _write(self) -> bool:
        """Write what the pipe takes; True when nothing is left. A closed pipe ends the
        process: the window is gone, nobody to train for."""
        try:
            return write_pending(self.fd, self._pending)
        except OSError:
            os._exit(0)


class Heartbeat(threading.Thread):
    """Writes what the pipe could not take yet; TICK_HZ times a second sends what the
    training thread has not, or a heartbeat."""

    def __init__(self, outbox: Outbox):
        super().__init__(name="nn-designer heartbeat", daemon=True)
        self.outbox = outbox
        self._ending = threading.Event()

    def run(self) -> None:
        box = self.outbox
        while not self._ending.is_set():
            if box.unsent.wait(1.0 / TICK_HZ):
                box.write_unsent(1.0 / TICK_HZ)
            elif box.due():   # otherwise the training thread is sending
                box.send(beat=True)

    def finish(self) -> None:
        self._ending.set()
        self.join()


class SendAfterBatch(Callback):
    """Trainer callback, after the reporter: the mailbox goes out from the training thread
    after the batch whose end is nearest to the message's due time (so messages come
    SEND_HZ times a second on average, not at the first batch past it: 12 ms batches would
    give 36 ms apart), and at once while paused (a pause or step shows its state)."""

    def __init__(self, outbox: Outbox, control: TrainingControl):
        self.outbox = outbox
        self.control = control
        self._previous = time.monotonic()

    def on_batch_end(self, trainer: Trainer, epoch: int, batch: int, logs: dict) -> None:
        now = time.monotonic()
        step, self._previous = now - self._previous, now
        if self.control.paused or self.outbox.due(ahead=step / 2):
            self.outbox.send()


class ChildRun:
    """The run of one job, and the commands that steer it."""

    def __init__(self, job: Job, outbox: Outbox, watcher: WatcherLink | None = None):
        self.job = job
        self.outbox = outbox
        self.mailbox = mailbox = outbox.mailbox
        self.control = TrainingControl()
        if job.paused:
            self.control.pause()
        self.reporter = TrainingReporter(mailbox, self.control, job.sample,
                                         SnapshotBudget(job.snapshot_hz, job.snapshot_share),
                                         job.step_offset, job.epoch_offset, job.epochs_logs,
                                         Pacer(job.pace), job.watched, watcher)

    def command(self, kind: str, payload: Any) -> None:
        """From the command thread: steer the run (tasks run on the training thread, and
        what they put in the mailbox goes out at once)."""
        rep = self.reporter
        if kind == Command.PAUSE:
            self.control.pause()
        elif kind == Command.RESUME:
            self.control.resume()
        elif kind == Command.STOP:
            self.control.stop()
        elif kind == Command.STEP:
            self.control.step(int(payload or 1))
        elif kind == Command.SAMPLE:
            def snap() -> None:
                rep.sample = tuple(payload)
                if rep.probe is not None:
                    rep.snap()
            self.post(snap)
        elif kind == Command.WHOLE_TEST:
            self.post(lambda: rep.snap(full_test=True) if rep.probe is not None else None)
        elif kind == Command.PACE:
            self.post(lambda: rep.pacer.set(payload))
        elif kind == Command.WATCH:
            self.post(lambda: rep.watch(payload))
        elif kind == Command.WEIGHTS:
            self.post(lambda: rep.send_weights(rep.epoch) if rep.trainer else None)

    def post(self, task: Callable[[], None]) -> None:
        def task_then_send() -> None:
            task()
            self.outbox.send()
        self.control.post(task_then_send)

    def run(self) -> None:
        job, mb, rep = self.job, self.mailbox, self.reporter
        try:
            model, dataset, config = build_run(job)
            trainer = Trainer(model, dataset, config,
                              [rep, SendAfterBatch(self.outbox, self.control)], self.control)
            history = trainer.fit()
            self.control.run_tasks()
            outcome: dict[str, Any] = {"stopped": history.stopped_early, "step": rep.step}
            with np.errstate(all="ignore"), trainer.threads():
                outcome["test"] = rep.finish()
            rep.send_weights(rep.epoch)
            end = ("finished", outcome)
        except TrainingDiverged as e:
            if rep.probe is not None:
                rep.snap()
                # The model holds the last finite weights: resume trains on from them.
                mb.put_weights(SentWeights(rep.trainer.model.get_weights(), rep.step,
                                           e.epoch + job.epoch_offset - 1))
            end = ("diverged", {"message": str(e), "node_id": e.node_id,
                                "epoch": e.epoch + job.epoch_offset, "batch": e.batch,
                                "step": rep.step})
        except NNEngineError as e:
            end = ("failed", str(e))
        except MemoryError:
            end = ("failed", "training ran out of memory: try a smaller batch size or "
                             + "a smaller network")
        except Exception as e:  # noqa: BLE001 - a bug must reach the window as a message
            end = ("failed", f"training failed unexpectedly: {e!r}\n{traceback.format_exc()}")
        rep.end_watching()     # its last snapshots reach the window before the end does
        mb.put_event(*end)


def read_commands(stream: BinaryIO, outbox: Outbox, runs: queue.Queue,
                  watcher: WatcherLink | None) -> None:
    """The command thread: the job first, then commands for its run."""
    run: ChildRun | None = None
    while True:
        message = read_message(stream)
        if message is None or message[0] == Command.QUIT:
            os._exit(0)      # the window closed (or died): never outlive it
        kind, payload = message
        if kind == Command.RUN and run is None:
            run = ChildRun(payload, outbox, watcher)
            runs.put(run)
        elif run is not None:
            run.command(kind, payload)


def main(report_fd: int, request_fd: int | None = None, ack_fd: int | None = None) -> None:
    """`request_fd` and `ack_fd`: the pipes to and from the watcher, if there is one."""
    outbox = Outbox(Mailbox(), report_fd)
    watcher = WatcherLink(request_fd, ack_fd) if request_fd is not None else None
    heartbeat = Heartbeat(outbox)
    heartbeat.start()        # heartbeats from now on, also while waiting for the job
    runs: queue.Queue = queue.Queue()
    threading.Thread(target=read_commands, args=(sys.stdin.buffer, outbox, runs, watcher),
                     name="nn-designer commands", daemon=True).start()
    run = runs.get()
    run.run()
    heartbeat.finish()
    outbox.close()
    os._exit(0)
