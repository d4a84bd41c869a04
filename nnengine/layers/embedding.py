"""Embedding: integer token ids -> learned dense vectors."""
from __future__ import annotations

import numpy as np

from ..catalogue import LayerSpec, ParamSpec, Weight, register_layer
from ..errors import DatasetError
from ..initializers import uniform_between
from .base import FRESH, Layer


class Embedding(Layer):
    """y = E[ids]. ids: (batch, *S) integers in [0, vocab_size) -> y: (batch, *S, dim)."""

    takes_ids = True

    def output_shape(self, input_shapes):
        return (*input_shapes[0], self.config["dim"])

    def forward(self, w, xs, training, rng, ws=FRESH):
        ids = self._check_ids(xs[0])
        return w["E"][ids], ids

    def backward(self, w, ids, dy, ws=FRESH, need_dx=True):
        E = w["E"]
        dim = E.shape[1]
        return [None], {"E": _scatter_add_rows(E.shape[0], ids.reshape(-1),
                                               dy.reshape(-1, dim).astype(E.dtype, copy=False))}

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


def _scatter_add_rows(n_rows: int, idx: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """out[idx[k]] += rows[k] for every k, repeats accumulating. idx: (n,), rows: (n, dim).

    Sorting and summing runs with reduceat is about twice as fast as np.add.at here.
    """
    out = np.zeros((n_rows, rows.shape[1]), dtype=rows.dtype)
    if idx.size == 0:
        return out
    order = np.argsort(idx, kind="stable")
    sorted_idx = idx[order]
    starts = np.flatnonzero(np.r_[True, sorted_idx[1:] != sorted_idx[:-1]])
    out[sorted_idx[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return out


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
