"""Defaults that learn: the network a learner builds first, with only a data set and a loss
in its training block, reaches its lesson card's result (the data set's suggested settings
fill in the rest), in Python and from the command line alike."""
from __future__ import annotations

import json

import pytest

import nnengine as nn
from nnengine import cli


def first_network(n_in: int, hidden: list[int], act: str, out: int, out_act: str,
                  dataset: str, loss: str) -> nn.Graph:
    g = nn.Graph(f"first {dataset}", {"dataset": dataset, "loss": loss})
    g.add_node("input", "Input", {"shape": [n_in]})
    prev = "input"
    for i, units in enumerate(hidden, 1):
        g.add_node(f"dense{i}", "Dense", {"units": units})
        g.add_node(f"act{i}", "Activation", {"function": act})
        g.add_edge(prev, f"dense{i}")
        g.add_edge(f"dense{i}", f"act{i}")
        prev = f"act{i}"
    g.add_node("output", "Dense", {"units": out})
    g.add_node("prob", "Activation", {"function": out_act})
    g.add_edge(prev, "output")
    g.add_edge("output", "prob")
    return g


BCE, CE = "binary_cross_entropy", "cross_entropy"
FIRST = {  # data set: (network, the result its card expects)
    "xor": (first_network(2, [4], "tanh", 1, "sigmoid", "xor", BCE), 0.99),
    "circles": (first_network(2, [8], "tanh", 1, "sigmoid", "circles", BCE), 0.95),
    "moons": (first_network(2, [8], "tanh", 1, "sigmoid", "moons", BCE), 0.95),
    "blobs": (first_network(2, [8], "relu", 3, "softmax", "blobs", CE), 0.95),
    "spirals": (first_network(2, [32, 32], "tanh", 1, "sigmoid", "spirals", BCE), 0.95),
    "iris": (first_network(4, [16], "relu", 3, "softmax", "iris", CE), 0.9),
    "digits": (first_network(64, [128], "relu", 10, "softmax", "digits", CE), 0.93),
}


@pytest.mark.slow
@pytest.mark.parametrize("dataset", list(FIRST))
@pytest.mark.parametrize("seed", [1, 2])
def test_first_network_learns_with_only_a_data_set_and_a_loss(dataset, seed):
    graph, goal = FIRST[dataset]
    config = nn.TrainingConfig.from_dict(graph.training).replace(seed=seed)
    model = nn.compile_model(graph, seed=seed)
    data = nn.load_dataset(dataset)
    nn.Trainer(model, data, config).fit()
    assert nn.evaluate(model, data, config)["accuracy"] >= goal


def test_suggested_settings_fill_only_what_the_block_leaves_out():
    config = nn.TrainingConfig.from_dict({"dataset": "xor", "loss": BCE})
    assert (config.epochs, config.optimizer["learning_rate"]) == (100, 0.05)
    config = nn.TrainingConfig.from_dict({"dataset": "xor", "epochs": 3})
    assert (config.epochs, config.optimizer["learning_rate"]) == (3, 0.05)
    assert nn.TrainingConfig.from_dict({"dataset": "my.csv"}).epochs == 10  # the default
    assert nn.TrainingConfig.from_dict({"dataset": "iris"}).standardize


def test_first_xor_network_learns_from_the_command_line(tmp_path, capsys):
    graph, _ = FIRST["xor"]
    nn.save_graph(graph, tmp_path / "xor.json")
    assert cli.main(["train", str(tmp_path / "xor.json"), "--out", str(tmp_path / "run")]) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert len(metrics["epochs"]) == 100 and metrics["test"]["accuracy"] == 1.0
    # --dataset brings that data set's suggestions for what the file leaves out
    assert cli.main(["train", str(tmp_path / "xor.json"), "--dataset", "separable", "--out",
                     str(tmp_path / "s")]) == 0
    metrics = json.loads((tmp_path / "s" / "metrics.json").read_text())
    assert len(metrics["epochs"]) == 50 and metrics["test"]["accuracy"] >= 0.97
