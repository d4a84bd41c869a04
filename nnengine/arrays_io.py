"""Reading users' `.npy` and `.npz` files within the budgets of `limits`: a zip member's
inflated size and an array's element count are read from the file's own headers and
checked before anything is inflated or allocated, and never a pickle is loaded.

Weight files, `.npz` data sets, predict's inputs and model bundles all read arrays here.
"""
from __future__ import annotations

import io
import math
import os
import zipfile
import zlib
from typing import IO

import numpy as np
import numpy.lib.format as npy_format

from . import limits
from .errors import NNEngineError
from .fileio import ZIP_MAGIC, over_budget, size_text

NPY_MAGIC = b"\x93NUMPY"


READ_PIECE = 1 << 20   # bytes per read of an array's data


def check_zip_members(z: zipfile.ZipFile, source: str, error: type[NNEngineError],
                      small: tuple[str, ...] = ()) -> None:
    """Refuse an archive whose members (as their headers declare; zipfile never inflates
    more than that) pass the `inflated_bytes` budget, one by one or all together. Members
    named in `small` (JSON text) get the `graph_bytes` budget."""
    total_limit = limits.limit("inflated_bytes")
    total = 0
    for info in z.infolist():
        budget = "graph_bytes" if info.filename in small else "inflated_bytes"
        limit = limits.limit(budget)
        if info.file_size > limit:
            raise error(over_budget(f"{source}/{info.filename}", "inflates to "
                                    f"{size_text(info.file_size, binary=True)}", limit, budget,
                                    "zip member"))
        total += info.file_size
    if total > total_limit:
        raise error(over_budget(source, f"its members inflate to "
                                f"{size_text(total, binary=True)} in all", total_limit,
                                "inflated_bytes", "zip archive"))


def read_npy(f: IO[bytes], size: int, source: str, error: type[NNEngineError]) -> np.ndarray:
    """One array from an open .npy stream of `size` bytes. The header's shape is checked
    against the `array_elements` budget and against the bytes the file really holds before
    the array is allocated."""
    try:
        version = npy_format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = npy_format.read_array_header_2_0(f)
        else:
            raise error(f"{source}: is a .npy file of format version {version[0]}.{version[1]}"
                        ", which is not read (save it with numpy.save)")
    except (ValueError, EOFError, SyntaxError) as e:
        raise error(f"{source}: is not a valid .npy array ({e})") from None
    if dtype.hasobject:
        raise error(f"{source}: holds Python objects, which are not loaded for safety; save "
                    "plain numeric arrays")
    count = math.prod(shape)
    budget = limits.limit("array_elements")
    if count > budget:
        raise error(over_budget(source, f"its header declares shape {list(shape)} "
                                f"({count:,} elements)", budget, "array_elements", "array",
                                "elements"))
    need = count * dtype.itemsize
    available = size - f.tell()
    if need > available:
        raise error(f"{source}: is cut short: its header declares shape {list(shape)} "
                    f"({need:,} bytes of data), but it holds {max(available, 0):,} bytes")
    data = np.empty(need, np.uint8)
    view, got = memoryview(data), 0
    while got < need:
        # In pieces: a zip member's readinto reads into a new bytes object of the size
        # asked for first, which for one call would briefly double the array.
        n = f.readinto(view[got:got + READ_PIECE])
        if not n:
            raise error(f"{source}: is cut short ({got:,} of {need:,} bytes of data)")
        got += n
    return data.view(dtype).reshape(shape, order="F" if fortran else "C")


def read_npz(raw: bytes | os.PathLike, source: str, error: type[NNEngineError],
             what: str = ".npz file") -> dict[str, np.ndarray]:
    """Every array of .npz bytes, or of a regular file on disk (its members are then
    inflated one by one straight into their arrays, so the file's bytes are never held
    beside them), keyed by name (the ".npy" suffix dropped); errors name `source` and say
    it is not a valid `what`."""
    if isinstance(raw, bytes):
        head, archive = raw[:4], io.BytesIO(raw)
    else:
        with open(raw, "rb") as f:
            head = f.read(4)
        archive = raw
    if not head.startswith(ZIP_MAGIC):
        raise error(f"{source}: is not a {what} (not a zip archive of arrays)")
    try:
        with zipfile.ZipFile(archive) as z:
            check_zip_members(z, source, error)
            arrays = {}
            for info in z.infolist():
                key = info.filename.removesuffix(".npy")
                with z.open(info) as f:
                    arrays[key] = read_npy(f, info.file_size, f"{source}/{key}", error)
            return arrays
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
            NotImplementedError) as e:
        raise error(f"{source}: is not a valid {what} ({e})") from None


def read_arrays(raw: bytes, source: str, error: type[NNEngineError]
                ) -> np.ndarray | dict[str, np.ndarray]:
    """A .npy array, or the arrays of a .npz (a dict), from a file's bytes."""
    if raw.startswith(NPY_MAGIC):
        return read_npy(io.BytesIO(raw), len(raw), source, error)
    if raw.startswith(ZIP_MAGIC):
        return read_npz(raw, source, error)
    raise error(f"{source}: is not a .npy or .npz file")


__all__ = ["check_zip_members", "read_arrays", "read_npy", "read_npz"]
