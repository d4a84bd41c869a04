"""A Ctrl+C while the `nnengine` command starts up (importing NumPy and the engine takes a
moment, before `cli.main` guards anything) ends like any other: one line on stderr and exit
status 130, not a traceback. A KeyboardInterrupt cannot be let loose there: inside NumPy's C
start-up it turns into an ImportError. So, until `cli.main` takes over, Ctrl+C is only noted.

Imported first by the package; it changes nothing unless this process is the `nnengine`
command itself."""
from __future__ import annotations

import os
import signal
import sys
from types import FrameType

_asked = False


def started_as_command() -> bool:
    """Whether this process is `nnengine ...` or `python -m nnengine ...`."""
    argv = getattr(sys, "orig_argv", sys.argv)
    if "-m" in argv:
        return argv[argv.index("-m") + 1:argv.index("-m") + 2] == ["nnengine"]
    return bool(sys.argv) and os.path.basename(sys.argv[0]) in ("nnengine", "nnengine.exe")


def _note(signum: int, frame: FrameType | None) -> None:
    global _asked
    _asked = True


def interrupted_while_starting() -> bool:
    """Give Ctrl+C its usual meaning (KeyboardInterrupt) back; True if it was pressed while
    the command started."""
    if signal.getsignal(signal.SIGINT) is _note:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    return _asked


if started_as_command():
    signal.signal(signal.SIGINT, _note)
