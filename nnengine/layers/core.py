"""Core layers: Input, Dense, Flatten, Reshape."""
from __future__ import annotations

import math

import numpy as np

from ..catalogue import LayerSpec, ParamSpec, WeightSpec, register_layer
from ..errors import ShapeError
from ..initializers import INIT_NAMES, initialize
from .base import Layer


class Input(Layer):
    """A model input; its output is the batch it is fed, standardized when the training
    option `standardize` stored per-feature `mean` and `std` on it."""

    def output_shape(self, input_shapes):
        return tuple(self.config["shape"])

    def forward(self, w, xs, training, rng):
        if "mean" in w:
            return (xs[0] - w["mean"]) / w["std"], None
        return xs[0], None

    def backward(self, w, ctx, dy):
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

    def weight_shapes(self, input_shapes):
        n_in = input_shapes[0][0]
        shapes = {"W": (n_in, self.config["units"])}
        if self.config["use_bias"]:
            shapes["b"] = (self.config["units"],)
        return shapes

    def multiply_adds(self, input_shapes):
        return input_shapes[0][0] * self.config["units"]

    def init_weights(self, input_shapes, rng, dtype):
        n_in, units = input_shapes[0][0], self.config["units"]
        w = {"W": initialize(self.config["init"], rng, (n_in, units), n_in, units, dtype)}
        if self.config["use_bias"]:
            w["b"] = np.zeros(units, dtype=dtype)
        return w

    def forward(self, w, xs, training, rng):
        x = xs[0]
        y = x @ w["W"]
        if "b" in w:
            y += w["b"]
        return y, x

    def backward(self, w, x, dy):
        grads = {"W": x.T @ dy}
        if "b" in w:
            grads["b"] = dy.sum(axis=0)
        return [dy @ w["W"].T], grads


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1·d2·...)."""

    def output_shape(self, input_shapes):
        return (math.prod(input_shapes[0]),)

    def forward(self, w, xs, training, rng):
        x = xs[0]
        return x.reshape(x.shape[0], -1), x.shape

    def backward(self, w, shape, dy):
        return [dy.reshape(shape)], {}


class Reshape(Layer):
    """(batch, *in_shape) -> (batch, *shape) with the same number of elements."""

    def output_shape(self, input_shapes):
        target = tuple(self.config["shape"])
        if math.prod(target) != math.prod(input_shapes[0]):
            raise ShapeError(
                f"cannot reshape {list(input_shapes[0])} ({math.prod(input_shapes[0])} values) "
                f"to {list(target)} ({math.prod(target)} values)")
        return target

    def forward(self, w, xs, training, rng):
        x = xs[0]
        return x.reshape((x.shape[0], *self.config["shape"])), x.shape

    def backward(self, w, shape, dy):
        return [dy.reshape(shape)], {}


register_layer(LayerSpec(
    type="Input", category="Input and output", layer_class=Input,
    description="Feeds one sample batch into the network; its shape excludes the batch.",
    formula="y = x",
    params=(
        ParamSpec("shape", "shape", help="Shape of one sample, without the batch dimension"),
        ParamSpec("dtype", "choice", "float32", choices=("float32", "int64"),
                  help="int64 for token ids feeding an Embedding"),
    ),
    weights=(WeightSpec("mean", trainable=False), WeightSpec("std", trainable=False)),
    min_inputs=0, max_inputs=0, key_params=("shape",),
    param_count_help="no weights (mean and std are stored only when training standardizes)",
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
    weights=(WeightSpec("W", regularized=True), WeightSpec("b")),
    key_params=("units",),
    param_count_help="in·units weights + units biases",
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
