"""A Ctrl+C while the `nnengine` command starts up (importing NumPy and the engine takes a
moment, before `cli.main` guards anything) ends like any other: one line on stderr and exit
status 130, not a traceback. Imported first by the package; it changes nothing unless this
process is the `nnengine` command itself."""
from __future__ import annotations

import os
import sys
from types import TracebackType


def started_as_command() -> bool:
    """Whether this process is `nnengine ...` or `python -m nnengine ...`."""
    argv = getattr(sys, "orig_argv", sys.argv)
    if "-m" in argv:
        return argv[argv.index("-m") + 1:argv.index("-m") + 2] == ["nnengine"]
    return bool(sys.argv) and os.path.basename(sys.argv[0]) in ("nnengine", "nnengine.exe")


def _interrupted(kind: type[BaseException], value: BaseException,
                 tb: TracebackType | None) -> None:
    if not issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    try:
        sys.stderr.write("nnengine: interrupted\n")
        sys.stderr.flush()
    finally:
        os._exit(130)


if started_as_command():
    sys.excepthook = _interrupted
