"""Embedding: integer token ids -> learned dense vectors."""
from __future__ import annotations

import functools

import numpy as np

from ..catalogue import LayerSpec, ParamSpec, Weight, register_layer
from ..errors import DatasetError
from ..initializers import uniform_between
from .base import FRESH, Layer, Workspace
from .core import _reshaped


class Embedding(Layer):
    """y = E[ids]. ids: (batch, *S) integers in [0, vocab_size) -> y: (batch, *S, dim)."""

    takes_ids = True

    def output_shape(self, input_shapes):
        return (*input_shapes[0], self.config["dim"])

    def forward(self, w, xs, training, rng, ws=FRESH):
        ids = self._check_ids(xs[0])
        E = w["E"]
        y = ws.empty("y", (*ids.shape, E.shape[1]), E.dtype)
        # mode="clip" (the ids are checked) writes straight into y; "raise" would buffer.
        return np.take(E, ids, axis=0, out=y, mode="clip"), ids

    def backward(self, w, ids, dy, ws=FRESH, need_dx=True):
        E = w["E"]
        rows = _reshaped(dy.astype(E.dtype, copy=False), (-1, E.shape[1]), ws, "dy")
        return [None], {"E": _scatter_add_rows(E.shape[0], ids.reshape(-1), rows, ws)}

    def _check_ids(self, ids: np.ndarray) -> np.ndarray:
        """Return the ids as an integer array; out-of-range or fractional ids are data errors."""
        vocab = self.config["vocab_size"]
        ids = np.asarray(ids)
        if not np.issubdtype(ids.dtype, np.integer):
            as_int = ids.astype(np.int64)
            if not np.array_equal(as_int, ids):
                raise DatasetError(
                    "Embedding needs integer token ids, received non-integer values "
                    f"(dtype {ids.dtype}); use an Input with dtype int64")
            ids = as_int
        if ids.size:
            lo, hi = int(ids.min()), int(ids.max())
            if lo < 0 or hi >= vocab:
                bad = lo if lo < 0 else hi
                raise DatasetError(
                    f"Embedding received token id {bad}, outside the vocabulary "
                    f"[0, {vocab - 1}] (vocab_size={vocab}); raise vocab_size or fix the data")
        return ids


def _scatter_add_rows(n_rows: int, idx: np.ndarray, rows: np.ndarray, ws: Workspace
                      ) -> np.ndarray:
    """out[idx[k]] += rows[k] for every k, repeats accumulating. idx: (n,), rows: (n, dim).

    Sorting and summing runs with reduceat is about twice as fast as np.add.at here. The
    sort key idx·n + k is unique, so an in-place sort of it orders the rows as a stable
    argsort of idx would, with no new array."""
    out = ws.zeros("dE", (n_rows, rows.shape[1]), rows.dtype)
    n = idx.size
    if n == 0:
        return out
    keys = np.multiply(idx, n, out=ws.empty("keys", (n,), np.int64))
    keys += _positions(n)
    keys.sort()
    order = np.remainder(keys, n, out=ws.empty("order", (n,), np.int64))
    sorted_idx = np.floor_divide(keys, n, out=keys)
    first = ws.empty("first", (n,), bool)  # where a run of one id starts
    first[0] = True
    np.not_equal(sorted_idx[1:], sorted_idx[:-1], out=first[1:])
    runs = np.count_nonzero(first)
    starts = np.compress(first, _positions(n), out=ws.empty("starts", (n,), np.int64)[:runs])
    sorted_rows = np.take(rows, order, axis=0, out=ws.empty("sorted_rows", rows.shape,
                                                             rows.dtype), mode="clip")
    sums = ws.empty("sums", (min(n, n_rows), rows.shape[1]), rows.dtype)[:runs]
    np.add.reduceat(sorted_rows, starts, axis=0, out=sums)
    ids = np.take(sorted_idx, starts, out=ws.empty("ids", (n,), np.int64)[:runs])
    out[ids] = sums
    return out


@functools.lru_cache(maxsize=8)
def _positions(n: int) -> np.ndarray:
    """0, 1, ..., n − 1, made once per batch size."""
    positions = np.arange(n, dtype=np.int64)
    positions.flags.writeable = False
    return positions


register_layer(LayerSpec(
    type="Embedding", category="Recurrent and embedding", layer_class=Embedding,
    description="Looks up a learned vector for each integer token id (feed it an int64 Input).",
    formula="y = E[ids]",
    params=(
        ParamSpec("vocab_size", "int", help="Number of distinct token ids (ids run 0 to "
                  "vocab_size - 1)", minimum=1),
        ParamSpec("dim", "int", help="Length of each token's vector", minimum=1),
    ),
    # Keras' default for embeddings: uniform(-0.05, 0.05).
    weights=(Weight("E", ("vocab_size", "dim"), uniform_between(-0.05, 0.05),
                    regularized=True),),
    key_params=("vocab_size", "dim"),
))
