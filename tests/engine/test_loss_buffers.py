"""Losses computed in a workspace give the same bits as the plain NumPy formulas, and a
repeated call with the same workspace allocates nothing that grows with the batch."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from nnengine.catalogue import LOSSES
from nnengine.layers.base import FRESH, Workspace
from nnengine.losses import fused_sigmoid_binary_cross_entropy, fused_softmax_cross_entropy

EPS = 1e-7


def plain(name, y, t):
    """Each loss written as its formula, every intermediate a new array."""
    n = y.shape[0]
    rows = np.arange(n)
    if name == "mse":
        d = y - t
        return float(np.vdot(d, d) / d.size), d * (2.0 / d.size)
    if name == "mae":
        d = y - t
        return float(np.mean(np.abs(d))), np.sign(d) * (1.0 / d.size)
    if name == "binary_cross_entropy":
        p = np.clip(y, EPS, 1 - EPS)
        loss = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
        return float(loss), ((p - t) / (p * (1 - p)) / y.size).astype(y.dtype)
    if name == "cross_entropy":
        p = np.clip(y[rows, t], EPS, None)
        g = np.zeros_like(y)
        g[rows, t] = -1.0 / (p * n)
        return float(-np.mean(np.log(p))), g
    margins = y - y[rows, t][:, None] + 1.0
    margins[rows, t] = 0.0
    active = margins > 0
    g = active.astype(y.dtype) / n
    g[rows, t] = -active.sum(axis=1) / n
    return float(np.sum(margins * active) / n), g


def cases(dtype):
    rng = np.random.default_rng(0)
    probs = rng.random((40, 5)).astype(dtype)
    probs /= probs.sum(axis=1, keepdims=True)
    labels = rng.integers(0, 5, 40)
    values = rng.standard_normal((40, 3)).astype(dtype)
    return [("mse", values, rng.standard_normal((40, 3)).astype(dtype)),
            ("mae", values, rng.standard_normal((40, 3)).astype(dtype)),
            ("binary_cross_entropy", probs[:, :1], rng.integers(0, 2, (40, 1)).astype(dtype)),
            ("binary_cross_entropy", probs[:, :1], rng.integers(0, 2, (40, 1))),
            ("cross_entropy", probs, labels), ("hinge", values * 2, labels % 3)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_workspace_losses_give_the_formulas_bits(dtype):
    for name, y, t in cases(dtype):
        want_loss, want_grad = plain(name, y, t)
        for ws in (FRESH, Workspace()):
            for _ in range(2):                               # a reused buffer too
                loss, grad = LOSSES.get(name).fn(y, t, ws)
                assert loss == want_loss, name
                assert grad.dtype == want_grad.dtype, name
                np.testing.assert_array_equal(grad, want_grad, err_msg=name)


def test_the_fused_losses_match_their_unfused_loss():
    probs, labels = cases(np.float32)[4][1:]
    loss, grad = fused_softmax_cross_entropy(probs, labels, None, Workspace())
    assert loss == plain("cross_entropy", probs, labels)[0]
    p, t = cases(np.float32)[2][1:]
    loss, grad = fused_sigmoid_binary_cross_entropy(p, t, None, Workspace())
    assert loss == plain("binary_cross_entropy", p, t)[0]
    np.testing.assert_array_equal(grad, (p - t) * (1.0 / p.size))


@pytest.mark.parametrize("name", LOSSES.names())
def test_a_repeated_loss_allocates_nothing_that_grows_with_the_batch(name):
    def peak(batch: int) -> int:
        rng = np.random.default_rng(1)
        if name in ("cross_entropy", "hinge"):
            y = rng.random((batch, 10)).astype(np.float32)
            t = rng.integers(0, 10, batch)
        else:
            y = rng.random((batch, 10)).astype(np.float32)
            t = rng.integers(0, 2, (batch, 10)).astype(np.float32)
        ws = Workspace()
        LOSSES.get(name).fn(y, t, ws)
        # NumPy's own casting buffers grow with the operands up to 8192 elements: shrunk
        # here so that what is measured is the loss's own arrays.
        before = np.setbufsize(64)
        tracemalloc.start()
        try:
            start = tracemalloc.get_traced_memory()[0]
            LOSSES.get(name).fn(y, t, ws)
            return tracemalloc.get_traced_memory()[1] - start
        finally:
            tracemalloc.stop()
            np.setbufsize(before)

    small, large = peak(256), peak(4096)
    assert large - small < 1024, f"{name}: {small:,} bytes at batch 256, {large:,} at 4096"
