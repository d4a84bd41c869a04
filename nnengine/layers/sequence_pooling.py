"""GlobalAvgPool1D: the mean over a sequence's steps, e.g. CBOW's average of the context
words' vectors (Embedding gives (steps, dim); the average is one (dim,) vector)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..catalogue import LayerSpec, register_layer
from ..errors import ShapeError
from .base import FRESH, Layer
from .means import mean_into


class _Steps(NamedTuple):
    shape: tuple[int, ...]  # the input's batched shape (N, steps, features)


class GlobalAvgPool1D(Layer):
    """y = mean over steps. x: (N, steps, features) -> y: (N, features)."""

    def output_shape(self, input_shapes):
        shape = tuple(input_shapes[0])
        if len(shape) != 2:
            raise ShapeError(
                f"GlobalAvgPool1D needs input (steps, features), received shape "
                f"{list(shape)}; insert a Reshape before it", code="needs_reshape")
        return (shape[1],)

    def forward(self, w, xs, training, rng, ws=FRESH):
        x = xs[0]
        y = mean_into(x, 1, ws.empty("y", (x.shape[0], x.shape[2]), x.dtype))
        return y, _Steps(x.shape)

    def backward(self, w, ctx, dy, ws=FRESH, need_dx=True):
        if not need_dx:
            return [None], {}
        n, steps, features = ctx.shape
        dx = ws.empty("dx", (n, steps, features), dy.dtype)
        np.multiply(dy[:, None, :], 1.0 / steps, out=dx)
        return [dx], {}


register_layer(LayerSpec(
    type="GlobalAvgPool1D", category="Convolution and pooling", layer_class=GlobalAvgPool1D,
    description="Averages over the steps of a sequence: (steps, features) becomes "
                "(features,), e.g. the mean of CBOW's context word vectors.",
    formula="y[n, f] = (1/T) · Σ_t x[n, t, f]",
    params=(),
))
