"""Conv2D, plus the window geometry (padding, output size) that the pooling layers share.

Speed: im2col is one strided view of the padded input copied once, the forward is one GEMM
and the backward two; col2im loops over the kh·kw kernel offsets only. Internally images are
kept channel-major in memory, (C, H, W, N): the arrays handed out still have the NCHW shape
`(batch, channels, height, width)`, but they are transposed views of that buffer. Element-wise
NumPy ops keep this layout, so a following ReLU, pool or conv reads it without a copy; code
that needs C-contiguous memory must call `np.ascontiguousarray` itself.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..catalogue import LayerSpec, ParamSpec, Weight, register_layer
from ..errors import ShapeError
from ..initializers import INIT_NAMES, constant, scheme_from
from .base import FRESH, Layer


def _same_pads(size: int, window: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "same": ceil(size / stride) outputs; the odd pad goes after (bottom/right)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


@lru_cache(maxsize=256)
def window_geometry(height: int, width: int, window: int, stride: int,
                    padding: str | int) -> tuple[tuple[int, int, int, int], int, int]:
    """((top, bottom, left, right) pads, out_height, out_width) of a square sliding window.

    An out size of 0 or less means the window does not fit; windows that would run past the
    padded input are dropped (floor)."""
    if padding == "same":
        top, bottom = _same_pads(height, window, stride)
        left, right = _same_pads(width, window, stride)
    else:
        top = bottom = left = right = 0 if padding == "valid" else int(padding)
    out_h = (height + top + bottom - window) // stride + 1
    out_w = (width + left + right - window) // stride + 1
    return (top, bottom, left, right), out_h, out_w


def image_output_shape(layer_type: str, what: str, input_shape: tuple[int, ...], window: int,
                       stride: int, padding: str | int) -> tuple[int, int]:
    """(out_height, out_width) for a (C, H, W) input; ShapeError when it is not 3-D or the
    window does not fit. `what` names the window in messages ("kernel", "pool window")."""
    if len(input_shape) != 3:
        raise ShapeError(
            f"{layer_type} needs input (channels, height, width), received shape "
            f"{list(input_shape)}; insert a Reshape before it", code="needs_reshape")
    _, height, width = input_shape
    _, out_h, out_w = window_geometry(height, width, window, stride, padding)
    if out_h < 1 or out_w < 1:
        shown = 0 if padding == "valid" else padding
        raise ShapeError(
            f"{what} {window}x{window} does not fit the {height}x{width} input "
            f"(with padding {shown})")
    return out_h, out_w


def channel_major_padded(x: np.ndarray, pads: tuple[int, int, int, int],
                         fill: float = 0.0) -> np.ndarray:
    """x: (N, C, H, W) -> C-contiguous (C, H + top + bottom, W + left + right, N)."""
    top, bottom, left, right = pads
    xt = x.transpose(1, 2, 3, 0)
    if not (top or bottom or left or right):
        return xt if xt.flags.c_contiguous else np.ascontiguousarray(xt)
    c, h, w, n = xt.shape
    xp = np.full((c, h + top + bottom, w + left + right, n), fill, dtype=x.dtype)
    xp[:, top:top + h, left:left + w] = xt
    return xp


class ConvContext(NamedTuple):
    cols: np.ndarray  # (C·kh·kw, Ho·Wo·N): the im2col matrix of the padded input
    x_shape: tuple[int, int, int, int]  # (N, C, H, W)
    pads: tuple[int, int, int, int]  # (top, bottom, left, right)


class Conv2D(Layer):
    """2-D cross-correlation. x: (N, C, H, W), W: (F, C, k, k), b: (F,) -> y: (N, F, Ho, Wo)."""

    def _geometry(self, height: int, width: int):
        c = self.config
        return window_geometry(height, width, c["kernel_size"], c["stride"], c["padding"])

    def output_shape(self, input_shapes):
        c = self.config
        out_h, out_w = image_output_shape("Conv2D", "kernel", tuple(input_shapes[0]),
                                          c["kernel_size"], c["stride"], c["padding"])
        return (c["filters"], out_h, out_w)

    def dims(self, input_shapes):
        k = self.config["kernel_size"]
        return {"in_channels": input_shapes[0][0], "kh": k, "kw": k}

    def multiply_adds(self, input_shapes):
        """Every output value is one window's dot product with a filter."""
        window = math.prod(self.weight_shapes(input_shapes)["W"][1:])
        return math.prod(self.output_shape(input_shapes)) * window

    def forward(self, w, xs, training, rng, ws=FRESH):
        x = xs[0]
        n, channels, height, width = x.shape
        k, s = self.config["kernel_size"], self.config["stride"]
        pads, out_h, out_w = self._geometry(height, width)
        xp = channel_major_padded(x, pads)
        if k == 1 and s == 1:
            cols = xp.reshape(channels, -1)
        else:
            # cols[c, i, j, oh, ow, n] = xp[c, oh·s + i, ow·s + j, n]: a view, copied once.
            st = xp.strides
            view = as_strided(xp, (channels, k, k, out_h, out_w, n),
                              (st[0], st[1], st[2], st[1] * s, st[2] * s, st[3]),
                              writeable=False)
            cols = view.reshape(channels * k * k, out_h * out_w * n)
        weight = w["W"]
        out = weight.reshape(weight.shape[0], -1) @ cols  # (F, Ho·Wo·N)
        if "b" in w:
            out += w["b"][:, None]
        y = out.reshape(-1, out_h, out_w, n).transpose(3, 0, 1, 2)
        return y, ConvContext(cols, x.shape, pads)

    def backward(self, w, ctx, dy, ws=FRESH, need_dx=True):
        cols, (n, channels, height, width), (top, bottom, left, right) = ctx
        weight = w["W"]
        filters, _, k, _ = weight.shape
        s = self.config["stride"]
        out_h, out_w = dy.shape[2], dy.shape[3]
        dy2 = dy.transpose(1, 2, 3, 0).reshape(filters, -1)  # free when dy is channel-major
        grads = {"W": (dy2 @ cols.T).reshape(weight.shape)}
        if "b" in w:
            grads["b"] = dy2.sum(axis=1)
        if not need_dx:
            return [None], grads
        dcols = weight.reshape(filters, -1).T @ dy2  # (C·k·k, Ho·Wo·N)
        if k == 1 and s == 1 and not (top or bottom or left or right):
            dx = dcols.reshape(channels, height, width, n)
            return [dx.transpose(3, 0, 1, 2)], grads
        dcols = dcols.reshape(channels, k, k, out_h, out_w, n)
        dxp = np.zeros((channels, height + top + bottom, width + left + right, n), dy.dtype)
        h_span, w_span = s * (out_h - 1) + 1, s * (out_w - 1) + 1
        for i in range(k):
            for j in range(k):
                dxp[:, i:i + h_span:s, j:j + w_span:s] += dcols[:, i, j]
        dx = dxp[:, top:top + height, left:left + width]
        return [dx.transpose(3, 0, 1, 2)], grads


register_layer(LayerSpec(
    type="Conv2D", category="Convolution and pooling", layer_class=Conv2D,
    description="Slides learned square filters over an image; each filter gives one feature map.",
    formula="y[n, f, i, j] = b[f] + Σ_c,u,v W[f, c, u, v] · x[n, c, i·s + u, j·s + v]",
    params=(
        ParamSpec("filters", "int", help="Number of filters, i.e. output channels", minimum=1),
        ParamSpec("kernel_size", "int", 3, help="Height and width of each filter", minimum=1),
        ParamSpec("stride", "int", 1, help="Step between filter positions", minimum=1),
        ParamSpec("padding", "int_or_choice", "valid", choices=("valid", "same"), minimum=0,
                  help='"valid": no padding; "same": keep height and width at stride 1; '
                       "an integer: zeros added on each side"),
        ParamSpec("use_bias", "bool", True, help="Add a learned bias b per filter"),
        ParamSpec("init", "choice", "he_normal", choices=INIT_NAMES,
                  help="How W is initialised"),
    ),
    weights=(Weight("W", ("filters", "in_channels", "kh", "kw"), scheme_from("init"),
                    regularized=True),
             Weight("b", ("filters",), constant(0.0), when="use_bias")),
    key_params=("filters", "kernel_size", "stride", "padding"),
))
