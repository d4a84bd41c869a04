"""A training run's output folder (SPEC section 5), written as one set: `nnengine train`'s
weights.npz, metrics.json, graph.json and run.json are written into a temporary folder
beside DIR and then take DIR's place in one rename, so a reader sees the old set or the
new one, never a mix, whenever the process is stopped or killed.

The swap is `renameat2(RENAME_EXCHANGE)` on Linux (one atomic step); elsewhere DIR is
renamed aside and the new folder renamed in, and a run killed between the two is repaired
by the next run into DIR, which also removes the temporary folders killed runs left
(`.<name>.nnengine-<pid>.tmp` / `.old` beside DIR).

DIR must be new, empty, or hold only a run's files: the whole folder is replaced, and a
user's own files in it are never deleted.
"""
from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import signal
from collections.abc import Callable
from pathlib import Path
from typing import IO

from .errors import NNEngineError

RUN_FILES = ("weights.npz", "metrics.json", "graph.json", "run.json")
"""What a run writes; a folder holding only these (and their temporaries) may be replaced."""

_OLD_TEMPORARY = re.compile(r"^\.(weights\.npz|metrics\.json|graph\.json|run\.json)\..*\.tmp$")
_RENAME_EXCHANGE = 2


class OutputError(NNEngineError):
    """The output folder cannot take a run's files."""


Content = bytes | Callable[[IO[bytes]], None]


class RunOutput:
    """The folder `path` and the temporary folder its next set is written into."""

    def __init__(self, path: str | os.PathLike):
        self.shown = str(path)
        self.path = Path(os.path.abspath(os.path.realpath(path)))
        self.tmp = self._sibling(os.getpid(), "tmp")

    def _sibling(self, pid: int, kind: str) -> Path:
        return self.path.with_name(f".{self.path.name}.nnengine-{pid}.{kind}")

    def prepare(self) -> None:
        """Before training: repair and clean what killed runs left, refuse a folder that
        cannot be replaced, and prove that the parent folder can be written (so a bad --out
        does not cost a whole run)."""
        if not self.path.name or self.path == Path.cwd() or self.path in Path.cwd().parents:
            raise OutputError(f"{self.shown}: is the current folder or one above it; give a "
                              "folder of its own for the run's files")
        parent = self.path.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self._clean_leftovers()
            if self.path.exists():
                self._check_replaceable()
            self.tmp.mkdir()
        except OSError as e:
            raise OutputError(f"{self.shown}: cannot be written ({e.strerror or e})") from None

    def _clean_leftovers(self) -> None:
        pattern = re.compile(rf"^\.{re.escape(self.path.name)}\.nnengine-(\d+)\.(tmp|old)$")
        for entry in sorted(self.path.parent.iterdir()):
            found = pattern.match(entry.name)
            if not found or not entry.is_dir() or _alive(int(found.group(1))):
                continue
            if found.group(2) == "old" and not self.path.exists():
                os.rename(entry, self.path)  # a swap killed half-way: the old set returns
            else:
                shutil.rmtree(entry, ignore_errors=True)

    def _check_replaceable(self) -> None:
        if not self.path.is_dir():
            raise OutputError(f"{self.shown}: is a file; --out needs a folder for the results")
        for entry in sorted(self.path.iterdir()):
            if entry.name in RUN_FILES and entry.is_file() or _OLD_TEMPORARY.match(entry.name):
                continue
            raise OutputError(f"{self.shown}: holds '{entry.name}', which is not a run's "
                              "file; --out needs a new or empty folder, or an earlier run's "
                              "folder (its files are replaced as a set)")

    def commit(self, files: dict[str, Content]) -> None:
        """Write `files` (name -> bytes, or a function writing to a file) into the
        temporary folder, flush them to disk, and swap the folder in for DIR."""
        try:
            for name, content in files.items():
                with open(self.tmp / name, "wb") as f:
                    if callable(content):
                        content(f)
                    else:
                        f.write(content)
                    f.flush()
                    os.fsync(f.fileno())
            _fsync_folder(self.tmp)
            self._swap()
            _fsync_folder(self.path.parent)
        except OSError as e:
            self.discard()
            raise OutputError(f"{self.shown}: cannot be written "
                              f"({e.strerror or e})") from None

    def _swap(self) -> None:
        """Put the new folder in DIR's place; a Ctrl+C waits until it is done."""
        if not hasattr(signal, "pthread_sigmask"):  # Windows
            self._rename_in()
            return
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self._rename_in()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def _rename_in(self) -> None:
        if not self.path.exists():
            os.rename(self.tmp, self.path)
            return
        if _exchange(self.tmp, self.path):
            shutil.rmtree(self.tmp, ignore_errors=True)  # now holds the old set
            return
        old = self._sibling(os.getpid(), "old")
        os.rename(self.path, old)
        os.rename(self.tmp, self.path)
        shutil.rmtree(old, ignore_errors=True)

    def discard(self) -> None:
        """Remove the temporary folder (the run wrote nothing, DIR is untouched)."""
        shutil.rmtree(self.tmp, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether another live process may still be writing that temporary folder."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2); False where not supported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not possible on every system; the files themselves are synced
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = ["RUN_FILES", "OutputError", "RunOutput"]
