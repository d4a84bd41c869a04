"""Models really learn (and a perceptron really cannot learn XOR); seeds are bit-exact."""
from __future__ import annotations

import numpy as np

import nnengine as nn
from tests.engine.builders import mlp


def train(graph, dataset, seed=0, **overrides):
    model = nn.compile_model(graph, seed=seed)
    config = nn.TrainingConfig(**{"optimizer": {"type": "adam", "learning_rate": 0.02},
                                  **overrides})
    trainer = nn.Trainer(model, nn.load_dataset(dataset), config)
    history = trainer.fit()
    return model, trainer, history


def test_xor_is_solved_by_a_2_8_1_tanh_mlp():
    graph = mlp(2, [8], 1, act="tanh", out="sigmoid")
    model, trainer, _ = train(graph, "xor", loss="binary_cross_entropy", epochs=100)
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    pred = model.predict(corners)[:, 0]
    assert list(pred > 0.5) == [False, True, True, False], pred
    assert trainer.evaluate_test()["accuracy"] == 1.0


def test_a_single_layer_perceptron_cannot_solve_xor():
    graph = mlp(2, [], 1, out="sigmoid")
    _, trainer, history = train(graph, "xor", loss="binary_cross_entropy", epochs=100)
    # A line cannot split XOR's corners: at most 3 of 4 right, and the loss stays high.
    assert trainer.evaluate_test()["accuracy"] <= 0.75
    assert history.last("loss") > 0.45


def test_two_spirals_are_separated_by_a_small_mlp():
    graph = mlp(2, [32, 32], 2, act="relu")
    _, trainer, history = train(graph, "spirals", epochs=200, optimizer={
        "type": "adam", "learning_rate": 0.01})
    assert trainer.evaluate_test()["accuracy"] >= 0.97
    assert history.last("val_accuracy") >= 0.95


def test_same_seed_gives_bit_identical_weights():
    graph = mlp(2, [16], 2, act="relu")
    runs = [train(graph, "moons", seed=5, epochs=3)[0].get_weights() for _ in range(2)]
    assert runs[0].keys() == runs[1].keys()
    for key in runs[0]:
        assert runs[0][key].tobytes() == runs[1][key].tobytes(), key


def test_different_seeds_give_different_weights():
    graph = mlp(2, [16], 2, act="relu")
    a = nn.compile_model(graph, seed=1).get_weights()
    b = nn.compile_model(graph, seed=2).get_weights()
    assert not np.array_equal(a["n0/W"], b["n0/W"])


def test_sine_regression_with_mse():
    graph = mlp(1, [32], 1, act="tanh", out="identity")
    _, trainer, history = train(graph, "sine", loss="mse", epochs=150)
    assert history.last("loss") < history.epochs[0]["loss"] / 5
    assert trainer.evaluate_test()["loss"] < 0.02
