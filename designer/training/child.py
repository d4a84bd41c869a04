"""The training process: runs one `Job` with the engine's Trainer, reporting by messages.

Started by `process.TrainingProcess` as `python -c "...child.main(fd)"`; it imports nnengine
and NumPy only (never Qt), then waits for its job (a warm process waits here ahead of the
next Train press). Three threads:

- the main thread builds the model and data exactly as `nnengine train` does (run_setup.py)
  and runs `Trainer.fit()` with a `TrainingReporter` writing into a `Mailbox`;
- a command thread reads the window's commands from stdin and turns them into the
  `TrainingControl` token's pause / resume / stop / step, or tasks posted to run between two
  batches (snapshot another sample, send the weights). At the end of stdin (the window
  closed, or died) the process ends at once: it can never outlive the window;
- a sender thread drains the mailbox about 30 times a second into one message on the
  report pipe, or a heartbeat after a quiet half second. When the window reads slowly the
  pipe fills and only the sender waits: the mailbox stays bounded (latest-only snapshot and
  weights) and training never waits on the window.

After the run it sends the final weights and test metrics, flushes, and exits.
"""
from __future__ import annotations

import os
import queue
import sys
import threading
import time
import traceback
from typing import Any, BinaryIO

import numpy as np

from nnengine import NNEngineError, Trainer, TrainingControl, TrainingDiverged, compile_model

from .mailbox import Mailbox, SentWeights
from .pacer import Pacer
from .protocol import Command, Job, Report, read_message, write_message
from .reporter import SnapshotBudget, TrainingReporter
from .run_setup import keep_scaling, load_run_data, prepare_run

SEND_HZ = 30.0
BEAT_AFTER = 0.5    # seconds without a message before a heartbeat is sent


class Sender(threading.Thread):
    """Drains the mailbox into messages on the report pipe."""

    def __init__(self, mailbox: Mailbox, stream: BinaryIO):
        super().__init__(name="nn-designer report sender", daemon=True)
        self.mailbox = mailbox
        self.stream = stream
        self._ending = threading.Event()

    def run(self) -> None:
        last = time.monotonic()
        while True:
            ending = self._ending.wait(1.0 / SEND_HZ)
            drained = self.mailbox.drain()
            now = time.monotonic()
            try:
                if drained:
                    write_message(self.stream, Report.UPDATE, drained)
                    last = now
                elif now - last >= BEAT_AFTER:
                    write_message(self.stream, Report.BEAT)
                    last = now
            except (BrokenPipeError, OSError):
                os._exit(0)      # the window is gone: nobody to train for
            if ending:
                return

    def finish(self) -> None:
        """Send what is left, then end."""
        self._ending.set()
        self.join()


class ChildRun:
    """The run of one job, and the commands that steer it."""

    def __init__(self, job: Job, mailbox: Mailbox):
        self.job = job
        self.mailbox = mailbox
        self.control = TrainingControl()
        if job.paused:
            self.control.pause()
        self.reporter = TrainingReporter(mailbox, self.control, job.sample,
                                         SnapshotBudget(job.snapshot_hz, job.snapshot_share),
                                         job.step_offset, job.epoch_offset, job.epochs_logs,
                                         Pacer(job.pace), job.watched)

    def command(self, kind: str, payload: Any) -> None:
        """From the command thread: steer the run (tasks run on the training thread)."""
        c, rep = self.control, self.reporter
        if kind == Command.PAUSE:
            c.pause()
        elif kind == Command.RESUME:
            c.resume()
        elif kind == Command.STOP:
            c.stop()
        elif kind == Command.STEP:
            c.step(int(payload or 1))
        elif kind == Command.SAMPLE:
            def snap() -> None:
                rep.sample = tuple(payload)
                if rep.probe is not None:
                    rep.snap()
            c.post(snap)
        elif kind == Command.WHOLE_TEST:
            c.post(lambda: rep.snap(full_test=True) if rep.probe is not None else None)
        elif kind == Command.PACE:
            c.post(lambda: rep.pacer.set(payload))
        elif kind == Command.WATCH:
            c.post(lambda: rep.watch(payload))
        elif kind == Command.WEIGHTS:
            c.post(lambda: rep.send_weights(rep.epoch) if rep.trainer else None)

    def run(self) -> None:
        job, mb, rep = self.job, self.mailbox, self.reporter
        try:
            model, dataset, config = self.build()
            trainer = Trainer(model, dataset, config, [rep], self.control)
            history = trainer.fit()
            self.control.run_tasks()
            outcome: dict[str, Any] = {"stopped": history.stopped_early, "step": rep.step}
            with np.errstate(all="ignore"), trainer.threads():
                outcome["test"] = rep.finish()
            rep.send_weights(rep.epoch)
            mb.put_event("finished", outcome)
        except TrainingDiverged as e:
            if rep.probe is not None:
                rep.snap()
                # The model holds the last finite weights: resume trains on from them.
                mb.put_weights(SentWeights(rep.trainer.model.get_weights(), rep.step,
                                           e.epoch + job.epoch_offset - 1))
            mb.put_event("diverged", {"message": str(e), "node_id": e.node_id,
                                      "epoch": e.epoch + job.epoch_offset, "batch": e.batch,
                                      "step": rep.step})
        except NNEngineError as e:
            mb.put_event("failed", str(e))
        except MemoryError:
            mb.put_event("failed", "training ran out of memory: try a smaller batch size or "
                                   "a smaller network")
        except Exception as e:  # noqa: BLE001 - a bug must reach the window as a message
            mb.put_event("failed", f"training failed unexpectedly: {e!r}\n"
                                   f"{traceback.format_exc()}")

    def build(self):
        """Model, data and config as `nnengine train` builds them (with `--weights` when the
        job starts from given weights)."""
        job = self.job
        if job.weights is None:
            return prepare_run(job.graph, job.config, job.base_dir)
        model = compile_model(job.graph, seed=job.config.seed)
        model.set_weights(job.weights, source="the current weights")
        dataset = load_run_data(model, job.config, job.base_dir)
        return model, dataset, keep_scaling(model, job.config)


def read_commands(stream: BinaryIO, mailbox: Mailbox, runs: queue.Queue) -> None:
    """The command thread: the job first, then commands for its run."""
    run: ChildRun | None = None
    while True:
        message = read_message(stream)
        if message is None or message[0] == Command.QUIT:
            os._exit(0)      # the window closed (or died): never outlive it
        kind, payload = message
        if kind == Command.RUN and run is None:
            run = ChildRun(payload, mailbox)
            runs.put(run)
        elif run is not None:
            run.command(kind, payload)


def main(report_fd: int) -> None:
    stream = os.fdopen(report_fd, "wb")
    mailbox = Mailbox()
    sender = Sender(mailbox, stream)
    sender.start()           # heartbeats from now on, also while waiting for the job
    runs: queue.Queue = queue.Queue()
    threading.Thread(target=read_commands, args=(sys.stdin.buffer, mailbox, runs),
                     name="nn-designer commands", daemon=True).start()
    run = runs.get()
    run.run()
    sender.finish()
    stream.close()
    os._exit(0)
