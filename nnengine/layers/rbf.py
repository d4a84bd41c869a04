"""Radial basis function layer: Gaussian units around learned centers."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..catalogue import LayerSpec, ParamSpec, Weight, register_layer
from ..errors import ShapeError
from ..gemm import matmul
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
        n, units = x.shape[0], c.shape[0]
        # ‖x − c‖² = ‖x‖² − 2x·c + ‖c‖², without a (batch, units, in) temporary; rounding
        # can make it slightly negative, hence the clip.
        x_sq = np.sum(np.multiply(x, x, out=ws.like("x_x", x)), axis=1, keepdims=True,
                      out=ws.empty("x_sq", (n, 1), x.dtype))
        d2 = matmul(x, c.T, ws.empty("d2", (n, units), x.dtype))
        d2 *= 2
        np.subtract(x_sq, d2, out=d2)
        d2 += np.sum(c * c, axis=1)
        np.maximum(d2, 0, out=d2)
        y = np.multiply(-w["beta"], d2, out=ws.empty("y", (n, units), x.dtype))
        np.exp(y, out=y)
        return y, RBFContext(x, d2, y)

    def backward(self, w, ctx, dy, ws=FRESH, need_dx=True):
        x, d2, y = ctx
        c = w["centers"]
        dyy = np.multiply(dy, y, out=ws.like("dyy", y))
        g = np.multiply(-w["beta"], dyy, out=ws.like("g", y))  # dL/d(d2): (batch, units)
        # d(d2)/dx = 2(x − c), d(d2)/dc = −2(x − c)
        dc = np.multiply(g.sum(axis=0)[:, None], c, out=ws.empty("dc", c.shape, c.dtype))
        dc -= matmul(g.T, x, ws.empty("gx", c.shape, c.dtype))
        dc *= 2
        dyy *= d2
        dbeta = np.sum(dyy, axis=0, out=ws.empty("dbeta", w["beta"].shape, dyy.dtype))
        np.negative(dbeta, out=dbeta)
        grads = {"centers": dc, "beta": dbeta}
        if not need_dx:
            return [None], grads
        g_sum = np.sum(g, axis=1, keepdims=True, out=ws.empty("g_sum", (len(g), 1), g.dtype))
        dx = np.multiply(g_sum, x, out=ws.like("dx", x))
        dx -= matmul(g, c, ws.empty("gc", x.shape, x.dtype))
        dx *= 2
        return [dx], grads


register_layer(LayerSpec(
    type="RBF", category="Core", layer_class=RBF,
    description="Radial basis units: each output is a Gaussian bump around a learned center.",
    formula="y_j = exp(−beta_j·‖x − c_j‖²)",
    params=(ParamSpec("units", "int", help="Number of Gaussian units (centers)", minimum=1),),
    weights=(Weight("centers", ("units", "in"), uniform_between(-1.0, 1.0)),
             Weight("beta", ("units",), constant(1.0))),
    key_params=("units",),
))
