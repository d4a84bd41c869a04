"""Some rows of an array, chosen by index, without copying them: how the trainer holds its
training and validation splits of a data set that is held once."""
from __future__ import annotations

from typing import Any

import numpy as np


class Rows:
    """The rows `index` of `base` (samples first). Indexing gathers only what is asked for:
    `rows[3]`, `rows[10:20]`, `rows[[4, 2]]` and `rows[:, 0]` read those rows of base."""

    def __init__(self, base: np.ndarray, index: np.ndarray):
        self.base = base
        self.index = np.asarray(index, dtype=np.intp)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.index), *self.base.shape[1:])

    @property
    def dtype(self) -> np.dtype:
        return self.base.dtype

    @property
    def ndim(self) -> int:
        return self.base.ndim

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, tuple):  # rows[:, 0]: the rows, then within each row
            return self.base[(self.index[key[0]], *key[1:])]
        return self.base[self.index[key]]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """Every row, gathered (a copy): for code that needs the whole split at once."""
        rows = self.base[self.index]
        return rows if dtype is None else rows.astype(dtype, copy=False)

    def gather(self, positions: np.ndarray, rows_out: np.ndarray, out: np.ndarray
               ) -> np.ndarray:
        """The rows at `positions` (of this split) written into `out`, through `rows_out`
        for their indices in base: no new array."""
        # mode="clip": the indices are valid, and "raise" would buffer `out` (a new array).
        self.index.take(positions, out=rows_out, mode="clip")
        return self.base.take(rows_out, axis=0, out=out, mode="clip")

    def feature_stats(self, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
        """Per-feature mean and (biased) standard deviation over these rows, in chunks of
        `chunk` rows, so no temporary as large as the data set is made. float64 sums."""
        n = len(self.index)
        total = np.zeros(self.base.shape[1:], dtype=np.float64)
        for i in range(0, n, chunk):
            total += self[i:i + chunk].sum(axis=0, dtype=np.float64)
        mean = total / max(n, 1)
        squares = np.zeros_like(total)
        for i in range(0, n, chunk):
            deviation = self[i:i + chunk] - mean
            squares += np.einsum("i...,i...->...", deviation, deviation)
        return mean, np.sqrt(squares / max(n, 1))
