"""The window's handle on one training process (see child.py for the other side).

Why a process, and why started with `subprocess` rather than `multiprocessing` or QProcess:
a training thread in the window's process shares the interpreter lock with Qt's painting,
and handing that lock back and forth cost training 10–20 % and made every frame three times
dearer; a process shares nothing. `multiprocessing`'s spawn method re-imports the window's
`__main__` module in the child (for `python -m designer.app`, all of Qt and the window's
code, a second or so before the first batch) and keeps a resource-tracker process beside
it; QProcess only reads its pipes on the GUI thread's event loop, which is what we want to
keep free. A plain `python -c` child imports nnengine and NumPy only, its stdin carries the
commands (so the end of stdin, when the window closes or dies, ends it: no orphan can
outlive the window), a pipe of its own carries the reports, and `FrameReader` reads them
without ever blocking the window.

`TrainingProcess` starts the child at once (a warm process, waiting for its job), with a
watcher process beside it that takes the run's snapshots (watcher.py: two pipes between the
two, and one from the watcher to the window), and gives both the `Job` with `run`. The
watcher's stdin too comes from the window, so neither can outlive it. Nothing here waits on
the child: commands are written without blocking (`flush` writes what a full pipe left
over), reports read without blocking; only `close` gives them a moment to end before they
are killed. No Qt.
"""
from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .protocol import Command, FrameReader, Job, encode, write_pending

CHILD = ("import sys; from designer.training.child import main; "
         "main(*map(int, sys.argv[1:]))")
WATCHER = ("import sys; from designer.training.watcher import main; "
           "main(*map(int, sys.argv[1:]))")
# The report pipe's capacity: a snapshot of an MNIST-size CNN (feature maps of 28x28 images)
# with its weights is ~300 KB. In Linux's default 64 KB pipe such a message took four of the
# window's reading ticks (130 ms), while newer snapshots replaced each other in the
# training process's latest-only slot: about one snapshot a second reached the window.
REPORT_PIPE_BYTES = 1 << 20


def _widen(fd: int) -> None:
    """Give a pipe REPORT_PIPE_BYTES where the system allows (Linux; an unprivileged
    process may go up to /proc/sys/fs/pipe-max-size, 1 MB by default); elsewhere it keeps
    its size and large messages take a few reads."""
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        try:
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, REPORT_PIPE_BYTES)
        except OSError:
            pass


def _child_env() -> dict[str, str]:
    """The window's environment, with the folders holding `designer` and `nnengine` first on
    the child's import path (the same code as the window, installed or not)."""
    import nnengine

    roots = [str(Path(__file__).resolve().parents[2]),
             str(Path(nnengine.__file__).resolve().parents[1])]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(
        roots + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]))
    return env


class CommandPipe:
    """A child's stdin, written without ever blocking the window."""

    def __init__(self, popen: subprocess.Popen):
        self.popen = popen
        self.fd: int | None = popen.stdin.fileno()
        os.set_blocking(self.fd, False)
        self.pending = bytearray()

    def send(self, message: bytes) -> bool:
        """Queue an encoded message and write what the pipe takes now."""
        if self.fd is None:
            return False
        self.pending += message
        return self.flush()

    def flush(self) -> bool:
        """Write queued commands without waiting; False when the child is gone."""
        if self.fd is None:
            return False
        try:
            write_pending(self.fd, self.pending)
        except OSError:
            self.close()
        return self.fd is not None

    def close(self) -> None:
        """The end of the child's stdin: it ends at once (see child.read_commands)."""
        self.fd = None
        self.pending.clear()
        try:
            if self.popen.stdin is not None:
                self.popen.stdin.close()
        except OSError:
            pass


def _start(code: str, fds: tuple[int, ...]) -> subprocess.Popen:
    try:
        return subprocess.Popen([sys.executable, "-c", code, *map(str, fds)],
                                stdin=subprocess.PIPE, pass_fds=fds, env=_child_env(),
                                start_new_session=True)
    finally:
        for fd in fds:
            os.close(fd)


class TrainingProcess:
    """One child process (and its watcher): `run(job)`, `send(command)`, `receive()`,
    `kill()`, `close()`."""

    def __init__(self) -> None:
        read_fd, write_fd = os.pipe()
        watch_fd, watch_write_fd = os.pipe()
        request_read, request_write = os.pipe()
        ack_read, ack_write = os.pipe()
        for fd in (read_fd, watch_fd, request_read):
            _widen(fd)
        self.popen = _start(CHILD, (write_fd, request_write, ack_read))
        self.watcher = _start(WATCHER, (watch_write_fd, request_read, ack_write))
        self.reader = FrameReader(read_fd)
        self.watcher_reader = FrameReader(watch_fd)
        self._stdin = CommandPipe(self.popen)
        self._watcher_stdin = CommandPipe(self.watcher)
        self.started_at = time.monotonic()
        self.last_heard = self.started_at
        self.heard = False     # any message yet (the first comes once its imports are done)

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def pids(self) -> list[int]:
        """The child's and its watcher's."""
        return [self.popen.pid, self.watcher.pid]

    @property
    def readers(self) -> list[FrameReader]:
        """The pipes the window reads: the child's, then the watcher's."""
        return [self.reader, self.watcher_reader]

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    @property
    def unsent(self) -> int:
        """Bytes of commands queued that the pipe has not taken yet."""
        return len(self._stdin.pending)

    @property
    def ended(self) -> bool:
        """The child has exited and every report it sent has been read."""
        return self.reader.eof and self.popen.poll() is not None

    def run(self, job: Job) -> None:
        message = encode(Command.RUN, job)
        self._watcher_stdin.send(message)
        self._stdin.send(message)

    def send(self, command: Command, payload: Any = None) -> bool:
        """Queue a command and write what the pipe takes now; the rest goes with the next
        `flush` (a job with weights can be larger than a pipe holds while a cold child is
        still importing). False when the child is gone (its end is reported by `receive`
        and `ended`, so the caller need not care here)."""
        return self._stdin.send(encode(command, payload))

    def flush(self) -> bool:
        """Write queued commands without waiting; False when the child is gone."""
        self._watcher_stdin.flush()
        return self._stdin.flush()

    def receive(self) -> list[tuple[str, Any]]:
        """Every report that has arrived (never waits). The child's pipe is read first: the
        child sends its last report only once the watcher has written its last snapshots
        and ended, so when that report is read here, they are read too."""
        messages = self.reader.read() + self.watcher_reader.read()
        if messages:
            self.last_heard = time.monotonic()
            self.heard = True
        return messages

    def quiet_for(self) -> float:
        """Seconds since the child last sent anything (or was started)."""
        return time.monotonic() - self.last_heard

    def exit_text(self) -> str:
        """How the child ended, in words: "exited with status 1", "killed by SIGKILL"."""
        code = self.popen.poll()
        if code is None:
            return "is still running"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"was killed by {name}"
        return f"exited with status {code}"

    def kill(self) -> None:
        for p in (self.popen, self.watcher):
            if p.poll() is None:
                p.kill()
        self._reap()

    def close(self, grace: float = 1.0) -> None:
        """End the child and its watcher: the end of their stdin ends them at once; killed
        if they have not ended within `grace` seconds (only closing the window waits this
        long)."""
        self._stdin.close()
        self._watcher_stdin.close()
        end = time.monotonic() + grace
        for p in (self.popen, self.watcher):
            try:
                p.wait(max(end - time.monotonic(), 0.01))
            except subprocess.TimeoutExpired:
                p.kill()
        self._reap()

    def _reap(self) -> None:
        for p in (self.popen, self.watcher):
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.reader.close()
        self.watcher_reader.close()
        self._stdin.close()
        self._watcher_stdin.close()
