"""Turn-taking between the training thread and the GUI thread for the interpreter lock.

Both threads run Python, so they share one interpreter lock. When the GUI draws a frame
while training runs, the two hand the lock back and forth at every NumPy call either makes,
and each hand-over costs more than the work between them: drawing a frame that takes 2 ms
alone took three times as long, and slowed training by far more than its own share.

So they take turns instead: the GUI asks for a turn, the training thread parks at the end
of its current batch (a few milliseconds at most for the models this app trains), the GUI
draws and paints its frame uncontended, and training goes on. Neither side waits long: when
no batch has ended for `idle_after` seconds (paused, validating, finished) the GUI does not
wait at all, it waits at most `timeout` seconds otherwise (a long batch), and a parked
training thread goes on after `patience` seconds whatever happens. No Qt.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Turns:
    """`taken()` on the GUI thread around a frame; `give()` on the training thread after
    every batch (a single attribute read when no turn is wanted)."""

    def __init__(self, patience: float = 1.0, idle_after: float = 0.05):
        self.patience = patience
        self.idle_after = idle_after
        self._cond = threading.Condition()
        self._wanted = False
        self._parked = False
        self._batch_ended = -float("inf")   # time.monotonic() of the last give()

    @property
    def parked(self) -> bool:
        """The training thread is waiting for the GUI's turn to end."""
        return self._parked

    def give(self) -> None:
        """Training thread, between batches: park while the GUI has a turn."""
        self._batch_ended = time.monotonic()
        if not self._wanted:
            return
        with self._cond:
            if not self._wanted:
                return
            self._parked = True
            self._cond.notify_all()
            self._cond.wait_for(lambda: not self._wanted, self.patience)
            self._parked = False

    @contextmanager
    def taken(self, timeout: float = 0.015) -> Iterator[bool]:
        """GUI thread: wait up to `timeout` seconds for the training thread to park, then
        run the body; yields whether it did park (False: the body runs alongside it)."""
        if time.monotonic() - self._batch_ended > self.idle_after:
            yield False     # not between batches now: nothing to wait for
            return
        with self._cond:
            self._wanted = True
            parked = self._cond.wait_for(lambda: self._parked, timeout)
        try:
            yield parked
        finally:
            with self._cond:
                self._wanted = False
                self._cond.notify_all()
