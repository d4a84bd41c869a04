"""ActivityRegularization: passes its input through unchanged and adds a penalty on it to
the loss, so a sparse autoencoder's code learns to stay mostly at zero."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..catalogue import LayerSpec, ParamSpec, register_layer
from .base import FRESH, Layer


class _Activity(NamedTuple):
    x: np.ndarray  # the input (N, ...), which the penalty is on
    scratch: np.ndarray | None  # a buffer like x for |x| (added_loss has no workspace)


class ActivityRegularization(Layer):
    """y = x; adds l1·mean_n Σ|x| + l2·mean_n Σx² (mean over the batch, sum over the rest)."""

    adds_loss = True
    loss_term = "activity"

    def output_shape(self, input_shapes):
        return tuple(input_shapes[0])

    def forward(self, w, xs, training, rng, ws=FRESH):
        x = xs[0]
        return x, _Activity(x, ws.like("abs", x) if self.config["l1"] else None)

    def added_loss(self, ctx):
        x, l1, l2 = ctx.x, self.config["l1"], self.config["l2"]
        total = 0.0
        if l1:
            total += l1 * float(np.abs(x, out=ctx.scratch).sum())
        if l2:
            total += l2 * float(np.vdot(x, x))
        return total / len(x)

    def backward(self, w, ctx, dy, ws=FRESH, need_dx=True):
        x, l1, l2 = ctx.x, self.config["l1"], self.config["l2"]
        if not need_dx:
            return [None], {}
        if not (l1 or l2):
            return [dy], {}
        scale = 1.0 / len(x)
        dx = ws.empty("dx", dy.shape, dy.dtype)
        if l1:
            np.sign(x, out=dx)
            dx *= l1 * scale
            dx += dy
        else:
            np.copyto(dx, dy)
        if l2:
            dx += np.multiply(x, 2.0 * l2 * scale, out=ws.like("l2_grad", x))
        return [dx], {}


register_layer(LayerSpec(
    type="ActivityRegularization", category="Normalization and regularization",
    layer_class=ActivityRegularization,
    description="Passes its input on unchanged and adds a penalty on its size to the loss "
                "(shown as its own curve): l1 makes a sparse code, as in a sparse autoencoder.",
    formula="y = x;  loss += l1 · mean_n Σ|x| + l2 · mean_n Σx²",
    params=(
        ParamSpec("l1", "float", 0.0, minimum=0.0,
                  help="Weight of the mean (over the batch) sum of |x|: pushes values to zero"),
        ParamSpec("l2", "float", 0.0, minimum=0.0,
                  help="Weight of the mean (over the batch) sum of x²: keeps values small"),
    ),
    key_params=("l1", "l2"),
))
