"""Weight files (SPEC section 4): `.npz`, one array per weight keyed
`<node id>/<weight name>`, written atomically and read without unpickling anything.

Keys and shapes are checked against a graph by `apply_weights` / `Model.set_weights`.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from .errors import FileFormatError
from .arrays_io import read_npz
from .fileio import read_file_bytes, write_atomic


def weight_arrays(model_or_weights: Any) -> dict[str, np.ndarray]:
    """What an .npz of weights holds: string keys, C-contiguous arrays.

    `model_or_weights`: a Model (its `get_weights()`) or a dict of arrays."""
    weights = (model_or_weights.get_weights() if hasattr(model_or_weights, "get_weights")
               else dict(model_or_weights))
    return {str(k): np.ascontiguousarray(v) for k, v in weights.items()}


def save_weights(model_or_weights: Any, path: str | os.PathLike) -> None:
    """Write weights keyed `<node id>/<weight name>` to an .npz file, atomically.

    `model_or_weights`: a Model (its `get_weights()`) or a dict of arrays."""
    arrays = weight_arrays(model_or_weights)
    write_atomic(path, lambda f: np.savez(f, **arrays))


def load_weights(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a weight file; every array must be finite real numbers. Keys and shapes are
    checked against a graph by `apply_weights` / `Model.set_weights`."""
    raw = read_file_bytes(path, "weight file")
    return weights_from_bytes(raw, str(path))


def weights_from_bytes(raw: bytes, source: str) -> dict[str, np.ndarray]:
    """The arrays of weight-file bytes; `source` names the file in error messages."""
    weights = read_npz(raw, source, FileFormatError, "weight file")
    for key, value in weights.items():
        if value.dtype.kind not in "fiu":
            raise FileFormatError(f"{source}: weight '{key}' must hold real numbers, found "
                                  f"dtype {value.dtype}")
        if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            raise FileFormatError(f"{source}: weight '{key}' contains NaN or infinite values")
    return weights


def apply_weights(model: Any, path: str | os.PathLike) -> None:
    """Load a weight file into `model`, checking every key and shape (all mismatches are
    counted, the first named)."""
    model.set_weights(load_weights(path), source=f"{path}: the weights")


__all__ = ["apply_weights", "load_weights", "save_weights", "weight_arrays",
           "weights_from_bytes"]
