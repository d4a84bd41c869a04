"""The pace of a run: as fast as possible, or a chosen number of batches a second, as
TensorFlow Playground runs at a speed a person can follow.

`Pacer` (in the training process; no Qt) holds each batch back until its slot, waking often
enough that pause and stop still answer at once. The panel's chooser is pace_control.py; a
change reaches a live run as a command. Paced runs, and short ones, get a snapshot at every
epoch's end (see reporter.TrainingReporter), so even a run that would end in half a second
shows its layers change.
"""
from __future__ import annotations

import time
from collections.abc import Callable

CHOICES = (None, 100.0, 30.0, 10.0, 3.0, 1.0)   # batches per second; None: no limit
WAKE = 0.05   # seconds: the longest a paced batch waits before it checks for a command


def pace_text(pace: float | None) -> str:
    if pace is None:
        return "as fast as possible"
    return f"{pace:g} batch{'es' if pace != 1 else ''} a second"


class Pacer:
    """Holds the training thread so that batches follow at `pace` a second (None: no wait).
    `clock`/`sleep` are replaceable for tests."""

    def __init__(self, pace: float | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.clock, self.sleep = clock, sleep
        self.set(pace)

    def set(self, pace: float | None) -> None:
        """A new pace, counted from now."""
        self.pace = pace if pace is None or pace > 0 else None
        self._start = self.clock()
        self._count = 0

    def wait(self, interrupted: Callable[[], bool]) -> None:
        """After a batch: wait for the next one's slot, or until `interrupted()`."""
        if self.pace is None:
            return
        self._count += 1
        slot = self._start + self._count / self.pace
        while not interrupted():
            left = slot - self.clock()
            if left <= 0:
                break
            self.sleep(min(left, WAKE))
        if self.clock() - slot > 1.0 / self.pace:   # fell behind (a pause): start afresh
            self.set(self.pace)
