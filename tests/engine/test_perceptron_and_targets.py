"""The course's own definitions: Rosenblatt's perceptron rule as the `perceptron` optimizer,
and the `one_hot` target for mse on classes."""
from __future__ import annotations

import numpy as np
import pytest

import nnengine as nn
from nnengine.trainer import Trainer


def single_layer(units: int = 1, function: str = "step") -> nn.Graph:
    g = nn.Graph("perceptron")
    g.add_node("input", "Input", {"shape": [2]})
    g.add_node("dense", "Dense", {"units": units})
    g.add_node("out", "Activation", {"function": function})
    g.add_edge("input", "dense")
    g.add_edge("dense", "out")
    return g


def test_perceptron_rule_is_rosenblatts_update():
    """One sample, one mistake: w += lr·x·(t − y), b += lr·(t − y), exactly."""
    model = nn.compile_model(single_layer(), seed=0)
    w, b = model.weights["dense/W"].copy(), model.weights["dense/b"].copy()
    x = np.array([[0.5, -2.0]], dtype=np.float32)
    y = float(model.predict(x)[0, 0])
    t = 1.0 - y  # whatever it says now is wrong
    config = nn.TrainingConfig.from_dict({"loss": "mse", "epochs": 1, "validation_split": 0,
                                          "optimizer": {"type": "perceptron",
                                                        "learning_rate": 0.5}})
    data = nn.Dataset("one", x, np.array([t]), x, np.array([t]), "classification", 2, ["0", "1"])
    Trainer(model, data, config).fit()
    np.testing.assert_allclose(model.weights["dense/W"], w + 0.5 * x.T * (t - y), rtol=1e-6)
    np.testing.assert_allclose(model.weights["dense/b"], b + 0.5 * (t - y), rtol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_perceptron_learns_linearly_separable_data(seed):
    data = nn.load_dataset("separable")
    model = nn.compile_model(single_layer(), seed=seed)
    history = nn.fit(model, data, loss="binary_cross_entropy", batch_size=1, epochs=5,
                     seed=seed, optimizer={"type": "perceptron", "learning_rate": 0.1})
    assert history.last("accuracy") == 1.0  # the convergence theorem, on a margin of 0.3
    assert nn.evaluate(model, data, loss="binary_cross_entropy")["accuracy"] >= 0.97


def test_perceptron_refuses_other_networks_by_name():
    g = single_layer(function="sigmoid")
    model = nn.compile_model(g, seed=0)
    config = nn.TrainingConfig.from_dict({"loss": "mse", "optimizer": {"type": "perceptron"}})
    with pytest.raises(nn.ConfigError, match="this graph has Input → Dense → sigmoid"):
        Trainer(model, nn.load_dataset("separable"), config)


def test_one_hot_target_trains_mse_on_classes_and_reports_accuracy():
    model = nn.compile_model(single_layer(units=3, function="sigmoid"), seed=0)
    history = nn.fit(model, nn.load_dataset("blobs"), loss="mse", target="one_hot",
                     epochs=30, optimizer={"type": "adam", "learning_rate": 0.05})
    assert history.last("val_accuracy") >= 0.85
    result = nn.evaluate(model, nn.load_dataset("blobs"), loss="mse", target="one_hot")
    assert result["accuracy"] >= 0.85 and result["loss"] < 0.1


def test_one_hot_target_names_labels_that_do_not_fit():
    model = nn.compile_model(single_layer(units=2, function="sigmoid"), seed=0)
    with pytest.raises(nn.DatasetError, match="target one_hot needs class labels from 0 to 1"):
        nn.fit(model, nn.load_dataset("blobs"), loss="mse", target="one_hot", epochs=1)
