"""The engine side of the backprop tools: the stepper's trace equals Model.inspect and its
SGD step equals the optimizer's; the gradient check passes on every template and catches a
broken backward; the learning-rate finder suggests a rate that trains and leaves the model
alone; the initialisation report shows the deep sigmoid's vanishing gradient."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nnengine as nn
from nnengine.layers.core import Dense
from nnengine.optimizers import make_optimizer
from nnengine.tools import BackwardEvent, ForwardEvent, LossEvent, sgd_step
from nnengine.tools.batches import clone_model
from tests.engine.builders import mlp, sequential
from tests.engine.test_model import residual_graph

TEMPLATES = sorted((Path(__file__).parents[2] / "resources" / "templates").glob("*.json"))


def cnn_graph():
    return sequential([1, 8, 8], [
        ("Conv2D", {"filters": 3, "kernel_size": 3}), ("Activation", {"function": "relu"}),
        ("MaxPool2D", {}), ("Flatten", {}), ("Dense", {"units": 4}),
        ("Activation", {"function": "softmax"})])


def branch_inputs(model, n=2, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n, *model.shapes[i])).astype(model.dtype) for i in model.input_ids]


def cases():
    rng = np.random.default_rng(0)
    m1 = nn.compile_model(mlp(3, [4], 2), seed=0)
    m2 = nn.compile_model(cnn_graph(), seed=0)
    m3 = nn.compile_model(residual_graph(), seed=0)
    return [
        ("mlp", m1, [rng.normal(size=(2, 3)).astype("float32")], np.array([0, 1])),
        ("cnn", m2, [rng.normal(size=(2, 1, 8, 8)).astype("float32")], np.array([3, 1])),
        ("branch_add", m3, branch_inputs(m3), np.array([2, 0])),
    ]


@pytest.mark.parametrize("name,model,xs,t", cases(), ids=lambda c: c if isinstance(c, str) else "")
def test_trace_numbers_equal_inspect(name, model, xs, t):
    events = model.trace(xs, t, "cross_entropy")
    seen = model.inspect(xs, t, "cross_entropy")
    forward = [e for e in events if isinstance(e, ForwardEvent)]
    backward = [e for e in events if isinstance(e, BackwardEvent)]
    assert [e.node_id for e in forward] == [s.node_id for s in model.steps]
    assert [e.node_id for e in backward] == [s.node_id for s in reversed(model.steps)]
    for e in forward:
        np.testing.assert_array_equal(e.output, seen[e.node_id]["activation"])
    for e in backward:
        want = seen[e.node_id]
        if e.fused:  # the fused output's gradient goes straight to its input
            assert e.gradient is None
            continue
        if want["gradient"] is not None:
            np.testing.assert_allclose(e.gradient, want["gradient"], rtol=1e-6, atol=1e-7)
        for wname, g in want["weight_grads"].items():
            np.testing.assert_allclose(e.weight_gradients[wname], g, rtol=1e-6, atol=1e-7)
    loss = next(e for e in events if isinstance(e, LossEvent))
    expected, _, _ = model.loss_and_grad(seen[model.output_id]["activation"], t, "cross_entropy")
    assert loss.value == pytest.approx(expected)


def test_a_fan_out_sums_the_gradients_arriving_on_each_edge():
    model = nn.compile_model(residual_graph(), seed=0)
    xs = branch_inputs(model)
    events = {e.node_id: e for e in model.trace(xs, np.array([1, 2]), "cross_entropy")
              if isinstance(e, BackwardEvent)}
    img = events["img"]  # feeds conv1 and the 1x1 skip
    assert sorted(c for c, _ in img.arriving) == ["conv1", "skip"]
    np.testing.assert_allclose(img.gradient, sum(g for _, g in img.arriving), rtol=1e-6)
    add = events["add"]
    assert [s for s, _ in add.input_gradients] == ["conv2", "skip"]


# The stepper steps in inference mode; the residual case's BatchNorm would use batch
# statistics in the engine's training step, so the comparison runs on the other two.
@pytest.mark.parametrize("name,model,xs,t", cases()[:2],
                         ids=lambda c: c if isinstance(c, str) else "")
def test_one_applied_step_equals_the_engines_sgd_step(name, model, xs, t):
    stepper = clone_model(model)
    reference = clone_model(model)
    result = sgd_step(stepper, xs, t, "cross_entropy", 0.1)
    _, _, grads = reference.train_step_grads(xs, t, "cross_entropy")
    before = reference.get_weights()
    make_optimizer({"type": "sgd", "learning_rate": 0.1}).step(reference.weights, grads)
    for key, w in reference.weights.items():
        np.testing.assert_allclose(stepper.weights[key], w, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(result.changes[key], w - before[key], rtol=1e-5, atol=1e-7)
    assert result.loss_after < result.loss_before


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_gradient_check_passes_on_every_template(path):
    graph = nn.load_graph(path)
    config = nn.TrainingConfig.from_dict(graph.training)
    model = nn.compile_model(graph, seed=config.seed)
    clone, batch = nn.probe_batch(model, nn.load_dataset(config.dataset), config, size=3)
    report = nn.gradient_check(clone, batch.xs, batch.targets, config.loss, per_weight=6)
    assert report.complete and report.weights
    assert report.verdict != "fail", [(w.key, w.relative_error) for w in report.weights]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_every_template_can_be_stepped_through(path):
    graph = nn.load_graph(path)
    config = nn.TrainingConfig.from_dict(graph.training)
    model = nn.compile_model(graph, seed=config.seed)
    clone, batch = nn.probe_batch(model, nn.load_dataset(config.dataset), config, size=1)
    events = clone.trace(batch.xs, batch.targets, config.loss)
    n = len(clone.steps)
    assert len(events) == 2 * n + 1 and isinstance(events[n], LossEvent)
    assert np.isfinite(events[n].value)


def test_gradient_check_fails_on_a_broken_backward(monkeypatch):
    model = nn.compile_model(mlp(3, [4], 2), seed=0)
    xs, t = np.random.default_rng(1).normal(size=(3, 3)), np.array([0, 1, 1])
    assert nn.gradient_check(model, xs, t, "cross_entropy").verdict == "pass"
    original = Dense.backward

    def broken(self, w, ctx, dy, *args, **kwargs):
        dxs, grads = original(self, w, ctx, dy, *args, **kwargs)
        return dxs, {k: g * 1.1 for k, g in grads.items()}

    monkeypatch.setattr(Dense, "backward", broken)
    report = nn.gradient_check(model, xs, t, "cross_entropy")
    assert report.verdict == "fail"
    assert {w.key for w in report.weights if w.verdict == "fail"} == set(model.trainable_keys)


def test_step_activations_are_named_as_having_no_useful_gradient():
    graph = sequential([2], [("Dense", {"units": 1}), ("s", "Activation", {"function": "step"})])
    model = nn.compile_model(graph, seed=0)
    report = nn.gradient_check(model, np.ones((2, 2)), np.ones((2, 1)), "mse")
    assert "derivative is 0 almost everywhere" in report.flat_nodes["s"]


def test_gradient_check_can_be_cancelled_and_reports_progress():
    model = nn.compile_model(mlp(3, [4], 2), seed=0)
    calls = []
    report = nn.gradient_check(model, np.ones((2, 3)), np.array([0, 1]), "cross_entropy",
                               progress=lambda d, n: calls.append((d, n)),
                               cancelled=lambda: len(calls) >= 5)
    assert not report.complete and calls[-1][0] == 5


@pytest.mark.parametrize("seed", [0, 1])
def test_lr_finder_suggests_a_rate_that_trains_and_leaves_weights_alone(seed):
    graph = nn.load_graph(Path(__file__).parents[2] / "resources" / "examples" / "mlp_digits.json")
    config = nn.TrainingConfig.from_dict(graph.training).replace(seed=seed)
    data = nn.load_dataset("digits")
    model = nn.compile_model(graph, seed=seed)
    before = model.get_weights()
    result = nn.lr_find(model, data, config)
    for key, w in model.get_weights().items():
        np.testing.assert_array_equal(w, before[key])
    assert result.suggestion is not None
    assert 1e-4 < result.suggestion < 0.1  # Adam on a small MLP: neither timid nor wild
    nn.fit(model, data, config.replace(epochs=3, optimizer={"type": "adam",
                                                           "learning_rate": result.suggestion}))
    assert nn.evaluate(model, data, config)["accuracy"] > 0.9


def test_lr_finder_range_is_geometric_and_stops_when_the_loss_explodes():
    graph = sequential([2], [("Dense", {"units": 8}), ("Activation", {"function": "tanh"}),
                             ("Dense", {"units": 1})])
    config = nn.TrainingConfig.from_dict({"dataset": "sine", "loss": "mse", "optimizer":
                                          {"type": "sgd", "learning_rate": 0.01}})
    data = nn.load_dataset("sine")
    graph = sequential([data.sample_shape()[0]], [
        ("Dense", {"units": 8}), ("Activation", {"function": "tanh"}), ("Dense", {"units": 1})])
    result = nn.lr_find(nn.compile_model(graph), data, config, steps=100)
    ratios = result.learning_rates[1:] / result.learning_rates[:-1]
    np.testing.assert_allclose(ratios, ratios[0])
    assert len(result.losses) < 100  # plain SGD on MSE blows up long before a rate of 10
    assert "NaN" in result.stopped_because or "grew" in result.stopped_because


def test_init_report_shows_the_deep_sigmoid_vanishing_gradient():
    def first_to_last_ratio(name):
        graph = nn.load_graph(Path(__file__).parents[2] / "resources" / "templates" / name)
        config = nn.TrainingConfig.from_dict(graph.training)
        model = nn.compile_model(graph, seed=config.seed)
        clone, batch = nn.probe_batch(model, nn.load_dataset(config.dataset), config)
        rows = nn.init_report(clone, batch.xs, batch.targets, config.loss)
        weighted = [r for r in rows if r.weight_grad_norm is not None]
        return weighted[0].weight_grad_norm / weighted[-1].weight_grad_norm, rows

    sigmoid, rows = first_to_last_ratio("deep_sigmoid.json")
    relu, _ = first_to_last_ratio("deep_relu.json")
    assert sigmoid < 0.01 and relu > 10 * sigmoid
    saturating = [r for r in rows if r.function == "sigmoid"]
    assert saturating and all(r.saturated_share is not None for r in saturating)
