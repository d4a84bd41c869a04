"""One contiguous buffer behind a model's trainable weights.

An optimizer's update is a dozen element-wise passes per weight; for a small network (an
MLP on digits has six weights of at most 8,192 values) the cost of those NumPy calls, not
their arithmetic, dominates a training step. With every trainable weight a view into one
buffer, and the gradients gathered into one array laid out the same way, the optimizer
makes its passes once over the whole model. The arithmetic per element is unchanged, so the
weights after a step are bit-identical to updating each weight on its own.
"""
from __future__ import annotations

import numpy as np

KEY = "(all trainable weights)"   # the packed buffer's name in an optimizer's state


class PackedWeights:
    """`values`: every trainable weight, back to back; `weights[key]` become views into it."""

    def __init__(self, weights: dict[str, np.ndarray], keys: list[str], dtype: np.dtype):
        self.keys = tuple(keys)
        self._key_set = frozenset(keys)
        sizes = [weights[k].size for k in keys]
        self.values = np.empty(sum(sizes), dtype)
        self._grads = np.empty_like(self.values)
        self._squared = np.empty_like(self.values)
        self._starts = np.cumsum([0, *sizes[:-1]])
        start = 0
        for key, size in zip(keys, sizes):
            view = self.values[start:start + size].reshape(weights[key].shape)
            view[...] = weights[key]
            weights[key] = view
            start += size

    def gather(self, grads: dict[str, np.ndarray]) -> np.ndarray | None:
        """The gradients in one array laid out as `values` (reused from step to step), or
        None when they are not for exactly the packed weights."""
        if grads.keys() != self._key_set:
            return None
        return np.concatenate([grads[k].ravel() for k in self.keys], out=self._grads)

    def squares(self, flat: np.ndarray) -> dict[str, float]:
        """Each weight's squared gradient norm, from `gather`'s array in two passes."""
        np.multiply(flat, flat, out=self._squared)
        return dict(zip(self.keys, np.add.reduceat(self._squared, self._starts).tolist()))
