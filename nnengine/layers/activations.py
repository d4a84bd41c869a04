"""Activation layers: the elementwise `Activation` (one table entry per function) and PReLU.

Every function keeps the input's shape and dtype, and works in its layer's workspace buffers.
Adding a function is one entry in FUNCTIONS: a forward `(x, config, ws) -> (y, saved)` and a
backward `(dy, saved, config, ws) -> dx`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .. import gemm
from ..catalogue import LayerSpec, ParamSpec, Weight, register_layer
from ..errors import ShapeError
from ..gemm import in_parts
from ..initializers import constant_from
from .base import FRESH, Layer, Workspace, axis_order
from .select import positive_mask, select

ALPHA_DEFAULTS = {"leaky_relu": 0.01, "elu": 1.0}
"""alpha used when the config leaves it as None ("the function's default")."""


def effective_alpha(config: dict[str, Any]) -> float | None:
    """The alpha an Activation config really uses (None for functions without one)."""
    function = config.get("function")
    if function not in ALPHA_DEFAULTS:
        return None
    alpha = config.get("alpha")
    return ALPHA_DEFAULTS[function] if alpha is None else float(alpha)


def sigmoid(x: np.ndarray, ws: Workspace = FRESH, prefix: str = "") -> np.ndarray:
    """1 / (1 + e^-x) without overflow: only e = e^-|x| is ever computed; the result is
    n / (1 + e), with n = 1 where x >= 0 and e below (n = max(e, x >= 0), as e <= 1). In
    `ws`'s buffers named `prefix` + "e", "n", "y"; the result is the "y" one."""
    e = np.abs(x, out=ws.like(prefix + "e", x))
    np.negative(e, out=e)
    np.exp(e, out=e)
    n = np.greater_equal(x, 0, out=ws.like(prefix + "n", x))  # 1.0 or 0.0
    np.maximum(n, e, out=n)
    y = np.add(e, 1.0, out=ws.like(prefix + "y", x))
    return np.divide(n, y, out=y)


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis; subtracting the row max keeps exp from overflowing."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class Fn(NamedTuple):
    """One activation: forward (x, config, ws) -> (y, saved); backward
    (dy, saved, config, ws) -> dx. Both take what they return and their temporaries from
    `ws`, the layer's workspace (see base.py); backward never takes a name whose buffer
    forward returned or saved."""

    forward: Callable[[np.ndarray, dict, Workspace], tuple[np.ndarray, Any]]
    backward: Callable[[np.ndarray, Any, dict, Workspace], np.ndarray]
    formula: str


def _zero_grad(dy, saved, cfg, ws):
    # Piecewise-constant functions: the derivative is 0 wherever it exists.
    dx = ws.like("dx", dy)
    dx.fill(0)
    return dx


def _pass_grad(dy, saved, cfg, ws):
    return dy


def _identity(x, cfg, ws):
    return x, None


def _linear(x, cfg, ws):
    y = np.multiply(x, cfg["slope"], out=ws.like("y", x))
    y += cfg["intercept"]
    return y, None


def _linear_grad(dy, saved, cfg, ws):
    return np.multiply(dy, cfg["slope"], out=ws.like("dx", dy))


def _step(x, cfg, ws):
    # A bool result written straight into the float buffer: 1.0 or 0.0.
    return np.greater_equal(x, cfg["threshold"], out=ws.like("y", x)), None


def _stair(x, cfg, ws):
    levels = cfg["levels"]
    y = np.multiply(x, levels, out=ws.like("y", x))
    np.floor(y, out=y)
    y /= levels
    return np.clip(y, 0, 1, out=y), None


def _in_parts(job: Callable[[tuple], None], x: np.ndarray) -> None:
    """job(index) over parts of x's outermost axis in memory (its channels for a conv
    output), on the engine's worker threads when x is large (gemm.in_parts)."""
    if x.size < gemm.PARTS_FROM:   # the common small case, without the split's bookkeeping
        job(())
        return
    axis = axis_order(x.strides)[0]
    in_parts(lambda part: job((slice(None),) * axis + (part,)), x.shape[axis], x.size)


def _relu(x, cfg, ws):
    # The mask as bools: a quarter of the memory of a 0/1 float mask, and comparing into
    # bools is 4x quicker than NumPy casting the comparison's result on output.
    positive = ws.like("mask", x, dtype=bool)
    y = ws.like("y", x)

    def job(part: tuple) -> None:
        np.greater(x[part], 0, out=positive[part])
        np.maximum(x[part], 0, out=y[part])

    _in_parts(job, x)
    return y, positive


def _relu_grad(dy, positive, cfg, ws):
    # The mask copied to 0/1 floats in dx, then one multiply of like operands: NumPy's
    # float-by-bool multiply casts through a buffer, np.copyto(..., where=) on the
    # channel-major layouts of conv outputs was 30x slower. Gradients of dead units are 0
    # (−0 for a negative one), NaN only where the incoming gradient is NaN or infinite.
    dx = ws.like("dx", positive, dtype=dy.dtype)

    def job(part: tuple) -> None:
        np.copyto(dx[part], positive[part])
        np.multiply(dx[part], dy[part], out=dx[part])

    _in_parts(job, positive)
    return dx


def _leaky_relu(x, cfg, ws):
    mask = positive_mask(x, ws)
    scaled = np.multiply(x, effective_alpha(cfg), out=ws.like("scaled", x))
    return select(mask, x, scaled, ws.like("y", x)), mask


def _leaky_relu_grad(dy, mask, cfg, ws):
    dx = ws.like("dx", mask, dtype=dy.dtype)
    scaled = np.multiply(dy, effective_alpha(cfg), out=ws.like("scaled_dy", dx))
    return select(mask, dy, scaled, dx)


def _elu(x, cfg, ws):
    # expm1 of min(x, 0): never evaluates exp of a large positive number.
    neg = np.minimum(x, 0, out=ws.like("neg", x))
    np.expm1(neg, out=neg)
    neg *= effective_alpha(cfg)
    mask = positive_mask(x, ws)
    return select(mask, x, neg, ws.like("y", x)), (mask, neg)


def _elu_grad(dy, saved, cfg, ws):
    mask, neg = saved  # d/dx alpha·(eˣ − 1) = neg + alpha
    slope = np.add(neg, effective_alpha(cfg), out=ws.like("slope", neg))
    slope *= dy
    return select(mask, dy, slope, ws.like("dx", neg))


def _softplus(x, cfg, ws):
    return np.logaddexp(0, x, out=ws.like("y", x)), x


def _softplus_grad(dy, x, cfg, ws):
    dx = sigmoid(x, ws, "d_")
    dx *= dy
    return dx


def _sigmoid(x, cfg, ws):
    y = sigmoid(x, ws)
    return y, y


def _sigmoid_grad(dy, y, cfg, ws):
    dx = np.subtract(1.0, y, out=ws.like("dx", y))
    dx *= y
    dx *= dy
    return dx


def _tanh(x, cfg, ws):
    y = np.tanh(x, out=ws.like("y", x))
    return y, y


def _tanh_grad(dy, y, cfg, ws):
    dx = np.multiply(y, y, out=ws.like("dx", y))
    np.subtract(1.0, dx, out=dx)
    dx *= dy
    return dx


def _softmax(x, cfg, ws):
    # softmax() in buffers.
    row = ws.empty("row", (*x.shape[:-1], 1), x.dtype)
    y = np.subtract(x, np.max(x, axis=-1, keepdims=True, out=row), out=ws.like("y", x))
    np.exp(y, out=y)
    y /= np.sum(y, axis=-1, keepdims=True, out=row)
    return y, y


def _softmax_grad(dy, y, cfg, ws):
    dx = np.multiply(dy, y, out=ws.like("dx", y))
    row = np.sum(dx, axis=-1, keepdims=True, out=ws.empty("row", (*y.shape[:-1], 1), y.dtype))
    np.subtract(dy, row, out=dx)
    dx *= y
    return dx


FUNCTIONS: dict[str, Fn] = {
    "identity": Fn(_identity, _pass_grad, "y = x"),
    "linear": Fn(_linear, _linear_grad, "y = slope·x + intercept"),
    "step": Fn(_step, _zero_grad, "y = 1 if x ≥ threshold else 0"),
    "stair": Fn(_stair, _zero_grad, "y = clip(floor(levels·x) / levels, 0, 1)"),
    "relu": Fn(_relu, _relu_grad, "y = max(0, x)"),
    "leaky_relu": Fn(_leaky_relu, _leaky_relu_grad, "y = x if x > 0 else alpha·x"),
    "elu": Fn(_elu, _elu_grad, "y = x if x > 0 else alpha·(eˣ − 1)"),
    "softplus": Fn(_softplus, _softplus_grad, "y = ln(1 + eˣ)"),
    "sigmoid": Fn(_sigmoid, _sigmoid_grad, "y = 1 / (1 + e⁻ˣ)"),
    "tanh": Fn(_tanh, _tanh_grad, "y = tanh(x)"),
    "softmax": Fn(_softmax, _softmax_grad, "yᵢ = e^xᵢ / Σⱼ e^xⱼ (over the last axis)"),
}
"""name -> forward, backward and formula; adding a function is one entry here."""

FUNCTION_NAMES = tuple(FUNCTIONS)


class Activation(Layer):
    """y = f(x) elementwise (softmax: over the last axis). x: (batch, ...) -> same shape."""

    def output_shape(self, input_shapes):
        (shape,) = input_shapes
        if self.config["function"] == "softmax" and len(shape) == 0:
            raise ShapeError("softmax needs at least one feature axis, received shape []")
        return tuple(shape)

    def forward(self, w, xs, training, rng, ws=FRESH):
        return FUNCTIONS[self.config["function"]].forward(xs[0], self.config, ws)

    def backward(self, w, saved, dy, ws=FRESH, need_dx=True):
        if not need_dx:
            return [None], {}
        return [FUNCTIONS[self.config["function"]].backward(dy, saved, self.config, ws)], {}


class PReLUContext(NamedTuple):
    x: np.ndarray
    positive: np.ndarray  # the mask of x > 0 (see select.py)


class PReLU(Layer):
    """y = x if x > 0 else alpha·x, alpha learned per feature (axis 1) or shared.

    x: (batch, features) or (batch, channels, ...); alpha: (features,) or (1,).
    """

    def output_shape(self, input_shapes):
        (shape,) = input_shapes
        if not shape and not self.config["shared"]:
            raise ShapeError("PReLU with one alpha per feature needs a feature axis, "
                             "received shape []; set shared to true")
        return tuple(shape)

    def dims(self, input_shapes):
        return {"features": input_shapes[0][0]} if input_shapes[0] else {}

    @staticmethod
    def _broadcast(alpha: np.ndarray, ndim: int) -> np.ndarray:
        # (C,) -> (1, C, 1, ...) so it lines up with axis 1 of the batch.
        return alpha.reshape((1, -1) + (1,) * (ndim - 2)) if ndim >= 2 else alpha

    def forward(self, w, xs, training, rng, ws=FRESH):
        x = xs[0]
        mask = positive_mask(x, ws)
        scaled = np.multiply(x, self._broadcast(w["alpha"], x.ndim), out=ws.like("scaled", x))
        return select(mask, x, scaled, ws.like("y", x)), PReLUContext(x, mask)

    def backward(self, w, ctx, dy, ws=FRESH, need_dx=True):
        x, mask = ctx
        alpha = w["alpha"]
        dx = ws.like("dx", x, dtype=dy.dtype)  # x's memory layout, as the mask's
        product = np.multiply(dy, x, out=dx)  # dx's buffer, free until the end
        contrib = select(mask, None, product, ws.like("contrib", x))  # dy·x where x <= 0
        dalpha = ws.empty("dalpha", alpha.shape, alpha.dtype)
        if self.config["shared"]:
            dalpha[0] = contrib.sum()
        else:
            np.sum(contrib, axis=tuple(a for a in range(x.ndim) if a != 1), out=dalpha)
        if not need_dx:
            return [None], {"alpha": dalpha}
        scaled = np.multiply(dy, self._broadcast(alpha, x.ndim), out=ws.like("scaled_dy", dx))
        return [select(mask, dy, scaled, dx)], {"alpha": dalpha}


_ALPHA_FNS = tuple(ALPHA_DEFAULTS)

register_layer(LayerSpec(
    type="Activation", category="Activations", layer_class=Activation,
    description="Applies a fixed function to every value; step and stair have zero gradient, "
                "so gradient descent cannot train through them (they are here to show why).",
    formula="y = f(x)",
    params=(
        ParamSpec("function", "choice", "relu", choices=FUNCTION_NAMES,
                  help="The function applied to every value (softmax: over the last axis)"),
        ParamSpec("slope", "float", 1.0, help="Slope of the linear function",
                  applies_when=("function", ("linear",))),
        ParamSpec("intercept", "float", 0.0, help="Intercept of the linear function",
                  applies_when=("function", ("linear",))),
        ParamSpec("threshold", "float", 0.0, help="Step outputs 1 at and above this value, else 0",
                  applies_when=("function", ("step",))),
        ParamSpec("levels", "int", 5, minimum=2,
                  help="Steps of 1/levels on [0, 1]: 0, 1/levels, …, then 1 from x = 1",
                  applies_when=("function", ("stair",))),
        ParamSpec("alpha", "float", None, nullable=True, minimum=0.0,
                  help="Negative-side scale; empty = 0.01 for leaky_relu, 1 for elu",
                  applies_when=("function", _ALPHA_FNS)),
    ),
    key_params=("function",),
))

register_layer(LayerSpec(
    type="PReLU", category="Activations", layer_class=PReLU,
    description="Leaky ReLU whose negative-side slope alpha is learned, per feature or shared.",
    formula="y = x if x > 0 else alpha·x",
    params=(
        ParamSpec("init_alpha", "float", 0.25, help="Starting value of every alpha"),
        ParamSpec("shared", "bool", False,
                  help="One alpha for all features instead of one per feature/channel"),
    ),
    weights=(Weight("alpha", ("features",), constant_from("init_alpha"), when="not shared"),
             Weight("alpha", (1,), constant_from("init_alpha"), when="shared")),
    key_params=("shared",),
))
