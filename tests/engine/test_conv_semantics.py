"""What the contract test cannot see about Conv2D and the pools: values equal slow reference
implementations, "same" shapes, first-maximum routing of ties, padding semantics, user-facing
errors, dtypes and independence from the memory layout of the arrays passed in."""
from __future__ import annotations

import math

import numpy as np
import pytest

from nnengine.catalogue import layer_spec
from nnengine.errors import ShapeError


def make(type_name: str, **params):
    spec = layer_spec(type_name)
    config, problems = spec.resolve(params)
    assert not problems, problems
    return spec.layer_class(config)


def run(layer, x, w=None, dy=None):
    y, ctx = layer.forward(w or {}, [x], True, None)
    if dy is None:
        return y
    (dx,), grads = layer.backward(w or {}, ctx, dy)
    return y, dx, grads


def hw(value):
    """(h, w) of an int or a pair (test only)."""
    return tuple(value) if isinstance(value, (list, tuple)) else (value, value)


def pads_for(padding, size, window, stride):
    """(before, after) along one axis, written out independently of the engine's geometry."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        total = max((math.ceil(size / stride) - 1) * stride + window - size, 0)
        return total // 2, total - total // 2
    return padding, padding


def padded(x, padding, window, stride, fill=0.0):
    (wh, ww), (sh, sw) = hw(window), hw(stride)
    ph, pw = (padding, padding) if isinstance(padding, str) else hw(padding)
    top, bottom = pads_for(ph, x.shape[2], wh, sh)
    left, right = pads_for(pw, x.shape[3], ww, sw)
    n, c, h, w = x.shape
    xp = np.full((n, c, h + top + bottom, w + left + right), fill)
    xp[:, :, top:top + h, left:left + w] = x
    real = np.zeros(xp.shape[2:])
    real[top:top + h, left:left + w] = 1
    return xp, real


def reference_conv(x, weight, bias, stride, padding):
    """Plain loops over samples, filters and output pixels (test only)."""
    filters, _, kh, kw = weight.shape
    sh, sw = hw(stride)
    xp, _ = padded(x, padding, (kh, kw), stride)
    out_h = (xp.shape[2] - kh) // sh + 1
    out_w = (xp.shape[3] - kw) // sw + 1
    y = np.zeros((x.shape[0], filters, out_h, out_w))
    for n in range(x.shape[0]):
        for f in range(filters):
            for i in range(out_h):
                for j in range(out_w):
                    patch = xp[n, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
                    y[n, f, i, j] = np.sum(patch * weight[f]) + (bias[f] if bias is not None
                                                                 else 0.0)
    return y


def reference_pool(x, kind, p, stride, padding):
    """Plain loops over every window; "same" average counts only real values (test only)."""
    xp, real = padded(x, padding, p, stride, -np.inf if kind == "max" else 0.0)
    (ph, pw), (sh, sw) = hw(p), hw(stride)
    out_h = (xp.shape[2] - ph) // sh + 1
    out_w = (xp.shape[3] - pw) // sw + 1
    y = np.zeros((*x.shape[:2], out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            rows, cols = slice(i * sh, i * sh + ph), slice(j * sw, j * sw + pw)
            window = xp[:, :, rows, cols]
            if kind == "max":
                y[:, :, i, j] = window.max(axis=(2, 3))
            else:
                count = real[rows, cols].sum() if padding == "same" else ph * pw
                y[:, :, i, j] = window.sum(axis=(2, 3)) / count
    return y


CONV_CONFIGS = [
    {"filters": 3, "kernel_size": 3, "stride": 1, "padding": "valid", "use_bias": True},
    {"filters": 2, "kernel_size": 3, "stride": 1, "padding": "same", "use_bias": True},
    {"filters": 2, "kernel_size": 2, "stride": 1, "padding": "same", "use_bias": True},
    {"filters": 2, "kernel_size": 4, "stride": 1, "padding": "same", "use_bias": False},
    {"filters": 4, "kernel_size": 3, "stride": 2, "padding": 1, "use_bias": True},
    {"filters": 2, "kernel_size": 3, "stride": 2, "padding": "same", "use_bias": True},
    {"filters": 2, "kernel_size": 2, "stride": 3, "padding": "valid", "use_bias": True},
    {"filters": 2, "kernel_size": 1, "stride": 1, "padding": "valid", "use_bias": True},
    {"filters": 3, "kernel_size": 5, "stride": 1, "padding": 2, "use_bias": False},
    {"filters": 2, "kernel_size": [2, 3], "stride": [1, 2], "padding": [1, 0],
     "use_bias": True},
    {"filters": 2, "kernel_size": [3, 1], "stride": [2, 1], "padding": "same",
     "use_bias": True},
    {"filters": 2, "kernel_size": [1, 4], "stride": 1, "padding": "valid", "use_bias": False},
]


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("cfg", CONV_CONFIGS, ids=lambda c: "-".join(map(str, c.values())))
def test_conv_matches_reference(cfg, channels):
    rng = np.random.default_rng(0)
    layer = make("Conv2D", **cfg)
    shape = (channels, 7, 6)
    w = layer.init_weights([shape], rng, np.float64)
    if "b" in w:
        w["b"] = rng.normal(size=w["b"].shape)
    x = rng.normal(size=(2, *shape))
    y = run(layer, x, w)
    expected = reference_conv(x, w["W"], w.get("b"), cfg["stride"], cfg["padding"])
    assert y.shape == expected.shape == (2, *layer.output_shape([shape]))
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kernel", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("size", [(1, 1), (4, 4), (5, 8)])
def test_same_padding_keeps_size_at_stride_1(kernel, size):
    layer = make("Conv2D", filters=4, kernel_size=kernel, padding="same")
    assert layer.output_shape([(2, *size)]) == (4, *size)


def test_same_padding_at_stride_2_gives_ceil():
    layer = make("Conv2D", filters=1, kernel_size=3, stride=2, padding="same")
    assert layer.output_shape([(1, 7, 8)]) == (1, 4, 4)


def test_even_kernel_same_pads_bottom_right():
    """A 2x2 kernel of ones at stride 1: output (i, j) sums x[i:i+2, j:j+2], zero past the
    bottom/right edge (TensorFlow's convention)."""
    layer = make("Conv2D", filters=1, kernel_size=2, padding="same", use_bias=False)
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    y = run(layer, x, {"W": np.ones((1, 1, 2, 2))})
    assert y[0, 0].tolist() == [[8, 12, 7], [20, 24, 13], [13, 15, 8]]


def test_int_padding_and_floor():
    layer = make("Conv2D", filters=2, kernel_size=3, stride=2, padding=1)
    assert layer.output_shape([(1, 6, 5)]) == (2, 3, 3)  # floor((6 + 2 - 3) / 2) + 1 = 3


def test_conv_shape_errors():
    layer = make("Conv2D", filters=2)
    with pytest.raises(ShapeError) as err:
        layer.output_shape([(64,)])
    assert str(err.value) == ("Conv2D needs input (channels, height, width), received shape "
                              "[64]; insert a Reshape before it")
    assert err.value.code == "needs_reshape"
    big = make("Conv2D", filters=2, kernel_size=5)
    with pytest.raises(ShapeError, match=r"kernel 5x5 does not fit the 3x3 input \(with "
                                         r"padding 0\)"):
        big.output_shape([(1, 3, 3)])
    assert big.output_shape([(1, 5, 5)]) == (2, 1, 1)
    padded_big = make("Conv2D", filters=2, kernel_size=6, padding=1)
    with pytest.raises(ShapeError, match=r"kernel 6x6 does not fit the 3x4 input \(with "
                                         r"padding 1\)"):
        padded_big.output_shape([(1, 3, 4)])


@pytest.mark.parametrize("type_name", ["MaxPool2D", "AvgPool2D", "GlobalAvgPool2D"])
def test_pool_needs_image_input(type_name):
    with pytest.raises(ShapeError, match=rf"{type_name} needs input \(channels, height, "
                                         r"width\), received shape \[4, 4\]") as err:
        make(type_name).output_shape([(4, 4)])
    assert err.value.code == "needs_reshape"


def test_pool_window_too_big():
    with pytest.raises(ShapeError, match=r"pool window 3x3 does not fit the 2x5 input"):
        make("MaxPool2D", pool_size=3).output_shape([(1, 2, 5)])


def test_pool_padding_at_most_half_the_window():
    assert make("MaxPool2D", pool_size=2, padding=1).check_config() == []
    problems = make("AvgPool2D", pool_size=3, padding=2).check_config()
    assert problems and "at most 1" in problems[0]


def test_pool_stride_defaults_to_pool_size():
    layer = make("MaxPool2D", pool_size=3)
    assert layer.config["stride"] is None
    assert layer.output_shape([(2, 9, 10)]) == (2, 3, 3)


POOL_CONFIGS = [
    {"pool_size": 2, "stride": None, "padding": "valid"},
    {"pool_size": 3, "stride": None, "padding": "valid"},
    {"pool_size": 3, "stride": 2, "padding": "valid"},
    {"pool_size": 2, "stride": 1, "padding": "valid"},
    {"pool_size": 3, "stride": 1, "padding": 1},
    {"pool_size": 2, "stride": 2, "padding": 1},
    {"pool_size": 2, "stride": None, "padding": "same"},
    {"pool_size": 3, "stride": 2, "padding": "same"},
    {"pool_size": [2, 1], "stride": None, "padding": "valid"},
    {"pool_size": [3, 2], "stride": [2, 1], "padding": [1, 0]},
    {"pool_size": [1, 3], "stride": [1, 2], "padding": "same"},
]


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("cfg", POOL_CONFIGS, ids=lambda c: "-".join(map(str, c.values())))
def test_pool_matches_reference(kind, cfg):
    layer = make("MaxPool2D" if kind == "max" else "AvgPool2D", **cfg)
    x = np.random.default_rng(1).normal(size=(2, 3, 7, 8))
    y = run(layer, x)
    stride = cfg["stride"] or cfg["pool_size"]  # None: the window itself
    expected = reference_pool(x, kind, cfg["pool_size"], stride, cfg["padding"])
    assert y.shape == expected.shape == (2, *layer.output_shape([(3, 7, 8)]))
    np.testing.assert_allclose(y, expected, rtol=1e-12)


def test_maxpool_picks_the_max_and_routes_its_gradient():
    x = np.array([[1, 5, 2, 0], [3, 4, 8, 7], [-1, -2, 6, 6], [-3, -4, 6, 9]], float)
    y, dx, _ = run(make("MaxPool2D"), x[None, None], dy=np.array([[[[10, 20], [30, 40]]]]))
    assert y[0, 0].tolist() == [[5, 8], [-1, 9]]
    assert dx[0, 0].tolist() == [[0, 10, 0, 0], [0, 0, 20, 0], [30, 0, 0, 0], [0, 0, 0, 40]]


@pytest.mark.parametrize("cfg", [{}, {"pool_size": 2, "stride": 1}, {"pool_size": 3}])
def test_maxpool_ties_send_the_gradient_to_the_first_maximum_only(cfg):
    """As PyTorch: a window of equal values (ReLU zeros, a constant border) passes dy once."""
    layer = make("MaxPool2D", **cfg)
    x = np.zeros((1, 1, 6, 6))
    x[0, 0, 4:, 4:] = 2.0  # ties of 2 in the corner, of 0 elsewhere
    y, ctx = layer.forward({}, [x], True, None)
    dy = np.random.default_rng(0).uniform(1, 2, size=y.shape)
    (dx,), _ = layer.backward({}, ctx, dy)
    assert np.isclose(dx.sum(), dy.sum())
    assert np.count_nonzero(dx) <= y.size
    if not cfg:  # 2x2 windows side by side: the top-left of each window gets it all
        assert np.array_equal(dx[0, 0, ::2, ::2], dy[0, 0])


def test_maxpool_tie_order_is_row_major():
    x = np.array([[[[0.0, 1.0], [1.0, 1.0]]]])
    _, dx, _ = run(make("MaxPool2D"), x, dy=np.ones((1, 1, 1, 1)))
    assert dx[0, 0].tolist() == [[0, 1], [0, 0]]
    x = np.array([[[[0.0, 0.0], [1.0, 1.0]]]])
    _, dx, _ = run(make("MaxPool2D"), x, dy=np.ones((1, 1, 1, 1)))
    assert dx[0, 0].tolist() == [[0, 0], [1, 0]]


def test_avgpool_known_values():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    y, dx, _ = run(make("AvgPool2D"), x, dy=np.full((1, 1, 2, 2), 4.0))
    assert y[0, 0].tolist() == [[2.5, 4.5], [10.5, 12.5]]
    assert np.all(dx == 1.0)
    # 5x5 input, 2x2 windows: the last row and column fit no window and get no gradient.
    y, dx, _ = run(make("AvgPool2D"), np.ones((1, 1, 5, 5)), dy=np.ones((1, 1, 2, 2)))
    assert np.all(y == 1) and dx[0, 0, 4].sum() == 0 and dx[0, 0, :, 4].sum() == 0


def test_avgpool_int_padding_counts_the_zeros():
    """PyTorch's count_include_pad=True: a corner window of ones with padding 1 is 1/4."""
    y = run(make("AvgPool2D", pool_size=2, padding=1), np.ones((1, 1, 2, 2)))
    assert y[0, 0].tolist() == [[0.25, 0.25], [0.25, 0.25]]


def test_avgpool_same_padding_averages_real_values_only():
    """TensorFlow's "same": windows partly over the padding divide by their real count."""
    y = run(make("AvgPool2D", pool_size=2, padding="same"), np.ones((1, 1, 3, 3)))
    assert y[0, 0].tolist() == [[1, 1], [1, 1]]


def test_global_avg_pool():
    x = np.arange(24.0).reshape(1, 2, 3, 4)
    layer = make("GlobalAvgPool2D")
    assert layer.output_shape([(2, 3, 4)]) == (2,)
    y, dx, _ = run(layer, x, dy=np.array([[12.0, 24.0]]))
    assert y.tolist() == [[5.5, 17.5]]
    assert np.all(dx[0, 0] == 1) and np.all(dx[0, 1] == 2)


LAYERS = [
    ("Conv2D", {"filters": 4, "padding": "same"}),
    ("Conv2D", {"filters": 4, "kernel_size": 2, "stride": 2, "padding": 1}),
    ("MaxPool2D", {}),
    ("MaxPool2D", {"pool_size": 3, "stride": 1, "padding": 1}),
    ("AvgPool2D", {}),
    ("AvgPool2D", {"pool_size": 3, "stride": 2, "padding": "same"}),
    ("GlobalAvgPool2D", {}),
]


@pytest.mark.parametrize("type_name,params", LAYERS)
def test_float32_stays_float32_and_layout_does_not_matter(type_name, params):
    """Results must not depend on whether x and dy are C-contiguous or channel-major views
    (the layout conv and pool outputs have)."""
    layer = make(type_name, **params)
    rng = np.random.default_rng(2)
    shape = (3, 6, 5)
    w = layer.init_weights([shape], rng, np.float32)
    x = rng.normal(size=(4, *shape)).astype(np.float32)
    y, ctx = layer.forward(w, [x], True, None)
    dy = rng.normal(size=y.shape).astype(np.float32)
    (dx,), grads = layer.backward(w, ctx, dy)
    assert y.dtype == dx.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    chan_major = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    y2, ctx2 = layer.forward(w, [chan_major], True, None)
    dy2 = np.asfortranarray(dy)
    (dx2,), grads2 = layer.backward(w, ctx2, dy2)
    np.testing.assert_allclose(y2, y, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx2, dx, rtol=1e-5, atol=1e-6)
    for k in grads:
        np.testing.assert_allclose(grads2[k], grads[k], rtol=1e-4, atol=1e-5)


def test_windows_take_an_int_or_a_pair_and_refuse_anything_else():
    spec = layer_spec("Conv2D")
    config, problems = spec.resolve({"filters": 1, "kernel_size": [2, 1], "stride": [1, 2],
                                     "padding": [0, 1]})
    assert not problems and config["kernel_size"] == [2, 1]
    assert spec.layer_class(config).output_shape([(1, 4, 4)]) == (1, 3, 3)
    for bad, why in [([2], "pair [height, width]"), ([2, 0], "0 must be at least 1"),
                     ([2, 1.5], "1.5 must be an integer"), ("2x1", "must be an integer")]:
        _, problems = spec.resolve({"filters": 1, "kernel_size": bad})
        assert len(problems) == 1 and why in problems[0] and "kernel_size" in problems[0]
    _, problems = layer_spec("MaxPool2D").resolve({"pool_size": [2, 2, 2]})
    assert "pool_size" in problems[0]


def test_a_rectangular_window_that_does_not_fit_names_both_sizes():
    with pytest.raises(ShapeError, match="kernel 5x2 does not fit the 4x6 input"):
        make("Conv2D", filters=1, kernel_size=[5, 2]).output_shape([(1, 4, 6)])
    problems = make("MaxPool2D", pool_size=[4, 2], padding=[2, 1]).check_config()
    assert problems == []
    problems = make("MaxPool2D", pool_size=[4, 2], padding=[1, 2]).check_config()
    assert "at most 2 (height) and 1 (width)" in problems[0]
