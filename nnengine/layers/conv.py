"""Conv2D, plus the window geometry (padding, output size) and the memory layout helpers that
the pooling layers share. Window sizes, strides and integer paddings are an int or (h, w).

Speed: im2col is one strided view of the padded input copied once, the forward is one GEMM
and the backward two; col2im loops over the kh·kw kernel offsets only. On large feature maps
these copies and adds run on the engine's worker threads (`gemm.in_parts`, by output rows or
by channels), as the large products do. Internally images are
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
from ..gemm import in_parts, matmul
from ..initializers import INIT_NAMES, constant, scheme_from
from .base import FRESH, Layer, Workspace, axis_order

Pair = tuple[int, int]


def pair(value: int | list[int] | tuple[int, int]) -> Pair:
    """(h, w) of a window parameter given as an int (square) or a pair [h, w]."""
    if isinstance(value, (list, tuple)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _same_pads(size: int, window: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "same": ceil(size / stride) outputs; the odd pad goes after (bottom/right)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def window_geometry(height: int, width: int, window, stride, padding
                    ) -> tuple[tuple[int, int, int, int], int, int]:
    """((top, bottom, left, right) pads, out_height, out_width) of a sliding window.

    `window` and `stride` are an int or (h, w); `padding` is "valid", "same", an int or
    (h, w). An out size of 0 or less means the window does not fit; windows that would run
    past the padded input are dropped (floor)."""
    if not isinstance(padding, str):
        padding = pair(padding)
    return _geometry(height, width, pair(window), pair(stride), padding)


@lru_cache(maxsize=256)
def _geometry(height: int, width: int, window: Pair, stride: Pair, padding: str | Pair):
    (kh, kw), (sh, sw) = window, stride
    if padding == "same":
        top, bottom = _same_pads(height, kh, sh)
        left, right = _same_pads(width, kw, sw)
    else:
        top, left = (0, 0) if padding == "valid" else padding
        bottom, right = top, left
    out_h = (height + top + bottom - kh) // sh + 1
    out_w = (width + left + right - kw) // sw + 1
    return (top, bottom, left, right), out_h, out_w


def image_output_shape(layer_type: str, what: str, input_shape: tuple[int, ...], window,
                       stride, padding) -> tuple[int, int]:
    """(out_height, out_width) for a (C, H, W) input; ShapeError when it is not 3-D or the
    window does not fit. `what` names the window in messages ("kernel", "pool window")."""
    if len(input_shape) != 3:
        raise ShapeError(
            f"{layer_type} needs input (channels, height, width), received shape "
            f"{list(input_shape)}; insert a Reshape before it", code="needs_reshape")
    _, height, width = input_shape
    _, out_h, out_w = window_geometry(height, width, window, stride, padding)
    if out_h < 1 or out_w < 1:
        kh, kw = pair(window)
        shown = 0 if padding == "valid" else padding
        raise ShapeError(
            f"{what} {kh}x{kw} does not fit the {height}x{width} input "
            f"(with padding {shown})")
    return out_h, out_w


def in_layout_of(a: np.ndarray, ref: np.ndarray, ws: Workspace, name: str) -> np.ndarray:
    """a itself when its memory runs like ref's, else a copy in ref's layout."""
    if a.strides == ref.strides or axis_order(a.strides) == axis_order(ref.strides):
        return a
    out = ws.like(name, ref, a.shape, a.dtype)
    out[...] = a
    return out


def channel_major_padded(x: np.ndarray, pads: tuple[int, int, int, int], ws: Workspace,
                         name: str, fill: float = 0.0) -> np.ndarray:
    """x: (N, C, H, W) -> C-contiguous (C, H + top + bottom, W + left + right, N): x's own
    memory when x is channel-major and unpadded, else a workspace copy."""
    top, bottom, left, right = pads
    xt = x.transpose(1, 2, 3, 0)
    if not (top or bottom or left or right) and xt.flags.c_contiguous:
        return xt
    c, h, w, n = xt.shape
    xp = ws.empty(name, (c, h + top + bottom, w + left + right, n), x.dtype)
    xp[:, :top] = fill
    xp[:, top + h:] = fill
    xp[:, top:top + h, :left] = fill
    xp[:, top:top + h, left + w:] = fill

    def copy(part: slice) -> None:
        xp[part, top:top + h, left:left + w] = xt[part]

    in_parts(copy, c, xt.size)
    return xp


def flat_channels(a: np.ndarray, ws: Workspace, name: str) -> np.ndarray:
    """a: (N, C, H, W) -> (C, H·W·N), free when a is channel-major, else a workspace copy."""
    n, c, h, w = a.shape
    at = a.transpose(1, 2, 3, 0)
    if at.flags.c_contiguous:
        return at.reshape(c, -1)
    out = ws.empty(name, (c, h, w, n), a.dtype)
    out[...] = at
    return out.reshape(c, -1)


class ConvContext(NamedTuple):
    cols: np.ndarray  # (C·kh·kw, Ho·Wo·N): the im2col matrix of the padded input
    x_shape: tuple[int, int, int, int]  # (N, C, H, W)
    pads: tuple[int, int, int, int]  # (top, bottom, left, right)


class Conv2D(Layer):
    """2-D cross-correlation. x: (N, C, H, W), W: (F, C, kh, kw), b: (F,) -> y: (N, F, Ho, Wo)."""

    def output_shape(self, input_shapes):
        c = self.config
        out_h, out_w = image_output_shape("Conv2D", "kernel", tuple(input_shapes[0]),
                                          c["kernel_size"], c["stride"], c["padding"])
        return (c["filters"], out_h, out_w)

    def dims(self, input_shapes):
        kh, kw = pair(self.config["kernel_size"])
        return {"in_channels": input_shapes[0][0], "kh": kh, "kw": kw}

    def multiply_adds(self, input_shapes):
        """Every output value is one window's dot product with a filter."""
        window = math.prod(self.weight_shapes(input_shapes)["W"][1:])
        return math.prod(self.output_shape(input_shapes)) * window

    def forward(self, w, xs, training, rng, ws=FRESH):
        x = xs[0]
        n, channels, height, width = x.shape
        c = self.config
        (kh, kw), (sh, sw) = pair(c["kernel_size"]), pair(c["stride"])
        pads, out_h, out_w = window_geometry(height, width, c["kernel_size"], c["stride"],
                                             c["padding"])
        xp = channel_major_padded(x, pads, ws, "padded")
        if kh == kw == sh == sw == 1:
            cols = xp.reshape(channels, -1)
        else:
            # cols[c, i, j, oh, ow, n] = xp[c, oh·sh + i, ow·sw + j, n]: a view, copied once.
            st = xp.strides
            view = as_strided(xp, (channels, kh, kw, out_h, out_w, n),
                              (st[0], st[1], st[2], st[1] * sh, st[2] * sw, st[3]),
                              writeable=False)
            cols = ws.empty("cols", (channels * kh * kw, out_h * out_w * n), x.dtype)
            cols6 = cols.reshape(view.shape)

            def copy(rows: slice) -> None:
                cols6[:, :, :, rows] = view[:, :, :, rows]

            in_parts(copy, out_h, cols.size)
        weight = w["W"]
        filters = weight.shape[0]
        out = matmul(weight.reshape(filters, -1), cols,
                     ws.empty("y", (filters, out_h * out_w * n), weight.dtype))
        if "b" in w:
            b = w["b"][:, None]
            in_parts(lambda part: np.add(out[part], b[part], out=out[part]), filters, out.size)
        y = out.reshape(-1, out_h, out_w, n).transpose(3, 0, 1, 2)
        return y, ConvContext(cols, x.shape, pads)

    def backward(self, w, ctx, dy, ws=FRESH, need_dx=True):
        cols, (n, channels, height, width), (top, bottom, left, right) = ctx
        weight = w["W"]
        filters, _, kh, kw = weight.shape
        sh, sw = pair(self.config["stride"])
        out_h, out_w = dy.shape[2], dy.shape[3]
        dy2 = flat_channels(dy, ws, "dy")  # (F, Ho·Wo·N)
        dw = ws.empty("dW", weight.shape, weight.dtype)
        if cols.shape[0] > filters:
            # Into a column-major buffer: BLAS then multiplies cols by dy2ᵀ, which runs ~1.5x
            # faster for the digits CNN's second layer (144 rows of cols, 32 filters) and
            # slower for a first layer (9 rows); one small copy makes it weight-shaped.
            dw_t = ws.empty("dW_t", (cols.shape[0], filters), weight.dtype)
            matmul(dy2, cols.T, dw_t.T)
            np.copyto(dw.reshape(filters, -1), dw_t.T)
        else:
            matmul(dy2, cols.T, dw.reshape(filters, -1))
        grads = {"W": dw}
        if "b" in w:
            db = grads["b"] = ws.empty("db", (filters,), weight.dtype)
            # each filter's sum on its own, as whole (NumPy sums every row pairwise)
            in_parts(lambda part: np.sum(dy2[part], axis=1, out=db[part]), filters, dy2.size)
        if not need_dx:
            return [None], grads
        dcols = matmul(weight.reshape(filters, -1).T, dy2,
                       ws.empty("dcols", cols.shape, weight.dtype))  # (C·kh·kw, Ho·Wo·N)
        if kh == kw == sh == sw == 1 and not (top or bottom or left or right):
            dx = dcols.reshape(channels, height, width, n)
            return [dx.transpose(3, 0, 1, 2)], grads
        dcols = dcols.reshape(channels, kh, kw, out_h, out_w, n)
        dx = ws.empty("dx", (channels, height, width, n), weight.dtype)
        # Only what lands inside the input: gradients on the padding would be thrown away.
        rows = [_landing(i, top, height, sh, out_h) for i in range(kh)]
        columns = [_landing(j, left, width, sw, out_w) for j in range(kw)]

        def col2im(part: slice) -> None:  # channels never share memory: split by them
            dx[part] = 0
            for i, (out_rows, in_rows) in enumerate(rows):
                for j, (out_cols, in_cols) in enumerate(columns):
                    target = dx[part, in_rows, in_cols]
                    np.add(target, dcols[part, i, j, out_rows, out_cols], out=target)

        in_parts(col2im, channels, dcols.size)
        return [dx.transpose(3, 0, 1, 2)], grads


def _landing(offset: int, before: int, size: int, stride: int, out: int) -> tuple[slice, slice]:
    """Along one axis, for kernel offset `offset`: (the outputs o whose input o·stride +
    offset − before lies inside [0, size), those inputs); both empty when none does."""
    first = max(0, -((offset - before) // stride))  # ceil((before - offset) / stride)
    last = min(out - 1, (before + size - 1 - offset) // stride)
    if last < first:
        return slice(0, 0), slice(0, 0)
    start = first * stride + offset - before
    return slice(first, last + 1), slice(start, start + (last - first) * stride + 1, stride)


register_layer(LayerSpec(
    type="Conv2D", category="Convolution and pooling", layer_class=Conv2D,
    description="Slides learned filters over an image; each filter gives one feature map.",
    formula="y[n, f, i, j] = b[f] + Σ_c,u,v W[f, c, u, v] · x[n, c, i·sh + u, j·sw + v]",
    params=(
        ParamSpec("filters", "int", help="Number of filters, i.e. output channels", minimum=1),
        ParamSpec("kernel_size", "window", 3, minimum=1,
                  help="Size of each filter: an integer (square) or height, width"),
        ParamSpec("stride", "window", 1, minimum=1,
                  help="Step between filter positions: an integer or height, width"),
        ParamSpec("padding", "int_or_choice", "valid", choices=("valid", "same"), minimum=0,
                  help='"valid": no padding; "same": keep height and width at stride 1; '
                       "an integer (or height, width): zeros added on each side"),
        ParamSpec("use_bias", "bool", True, help="Add a learned bias b per filter"),
        ParamSpec("init", "choice", "he_normal", choices=INIT_NAMES,
                  help="How W is initialised"),
    ),
    weights=(Weight("W", ("filters", "in_channels", "kh", "kw"), scheme_from("init"),
                    regularized=True),
             Weight("b", ("filters",), constant(0.0), when="use_bias")),
    key_params=("filters", "kernel_size", "stride", "padding"),
))
