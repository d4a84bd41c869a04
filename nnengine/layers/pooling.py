"""Pooling layers: MaxPool2D, AvgPool2D, GlobalAvgPool2D. Images are (N, C, H, W).

Padding: "valid" adds none; "same" is TensorFlow's (ceil(H / stride) outputs, the odd pad at
the bottom/right); an int pads that many on each side, at most pool_size // 2 (PyTorch's
rule, so every window holds at least one real value). Max pooling pads with -inf. Average
pooling divides an int-padded window by pool_size² (padded zeros count, PyTorch's
count_include_pad=True) and a "same"-padded window by its number of real values (TensorFlow).
Windows that run past the padded input are dropped (floor).

Speed: the common case (stride == pool_size, no padding) reshapes x to
(N, C, Ho, p, Wo, p) without a copy; the general case loops over the p·p window offsets,
each a vectorised strided slice. Outputs keep the memory layout of x (see conv.py).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..catalogue import LayerSpec, ParamSpec, register_layer
from ..errors import ShapeError
from .base import FRESH, Layer
from .conv import channel_major_padded, image_output_shape, window_geometry


class _Pool2D(Layer):
    """Shared config handling and geometry of the windowed pools."""

    def _window(self) -> tuple[int, int]:
        p = self.config["pool_size"]
        return p, self.config["stride"] or p

    def check_config(self):
        p, padding = self.config["pool_size"], self.config["padding"]
        if isinstance(padding, int) and padding > p // 2:
            return [(f"padding {padding} is more than half the pool size {p}; "
                     f"use at most {p // 2}")]
        return []

    def output_shape(self, input_shapes):
        p, s = self._window()
        shape = tuple(input_shapes[0])
        out_h, out_w = image_output_shape(type(self).__name__, "pool window", shape, p, s,
                                          self.config["padding"])
        return (shape[0], out_h, out_w)

    def _plan(self, x: np.ndarray):
        """(p, s, pads, out_h, out_w, fast): fast = non-overlapping windows, no padding."""
        p, s = self._window()
        pads, out_h, out_w = window_geometry(x.shape[2], x.shape[3], p, s, self.config["padding"])
        return p, s, pads, out_h, out_w, s == p and not any(pads)


def _blocks(x: np.ndarray, p: int, out_h: int, out_w: int) -> np.ndarray:
    """(N, C, H, W) -> view (N, C, Ho, p, Wo, p) of the windows; remainder rows/cols dropped."""
    n, c = x.shape[:2]
    return x[:, :, :out_h * p, :out_w * p].reshape(n, c, out_h, p, out_w, p)


def _offsets(p: int, s: int, out_h: int, out_w: int):
    """(offset index, row slice, col slice) of every window offset, in row-major order."""
    h_span, w_span = s * (out_h - 1) + 1, s * (out_w - 1) + 1
    return [(i * p + j, slice(i, i + h_span, s), slice(j, j + w_span, s))
            for i in range(p) for j in range(p)]


def _axis_order(a: np.ndarray) -> list[int]:
    return sorted(range(a.ndim), key=lambda i: -abs(a.strides[i]))


def _like(a: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """a in the memory layout of ref (same shape): NumPy is many times slower on
    element-wise ops that mix layouts, e.g. an NCHW gradient from Flatten with channel-major x."""
    if a.strides == ref.strides or _axis_order(a) == _axis_order(ref):
        return a
    out = np.empty_like(ref, dtype=a.dtype)
    out[...] = a
    return out


def _keep_first(mask: np.ndarray) -> None:
    """Leave only the first True (row-major) of each (p, p) window of mask
    (N, C, Ho, p, Wo, p), in place, so tied maxima pass the gradient once (as PyTorch).

    Explicit loops over p: ufunc.accumulate along these strided axes is ~50x slower."""
    p = mask.shape[3]
    row_any = mask[..., 0].copy(order="K")  # (N, C, Ho, p, Wo): any True so far in each window row
    for j in range(1, p):
        np.greater(mask[..., j], row_any, out=mask[..., j])  # a > b on bools: a and not b
        np.logical_or(row_any, mask[..., j], out=row_any)
    before = row_any[:, :, :, 0].copy(order="K")  # (N, C, Ho, Wo): any True in earlier rows
    for i in range(1, p):
        np.greater(mask[:, :, :, i], before[..., None], out=mask[:, :, :, i])
        if i < p - 1:
            np.logical_or(before, row_any[:, :, :, i], out=before)


class BlockMaxContext(NamedTuple):
    """Non-overlapping, unpadded windows: the gradient goes to where x equals the max."""

    x: np.ndarray
    y: np.ndarray


class WindowMaxContext(NamedTuple):
    """General windows: which offset of each window held its maximum."""

    x: np.ndarray
    argmax: np.ndarray  # (N, C, Ho, Wo) offset index i·p + j
    pads: tuple[int, int, int, int]


class AvgContext(NamedTuple):
    x: np.ndarray
    divisor: float | np.ndarray  # p², or (Ho, Wo) counts of real values ("same" padding)
    y: np.ndarray


class MaxPool2D(_Pool2D):
    """Largest value of each window. x: (N, C, H, W) -> y: (N, C, Ho, Wo)."""

    def forward(self, w, xs, training, rng, ws=FRESH):
        x = xs[0]
        p, s, pads, out_h, out_w, fast = self._plan(x)
        if fast:
            xb = _blocks(x, p, out_h, out_w)
            y = np.copy(xb[:, :, :, 0, :, 0], order="K")
            for i in range(p):
                for j in range(p):
                    if i or j:
                        np.maximum(y, xb[:, :, :, i, :, j], out=y)
            return y, BlockMaxContext(x, y)
        xp = channel_major_padded(x, pads, -np.inf).transpose(3, 0, 1, 2)
        offsets = _offsets(p, s, out_h, out_w)
        y = np.copy(xp[:, :, offsets[0][1], offsets[0][2]], order="K")
        argmax = np.zeros_like(y, dtype=np.uint16 if p * p > 255 else np.uint8)
        better = np.empty_like(y, dtype=bool)
        for o, rows, cols in offsets[1:]:
            window = xp[:, :, rows, cols]
            np.greater(window, y, out=better)  # strict: the first maximum wins ties
            np.copyto(argmax, o, where=better)
            np.maximum(y, window, out=y)
        return y, WindowMaxContext(x, argmax, pads)

    def backward(self, w, ctx, dy, ws=FRESH, need_dx=True):
        x = ctx.x
        p, s, _, out_h, out_w, _ = self._plan(x)
        if isinstance(ctx, BlockMaxContext):
            y = ctx.y
            dy = _like(dy, y)
            xb = _blocks(x, p, out_h, out_w)
            mask = xb == y[:, :, :, None, :, None]
            if np.count_nonzero(mask) != y.size:
                _keep_first(mask)
            covered = out_h * p == x.shape[2] and out_w * p == x.shape[3]
            dx = np.empty_like(x) if covered else np.zeros_like(x)
            np.multiply(mask, dy[:, :, :, None, :, None], out=_blocks(dx, p, out_h, out_w))
            return [dx], {}
        top, bottom, left, right = ctx.pads
        n, c, height, width = x.shape
        dxp = np.zeros((c, height + top + bottom, width + left + right, n), dy.dtype)
        dxp_v = dxp.transpose(3, 0, 1, 2)
        argmax = ctx.argmax
        dy = _like(dy, argmax)
        hit = np.empty_like(argmax, dtype=bool)
        part = np.empty_like(dy)
        for o, rows, cols in _offsets(p, s, out_h, out_w):
            np.equal(argmax, o, out=hit)
            np.multiply(hit, dy, out=part)
            dxp_v[:, :, rows, cols] += part
        return [dxp_v[:, :, top:top + height, left:left + width]], {}


class AvgPool2D(_Pool2D):
    """Mean of each window. x: (N, C, H, W) -> y: (N, C, Ho, Wo)."""

    def _divisor(self, x: np.ndarray, p, s, pads, out_h, out_w):
        """p² (a float), or for "same" padding the (Ho, Wo) count of real values per window."""
        if self.config["padding"] != "same" or not any(pads):
            return float(p * p)
        top, _, left, _ = pads

        def real(size, before, out):
            start = np.arange(out) * s - before
            return np.minimum(start + p, size) - np.maximum(start, 0)

        counts = np.outer(real(x.shape[2], top, out_h), real(x.shape[3], left, out_w))
        return counts.astype(x.dtype)

    def forward(self, w, xs, training, rng, ws=FRESH):
        x = xs[0]
        p, s, pads, out_h, out_w, fast = self._plan(x)
        if fast:
            xv = _blocks(x, p, out_h, out_w)
            offsets = [(slice(None), slice(None), slice(None), i, slice(None), j)
                       for i in range(p) for j in range(p)]
        else:
            xv = channel_major_padded(x, pads).transpose(3, 0, 1, 2)
            offsets = [(slice(None), slice(None), rows, cols)
                       for _, rows, cols in _offsets(p, s, out_h, out_w)]
        y = np.copy(xv[offsets[0]], order="K")
        for index in offsets[1:]:
            y += xv[index]
        divisor = self._divisor(x, p, s, pads, out_h, out_w)
        if isinstance(divisor, float):
            y *= 1.0 / divisor
        else:
            y /= divisor
        return y, AvgContext(x, divisor, y)

    def backward(self, w, ctx, dy, ws=FRESH, need_dx=True):
        x, divisor, y = ctx
        dy = _like(dy, y)
        n, c, height, width = x.shape
        p, s = self._window()
        pads, out_h, out_w = window_geometry(height, width, p, s, self.config["padding"])
        g = dy * (1.0 / divisor) if isinstance(divisor, float) else dy / divisor
        if s == p and not any(pads):
            dx = np.zeros_like(x, dtype=dy.dtype)
            np.copyto(_blocks(dx, p, out_h, out_w), g[:, :, :, None, :, None])
            return [dx], {}
        top, bottom, left, right = pads
        dxp = np.zeros((c, height + top + bottom, width + left + right, n), dy.dtype)
        dxp_v = dxp.transpose(3, 0, 1, 2)
        for _, rows, cols in _offsets(p, s, out_h, out_w):
            dxp_v[:, :, rows, cols] += g
        return [dxp_v[:, :, top:top + height, left:left + width]], {}


class GlobalAvgPool2D(Layer):
    """Mean of each feature map. x: (N, C, H, W) -> y: (N, C)."""

    def output_shape(self, input_shapes):
        shape = tuple(input_shapes[0])
        if len(shape) != 3:
            raise ShapeError(
                f"GlobalAvgPool2D needs input (channels, height, width), received shape "
                f"{list(shape)}; insert a Reshape before it", code="needs_reshape")
        return (shape[0],)

    def forward(self, w, xs, training, rng, ws=FRESH):
        x = xs[0]
        return x.mean(axis=(2, 3)), x

    def backward(self, w, x, dy, ws=FRESH, need_dx=True):
        dx = np.empty_like(x)
        dx[...] = (dy * (1.0 / (x.shape[2] * x.shape[3])))[:, :, None, None]
        return [dx], {}


_POOL_PARAMS = (
    ParamSpec("pool_size", "int", 2, help="Height and width of each window", minimum=1),
    ParamSpec("stride", "int", None, nullable=True, minimum=1,
              help="Step between windows; empty = pool_size (windows side by side)"),
    ParamSpec("padding", "int_or_choice", "valid", choices=("valid", "same"), minimum=0,
              help='"valid": no padding; "same": ceil(size / stride) outputs; '
                   "an integer: added on each side (at most pool_size // 2)"),
)

register_layer(LayerSpec(
    type="MaxPool2D", category="Convolution and pooling", layer_class=MaxPool2D,
    description="Keeps the largest value of each window, shrinking every feature map.",
    formula="y[n, c, i, j] = max_u,v x[n, c, i·s + u, j·s + v]",
    params=_POOL_PARAMS, key_params=("pool_size", "stride"),
))

register_layer(LayerSpec(
    type="AvgPool2D", category="Convolution and pooling", layer_class=AvgPool2D,
    description="Averages each window, shrinking every feature map.",
    formula="y[n, c, i, j] = mean_u,v x[n, c, i·s + u, j·s + v]",
    params=_POOL_PARAMS, key_params=("pool_size", "stride"),
))

register_layer(LayerSpec(
    type="GlobalAvgPool2D", category="Convolution and pooling", layer_class=GlobalAvgPool2D,
    description="Averages each feature map to one number: (C, H, W) becomes (C,).",
    formula="y[n, c] = mean_i,j x[n, c, i, j]",
    params=(),
))
