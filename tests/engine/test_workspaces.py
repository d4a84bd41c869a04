"""Training steps run in the compiled model's workspaces: a steady-state step allocates
nothing that grows with the batch, and reusing buffers never changes a single bit of the
weights a run ends with."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import nnengine as nn
from nnengine.layers.base import FRESH
from tests.engine.builders import sequential


def residual_cnn() -> nn.Graph:
    """conv -> relu -> conv, added to the relu (a fan-out), pool, dropout, dense."""
    g = nn.Graph("residual")
    g.add_node("input", "Input", {"shape": [1, 8, 8]})
    g.add_node("conv1", "Conv2D", {"filters": 4, "padding": "same"})
    g.add_node("relu", "Activation", {"function": "relu"})
    g.add_node("conv2", "Conv2D", {"filters": 4, "kernel_size": [3, 1], "padding": "same"})
    g.add_node("add", "Add")
    g.add_node("pool", "MaxPool2D")
    g.add_node("flat", "Flatten")
    g.add_node("drop", "Dropout", {"rate": 0.2})
    g.add_node("dense", "Dense", {"units": 10})
    g.add_node("out", "Activation", {"function": "softmax"})
    for s, t in [("input", "conv1"), ("conv1", "relu"), ("relu", "conv2"), ("add", "pool"),
                 ("pool", "flat"), ("flat", "drop"), ("drop", "dense"), ("dense", "out")]:
        g.add_edge(s, t)
    g.add_edge("relu", "add", 0)
    g.add_edge("conv2", "add", 1)
    return g


def lstm() -> nn.Graph:
    return sequential([8, 8], [("LSTM", {"units": 12}), ("Dense", {"units": 10}),
                               ("Activation", {"function": "softmax"})])


GRAPHS = {"residual-cnn": residual_cnn, "lstm": lstm,
          "mlp": lambda: nn.load_graph("resources/examples/mlp_digits.json")}


def trainer(graph: nn.Graph, batch_size: int, **options) -> nn.Trainer:
    config = nn.TrainingConfig(batch_size=batch_size, epochs=2, validation_split=0.2,
                               optimizer={"type": "adam", "learning_rate": 0.01}, **options)
    return nn.Trainer(nn.compile_model(graph, seed=3), nn.load_dataset("digits"), config)


def steady_step_peak(t: nn.Trainer, batch_size: int) -> int:
    """Bytes allocated at the peak of three training steps after three warm-up steps."""
    rng = np.random.default_rng(0)
    positions = np.arange(len(t.y_train))
    for b in range(6):
        if b == 3:
            tracemalloc.start()
            start = tracemalloc.get_traced_memory()[0]
        t.train_batch(*t._gather(positions[b * batch_size:(b + 1) * batch_size]), rng)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - start


def without_workspaces(t: nn.Trainer) -> nn.Trainer:
    """The same trainer with every buffer made afresh (the engine before workspaces)."""
    model = t.model
    for step in model.steps:
        step.workspace = FRESH
    model._grad_sums = model._loss_ws = t._batches = FRESH
    return t


@pytest.mark.parametrize("name", GRAPHS)
def test_a_steady_state_step_allocates_nothing_that_grows_with_the_batch(name):
    """What is left are NumPy's own iteration buffers (at most 8192 elements per operand of
    a broadcasting or strided ufunc), a few percent of what fresh arrays take."""
    reusing = steady_step_peak(trainer(GRAPHS[name](), 128), 128)
    fresh = steady_step_peak(without_workspaces(trainer(GRAPHS[name](), 128)), 128)
    assert reusing < 160 * 1024, f"{name}: {reusing} bytes in a steady step"
    assert reusing < fresh / 8, f"{name}: {reusing} bytes reusing, {fresh} fresh"


@pytest.mark.parametrize("name", GRAPHS)
@pytest.mark.parametrize("options", [{}, {"l2": 0.01, "clip_norm": 0.5, "standardize": True}])
def test_reused_buffers_give_bit_identical_weights(name, options):
    reusing = trainer(GRAPHS[name](), 50, **options)
    fresh = without_workspaces(trainer(GRAPHS[name](), 50, **options))
    model = fresh.model
    history = reusing.fit()
    assert history.epochs == [{**e, "seconds": h["seconds"]}
                              for e, h in zip(fresh.fit().epochs, history.epochs)]
    for key, value in reusing.model.weights.items():
        np.testing.assert_array_equal(value, model.weights[key], err_msg=key)
