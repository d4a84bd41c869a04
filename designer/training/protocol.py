"""The messages between the window and the training process, and how they travel.

Each message is `(kind, payload)`, pickled and prefixed with its length, on a pipe: commands
from the window on the child's stdin, everything else from the child on a pipe of its own
(the child's stdout and stderr stay free for Python's own warnings). Pickle is safe here:
both ends are this program, never a file a user opened.

`FrameReader` reads without ever blocking, so the window's timer can ask "anything new?"
30 times a second and never wait on the child. No Qt.
"""
from __future__ import annotations

import os
import pickle
import struct
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, BinaryIO

import numpy as np

from .summary import OPTIONAL_PARTS

HEADER = struct.Struct("<Q")
READ_CHUNK = 1 << 20
MAX_READ = 64 << 20     # bytes read per call at most: a tick of the window's timer stays short
# Snapshots at most this many a second, and within this share of the training time (see
# reporter.SnapshotBudget): the digits CNN gets ~5.5 a second, the MNIST-size CNN ~4.
SNAPSHOT_HZ = 6.0
SNAPSHOT_SHARE = 0.025


class Command(StrEnum):
    """From the window to the training process."""

    RUN = "run"              # payload: Job (once, to a warm process waiting for work)
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    STEP = "step"            # payload: number of batches
    SAMPLE = "sample"        # payload: (split, index): snapshot this sample now
    WEIGHTS = "weights"      # send the current weights now
    WHOLE_TEST = "test"      # a snapshot with predictions on the whole test split now
    PACE = "pace"            # payload: batches per second, or None for as fast as possible
    WATCH = "watch"          # payload: the optional snapshot parts the window shows now
    QUIT = "quit"            # end the process now (closing the window does this too)


class Report(StrEnum):
    """From the training process to the window."""

    UPDATE = "update"        # payload: mailbox.Drained (metrics, snapshot, weights, events)
    BEAT = "beat"            # nothing new, but alive (sent after a quiet half second)
    WATCHED = "watched"      # payload: list of Snapshot, from the watcher (watcher.py)


@dataclass(frozen=True)
class Job:
    """One run, as the window describes it: the graph and its resolved settings, where the
    weights start (None: drawn from the seed, as `nnengine train` draws them), and where the
    run stands when it continues an earlier one (after a divergence)."""

    graph: Any                               # nnengine.Graph
    config: Any                              # nnengine.TrainingConfig
    base_dir: str | None = None
    sample: tuple[str, int] | None = None
    snapshot_hz: float = SNAPSHOT_HZ
    snapshot_share: float = SNAPSHOT_SHARE
    weights: dict[str, np.ndarray] | None = None
    step_offset: int = 0
    epoch_offset: int = 0
    epochs_logs: list[dict] = field(default_factory=list)
    paused: bool = False
    pace: float | None = None                # batches per second (None: as fast as possible)
    watched: frozenset[str] = OPTIONAL_PARTS  # optional snapshot parts shown (summary.py)


def encode(kind: str, payload: Any = None) -> bytes:
    body = pickle.dumps((str(kind), payload), protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(body)) + body


def write_pending(fd: int, pending: bytearray) -> bool:
    """Write what a non-blocking pipe takes now, removing it from `pending`; True when nothing
    is left. OSError: the reader is gone."""
    while pending:
        try:
            n = os.write(fd, pending)
        except BlockingIOError:
            return False
        del pending[:n]
    return True


def read_message(stream: BinaryIO) -> tuple[str, Any] | None:
    """Blocking read of one message; None at the end of the stream."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (size,) = HEADER.unpack(head)
    body = stream.read(size)
    if len(body) < size:
        return None
    return pickle.loads(body)


class FrameReader:
    """Reads whole messages from a pipe's file descriptor without blocking."""

    def __init__(self, fd: int):
        self.fd = fd
        os.set_blocking(fd, False)
        self._buffer = bytearray()
        self.eof = False

    def read(self) -> list[tuple[str, Any]]:
        """Every whole message that has arrived (at most about MAX_READ bytes' worth)."""
        got = 0
        while not self.eof and got < MAX_READ:
            try:
                chunk = os.read(self.fd, READ_CHUNK)
            except BlockingIOError:
                break
            except OSError:
                chunk = b""
            if not chunk:
                self.eof = True
                break
            self._buffer += chunk
            got += len(chunk)
        messages = []
        view = memoryview(self._buffer)
        at = 0
        while len(view) - at >= HEADER.size:
            (size,) = HEADER.unpack_from(view, at)
            if len(view) - at - HEADER.size < size:
                break
            start = at + HEADER.size
            messages.append(pickle.loads(view[start:start + size]))
            at = start + size
        view.release()
        del self._buffer[:at]
        return messages

    def close(self) -> None:
        try:
            os.close(self.fd)
        except OSError:
            pass
