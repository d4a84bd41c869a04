"""Losses, registered by name. Each maps (prediction, target) to (mean loss, dL/dprediction).

Semantics match PyTorch and Keras: means over the batch; mse, mae and binary_cross_entropy
also over output elements; hinge sums the wrong classes' margins, then averages over the batch.
`cross_entropy` takes probabilities and integer labels; the model fuses it with a final
softmax (and binary_cross_entropy with a final sigmoid) so the gradient stays stable.
Each loss takes its arrays from a workspace when given one (a training step's `Model`
passes its own, so a step allocates nothing that grows with the batch); the fused losses
write their gradient into `out`.
"""
from __future__ import annotations

import numpy as np

from .catalogue import LOSSES, LossSpec
from .layers.base import FRESH, Workspace

_EPS = 1e-7


def _shape(a, b) -> tuple[int, ...]:
    return np.broadcast_shapes(np.shape(a), np.shape(b))


def _like(name: str, y: np.ndarray, t, ws: Workspace) -> np.ndarray:
    """A buffer for y − t: in y's memory layout when it has y's shape (a conv autoencoder's
    output is channel-major), in the dtype NumPy gives y − t."""
    shape, dtype = _shape(y, t), np.result_type(y, t)
    return ws.like(name, y, dtype=dtype) if shape == y.shape else ws.empty(name, shape, dtype)


def _as_dtype(a: np.ndarray, dtype: np.dtype, ws: Workspace) -> np.ndarray:
    if a.dtype == dtype:
        return a
    out = ws.empty("cast", a.shape, dtype)
    np.copyto(out, a, casting="unsafe")
    return out


def _target_positions(y: np.ndarray, t: np.ndarray, ws: Workspace) -> np.ndarray:
    """Flat positions of each row's target entry in a (batch, classes) array: one gather and
    one scatter, cheaper than indexing with a row array and a label array."""
    at = ws.full("at", (y.shape[0],), np.intp, y.shape[1])
    at[0] = 0
    np.add.accumulate(at, out=at)          # 0, k, 2k, ...: each row's first entry
    at += t
    return at




def _register(name: str, description: str, classification: bool):
    def wrap(fn):
        LOSSES.add(name, LossSpec(name, description, fn, classification))
        return fn
    return wrap


@_register("mse", "Mean squared error, for regression.", False)
def mse(y, t, ws=FRESH):
    diff = np.subtract(y, t, out=_like("grad", y, t, ws))
    loss = float(np.vdot(diff, diff) / diff.size)
    diff *= 2.0 / diff.size
    return loss, diff


@_register("mae", "Mean absolute error, for regression robust to outliers.", False)
def mae(y, t, ws=FRESH):
    diff = np.subtract(y, t, out=_like("diff", y, t, ws))
    loss = float(np.mean(np.abs(diff, out=ws.empty("abs", diff.shape, diff.dtype))))
    grad = np.sign(diff, out=ws.empty("grad", diff.shape, diff.dtype))
    grad *= 1.0 / diff.size
    return loss, grad


@_register("binary_cross_entropy",
           "Cross entropy of probabilities against 0/1 targets, for yes/no outputs.", True)
def binary_cross_entropy(y, t, ws=FRESH):
    p = np.clip(y, _EPS, 1 - _EPS, out=ws.empty("p", y.shape, y.dtype))
    shape, wide = _shape(p, t), np.result_type(p, t)
    # t·log(p) + (1 − t)·log(1 − p), each product in the dtype NumPy would give it
    q = np.subtract(1, p, out=ws.empty("q", p.shape, p.dtype))            # 1 − p
    terms = np.multiply(t, np.log(p, out=ws.empty("log_p", p.shape, p.dtype)),
                        out=ws.empty("terms", shape, wide))
    rest = np.multiply(np.subtract(1, t, out=ws.empty("not_t", np.shape(t),
                                                      np.result_type(1, t))),
                       np.log(q, out=ws.empty("log_q", p.shape, p.dtype)),
                       out=ws.empty("rest", shape, wide))
    terms += rest
    loss = -np.mean(terms)
    grad = np.subtract(p, t, out=ws.empty("diff", shape, wide))            # p − t
    grad /= np.multiply(p, q, out=q)                                       # p·(1 − p)
    grad /= y.size
    return float(loss), _as_dtype(grad, y.dtype, ws)


@_register("cross_entropy",
           "Negative log probability of the true class, for classification (integer labels).",
           True)
def cross_entropy(y, t, ws=FRESH):
    n = y.shape[0]
    at = _target_positions(y, t, ws)
    p = np.take(y, at, out=ws.empty("p", (n,), y.dtype), mode="clip")
    np.maximum(p, _EPS, out=p)                         # np.clip(p, _EPS, None)
    grad = ws.zeros("grad", y.shape, y.dtype)
    step = np.multiply(p, n, out=ws.empty("step", (n,), y.dtype))
    np.put(grad, at, np.divide(-1.0, step, out=step), mode="clip")   # "raise" would buffer
    return float(-np.mean(np.log(p, out=p))), grad


@_register("hinge", "Multiclass SVM hinge loss with margin 1 (integer labels).", True)
def hinge(y, t, ws=FRESH):
    n = y.shape[0]
    at = _target_positions(y, t, ws)
    picked = np.take(y, at, out=ws.empty("picked", (n,), y.dtype), mode="clip")
    margins = np.subtract(y, picked[:, None], out=ws.empty("margins", y.shape, y.dtype))
    margins += 1.0
    np.put(margins, at, 0.0, mode="clip")
    active = np.greater(margins, 0, out=ws.empty("active", y.shape, bool))
    margins *= active
    loss = float(np.sum(margins) / n)
    grad = ws.empty("grad", y.shape, y.dtype)
    np.copyto(grad, active)
    # −(active units per row) / n in float64, as NumPy computes it from the integer count
    # (the count summed from 0/1 values is exact)
    count = np.add.reduce(grad, axis=1, out=ws.empty("count", (n,), y.dtype))
    per_row = np.negative(count, out=ws.empty("per_row", (n,), np.float64))
    per_row /= n
    grad /= n
    np.copyto(count, per_row, casting="same_kind")   # in grad's dtype, as a put would cast
    np.put(grad, at, count, mode="clip")
    return loss, grad


def fused_softmax_cross_entropy(p, t, out=None, ws=FRESH):
    """Loss from the softmax probabilities `p`, gradient w.r.t. the softmax's input."""
    n = p.shape[0]
    at = _target_positions(p, t, ws)
    picked = p.take(at, out=ws.empty("picked", (n,), p.dtype), mode="clip")
    if out is None:
        grad = p.copy()
    else:
        np.copyto(out, p)
        grad = out
    # grad[row, target] −= 1, as a put ("raise" would buffer; the positions are valid)
    grad.put(at, np.subtract(picked, 1.0, out=ws.empty("target", (n,), p.dtype)), mode="clip")
    grad *= 1.0 / n
    loss = float(-np.log(np.maximum(picked, _EPS, out=picked), out=picked).sum() / n)
    return loss, grad


def fused_sigmoid_binary_cross_entropy(p, t, out=None, ws=FRESH):
    """Loss from the sigmoid outputs `p`, gradient w.r.t. the sigmoid's input."""
    loss, _ = binary_cross_entropy(p, t, ws)
    grad = np.subtract(p, t, out=out, dtype=p.dtype)
    grad *= 1.0 / p.size
    return loss, grad


def accuracy(y, t, loss_name: str) -> float | None:
    """Share of correct predictions for classification losses, None for regression."""
    if loss_name in ("cross_entropy", "hinge"):
        return np.count_nonzero(y.argmax(axis=1) == t) / max(len(t), 1)
    if loss_name == "binary_cross_entropy":
        return float(np.mean((y > 0.5) == (t > 0.5)))
    return None
