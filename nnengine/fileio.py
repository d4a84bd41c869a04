"""Plain file handling every reader and writer shares: reading a user's file with errors
that name it, atomic saves, and sizes in words.

Every save is atomic: a temporary file beside the target, then `os.replace`.
"""
from __future__ import annotations

import os
import stat
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO

from . import limits
from .errors import FileFormatError, NNEngineError

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
"""How a zip archive (and so an .npz file) starts: a first member, or an empty archive."""


def read_file_bytes(path: str | os.PathLike, what: str, limit: int | None = None,
                    error: type[NNEngineError] = FileFormatError,
                    budget: str = "file_bytes") -> bytes:
    """A file's bytes, at most `limit` of them (default: the `budget` in `limits`); a
    missing file, a folder or a file over the limit raises `error` with a message that
    starts with the path (`what` names the kind of file expected). The limit holds for
    devices and pipes too, whose size reads as 0 (`/dev/zero`): never more than `limit` + 1
    bytes are read."""
    if limit is None:
        limit = limits.limit(budget)
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise error(f"{path}: is a folder, not a {what}")
        if info.st_size > limit:
            raise error(over_budget(path, f"is {size_text(info.st_size, binary=True)}",
                                    limit, budget, what))
        with open(path, "rb") as f:
            data = _read_at_most(f, limit + 1, info.st_size)
        if len(data) > limit:
            raise error(over_budget(path, f"holds more than {size_text(limit, binary=True)}",
                                    limit, budget, what))
        return data
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not a {what}") from None
    except PermissionError:
        raise error(f"{path}: permission denied") from None
    except OSError as e:
        raise error(f"{path}: cannot be read ({e.strerror or e})") from None


def _read_at_most(f: IO[bytes], most: int, size: int) -> bytes:
    """Up to `most` bytes of `f`, whose size reads as `size` (0 for a device or a pipe).
    Never asks for `most` at once: `read(n)` allocates n bytes before reading, so a 2 GiB
    budget would reserve 2 GiB for every small file."""
    data = f.read(min(most, size + 1))
    if len(data) <= size or len(data) >= most:
        return data   # the whole file (at its end), or already past the budget
    grown = bytearray(data)   # a device, a pipe, or a file that grew since it was sized
    while len(grown) < most:
        chunk = f.read(min(most - len(grown), 1 << 20))
        if not chunk:
            break
        grown += chunk
    return bytes(grown)


def over_budget(source: object, what_is: str, limit: int, budget: str, kind: str = "file",
                unit: str = "bytes") -> str:
    """The one sentence of a refusal: "<source>: <what_is>, too big for a <kind> (the limit
    is <limit>; NNENGINE_MAX_<BUDGET> changes it)"."""
    amount = size_text(limit, binary=True) if unit == "bytes" else f"{limit:,} {unit}"
    article = "an" if kind[:1] in "aeiou" else "a"
    return (f"{source}: {what_is}, too big for {article} {kind} (the limit is {amount}; "
            f"NNENGINE_MAX_{budget.upper()} changes it)")


def gunzip_limited(raw: bytes, source: object, error: type[NNEngineError]) -> bytes:
    """The inflated bytes of gzip data, refused (before more is inflated) when they would
    pass the `inflated_bytes` budget."""
    limit = limits.limit("inflated_bytes")
    out = bytearray()
    rest = raw
    try:
        while rest:
            inflater = zlib.decompressobj(wbits=31)  # one gzip member (a file may hold several)
            chunk = rest
            while chunk:
                out += inflater.decompress(chunk, limit + 1 - len(out))
                if len(out) > limit:
                    raise error(over_budget(source, "inflates to more than "
                                            f"{size_text(limit, binary=True)}", limit,
                                            "inflated_bytes", "gzip file"))
                chunk = inflater.unconsumed_tail
            if not inflater.eof:
                raise error(f"{source}: is not a valid gzip file (it is cut short)")
            rest = inflater.unused_data.lstrip(b"\0")
    except zlib.error as e:
        raise error(f"{source}: is not a valid gzip file ({e})") from None
    return bytes(out)


_DECIMAL_UNITS = ("bytes", "KB", "MB", "GB", "TB", "PB", "EB")
_BINARY_UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB")


def size_text(n: float, binary: bool = False) -> str:
    """`n` bytes in words: "1.5 MB" (steps of 1000, for memory), or with `binary` "1.5 MiB"
    (steps of 1024, for file sizes)."""
    units, step = (_BINARY_UNITS, 1024) if binary else (_DECIMAL_UNITS, 1000)
    for unit in units:
        if n < step or unit == units[-1]:
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= step
    return f"{n} bytes"


def write_atomic(path: str | os.PathLike, data: bytes | Callable[[IO[bytes]], None]) -> None:
    """Write bytes (or let `data(file)` write) to a temporary file beside `path`, flush it
    to disk, then rename it over `path`. OSErrors name `path`, not the temporary file."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise OSError(e.errno, e.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise OSError(e.errno, e.strerror, str(path)) from None
        raise


def _mode_for(path: Path) -> int:
    """Keep an existing file's permissions; new files get the usual 0666 minus umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


__all__ = ["ZIP_MAGIC", "gunzip_limited", "over_budget", "read_file_bytes", "size_text",
           "write_atomic"]
