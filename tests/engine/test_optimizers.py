"""Optimizer updates follow PyTorch's rules, step by step, on a known gradient sequence."""
from __future__ import annotations

import numpy as np
import pytest

from nnengine.errors import ConfigError
from nnengine.optimizers import make_optimizer

GRADS = [np.array([0.5, -1.0]), np.array([0.25, 2.0]), np.array([-1.0, 0.1])]


def run(config):
    w = {"p": np.array([1.0, -2.0])}
    opt = make_optimizer(config)
    for g in GRADS:
        opt.step(w, {"p": g.copy()})
    return w["p"]


def reference_sgd(lr, mu, nesterov):
    w, v = np.array([1.0, -2.0]), None
    for g in GRADS:
        v = g.copy() if v is None else mu * v + g
        w = w - lr * ((g + mu * v) if nesterov else v)
    return w


@pytest.mark.parametrize("mu, nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd(mu, nesterov):
    got = run({"type": "sgd", "learning_rate": 0.1, "momentum": mu, "nesterov": nesterov})
    np.testing.assert_allclose(got, reference_sgd(0.1, mu, nesterov))


def test_adam_with_bias_correction():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    w, m, v = np.array([1.0, -2.0]), 0.0, 0.0
    for t, g in enumerate(GRADS, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    np.testing.assert_allclose(run({"type": "adam", "learning_rate": lr}), w, rtol=1e-6)


def test_rmsprop():
    lr, rho, eps = 0.01, 0.99, 1e-8
    w, s = np.array([1.0, -2.0]), 0.0
    for g in GRADS:
        s = rho * s + (1 - rho) * g * g
        w = w - lr * g / (np.sqrt(s) + eps)
    np.testing.assert_allclose(run({"type": "rmsprop", "learning_rate": lr}), w)


def test_updates_are_in_place_and_keep_float32():
    w = {"p": np.ones(3, dtype=np.float32)}
    ref = w["p"]
    make_optimizer({"type": "adam"}).step(w, {"p": np.ones(3, dtype=np.float32)})
    assert w["p"] is ref and ref.dtype == np.float32 and ref[0] < 1


@pytest.mark.parametrize("config, words", [
    ({"type": "adagrad"}, ["adagrad", "sgd"]),
    ({"type": "sgd", "momentun": 0.9}, ["momentun"]),
    ({"type": "adam", "learning_rate": -1}, ["learning_rate", "greater than 0"]),
])
def test_bad_optimizer_configs(config, words):
    with pytest.raises(ConfigError) as e:
        make_optimizer(config)
    for word in words:
        assert word in str(e.value)
