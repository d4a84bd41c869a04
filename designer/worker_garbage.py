"""Cyclic garbage is collected on the GUI thread before a worker thread starts.

Python's cycle collector runs on whichever thread allocates when a generation fills up, so
a worker doing allocation-heavy work (a file's graph analysed, a tool's engine call) also
destroys whatever garbage is waiting, closed windows' Qt objects among it. PySide6 destroys
a Qt object without the interpreter lock, and Qt's destructor then holds the object's
connection lock while it asks Python about overrides; if the GUI thread is destroying a
related object at that moment, each thread holds what the other waits for and the window
freezes for good (seen in the test suite: a file reader's graph analysis collected an
earlier window's actions while the GUI thread deleted their menu). Collecting first, on the
GUI thread, leaves the worker no Qt objects to destroy.
"""
from __future__ import annotations

import gc


def collect_before_worker() -> None:
    """Call on the GUI thread right before starting a worker thread."""
    gc.collect()
