"""np.where into a workspace buffer, bit for bit and without branches.

NumPy's masked copies (`np.copyto(out, a, where=mask)`, `np.putmask`) branch on every
element and run several times slower than a plain ufunc when the mask follows the random
signs of activations; `np.where` is quicker but returns a new array each call. Here a mask is
an unsigned integer array with every bit set where the condition holds and none elsewhere,
and `select` combines two arrays with bitwise ufuncs, so the result is exactly np.where's
(signed zeros and NaNs included).
"""
from __future__ import annotations

import numpy as np

from .base import Workspace

_UNSIGNED = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def mask_of(compare: np.ufunc, a: np.ndarray, b, like: np.ndarray, ws: Workspace,
            name: str = "mask") -> np.ndarray:
    """The mask of compare(a, b) (np.greater, ...), shaped and laid out like `like`, for
    selecting between arrays of like's dtype; in the buffer `name`."""
    bits = compare(a, b, out=ws.like(name, like, dtype=_UNSIGNED[like.dtype.itemsize]))
    return np.negative(bits, out=bits)  # 1 -> every bit set (unsigned wrap-around)


def positive_mask(x: np.ndarray, ws: Workspace, name: str = "mask") -> np.ndarray:
    """The mask of x > 0 (NaN: not)."""
    return mask_of(np.greater, x, 0, x, ws, name)


def select(mask: np.ndarray, a: np.ndarray | None, b: np.ndarray | None, out: np.ndarray
           ) -> np.ndarray:
    """np.where(mask, a, b) written into out; None stands for 0. a and b have out's dtype and
    broadcast to its shape; out may be a, never b."""
    unsigned = mask.dtype
    bits = out.view(unsigned)
    if b is None:  # a & mask
        np.bitwise_and(a.view(unsigned), mask, out=bits)
        return out
    b_bits = b.view(unsigned)
    if a is None:  # b & ~mask
        np.bitwise_and(b_bits, mask, out=bits)
    else:
        np.bitwise_xor(a.view(unsigned), b_bits, out=bits)
        bits &= mask
    bits ^= b_bits  # b ^ ((a ^ b) & mask): a where the mask is set, b elsewhere
    return out
