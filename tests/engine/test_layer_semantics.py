"""Behaviour the generic contract test cannot see: BatchNorm statistics, dropout scaling,
softmax stability, step/stair values, merge shape errors, PReLU alpha shapes."""
from __future__ import annotations

import numpy as np
import pytest

from nnengine.catalogue import layer_spec
from nnengine.errors import ShapeError
from nnengine.layers.activations import effective_alpha


def make(type_name: str, **params):
    spec = layer_spec(type_name)
    config, problems = spec.resolve(params)
    assert not problems, problems
    layer = spec.layer_class(config)
    return layer, layer.check_config()


def layer(type_name: str, **params):
    built, problems = make(type_name, **params)
    assert not problems, problems
    return built


def test_batchnorm_training_updates_running_stats_and_normalises():
    bn = layer("BatchNorm", momentum=0.8)
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(16, 2, 4, 4))
    w = bn.init_weights([(2, 4, 4)], rng, np.float64)
    y, _ = bn.forward(w, [x], True, None)
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(w["running_mean"], 0.2 * mean)
    np.testing.assert_allclose(w["running_var"], 0.8 * 1.0 + 0.2 * var)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), var / (var + 1e-5))


def test_batchnorm_inference_uses_running_stats_and_leaves_them_alone():
    bn = layer("BatchNorm", epsilon=1e-3)
    w = {"gamma": np.array([2.0, 1.0]), "beta": np.array([0.5, 0.0]),
         "running_mean": np.array([1.0, -1.0]), "running_var": np.array([4.0, 1.0])}
    before = {k: v.copy() for k, v in w.items()}
    x = np.array([[3.0, 0.0], [1.0, -1.0]])
    y, _ = bn.forward(w, [x], False, None)
    expected = (x - [1.0, -1.0]) / np.sqrt(np.array([4.0, 1.0]) + 1e-3) * [2.0, 1.0] + [0.5, 0]
    np.testing.assert_allclose(y, expected)
    assert all(np.array_equal(w[k], before[k]) for k in w)


def test_batchnorm_keeps_float32():
    bn = layer("BatchNorm")
    w = bn.init_weights([(3,)], np.random.default_rng(0), np.float32)
    x = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)
    for training in (True, False):
        y, ctx = bn.forward(w, [x], training, None)
        assert y.dtype == np.float32
        assert bn.backward(w, ctx, y)[0][0].dtype == np.float32


def test_dropout_preserves_the_mean_and_is_identity_at_inference():
    drop = layer("Dropout", rate=0.3)
    x = np.ones((200, 500), dtype=np.float32)
    y, _ = drop.forward({}, [x], True, np.random.default_rng(0))
    assert y.dtype == np.float32
    assert set(np.unique(y)) == {np.float32(0), np.float32(1 / 0.7)}
    assert abs((y == 0).mean() - 0.3) < 0.01
    assert abs(y.mean() - 1.0) < 0.01
    y_inf, _ = drop.forward({}, [x], False, None)
    assert np.array_equal(y_inf, x)


def test_dropout_rate_one_is_refused():
    _, problems = make("Dropout", rate=1.0)
    assert problems and "below 1" in problems[0]


def test_dropout_and_noise_are_reproducible_from_the_rng():
    x = np.ones((4, 5))
    for name in ("Dropout", "GaussianNoise"):
        lay = layer(name)
        a, _ = lay.forward({}, [x], True, np.random.default_rng(3))
        b, _ = lay.forward({}, [x], True, np.random.default_rng(3))
        assert np.array_equal(a, b) and not np.array_equal(a, x)


def test_gaussian_noise_only_in_training():
    noise = layer("GaussianNoise", stddev=0.5)
    x = np.zeros((100, 100))
    y, _ = noise.forward({}, [x], True, np.random.default_rng(0))
    assert abs(y.std() - 0.5) < 0.02
    assert np.array_equal(noise.forward({}, [x], False, None)[0], x)


def test_softmax_rows_sum_to_one_without_overflow():
    act = layer("Activation", function="softmax")
    x = np.array([[1000.0, 1000.0, 0.0], [-1000.0, 0.0, 1000.0]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y, _ = act.forward({}, [x], False, None)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(y[0], [0.5, 0.5, 0.0])


def test_sigmoid_softplus_elu_are_stable_for_large_inputs():
    x = np.array([[-1000.0, 0.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        sig, _ = layer("Activation", function="sigmoid").forward({}, [x], False, None)
        soft, _ = layer("Activation", function="softplus").forward({}, [x], False, None)
        elu, _ = layer("Activation", function="elu").forward({}, [x], False, None)
    np.testing.assert_allclose(sig, [[0.0, 0.5, 1.0]])
    np.testing.assert_allclose(soft, [[0.0, np.log(2), 1000.0]])
    np.testing.assert_allclose(elu, [[-1.0, 0.0, 1000.0]])


def test_step_and_stair_values():
    """The course's definitions: step is 1 at and above the threshold; stair with n levels
    is floor(n·x)/n on [0, 1], clipped outside it."""
    x = np.array([[-1.0, 0.0, 0.2, 0.5, 0.99, 2.0]])
    step, _ = layer("Activation", function="step").forward({}, [x], False, None)
    np.testing.assert_array_equal(step, [[0, 1, 1, 1, 1, 1]])
    step, _ = layer("Activation", function="step", threshold=0.5).forward({}, [x], False, None)
    np.testing.assert_array_equal(step, [[0, 0, 0, 1, 1, 1]])
    x = np.array([[-0.5, 0.0, 0.1, 0.2, 0.45, 0.6, 0.99, 1.0, 3.0]])
    stair, _ = layer("Activation", function="stair", levels=5).forward({}, [x], False, None)
    np.testing.assert_allclose(stair, [[0, 0, 0, 0.2, 0.4, 0.6, 0.8, 1, 1]])
    stair, _ = layer("Activation", function="stair", levels=2).forward({}, [x], False, None)
    np.testing.assert_allclose(stair, [[0, 0, 0, 0, 0, 0.5, 0.5, 1, 1]])


def test_relu_and_leaky_relu_values():
    x = np.array([[-2.0, 0.0, 3.0]], dtype=np.float32)
    relu, _ = layer("Activation").forward({}, [x], False, None)
    np.testing.assert_array_equal(relu, [[0, 0, 3]])
    leaky = layer("Activation", function="leaky_relu")
    y, ctx = leaky.forward({}, [x], False, None)
    np.testing.assert_allclose(y, [[-0.02, 0, 3]], rtol=1e-6)
    assert y.dtype == np.float32 and leaky.backward({}, ctx, y)[0][0].dtype == np.float32


def test_effective_alpha_defaults_per_function():
    assert effective_alpha({"function": "leaky_relu", "alpha": None}) == 0.01
    assert effective_alpha({"function": "elu", "alpha": None}) == 1.0
    assert effective_alpha({"function": "elu", "alpha": 0.3}) == 0.3
    assert effective_alpha({"function": "relu", "alpha": None}) is None


@pytest.mark.parametrize("shared, in_shape, alpha_shape", [
    (False, (5,), (5,)), (False, (3, 4, 4), (3,)), (True, (5,), (1,)), (True, (3, 4, 4), (1,)),
])
def test_prelu_alpha_shapes(shared, in_shape, alpha_shape):
    prelu = layer("PReLU", shared=shared, init_alpha=0.1)
    w = prelu.init_weights([in_shape], np.random.default_rng(0), np.float32)
    assert w["alpha"].shape == alpha_shape and np.all(w["alpha"] == np.float32(0.1))
    x = -np.ones((2, *in_shape), dtype=np.float32)
    y, ctx = prelu.forward(w, [x], True, None)
    np.testing.assert_allclose(y, -0.1)
    _, grads = prelu.backward(w, ctx, np.ones_like(y))
    assert grads["alpha"].shape == alpha_shape


def test_add_rejects_mismatched_shapes_naming_them():
    with pytest.raises(ShapeError, match=r"\[4\], \[5\]"):
        layer("Add").output_shape([(4,), (5,)])


def test_concatenate_shapes_and_errors():
    cat = layer("Concatenate", axis=-1)
    assert cat.output_shape([(2, 3), (2, 5)]) == (2, 8)
    assert layer("Concatenate").output_shape([(2, 3), (4, 3)]) == (6, 3)
    with pytest.raises(ShapeError, match=r"\[2, 3\], \[3, 5\]"):
        cat.output_shape([(2, 3), (3, 5)])
    with pytest.raises(ShapeError, match=r"\[2, 3\], \[6\]"):
        cat.output_shape([(2, 3), (6,)])
    with pytest.raises(ShapeError, match="axis 3"):
        layer("Concatenate", axis=3).output_shape([(2, 3), (2, 3)])
    _, problems = make("Concatenate", axis=0)
    assert problems and "batch" in problems[0]


def test_dot_and_rbf_shapes():
    assert layer("Dot").output_shape([(4,), (4,)]) == (1,)
    with pytest.raises(ShapeError, match=r"\[4\], \[3\]"):
        layer("Dot").output_shape([(4,), (3,)])
    with pytest.raises(ShapeError) as err:
        layer("RBF", units=3).output_shape([(2, 4)])
    assert err.value.code == "needs_flatten"


def test_rbf_is_one_at_its_center():
    rbf = layer("RBF", units=2)
    w = {"centers": np.array([[1.0, 2.0], [0.0, 0.0]]), "beta": np.array([1.0, 0.5])}
    y, _ = rbf.forward(w, [np.array([[1.0, 2.0]])], False, None)
    np.testing.assert_allclose(y, [[1.0, np.exp(-0.5 * 5.0)]])
