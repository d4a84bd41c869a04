"""Training steps run in the compiled model's workspaces: a steady-state step allocates
nothing that grows with the batch, and reusing buffers never changes a single bit of the
weights a run ends with. Between them the GRAPHS hold every layer type of the catalogue and
every activation function (checked against the catalogue, so a new one must join a graph)."""
from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pytest

import nnengine as nn
from nnengine.layers.activations import FUNCTION_NAMES
from nnengine.layers.base import FRESH
from tests.engine.builders import sequential


def graph(name: str, nodes: list[tuple], edges: list[tuple]) -> nn.Graph:
    """nodes: (id, type, params); edges: (source, target) or (source, target, port)."""
    g = nn.Graph(name)
    for node_id, type_name, params in nodes:
        g.add_node(node_id, type_name, params)
    for edge in edges:
        g.add_edge(*edge)
    return g


def chain(*ids: str) -> list[tuple[str, str]]:
    return list(itertools.pairwise(ids))


def residual_cnn() -> nn.Graph:
    """conv -> relu -> conv, added to the relu (a fan-out), pool, dropout, dense."""
    return graph("residual", [
        ("input", "Input", {"shape": [1, 8, 8]}),
        ("conv1", "Conv2D", {"filters": 4, "padding": "same"}),
        ("relu", "Activation", {"function": "relu"}),
        ("conv2", "Conv2D", {"filters": 4, "kernel_size": [3, 1], "padding": "same"}),
        ("add", "Add", {}),
        ("pool", "MaxPool2D", {}),
        ("flat", "Flatten", {}),
        ("drop", "Dropout", {"rate": 0.2}),
        ("dense", "Dense", {"units": 10}),
        ("out", "Activation", {"function": "softmax"}),
    ], [*chain("input", "conv1", "relu", "conv2"), ("relu", "add", 0), ("conv2", "add", 1),
        *chain("add", "pool", "flat", "drop", "dense", "out")])


def lstm() -> nn.Graph:
    return sequential([8, 8], [("LSTM", {"units": 12}), ("Dense", {"units": 10}),
                               ("Activation", {"function": "softmax"})])


def image_layers() -> nn.Graph:
    """BatchNorm straight after the Input (no input gradient), PReLU per channel, noise,
    padded average and overlapping max pooling, a global average."""
    return graph("image layers", [
        ("input", "Input", {"shape": [1, 8, 8]}),
        ("norm", "BatchNorm", {}),
        ("conv", "Conv2D", {"filters": 8, "padding": "same"}),
        ("norm2", "BatchNorm", {}),
        ("prelu", "PReLU", {}),
        ("noise", "GaussianNoise", {"stddev": 0.1}),
        ("avg", "AvgPool2D", {"pool_size": 3, "stride": 1, "padding": "same"}),
        ("avg2", "AvgPool2D", {"pool_size": 2}),
        ("max", "MaxPool2D", {"pool_size": 2, "stride": 1}),
        ("gap", "GlobalAvgPool2D", {}),
        ("dense", "Dense", {"units": 10}),
        ("out", "Activation", {"function": "softmax"}),
    ], chain("input", "norm", "conv", "norm2", "prelu", "noise", "avg", "avg2", "max", "gap",
             "dense", "out"))


def vector_layers() -> nn.Graph:
    """A shared PReLU straight after the Input, then branches through every element-wise
    function, RBF, Dot and a variational code with an activity penalty, joined."""
    return graph("vector layers", [
        ("input", "Input", {"shape": [64]}),
        ("prelu", "PReLU", {"shared": True}),
        ("dense", "Dense", {"units": 64}),
        ("leaky", "Activation", {"function": "leaky_relu"}),
        ("norm", "BatchNorm", {}),
        ("elu", "Activation", {"function": "elu"}),
        ("softplus", "Activation", {"function": "softplus"}),
        ("linear", "Activation", {"function": "linear", "slope": 0.5, "intercept": 0.1}),
        ("identity", "Activation", {"function": "identity"}),
        ("tanh", "Activation", {"function": "tanh"}),
        ("rbf", "RBF", {"units": 64}),
        ("to_step", "Dense", {"units": 64}),
        ("step", "Activation", {"function": "step"}),
        ("to_stair", "Dense", {"units": 64}),
        ("sigmoid", "Activation", {"function": "sigmoid"}),
        ("stair", "Activation", {"function": "stair"}),
        ("mean", "Dense", {"units": 64}),
        ("logvar", "Dense", {"units": 64}),
        ("code", "Sampling", {"beta": 0.1}),
        ("sparse", "ActivityRegularization", {"l1": 0.001, "l2": 0.001}),
        ("a", "Dense", {"units": 64}),
        ("b", "Dense", {"units": 64}),
        ("dot", "Dot", {}),
        ("join", "Concatenate", {}),
        ("classes", "Dense", {"units": 10}),
        ("out", "Activation", {"function": "softmax"}),
    ], [*chain("input", "prelu", "dense", "leaky", "norm", "elu", "softplus", "linear",
               "identity", "tanh", "rbf"),
        *chain("prelu", "to_step", "step"), *chain("prelu", "to_stair", "sigmoid", "stair"),
        ("tanh", "mean"), ("tanh", "logvar"), ("mean", "code", 0), ("logvar", "code", 1),
        ("code", "sparse"), ("tanh", "a"), ("prelu", "b"), ("a", "dot", 0), ("b", "dot", 1),
        *[(s, "join", k) for k, s in enumerate(["rbf", "step", "stair", "sparse", "dot"])],
        *chain("join", "classes", "out")])


def sequence_layers() -> nn.Graph:
    """The digits' pixel values (0-16) as token ids: Embedding, Reshape, SimpleRNN, a join
    along the last axis and an average over the steps."""
    return graph("sequence layers", [
        ("input", "Input", {"shape": [8, 8], "dtype": "int64"}),
        ("embed", "Embedding", {"vocab_size": 17, "dim": 8}),
        ("rows", "Reshape", {"shape": [8, 64]}),
        ("rnn", "SimpleRNN", {"units": 64, "return_sequences": True}),
        ("join", "Concatenate", {"axis": -1}),
        ("avg", "GlobalAvgPool1D", {}),
        ("dense", "Dense", {"units": 10}),
        ("out", "Activation", {"function": "softmax"}),
    ], [*chain("input", "embed", "rows", "rnn"), ("rows", "join", 0), ("rnn", "join", 1),
        *chain("join", "avg", "dense", "out")])


GRAPHS = {"residual-cnn": residual_cnn, "lstm": lstm,
          "mlp": lambda: nn.load_graph("resources/examples/mlp_digits.json"),
          "image-layers": image_layers, "vector-layers": vector_layers,
          "sequence-layers": sequence_layers}


def test_the_graphs_hold_every_layer_type_and_every_activation_function():
    types, functions = set(), set()
    for make in GRAPHS.values():
        for _, node in make().nx.nodes(data=True):
            types.add(node["type"])
            if node["type"] == "Activation":
                functions.add(node["params"]["function"])
    missing = [s.type for s in nn.layer_specs() if s.type not in types]
    assert not missing, f"layer types in no workspace test graph: {missing}"
    missing = [f for f in FUNCTION_NAMES if f not in functions]
    assert not missing, f"activation functions in no workspace test graph: {missing}"


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


def layer_call_bytes(t: nn.Trainer, batch_size: int) -> dict[str, int]:
    """'node forward' / 'node backward' / 'node added_loss' -> bytes the call had allocated
    at its peak, in the fourth training step (three warm-up steps first), and the same for
    'node forward (inference)' in a validation pass run in the workspaces (as fit's). NumPy's
    iteration buffers are cut to 64 elements per operand meanwhile, so that they stop
    growing with the batch at 64."""
    calls: dict[str, int] = {}
    phase = [""]

    def measured(name, method):
        def call(*args):
            start = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            result = method(*args)
            calls[name + phase[0]] = tracemalloc.get_traced_memory()[1] - start
            return result
        return call

    for step in t.model.steps:
        layer = step.layer  # an instance attribute shadows the method for this model only
        for method in ("forward", "backward", "added_loss"):
            setattr(layer, method, measured(f"{step.node_id} {method}", getattr(layer, method)))
    rng = np.random.default_rng(0)
    positions = np.arange(len(t.y_train))
    bufsize = np.setbufsize(64)
    tracemalloc.start()
    try:
        for b in range(4):
            calls.clear()
            xb, yb = t._gather(positions[b * batch_size:(b + 1) * batch_size])
            t.train_batch(xb, yb, rng)
        phase[0] = " (inference)"
        for _ in range(2):
            _, tape = t.model.forward(xb, prepared=True, reuse=True)
            t.model.loss_terms(tape)
    finally:
        tracemalloc.stop()
        np.setbufsize(bufsize)
    return calls


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
def test_no_layer_call_allocates_more_for_a_larger_batch(name):
    """Each layer's forward and backward on its own, in training and at inference: doubling
    the batch must not raise what a call allocates (a per-step array of 64 values per sample
    adds 32 KiB here)."""
    small = layer_call_bytes(trainer(GRAPHS[name](), 128), 128)
    large = layer_call_bytes(trainer(GRAPHS[name](), 256), 256)
    grown = {call: large[call] - small[call] for call in large
             if large[call] - small[call] > 256}
    assert not grown, f"{name}: bytes more per call at batch 256 than at 128: {grown}"


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
