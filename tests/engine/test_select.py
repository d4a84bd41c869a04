"""select() is np.where bit for bit, into a buffer: signed zeros, infinities and NaNs
included, in either float dtype and in a channel-major memory layout."""
from __future__ import annotations

import numpy as np
import pytest

from nnengine.layers.base import Workspace
from nnengine.layers.select import mask_of, positive_mask, select

SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 3.0, -2.5]


def values(dtype, seed: int) -> np.ndarray:
    """(6, 3, 4, 5) values with every special one, channel-major in memory as conv outputs."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(3, 4, 5, 6)).astype(dtype)
    a.reshape(-1)[:len(SPECIAL)] = SPECIAL
    rng.shuffle(a.reshape(-1))
    return a.transpose(3, 0, 1, 2)


def bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.uint32 if a.dtype == np.float32 else np.uint64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_select_is_np_where_bit_for_bit(dtype, seed):
    x, a, b = values(dtype, seed), values(dtype, seed + 10), values(dtype, seed + 20)
    ws = Workspace()
    mask = positive_mask(x, ws)
    zero = np.zeros((), dtype)
    row = values(dtype, seed + 30)[:1, :, :1, :1]  # broadcast like a per-channel weight
    for first, second in [(a, b), (a, None), (None, b), (row, b), (a, row)]:
        want = np.where(x > 0, zero if first is None else first,
                        zero if second is None else second)
        got = select(mask, first, second, ws.like("out", x))
        np.testing.assert_array_equal(bits(got), bits(want))
    keep = mask_of(np.greater_equal, x, 0.5, x, ws, "keep")
    np.testing.assert_array_equal(bits(select(keep, a, b, ws.like("out", x))),
                                  bits(np.where(x >= 0.5, a, b)))


def test_select_may_write_over_its_first_choice():
    x, a, b = values(np.float32, 5), values(np.float32, 6), values(np.float32, 7)
    mask = positive_mask(x, Workspace())
    want = np.where(x > 0, a, b)
    got = select(mask, a, b, a)
    assert got is a
    np.testing.assert_array_equal(bits(got), bits(want))
