"""Every loss's gradient equals its numerical gradient; fused gradients equal the chain rule;
values match the PyTorch/Keras definitions."""
from __future__ import annotations

import numpy as np
import pytest

from nnengine.catalogue import LOSSES
from nnengine.layers.activations import sigmoid, softmax
from nnengine.losses import fused_sigmoid_binary_cross_entropy, fused_softmax_cross_entropy
from tests.engine.gradcheck import assert_close, numerical_gradient

rng = np.random.default_rng(0)


def targets(name, shape):
    if name in ("cross_entropy", "hinge"):
        return rng.integers(0, shape[1], shape[0])
    if name == "binary_cross_entropy":
        return rng.integers(0, 2, shape).astype(np.float64)
    return rng.normal(size=shape)


def predictions(name, shape):
    if name == "cross_entropy":
        return softmax(rng.normal(size=shape))
    if name == "binary_cross_entropy":
        return rng.uniform(0.05, 0.95, shape)
    return rng.normal(size=shape)


@pytest.mark.parametrize("name", LOSSES.names())
@pytest.mark.parametrize("shape", [(4, 3), (1, 5), (6, 2)])
def test_loss_gradient_matches_numerical(name, shape):
    y, t = predictions(name, shape), targets(name, shape)
    fn = LOSSES.get(name).fn
    _, grad = fn(y, t)
    assert_close(grad, numerical_gradient(lambda: fn(y, t)[0], y), name)


def test_loss_values_follow_the_usual_definitions():
    y = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    t = np.array([0, 2])
    assert LOSSES.get("cross_entropy").fn(y, t)[0] == pytest.approx(
        -(np.log(0.7) + np.log(0.8)) / 2)
    s = np.array([[2.0, 1.5, -1.0]])
    # hinge: sum over wrong classes of max(0, s_j - s_t + 1), averaged over the batch
    assert LOSSES.get("hinge").fn(s, np.array([0]))[0] == pytest.approx(0.5)
    assert LOSSES.get("mse").fn(np.array([[1.0, 3.0]]), np.array([[0.0, 0.0]]))[0] == 5.0
    assert LOSSES.get("mae").fn(np.array([[1.0, -3.0]]), np.array([[0.0, 0.0]]))[0] == 2.0
    p, q = np.array([[0.8]]), np.array([[1.0]])
    assert LOSSES.get("binary_cross_entropy").fn(p, q)[0] == pytest.approx(-np.log(0.8))


def test_fused_softmax_cross_entropy_is_the_chain_rule():
    z = rng.normal(size=(5, 4))
    t = rng.integers(0, 4, 5)
    loss, grad = fused_softmax_cross_entropy(softmax(z), t)
    num = numerical_gradient(lambda: LOSSES.get("cross_entropy").fn(softmax(z), t)[0], z)
    assert_close(grad, num, "fused softmax+CE")
    assert loss == pytest.approx(LOSSES.get("cross_entropy").fn(softmax(z), t)[0])


def test_fused_sigmoid_binary_cross_entropy_is_the_chain_rule():
    z = rng.normal(size=(5, 2))
    t = rng.integers(0, 2, (5, 2)).astype(float)
    _, grad = fused_sigmoid_binary_cross_entropy(sigmoid(z), t)
    num = numerical_gradient(
        lambda: LOSSES.get("binary_cross_entropy").fn(sigmoid(z), t)[0], z)
    assert_close(grad, num, "fused sigmoid+BCE")


def test_fused_cross_entropy_stays_finite_on_saturated_softmax():
    z = np.array([[1000.0, -1000.0]])
    loss, grad = fused_softmax_cross_entropy(softmax(z), np.array([1]))
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
