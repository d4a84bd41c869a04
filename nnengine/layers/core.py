"""Core layers: Input, Dense, Flatten, Reshape."""
from __future__ import annotations

import math

import numpy as np

from ..catalogue import LayerSpec, ParamSpec, Weight, register_layer
from ..errors import ShapeError
from ..gemm import matmul
from ..initializers import INIT_NAMES, scheme_from, uniform_fan_in
from .base import FRESH, Layer


class Input(Layer):
    """A model input; its output is the batch it is fed, standardized when the training
    option `standardize` stored per-feature `mean` and `std` on it."""

    def output_shape(self, input_shapes):
        return tuple(self.config["shape"])

    def forward(self, w, xs, training, rng, ws=FRESH):
        x = xs[0]
        if "mean" not in w:
            return x, None
        y = np.subtract(x, w["mean"], out=ws.empty("y", x.shape, x.dtype))
        y /= w["std"]
        return y, None

    def backward(self, w, ctx, dy, ws=FRESH, need_dx=True):
        return [], {}


class Dense(Layer):
    """y = x·W + b over the last axis. x: (batch, in) -> y: (batch, units)."""

    def output_shape(self, input_shapes):
        (shape,) = input_shapes
        if len(shape) != 1:
            raise ShapeError(
                f"Dense needs a flat input (features,), received shape {list(shape)}; "
                "insert a Flatten before it", code="needs_flatten")
        return (self.config["units"],)

    def dims(self, input_shapes):
        return {"in": input_shapes[0][0]}

    def multiply_adds(self, input_shapes):
        return input_shapes[0][0] * self.config["units"]

    def forward(self, w, xs, training, rng, ws=FRESH):
        x, W = xs[0], w["W"]
        y = matmul(x, W, ws.empty("y", (x.shape[0], W.shape[1]), W.dtype))
        if "b" in w:
            y += w["b"]
        return y, x

    def backward(self, w, x, dy, ws=FRESH, need_dx=True):
        W = w["W"]
        grads = {"W": matmul(x.T, dy, ws.empty("dW", W.shape, W.dtype))}
        if "b" in w:
            grads["b"] = np.add.reduce(dy, axis=0, out=ws.empty("db", w["b"].shape, W.dtype))
        if not need_dx:
            return [None], grads
        return [matmul(dy, W.T, ws.empty("dx", x.shape, W.dtype))], grads


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1·d2·...)."""

    def output_shape(self, input_shapes):
        return (math.prod(input_shapes[0]),)

    def forward(self, w, xs, training, rng, ws=FRESH):
        x = xs[0]
        return _reshaped(x, (x.shape[0], -1), ws, "y"), x.shape

    def backward(self, w, shape, dy, ws=FRESH, need_dx=True):
        return [_reshaped(dy, shape, ws, "dx")], {}


class Reshape(Layer):
    """(batch, *in_shape) -> (batch, *shape) with the same number of elements."""

    def output_shape(self, input_shapes):
        target = tuple(self.config["shape"])
        if math.prod(target) != math.prod(input_shapes[0]):
            raise ShapeError(
                f"cannot reshape {list(input_shapes[0])} ({math.prod(input_shapes[0])} values) "
                f"to {list(target)} ({math.prod(target)} values)")
        return target

    def forward(self, w, xs, training, rng, ws=FRESH):
        x = xs[0]
        return _reshaped(x, (x.shape[0], *self.config["shape"]), ws, "y"), x.shape

    def backward(self, w, shape, dy, ws=FRESH, need_dx=True):
        return [_reshaped(dy, shape, ws, "dx")], {}


def _reshaped(a: np.ndarray, shape: tuple, ws, name: str) -> np.ndarray:
    """a in a new shape: a view when its memory allows (C order), else a copy into the
    workspace (a channel-major conv output is not C-contiguous)."""
    try:
        return a.reshape(shape, copy=False)
    except ValueError:
        out = ws.empty(name, a.shape, a.dtype)
        out[...] = a
        return out.reshape(shape)


register_layer(LayerSpec(
    type="Input", category="Input and output", layer_class=Input,
    description="Feeds one sample batch into the network; its shape excludes the batch.",
    formula="y = x",
    params=(
        ParamSpec("shape", "shape", help="Shape of one sample, without the batch dimension"),
        ParamSpec("dtype", "choice", "float32", choices=("float32", "int64"),
                  help="int64 for token ids feeding an Embedding"),
    ),
    # Stored by the `standardize` training option, not initialised.
    weights=(Weight("mean", ("shape",), trainable=False, optional=True),
             Weight("std", ("shape",), trainable=False, optional=True)),
    min_inputs=0, max_inputs=0, key_params=("shape",),
))

register_layer(LayerSpec(
    type="Dense", category="Core", layer_class=Dense,
    description="Fully connected layer: every output is a weighted sum of every input.",
    formula="y = x·W + b",
    params=(
        ParamSpec("units", "int", help="Number of outputs", minimum=1),
        ParamSpec("use_bias", "bool", True, help="Add a learned bias b"),
        ParamSpec("init", "choice", "glorot_uniform", choices=INIT_NAMES,
                  help="How W is initialised"),
    ),
    weights=(Weight("W", ("in", "units"), scheme_from("init"), regularized=True),
             Weight("b", ("units",), uniform_fan_in("in"), when="use_bias")),
    key_params=("units",),
))

register_layer(LayerSpec(
    type="Flatten", category="Core", layer_class=Flatten,
    description="Flattens each sample to a vector, e.g. feature maps before a Dense layer.",
    formula="y = reshape(x, (batch, -1))", params=(),
))

register_layer(LayerSpec(
    type="Reshape", category="Core", layer_class=Reshape,
    description="Gives each sample a new shape with the same number of values.",
    formula="y = reshape(x, (batch, *shape))",
    params=(ParamSpec("shape", "shape", help="Target shape, without the batch dimension"),),
    key_params=("shape",),
))
