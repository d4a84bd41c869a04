"""Losses, registered by name. Each maps (prediction, target) to (mean loss, dL/dprediction).

Semantics match PyTorch and Keras: means over the batch; mse, mae and binary_cross_entropy
also over output elements; hinge sums the wrong classes' margins, then averages over the batch.
`cross_entropy` takes probabilities and integer labels; the model fuses it with a final
softmax (and binary_cross_entropy with a final sigmoid) so the gradient stays stable.
The fused losses and `mse` (the training hot paths) write their gradient into `out` when
given one.
"""
from __future__ import annotations

import numpy as np

from .catalogue import LOSSES, LossSpec

_EPS = 1e-7


def _register(name: str, description: str, classification: bool):
    def wrap(fn):
        LOSSES.add(name, LossSpec(name, description, fn, classification))
        return fn
    return wrap


@_register("mse", "Mean squared error, for regression.", False)
def mse(y, t, out=None):
    diff = np.subtract(y, t, out=out)
    loss = float(np.vdot(diff, diff) / diff.size)
    diff *= 2.0 / diff.size
    return loss, diff


@_register("mae", "Mean absolute error, for regression robust to outliers.", False)
def mae(y, t):
    diff = y - t
    return float(np.mean(np.abs(diff))), np.sign(diff) * (1.0 / diff.size)


@_register("binary_cross_entropy",
           "Cross entropy of probabilities against 0/1 targets, for yes/no outputs.", True)
def binary_cross_entropy(y, t):
    p = np.clip(y, _EPS, 1 - _EPS)
    loss = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    grad = (p - t) / (p * (1 - p)) / y.size
    return float(loss), grad.astype(y.dtype, copy=False)


@_register("cross_entropy",
           "Negative log probability of the true class, for classification (integer labels).",
           True)
def cross_entropy(y, t):
    n = y.shape[0]
    rows = np.arange(n)
    p = np.clip(y[rows, t], _EPS, None)
    grad = np.zeros_like(y)
    grad[rows, t] = -1.0 / (p * n)
    return float(-np.mean(np.log(p))), grad


@_register("hinge", "Multiclass SVM hinge loss with margin 1 (integer labels).", True)
def hinge(y, t):
    n = y.shape[0]
    rows = np.arange(n)
    margins = y - y[rows, t][:, None] + 1.0
    margins[rows, t] = 0.0
    active = margins > 0
    loss = float(np.sum(margins * active) / n)
    grad = active.astype(y.dtype) / n
    grad[rows, t] = -active.sum(axis=1) / n
    return loss, grad


def fused_softmax_cross_entropy(p, t, out=None):
    """Loss from the softmax probabilities `p`, gradient w.r.t. the softmax's input."""
    n = p.shape[0]
    # The target entries by flat position (one gather, one scatter: cheaper than indexing
    # with two arrays, and a training step does this every batch).
    at = np.arange(0, p.size, p.shape[1])
    at += t
    picked = np.take(p, at)
    loss = float(-np.log(np.maximum(picked, _EPS, out=picked), out=picked).sum() / n)
    if out is None:
        grad = p.copy()
    else:
        np.copyto(out, p)
        grad = out
    flat = grad.reshape(-1)
    flat[at] -= 1.0
    grad *= 1.0 / n
    return loss, grad


def fused_sigmoid_binary_cross_entropy(p, t, out=None):
    """Loss from the sigmoid outputs `p`, gradient w.r.t. the sigmoid's input."""
    loss, _ = binary_cross_entropy(p, t)
    grad = np.subtract(p, t, out=out, dtype=p.dtype)
    grad *= 1.0 / p.size
    return loss, grad


def accuracy(y, t, loss_name: str) -> float | None:
    """Share of correct predictions for classification losses, None for regression."""
    if loss_name in ("cross_entropy", "hinge"):
        return np.count_nonzero(np.argmax(y, axis=1) == t) / max(len(t), 1)
    if loss_name == "binary_cross_entropy":
        return float(np.mean((y > 0.5) == (t > 0.5)))
    return None
