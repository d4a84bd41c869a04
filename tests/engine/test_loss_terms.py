"""Layers that add to the loss (Sampling's KL term, ActivityRegularization's penalty): their
semantics, the model's total loss and gradient with the terms in, and the terms as logs of
their own for the curves."""
from __future__ import annotations

import numpy as np
import pytest

import nnengine as nn
from nnengine.catalogue import layer_spec
from tests.engine.builders import sequential
from tests.engine.gradcheck import assert_close, numerical_gradient


def layer(type_name: str, **params):
    spec = layer_spec(type_name)
    config, problems = spec.resolve(params)
    assert not problems
    return spec.layer_class(config)


def tiny_vae(beta: float = 1.0, code: int = 2, n_in: int = 3) -> nn.Graph:
    g = nn.Graph("vae")
    g.add_node("x", "Input", {"shape": [n_in]})
    g.add_node("mean", "Dense", {"units": code})
    g.add_node("logvar", "Dense", {"units": code})
    g.add_node("z", "Sampling", {"beta": beta})
    g.add_node("decode", "Dense", {"units": n_in})
    for a, b, port in [("x", "mean", 0), ("x", "logvar", 0), ("mean", "z", 0),
                       ("logvar", "z", 1), ("z", "decode", 0)]:
        g.add_edge(a, b, port)
    return g


def test_sampling_draws_around_the_mean_in_training_and_is_the_mean_at_inference():
    s = layer("Sampling")
    mean = np.array([[0.5, -1.0], [2.0, 0.0]])
    logvar = np.array([[0.0, np.log(4.0)], [-2.0, 1.0]])
    z, _ = s.forward({}, [mean, logvar], False, None)
    np.testing.assert_array_equal(z, mean)
    z, _ = s.forward({}, [mean, logvar], True, np.random.default_rng(3))
    eps = np.random.default_rng(3).standard_normal(mean.shape)
    np.testing.assert_allclose(z, mean + np.exp(logvar / 2) * eps)


def test_the_kl_term_is_the_divergence_from_the_unit_gaussian():
    s = layer("Sampling")
    _, ctx = s.forward({}, [np.zeros((4, 3)), np.zeros((4, 3))], True, np.random.default_rng(0))
    assert s.added_loss(ctx) == 0.0    # N(0, 1) itself costs nothing
    mean, logvar = np.array([[1.0, 0.0], [0.0, 0.0]]), np.array([[0.0, np.log(2.0)], [0, 0]])
    _, ctx = s.forward({}, [mean, logvar], False, None)
    expected = (0.5 * 1.0 + 0.5 * (2.0 - np.log(2.0) - 1.0)) / 2   # mean over the batch of 2
    assert s.added_loss(ctx) == pytest.approx(expected)
    half = layer("Sampling", beta=0.5)
    assert half.added_loss(half.forward({}, [mean, logvar], False, None)[1]) == \
        pytest.approx(expected / 2)


def test_activity_regularization_passes_its_input_and_adds_its_penalty():
    a = layer("ActivityRegularization", l1=0.1, l2=0.01)
    x = np.array([[1.0, -2.0, 0.0], [3.0, 0.0, 0.0]])
    y, ctx = a.forward({}, [x], True, None)
    np.testing.assert_array_equal(y, x)
    assert a.added_loss(ctx) == pytest.approx((0.1 * 6 + 0.01 * 14) / 2)
    assert layer("ActivityRegularization").added_loss(ctx) == 0.0


def test_total_loss_and_gradient_include_the_added_terms():
    g = tiny_vae(beta=0.7)
    model = nn.compile_model(g, seed=1, dtype="float64")
    x = np.random.default_rng(2).normal(size=(5, 3))

    def total() -> float:
        loss, _, _ = model.train_step_grads(x, x, "mse", rng=np.random.default_rng(9))
        return loss

    loss, y, grads = model.train_step_grads(x, x, "mse", rng=np.random.default_rng(9))
    data_loss = float(np.mean((y - x) ** 2))
    assert model.last_loss_terms["kl"] > 0
    assert loss == pytest.approx(data_loss + model.last_loss_terms["kl"])
    for key in ("mean/W", "logvar/W", "logvar/b", "decode/W"):
        assert_close(grads[key], numerical_gradient(total, model.weights[key]), key)


def test_training_logs_each_term_beside_the_data_loss():
    g = sequential([64], [("Dense", {"units": 8}), ("code", "Activation", {"function": "relu"}),
                          ("sparsity", "ActivityRegularization", {"l1": 0.01}),
                          ("Dense", {"units": 64}), ("Activation", {"function": "sigmoid"})])
    model = nn.compile_model(g, seed=0)
    history = nn.fit(model, nn.load_dataset("digits"), loss="mse", target="inputs", epochs=2)
    for e in history.epochs:
        assert e["activity"] > 0 and e["val_activity"] > 0
        assert e["loss"] == pytest.approx(e["mse"] + e["activity"])
        assert e["val_loss"] == pytest.approx(e["val_mse"] + e["val_activity"])
    test = nn.evaluate(model, nn.load_dataset("digits"), loss="mse", target="inputs")
    assert test["loss"] == pytest.approx(test["mse"] + test["activity"])
    plain = nn.fit(nn.compile_model(sequential([2], [("Dense", {"units": 2})]), seed=0),
                   nn.load_dataset("blobs"), loss="mse", target="inputs", epochs=1)
    assert "activity" not in plain.epochs[0] and "mse" not in plain.epochs[0]


@pytest.mark.parametrize("seed", [0, 1])
def test_a_stronger_l1_penalty_makes_the_code_sparser(seed):
    digits = nn.load_dataset("digits")
    means = []
    for l1 in (0.0, 0.003):
        g = sequential([64], [("Dense", {"units": 16}),
                              ("code", "Activation", {"function": "relu"}),
                              ("ActivityRegularization", {"l1": l1}),
                              ("Dense", {"units": 64}), ("Activation", {"function": "sigmoid"})])
        model = nn.compile_model(g, seed=seed)
        nn.fit(model, digits, loss="mse", target="inputs", epochs=8, seed=seed,
               optimizer={"type": "adam", "learning_rate": 0.003})
        means.append(model.inspect(digits.x_test, nodes=["code"])["code"]["activation"].mean())
    assert means[1] < 0.3 * means[0]


def test_sampling_inputs_of_different_shapes_are_a_clear_problem():
    g = tiny_vae()
    g.set_params("logvar", {"units": 3})
    problems = nn.analyze(g).problems_of("z")
    assert problems and "same shape, received shapes [2] and [3]" in problems[0].message
