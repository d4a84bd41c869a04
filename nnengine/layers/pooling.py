"""Pooling layers: MaxPool2D, AvgPool2D, GlobalAvgPool2D. Images are (N, C, H, W).

Windows (pool_size, stride) and integer padding are an int or (h, w). Padding: "valid" adds
none; "same" is TensorFlow's (ceil(H / stride) outputs, the odd pad at the bottom/right); an
int pads that many on each side, at most half the window (PyTorch's rule, so every window
holds at least one real value). Max pooling pads with -inf. Average pooling divides an
int-padded window by ph·pw (padded zeros count, PyTorch's count_include_pad=True) and a
"same"-padded window by its number of real values (TensorFlow). Windows that run past the
padded input are dropped (floor).

Speed: the common case (stride == pool_size, no padding) reshapes x to
(N, C, Ho, ph, Wo, pw) without a copy; the general case loops over the ph·pw window offsets,
each a vectorised strided slice. Outputs keep the memory layout of x (see conv.py), in
workspace buffers (see base.py). The common case runs on the engine's worker threads by
channels when x is large (`gemm.in_parts`).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..catalogue import LayerSpec, ParamSpec, register_layer
from ..errors import ShapeError
from ..gemm import in_parts
from .base import FRESH, Layer
from .conv import (
    Pair,
    channel_major_padded,
    image_output_shape,
    in_layout_of,
    pair,
    window_geometry,
)
from .means import mean_into


class Plan(NamedTuple):
    """Where the windows of one input go."""

    window: Pair  # (ph, pw)
    stride: Pair  # (sh, sw)
    pads: tuple[int, int, int, int]  # (top, bottom, left, right)
    out_h: int
    out_w: int
    fast: bool  # windows side by side, no padding: x reshapes to its windows


class _Pool2D(Layer):
    """Shared config handling and geometry of the windowed pools."""

    def _window(self) -> tuple[Pair, Pair]:
        p = pair(self.config["pool_size"])
        stride = self.config["stride"]
        return p, p if stride is None else pair(stride)

    def check_config(self):
        padding = self.config["padding"]
        if isinstance(padding, str):
            return []
        (ph, pw), (pad_h, pad_w) = pair(self.config["pool_size"]), pair(padding)
        if pad_h > ph // 2 or pad_w > pw // 2:
            return [(f"padding {padding} is more than half the pool size "
                     f"{self.config['pool_size']}; use at most {ph // 2} (height) and "
                     f"{pw // 2} (width)")]
        return []

    def output_shape(self, input_shapes):
        p, s = self._window()
        shape = tuple(input_shapes[0])
        out_h, out_w = image_output_shape(type(self).__name__, "pool window", shape, p, s,
                                          self.config["padding"])
        return (shape[0], out_h, out_w)

    def _plan(self, x: np.ndarray) -> Plan:
        p, s = self._window()
        pads, out_h, out_w = window_geometry(x.shape[2], x.shape[3], p, s, self.config["padding"])
        return Plan(p, s, pads, out_h, out_w, s == p and not any(pads))


def _blocks(x: np.ndarray, plan: Plan) -> np.ndarray:
    """(N, C, H, W) -> view (N, C, Ho, ph, Wo, pw) of the windows; remainder rows/cols
    dropped."""
    (ph, pw), n, c = plan.window, x.shape[0], x.shape[1]
    return x[:, :, :plan.out_h * ph, :plan.out_w * pw].reshape(n, c, plan.out_h, ph,
                                                                 plan.out_w, pw)


def _offsets(plan: Plan):
    """(offset index, row slice, col slice) of every window offset, in row-major order."""
    (ph, pw), (sh, sw) = plan.window, plan.stride
    h_span, w_span = sh * (plan.out_h - 1) + 1, sw * (plan.out_w - 1) + 1
    return [(i * pw + j, slice(i, i + h_span, sh), slice(j, j + w_span, sw))
            for i in range(ph) for j in range(pw)]


def _keep_first(mask: np.ndarray, row_any: np.ndarray, before: np.ndarray) -> None:
    """Leave only the first True (row-major) of each (ph, pw) window of mask
    (N, C, Ho, ph, Wo, pw), in place, so tied maxima pass the gradient once (as PyTorch).
    row_any (N, C, Ho, ph, Wo) and before (N, C, Ho, Wo) are bool scratch buffers.

    Explicit loops over the window: ufunc.accumulate along these strided axes is ~50x
    slower."""
    ph, pw = mask.shape[3], mask.shape[5]
    # any True so far in each window row
    np.copyto(row_any, mask[..., 0])
    for j in range(1, pw):
        np.greater(mask[..., j], row_any, out=mask[..., j])  # a > b on bools: a and not b
        np.logical_or(row_any, mask[..., j], out=row_any)
    # any True in earlier rows
    np.copyto(before, row_any[:, :, :, 0])
    for i in range(1, ph):
        np.greater(mask[:, :, :, i], before[..., None], out=mask[:, :, :, i])
        if i < ph - 1:
            np.logical_or(before, row_any[:, :, :, i], out=before)


class BlockMaxContext(NamedTuple):
    """Non-overlapping, unpadded windows: the gradient goes to where x equals the max."""

    x: np.ndarray
    y: np.ndarray


class WindowMaxContext(NamedTuple):
    """General windows: which offset of each window held its maximum."""

    x: np.ndarray
    argmax: np.ndarray  # (N, C, Ho, Wo) offset index i·pw + j


class AvgContext(NamedTuple):
    x: np.ndarray
    divisor: float | np.ndarray  # ph·pw, or (Ho, Wo) counts of real values ("same" padding)
    y: np.ndarray


class MaxPool2D(_Pool2D):
    """Largest value of each window. x: (N, C, H, W) -> y: (N, C, Ho, Wo)."""

    def forward(self, w, xs, training, rng, ws=FRESH):
        x = xs[0]
        plan = self._plan(x)
        n, c = x.shape[:2]
        y = ws.like("y", x, (n, c, plan.out_h, plan.out_w))
        ph, pw = plan.window
        if plan.fast:
            xb = _blocks(x, plan)

            def pool(part: slice) -> None:  # channels never share memory: split by them
                xp, yp = xb[:, part], y[:, part]
                np.copyto(yp, xp[:, :, :, 0, :, 0])
                for i in range(ph):
                    for j in range(pw):
                        if i or j:
                            np.maximum(yp, xp[:, :, :, i, :, j], out=yp)

            in_parts(pool, c, x.size)
            return y, BlockMaxContext(x, y)
        xp = channel_major_padded(x, plan.pads, ws, "padded", -np.inf).transpose(3, 0, 1, 2)
        offsets = _offsets(plan)
        np.copyto(y, xp[:, :, offsets[0][1], offsets[0][2]])
        argmax = ws.like("argmax", y, dtype=np.uint16 if ph * pw > 255 else np.uint8)
        argmax.fill(0)
        better = ws.like("better", y, dtype=bool)
        for o, rows, cols in offsets[1:]:
            window = xp[:, :, rows, cols]
            np.greater(window, y, out=better)  # strict: the first maximum wins ties
            np.copyto(argmax, o, where=better)
            np.maximum(y, window, out=y)
        return y, WindowMaxContext(x, argmax)

    def backward(self, w, ctx, dy, ws=FRESH, need_dx=True):
        if not need_dx:
            return [None], {}
        x = ctx.x
        plan = self._plan(x)
        if isinstance(ctx, BlockMaxContext):
            y = ctx.y
            dy = in_layout_of(dy, y, ws, "dy")
            xb = _blocks(x, plan)
            mask = _blocks(ws.like("mask", x, dtype=bool), plan)
            row_any = ws.like("row_any", mask[..., 0])
            before = ws.like("before", y, dtype=bool)
            (ph, pw), height, width = plan.window, x.shape[2], x.shape[3]
            covered = plan.out_h * ph == height and plan.out_w * pw == width
            dx = ws.like("dx", x, dtype=dy.dtype)
            dxb = _blocks(dx, plan)

            def route(part: slice) -> None:  # channels never share memory: split by them
                m, yp = mask[:, part], y[:, part, :, None, :, None]
                np.equal(xb[:, part], yp, out=m)
                if np.count_nonzero(m) != yp.size:
                    _keep_first(m, row_any[:, part], before[:, part])
                if not covered:
                    dx[:, part] = 0
                np.multiply(m, dy[:, part, :, None, :, None], out=dxb[:, part])

            in_parts(route, x.shape[1], x.size)
            return [dx], {}
        top, bottom, left, right = plan.pads
        n, c, height, width = x.shape
        dxp = ws.zeros("dx", (c, height + top + bottom, width + left + right, n), dy.dtype)
        dxp_v = dxp.transpose(3, 0, 1, 2)
        argmax = ctx.argmax
        dy = in_layout_of(dy, argmax, ws, "dy")
        hit = ws.like("hit", argmax, dtype=bool)
        part = ws.like("part", dy)
        for o, rows, cols in _offsets(plan):
            np.equal(argmax, o, out=hit)
            np.multiply(hit, dy, out=part)
            target = dxp_v[:, :, rows, cols]
            np.add(target, part, out=target)
        return [dxp_v[:, :, top:top + height, left:left + width]], {}


class AvgPool2D(_Pool2D):
    """Mean of each window. x: (N, C, H, W) -> y: (N, C, Ho, Wo)."""

    def _divisor(self, x: np.ndarray, plan: Plan):
        """ph·pw (a float), or for "same" padding the (Ho, Wo) count of real values per
        window."""
        (ph, pw), (sh, sw) = plan.window, plan.stride
        if self.config["padding"] != "same" or not any(plan.pads):
            return float(ph * pw)
        top, _, left, _ = plan.pads

        def real(size, before, out, p, s):
            start = np.arange(out) * s - before
            return np.minimum(start + p, size) - np.maximum(start, 0)

        counts = np.outer(real(x.shape[2], top, plan.out_h, ph, sh),
                          real(x.shape[3], left, plan.out_w, pw, sw))
        return counts.astype(x.dtype)

    def forward(self, w, xs, training, rng, ws=FRESH):
        x = xs[0]
        plan = self._plan(x)
        ph, pw = plan.window
        if plan.fast:
            xv = _blocks(x, plan)
            offsets = [(slice(None), slice(None), slice(None), i, slice(None), j)
                       for i in range(ph) for j in range(pw)]
        else:
            xv = channel_major_padded(x, plan.pads, ws, "padded").transpose(3, 0, 1, 2)
            offsets = [(slice(None), slice(None), rows, cols)
                       for _, rows, cols in _offsets(plan)]
        y = ws.like("y", x, (*x.shape[:2], plan.out_h, plan.out_w))
        np.copyto(y, xv[offsets[0]])
        for index in offsets[1:]:
            y += xv[index]
        divisor = self._divisor(x, plan)
        if isinstance(divisor, float):
            y *= 1.0 / divisor
        else:
            y /= divisor
        return y, AvgContext(x, divisor, y)

    def backward(self, w, ctx, dy, ws=FRESH, need_dx=True):
        if not need_dx:
            return [None], {}
        x, divisor, y = ctx
        dy = in_layout_of(dy, y, ws, "dy")
        n, c, height, width = x.shape
        plan = self._plan(x)
        g = ws.like("g", dy)
        if isinstance(divisor, float):
            np.multiply(dy, 1.0 / divisor, out=g)
        else:
            np.divide(dy, divisor, out=g)
        if plan.fast:
            dx = ws.like("dx", x, dtype=dy.dtype)
            dx.fill(0)
            np.copyto(_blocks(dx, plan), g[:, :, :, None, :, None])
            return [dx], {}
        top, bottom, left, right = plan.pads
        dxp = ws.zeros("dx", (c, height + top + bottom, width + left + right, n), dy.dtype)
        dxp_v = dxp.transpose(3, 0, 1, 2)
        for _, rows, cols in _offsets(plan):
            target = dxp_v[:, :, rows, cols]
            np.add(target, g, out=target)
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
        # The output in x's memory layout, as NumPy's own x.mean(axis=(2, 3)) allocates it:
        # the layout decides the order of the sums, so this keeps their bits.
        y = mean_into(x, (2, 3), ws.like("y", x, (*x.shape[:2], 1, 1)), keepdims=True)
        return y[:, :, 0, 0], x

    def backward(self, w, x, dy, ws=FRESH, need_dx=True):
        if not need_dx:
            return [None], {}
        share = np.multiply(dy, 1.0 / (x.shape[2] * x.shape[3]), out=ws.like("share", dy))
        dx = ws.like("dx", x, dtype=dy.dtype)
        np.copyto(dx, share[:, :, None, None])
        return [dx], {}


_POOL_PARAMS = (
    ParamSpec("pool_size", "window", 2, minimum=1,
              help="Size of each window: an integer (square) or height, width"),
    ParamSpec("stride", "window", None, nullable=True, minimum=1,
              help="Step between windows (an integer or height, width); "
                   "empty = pool_size (windows side by side)"),
    ParamSpec("padding", "int_or_choice", "valid", choices=("valid", "same"), minimum=0,
              help='"valid": no padding; "same": ceil(size / stride) outputs; '
                   "an integer (or height, width): added on each side (at most half the "
                   "pool size)"),
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
