"""Means into workspace buffers, bit for bit np.mean's, without its casting buffers.

np.mean divides the sum by the count as an np.intp, so NumPy divides in float64 and casts
back: a float32 mean then takes buffers of up to 8192 float64 values per operand. Dividing by
a Python int stays in float32 and gives the same bits, as a float64 quotient of two float32
values rounds to the correctly rounded float32 quotient (53 >= 2·24 + 2 bits).
"""
from __future__ import annotations

import math

import numpy as np


def mean_into(x: np.ndarray, axis: int | tuple[int, ...], out: np.ndarray,
              keepdims: bool = False) -> np.ndarray:
    """np.mean(x, axis, keepdims=keepdims) written into out."""
    axes = axis if isinstance(axis, tuple) else (axis,)
    total = np.sum(x, axis=axis, out=out, keepdims=keepdims)
    total /= math.prod(x.shape[a] for a in axes)
    return total
