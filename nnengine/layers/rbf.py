"""Radial basis function layer: Gaussian units around learned centers."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..catalogue import LayerSpec, ParamSpec, Weight, register_layer
from ..errors import ShapeError
from ..initializers import constant, uniform_between
from .base import FRESH, Layer


class RBFContext(NamedTuple):
    x: np.ndarray  # (batch, in)
    d2: np.ndarray  # (batch, units) squared distances to the centers
    y: np.ndarray  # (batch, units) outputs


class RBF(Layer):
    """y_j = exp(−beta_j·‖x − c_j‖²). x: (batch, in) -> y: (batch, units).

    centers: (units, in), beta: (units,).
    """

    def output_shape(self, input_shapes):
        (shape,) = input_shapes
        if len(shape) != 1:
            raise ShapeError(
                f"RBF needs a flat input (features,), received shape {list(shape)}; "
                "insert a Flatten before it", code="needs_flatten")
        return (self.config["units"],)

    def dims(self, input_shapes):
        return {"in": input_shapes[0][0]}

    def multiply_adds(self, input_shapes):
        """A squared distance to each center."""
        return self.config["units"] * input_shapes[0][0]

    def forward(self, w, xs, training, rng, ws=FRESH):
        x, c = xs[0], w["centers"]
        # ‖x − c‖² = ‖x‖² − 2x·c + ‖c‖², without a (batch, units, in) temporary; rounding
        # can make it slightly negative, hence the clip.
        d2 = np.sum(x * x, axis=1, keepdims=True) - 2 * (x @ c.T) + np.sum(c * c, axis=1)
        d2 = np.maximum(d2, 0)
        y = np.exp(-w["beta"] * d2)
        return y, RBFContext(x, d2, y)

    def backward(self, w, ctx, dy, ws=FRESH, need_dx=True):
        x, d2, y = ctx
        c = w["centers"]
        dyy = dy * y
        g = -w["beta"] * dyy  # dL/d(d2): (batch, units)
        # d(d2)/dx = 2(x − c), d(d2)/dc = −2(x − c)
        dx = 2 * (g.sum(axis=1, keepdims=True) * x - g @ c)
        dc = 2 * (g.sum(axis=0)[:, None] * c - g.T @ x)
        dbeta = -np.sum(dyy * d2, axis=0)
        return [dx], {"centers": dc, "beta": dbeta}


register_layer(LayerSpec(
    type="RBF", category="Core", layer_class=RBF,
    description="Radial basis units: each output is a Gaussian bump around a learned center.",
    formula="y_j = exp(−beta_j·‖x − c_j‖²)",
    params=(ParamSpec("units", "int", help="Number of Gaussian units (centers)", minimum=1),),
    weights=(Weight("centers", ("units", "in"), uniform_between(-1.0, 1.0)),
             Weight("beta", ("units",), constant(1.0))),
    key_params=("units",),
))
