"""Merge layers: several inputs in, one output out (Add, Concatenate, Dot)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..catalogue import LayerSpec, ParamSpec, register_layer
from ..errors import ShapeError
from .base import FRESH, Layer


def _shapes_text(input_shapes) -> str:
    return ", ".join(str(list(s)) for s in input_shapes)


class Add(Layer):
    """y = x₁ + x₂ + ...; every input (batch, ...) has the same shape as y."""

    def output_shape(self, input_shapes):
        first = tuple(input_shapes[0])
        if any(tuple(s) != first for s in input_shapes[1:]):
            raise ShapeError(f"Add needs inputs of the same shape, received shapes "
                             f"{_shapes_text(input_shapes)}", code="shape_mismatch")
        return first

    def forward(self, w, xs, training, rng, ws=FRESH):
        y = np.add(xs[0], xs[1], out=ws.like("y", xs[0]))
        for x in xs[2:]:
            y += x
        return y, len(xs)

    def backward(self, w, n_inputs, dy, ws=FRESH, need_dx=True):
        if not need_dx:
            return [None] * n_inputs, {}
        # Separate arrays per input, so a caller accumulating in place cannot alias them.
        copies = [ws.like(f"dx{k}", dy) for k in range(1, n_inputs)]
        for c in copies:
            np.copyto(c, dy)
        return [dy, *copies], {}


class ConcatContext(NamedTuple):
    axis: int
    sizes: list[int]  # each input's size along axis


class Concatenate(Layer):
    """Joins inputs along `axis` of the batched array (1 = the first axis after the batch).

    Inputs (batch, ..., d_i, ...) -> (batch, ..., Σ d_i, ...); other dimensions must agree.
    """

    def check_config(self):
        if self.config["axis"] == 0:
            return ["Concatenate cannot join along axis 0, the batch axis; use axis 1 or more"]
        return []

    def _axis(self, ndim: int) -> int:
        """The axis in the batched array of `ndim` dimensions, made non-negative."""
        axis = self.config["axis"]
        return axis + ndim if axis < 0 else axis

    def output_shape(self, input_shapes):
        shapes = [tuple(s) for s in input_shapes]
        ranks = {len(s) for s in shapes}
        if len(ranks) != 1:
            raise ShapeError(f"Concatenate needs inputs with the same number of dimensions, "
                             f"received shapes {_shapes_text(shapes)}", code="shape_mismatch")
        ndim = ranks.pop() + 1
        axis = self._axis(ndim)
        if not 1 <= axis < ndim:
            raise ShapeError(f"Concatenate axis {self.config['axis']} does not fit inputs of "
                             f"shape {_shapes_text(shapes)} (batched arrays have {ndim} axes; "
                             "axis 0 is the batch)")
        k = axis - 1  # the same axis in shapes without the batch
        rest = {s[:k] + s[k + 1:] for s in shapes}
        if len(rest) != 1:
            raise ShapeError(f"Concatenate along axis {self.config['axis']} needs inputs whose "
                             f"other dimensions agree, received shapes {_shapes_text(shapes)}",
                             code="shape_mismatch")
        first = shapes[0]
        return first[:k] + (sum(s[k] for s in shapes),) + first[k + 1:]

    def forward(self, w, xs, training, rng, ws=FRESH):
        axis = self._axis(xs[0].ndim)
        sizes = [x.shape[axis] for x in xs]
        shape = (*xs[0].shape[:axis], sum(sizes), *xs[0].shape[axis + 1:])
        y = ws.empty("y", shape, np.result_type(*xs))
        return np.concatenate(xs, axis=axis, out=y), ConcatContext(axis, sizes)

    def backward(self, w, ctx, dy, ws=FRESH, need_dx=True):
        axis, sizes = ctx
        if not need_dx:
            return [None] * len(sizes), {}
        return list(np.split(dy, np.cumsum(sizes)[:-1], axis=axis)), {}


class DotContext(NamedTuple):
    a: np.ndarray
    b: np.ndarray


class Dot(Layer):
    """Row-wise dot product: a, b: (batch, D) -> y: (batch, 1) with y = Σ a·b."""

    def output_shape(self, input_shapes):
        a, b = (tuple(s) for s in input_shapes)
        if len(a) != 1 or a != b:
            raise ShapeError(f"Dot needs two flat inputs of the same size (D,), received shapes "
                             f"{_shapes_text(input_shapes)}", code="shape_mismatch")
        return (1,)

    def multiply_adds(self, input_shapes):
        return input_shapes[0][0]

    def forward(self, w, xs, training, rng, ws=FRESH):
        a, b = xs
        products = np.multiply(a, b, out=ws.like("products", a))
        y = np.sum(products, axis=1, keepdims=True, out=ws.empty("y", (len(a), 1), products.dtype))
        return y, DotContext(a, b)

    def backward(self, w, ctx, dy, ws=FRESH, need_dx=True):
        a, b = ctx
        if not need_dx:
            return [None, None], {}
        return [np.multiply(dy, b, out=ws.like("da", b)),
                np.multiply(dy, a, out=ws.like("db", a))], {}


register_layer(LayerSpec(
    type="Add", category="Merge", layer_class=Add,
    description="Adds two or more inputs of the same shape elementwise, e.g. a residual link.",
    formula="y = x₁ + x₂ + …",
    params=(), min_inputs=2, max_inputs=None,
))

register_layer(LayerSpec(
    type="Concatenate", category="Merge", layer_class=Concatenate,
    description="Joins two or more inputs along one axis; all other dimensions must agree.",
    formula="y = [x₁, x₂, …] along axis",
    params=(
        ParamSpec("axis", "int", 1,
                  help="Axis of the batched array to join along (1 = first after the batch; "
                       "negative counts from the end)"),
    ),
    min_inputs=2, max_inputs=None, key_params=("axis",),
))

register_layer(LayerSpec(
    type="Dot", category="Merge", layer_class=Dot,
    description="Dot product of two vectors per sample, e.g. a similarity score.",
    formula="y = Σᵢ aᵢ·bᵢ",
    params=(), min_inputs=2, max_inputs=2,
))
