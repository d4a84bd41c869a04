"""mean_into gives np.mean's bits into the same output, for the axes and layouts the layers
use (the output's memory layout decides the order of the sums, so both get the same one)."""
from __future__ import annotations

import numpy as np
import pytest

from nnengine.catalogue import layer_spec
from nnengine.layers.base import Workspace
from nnengine.layers.means import mean_into


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("axis, keepdims", [((2, 3), False), ((0, 2, 3), True), (1, False),
                                            (0, True)])
def test_mean_into_is_np_mean_bit_for_bit(dtype, seed, axis, keepdims):
    rng = np.random.default_rng(seed)
    # channel-major (N, C, H, W), as conv outputs are; odd sizes so that counts are not powers
    # of two and the division really rounds
    x = rng.normal(size=(3, 7, 5, 11)).astype(dtype).transpose(3, 0, 1, 2) * 10.0 ** seed
    shape = np.mean(x, axis=axis, keepdims=keepdims).shape
    want = np.mean(x, axis=axis, keepdims=keepdims, out=np.empty(shape, dtype))
    got = mean_into(x, axis, np.empty(shape, dtype), keepdims=keepdims)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("channel_major", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_global_average_pooling_keeps_np_mean_bits_in_either_layout(channel_major, seed):
    layer = layer_spec("GlobalAvgPool2D").layer_class({})
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(8, 7, 7, 50)).astype(np.float32)
    x = x.transpose(3, 0, 1, 2) if channel_major else np.ascontiguousarray(
        x.transpose(3, 0, 1, 2))
    ws = Workspace()
    for _ in range(2):
        y, _ = layer.forward({}, [x], True, None, ws)
        np.testing.assert_array_equal(y, x.mean(axis=(2, 3)))
