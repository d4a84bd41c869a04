"""Weight files (SPEC section 4): `.npz`, one array per weight keyed
`<node id>/<weight name>`, written atomically and read without unpickling anything.

Keys and shapes are checked against a graph by `apply_weights` / `Model.set_weights`.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from .arrays_io import read_npz
from .errors import FileFormatError, WeightsError
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
    """Load a weight file into `model`, checking every key, shape and value (all mismatches
    are counted, the first named), and that a `standardize` graph's statistics are there."""
    weights = load_weights(path)
    check_standardization(model, weights, f"{path}: the weights")
    model.set_weights(weights, source=f"{path}: the weights")


def check_standardization(model: Any, weights: dict[str, np.ndarray], source: str) -> None:
    """A graph trained with `standardize` needs its inputs' statistics (`<input id>/mean`,
    `<input id>/std`) in trained weights: without them the model would see raw inputs and
    answer wrongly with no error. Their values are checked by `Model.set_weights`."""
    if not model.graph.training.get("standardize"):
        return
    for input_id in model.input_ids:
        if model.graph.params_of(input_id).get("dtype", "float32") != "float32":
            continue  # token ids are never standardized
        for name in ("mean", "std"):
            key = f"{input_id}/{name}"
            if key not in weights:
                raise WeightsError(f"{source} have no '{key}': the graph trains with "
                                   "standardize, so trained weights hold each input's mean "
                                   "and std")


__all__ = ["apply_weights", "check_standardization", "load_weights", "save_weights", "weight_arrays",
           "weights_from_bytes"]
