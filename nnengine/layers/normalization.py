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
from .means import mean_into
from .select import mask_of, select


def _need_rng(layer: str, rng: np.random.Generator | None) -> np.random.Generator:
    # A silent unseeded fallback would break reproducible runs; fail loudly instead.
    if rng is None:
        raise ValueError(f"{layer} needs a random generator in training mode")
    return rng


class BatchNormContext(NamedTuple):
    training: bool  # batch statistics (their gradient counts) or running ones
    xhat: np.ndarray  # the normalised input
    inv_std: np.ndarray  # (1, C, 1, ...): 1/√(var + epsilon), broadcast against x
    axes: tuple[int, ...]  # every axis but 1


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
        bshape = (1, x.shape[1]) + (1,) * (x.ndim - 2)  # (C,) broadcast against x
        xhat = ws.like("xhat", x)  # x − mean first
        if training:
            mean = mean_into(x, axes, ws.empty("mean", bshape, x.dtype), keepdims=True)
            np.subtract(x, mean, out=xhat)
            # np.var's own steps (biased, as the spec, Keras and PyTorch normalise with),
            # with the squares in a buffer instead of a new array.
            squares = np.multiply(xhat, xhat, out=ws.like("squares", x))
            var = mean_into(squares, axes, ws.empty("var", bshape, x.dtype), keepdims=True)
            m = self.config["momentum"]
            w["running_mean"] *= m
            w["running_mean"] += (1 - m) * mean.reshape(-1)
            w["running_var"] *= m
            w["running_var"] += (1 - m) * var.reshape(-1)
        else:
            var = w["running_var"].reshape(bshape)
            np.subtract(x, w["running_mean"].reshape(bshape), out=xhat)
        inv_std = (1 / np.sqrt(var + self.config["epsilon"])).astype(x.dtype)
        xhat *= inv_std
        y = np.multiply(xhat, w["gamma"].reshape(bshape), out=ws.like("y", x))
        y += w["beta"].reshape(bshape)
        return y, BatchNormContext(training, xhat, inv_std, axes)

    def backward(self, w, ctx, dy, ws=FRESH, need_dx=True):
        training, xhat, inv_std, axes = ctx
        c = inv_std.shape[1]
        product = np.multiply(dy, xhat, out=ws.like("product", xhat))
        grads = {"gamma": np.sum(product, axis=axes, out=ws.empty("dgamma", (c,), dy.dtype)),
                 "beta": np.sum(dy, axis=axes, out=ws.empty("dbeta", (c,), dy.dtype))}
        if not need_dx:
            return [None], grads
        dxhat = np.multiply(dy, w["gamma"].reshape(inv_std.shape), out=ws.like("dxhat", xhat))
        if not training:
            dxhat *= inv_std
            return [dxhat], grads
        # The batch mean and variance depend on x too: subtract their contributions.
        mean_dxhat = mean_into(dxhat, axes, ws.empty("mean_dxhat", inv_std.shape, dy.dtype),
                               keepdims=True)
        np.multiply(dxhat, xhat, out=product)
        mean_dxhat_xhat = mean_into(product, axes, ws.empty("mean_dxhat_xhat", inv_std.shape,
                                                            dy.dtype), keepdims=True)
        dx = np.subtract(dxhat, mean_dxhat, out=dxhat)
        dx -= np.multiply(xhat, mean_dxhat_xhat, out=product)
        dx *= inv_std
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
        keep = mask_of(np.greater_equal, draws, rate, x, ws, "keep")
        # keep / (1 − rate), without a float·bool product
        mask = select(keep, np.array(1 / (1 - rate), x.dtype), None, ws.like("mask", x))
        return np.multiply(x, mask, out=ws.like("y", x)), mask

    def backward(self, w, mask, dy, ws=FRESH, need_dx=True):
        if mask is None or not need_dx:
            return [dy if need_dx else None], {}
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
        # Drawn in float64 and rounded, so float32 and float64 models see the same noise.
        noise = _need_rng("GaussianNoise", rng).standard_normal(
            out=ws.empty("draws", x.shape, np.float64))
        noise *= stddev
        y = ws.like("y", x)
        np.copyto(y, noise)
        y += x
        return y, None

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
