"""Normalization and regularization layers: BatchNorm, Dropout, GaussianNoise.

All three behave differently in training and at inference; the random ones draw from the
generator passed to `forward`, so a seeded run is reproducible.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..catalogue import LayerSpec, ParamSpec, Weight, register_layer
from ..errors import ShapeError
from ..initializers import constant
from .base import FRESH, Layer


def _need_rng(layer: str, rng: np.random.Generator | None) -> np.random.Generator:
    # A silent unseeded fallback would break reproducible runs; fail loudly instead.
    if rng is None:
        raise ValueError(f"{layer} needs a random generator in training mode")
    return rng


class BatchNormContext(NamedTuple):
    training: bool  # batch statistics (their gradient counts) or running ones
    xhat: np.ndarray  # the normalised input
    inv_std: np.ndarray  # (C,)
    axes: tuple[int, ...]  # every axis but 1
    bshape: tuple[int, ...]  # (1, C, 1, ...): (C,) broadcast against x


class BatchNorm(Layer):
    """Normalises axis 1 (features or channels) with statistics over every other axis.

    x: (batch, C) or (batch, C, H, W); gamma, beta, running_mean, running_var: (C,).
    """

    def output_shape(self, input_shapes):
        (shape,) = input_shapes
        if not shape:
            raise ShapeError("BatchNorm needs a feature or channel axis, received shape []")
        return tuple(shape)

    def dims(self, input_shapes):
        return {"C": input_shapes[0][0]}

    def forward(self, w, xs, training, rng, ws=FRESH):
        x = xs[0]
        axes = tuple(a for a in range(x.ndim) if a != 1)
        bshape = (1, -1) + (1,) * (x.ndim - 2)  # (C,) -> broadcastable against x
        if training:
            mean = x.mean(axis=axes)
            var = x.var(axis=axes)  # biased, as the spec (and Keras, PyTorch) normalise with
            m = self.config["momentum"]
            w["running_mean"] *= m
            w["running_mean"] += (1 - m) * mean
            w["running_var"] *= m
            w["running_var"] += (1 - m) * var
        else:
            mean, var = w["running_mean"], w["running_var"]
        inv_std = (1 / np.sqrt(var + self.config["epsilon"])).astype(x.dtype)
        xhat = (x - mean.reshape(bshape)) * inv_std.reshape(bshape)
        y = xhat * w["gamma"].reshape(bshape) + w["beta"].reshape(bshape)
        return y, BatchNormContext(training, xhat, inv_std, axes, bshape)

    def backward(self, w, ctx, dy, ws=FRESH, need_dx=True):
        training, xhat, inv_std, axes, bshape = ctx
        grads = {"gamma": np.sum(dy * xhat, axis=axes), "beta": np.sum(dy, axis=axes)}
        dxhat = dy * w["gamma"].reshape(bshape)
        if not training:
            return [dxhat * inv_std.reshape(bshape)], grads
        # The batch mean and variance depend on x too: subtract their contributions.
        mean_dxhat = dxhat.mean(axis=axes, keepdims=True)
        mean_dxhat_xhat = (dxhat * xhat).mean(axis=axes, keepdims=True)
        dx = (dxhat - mean_dxhat - xhat * mean_dxhat_xhat) * inv_std.reshape(bshape)
        return [dx], grads


class Dropout(Layer):
    """Inverted dropout: zeroes each value with probability `rate` and scales the rest by
    1/(1 − rate) in training, so inference is the identity. x: (batch, ...) -> same shape."""

    def check_config(self):
        if self.config["rate"] >= 1:
            return [f"Dropout rate must be below 1, received {self.config['rate']}"]
        return []

    def output_shape(self, input_shapes):
        return tuple(input_shapes[0])

    def forward(self, w, xs, training, rng, ws=FRESH):
        x, rate = xs[0], self.config["rate"]
        if not training or rate == 0:
            return x, None
        draws = _need_rng("Dropout", rng).random(out=ws.empty("draws", x.shape, np.float64))
        keep = np.greater_equal(draws, rate, out=ws.empty("keep", x.shape, bool))
        mask = ws.like("mask", x)  # keep / (1 − rate), without a float·bool product
        mask.fill(0)
        np.copyto(mask, 1 / (1 - rate), where=keep)
        return np.multiply(x, mask, out=ws.like("y", x)), mask

    def backward(self, w, mask, dy, ws=FRESH, need_dx=True):
        if mask is None:
            return [dy], {}
        return [np.multiply(dy, mask, out=ws.like("dx", dy))], {}


class GaussianNoise(Layer):
    """Adds N(0, stddev²) noise to every value in training only (denoising autoencoders).
    x: (batch, ...) -> same shape."""

    def output_shape(self, input_shapes):
        return tuple(input_shapes[0])

    def forward(self, w, xs, training, rng, ws=FRESH):
        x, stddev = xs[0], self.config["stddev"]
        if not training or stddev == 0:
            return x, None
        noise = _need_rng("GaussianNoise", rng).normal(0.0, stddev, size=x.shape)
        return x + noise.astype(x.dtype), None

    def backward(self, w, ctx, dy, ws=FRESH, need_dx=True):
        return [dy], {}


register_layer(LayerSpec(
    type="BatchNorm", category="Normalization and regularization", layer_class=BatchNorm,
    description="Normalises each feature or channel (axis 1) to zero mean and unit variance, "
                "then scales and shifts it with learned gamma and beta.",
    formula="y = gamma·(x − mean)/√(var + epsilon) + beta",
    params=(
        ParamSpec("momentum", "float", 0.9, minimum=0.0, maximum=1.0,
                  help="Share of the old running statistics kept at each training batch"),
        ParamSpec("epsilon", "float", 1e-5, minimum=0.0, exclusive_minimum=True,
                  help="Small constant added to the variance to avoid division by zero"),
    ),
    weights=(Weight("gamma", ("C",), constant(1.0)), Weight("beta", ("C",), constant(0.0)),
             Weight("running_mean", ("C",), constant(0.0), trainable=False),
             Weight("running_var", ("C",), constant(1.0), trainable=False)),
    key_params=("momentum",),
))

register_layer(LayerSpec(
    type="Dropout", category="Normalization and regularization", layer_class=Dropout,
    description="Randomly zeroes values during training so the network cannot rely on any "
                "single one; does nothing at inference.",
    formula="y = x·mask/(1 − rate), mask ~ Bernoulli(1 − rate)",
    params=(
        ParamSpec("rate", "float", 0.5, minimum=0.0, maximum=1.0,
                  help="Probability of zeroing each value (below 1)"),
    ),
    key_params=("rate",),
))

register_layer(LayerSpec(
    type="GaussianNoise", category="Normalization and regularization",
    layer_class=GaussianNoise,
    description="Adds random Gaussian noise during training only, e.g. for a denoising "
                "autoencoder.",
    formula="y = x + noise, noise ~ N(0, stddev²)",
    params=(
        ParamSpec("stddev", "float", 0.1, minimum=0.0, help="Standard deviation of the noise"),
    ),
    key_params=("stddev",),
))
