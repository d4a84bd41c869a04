"""PyTorch source export: for every exportable layer type and every example and template
graph, the generated file runs, loads the .npz weights, matches predict (1e-4), takes an
optimizer step, and writes the weights back unchanged (torch: the `torch` extra)."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import nnengine as nn
from nnengine.catalogue import layer_specs
from nnengine.errors import ExportError
from nnengine.export import export_pytorch
from nnengine.export.pytorch_export import CONVERTERS, _class_name, pytorch_source
from nnengine.serialization import load_graph
from nnengine.weights_io import save_weights
from tests.engine.builders import mlp
from tests.engine.export_cases import (
    assert_close,
    case_graph,
    graph_files,
    layer_cases,
    perturbed_model,
    sample_inputs,
)

RTOL = 1e-4


def test_every_layer_type_has_a_converter():
    missing = [s.type for s in layer_specs() if not s.is_input and s.type not in CONVERTERS]
    assert not missing, f"no PyTorch converter for {missing}"


def test_writing_the_source_needs_no_torch():
    g = nn.Graph("tiny")
    g.add_node("x", "Input", {"shape": [2]})
    g.add_node("d", "Dense", {"units": 1})
    g.add_edge("x", "d")
    source = pytorch_source(nn.compile_model(g))
    compile(source, "tiny.py", "exec")
    assert "class Tiny(nn.Module):" in source and "def load_npz_weights(" in source


def load_module(model: nn.Model, tmp_path):
    """Export `model` and its weights; import the file; return (module instance, file)."""
    source, weights = tmp_path / "generated_model.py", tmp_path / "weights.npz"
    export_pytorch(model, source)
    save_weights(model, weights)
    spec = importlib.util.spec_from_file_location(f"generated_{id(model)}", source)
    generated = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generated)
    net = getattr(generated, _class_name(model.graph.name))()
    generated.load_npz_weights(net, weights)
    return net, generated


def check_pytorch(model: nn.Model, tmp_path) -> None:
    import torch
    net, generated = load_module(model, tmp_path)
    xs = sample_inputs(model)
    args = [torch.from_numpy(xs[i]) for i in model.input_ids]
    net.eval()
    with torch.no_grad():
        y = net(*args).numpy()
    assert_close(y, model.predict(xs), RTOL)
    # The weights go back to nnengine unchanged.
    generated.save_npz_weights(net, tmp_path / "back.npz")
    with np.load(tmp_path / "back.npz") as back:
        assert set(back.files) == set(model.weights)
        for key, w in model.weights.items():
            np.testing.assert_allclose(back[key], w, rtol=1e-6, atol=1e-7)
    # One training step runs and changes the trainable parameters.
    params = [p for p in net.parameters() if p.requires_grad]
    if not params:
        return
    net.train()
    before = [p.detach().clone() for p in params]
    optimizer = torch.optim.SGD(params, lr=0.1)
    optimizer.zero_grad()
    out = net(*args)
    if not out.requires_grad:  # a step output: backpropagation cannot train it (SPEC 3)
        return
    (out * torch.linspace(-1, 1, out.numel()).reshape(out.shape)).sum().backward()
    optimizer.step()
    grads = [p.grad for p in params if p.grad is not None]
    if grads and any(float(g.abs().sum()) > 0 for g in grads):
        assert any(not torch.equal(b, p.detach()) for b, p in zip(before, params))


@pytest.mark.parametrize("case", layer_cases(), ids=lambda c: c.id)
def test_layer_runs_in_pytorch(case, tmp_path):
    check_pytorch(perturbed_model(case_graph(case)), tmp_path)


@pytest.mark.parametrize("path", graph_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_graph_file_runs_in_pytorch(path, tmp_path):
    check_pytorch(perturbed_model(load_graph(path)), tmp_path)


def test_standardized_input_and_awkward_ids(tmp_path):
    """Ids that are Python keywords or nn.Module members still give working code."""
    g = nn.Graph("None")
    g.add_node("class", "Input", {"shape": [3]})
    g.add_node("forward", "Dense", {"units": 4})
    g.add_node("train", "Activation", {"function": "tanh"})
    g.add_node("F", "Dense", {"units": 2})
    g.add_node("softmax", "Activation", {"function": "softmax"})
    for s, t in [("class", "forward"), ("forward", "train"), ("train", "F"), ("F", "softmax")]:
        g.add_edge(s, t)
    model = perturbed_model(g)
    model.set_input_scaling("class", mean=np.array([1.0, 0.0, -1.0]),
                            std=np.array([0.5, 2.0, 1.0]))
    check_pytorch(model, tmp_path)


def test_logits_stop_before_the_output_softmax(tmp_path):
    import torch
    model = perturbed_model(mlp(4, [5], 3, out="softmax"))
    net, _ = load_module(model, tmp_path)
    net.eval()
    x = torch.from_numpy(sample_inputs(model)["input"])
    with torch.no_grad():
        np.testing.assert_allclose(torch.softmax(net(x, logits=True), -1).numpy(),
                                   net(x).numpy(), rtol=1e-6)


def test_layer_without_converter_is_named(monkeypatch):
    monkeypatch.delitem(CONVERTERS, "Dense")
    g = nn.Graph("tiny")
    g.add_node("x", "Input", {"shape": [2]})
    g.add_node("d", "Dense", {"units": 1})
    g.add_edge("x", "d")
    with pytest.raises(ExportError, match="node 'd': layer type Dense"):
        pytorch_source(nn.compile_model(g))
