"""Whole-model behaviour: backward through a DAG equals numerical gradients (l2 and the
fused softmax included), weights get checked on load, inputs get checked and reshaped."""
from __future__ import annotations

import numpy as np
import pytest

import nnengine as nn
from tests.engine.builders import sequential
from tests.engine.gradcheck import assert_close, numerical_gradient


def residual_graph():
    g = nn.Graph("residual")
    g.add_node("img", "Input", {"shape": [1, 6, 6]})
    g.add_node("conv1", "Conv2D", {"filters": 2, "padding": "same"})
    g.add_node("bn", "BatchNorm")
    g.add_node("relu", "Activation", {"function": "relu"})
    g.add_node("conv2", "Conv2D", {"filters": 2, "padding": "same"})
    g.add_node("skip", "Conv2D", {"filters": 2, "kernel_size": 1})
    g.add_node("add", "Add")
    g.add_node("pool", "MaxPool2D")
    g.add_node("flat", "Flatten")
    g.add_node("vec", "Input", {"shape": [3]})
    g.add_node("cat", "Concatenate")
    g.add_node("dense", "Dense", {"units": 3})
    g.add_node("out", "Activation", {"function": "softmax"})
    for s, t in [("img", "conv1"), ("conv1", "bn"), ("bn", "relu"), ("relu", "conv2"),
                 ("img", "skip"), ("add", "pool"), ("pool", "flat"), ("dense", "out")]:
        g.add_edge(s, t)
    g.add_edge("conv2", "add", 0)
    g.add_edge("skip", "add", 1)
    g.add_edge("flat", "cat", 0)
    g.add_edge("vec", "cat", 1)
    g.add_edge("cat", "dense")
    return g


def test_backward_through_a_dag_matches_numerical_gradients():
    model = nn.compile_model(residual_graph(), seed=1, dtype="float64")
    rng = np.random.default_rng(0)
    x = {"img": rng.normal(size=(4, 1, 6, 6)), "vec": rng.normal(size=(4, 3))}
    t = np.array([0, 2, 1, 2])
    state = {k: v.copy() for k, v in model.weights.items()}

    def loss():
        for k, v in state.items():  # undo running-stat updates between evaluations
            if "running" in k:
                model.weights[k][...] = v
        return model.train_step_grads(x, t, "cross_entropy", l2=0.01)[0]

    _, _, grads = model.train_step_grads(x, t, "cross_entropy", l2=0.01)
    assert set(grads) == set(model.trainable_keys)
    for key in model.trainable_keys:
        assert_close(grads[key], numerical_gradient(loss, model.weights[key]), key)


def test_several_inputs_follow_node_order_and_accept_dicts_or_lists():
    model = nn.compile_model(residual_graph(), seed=0)
    rng = np.random.default_rng(0)
    img, vec = rng.normal(size=(2, 1, 6, 6)), rng.normal(size=(2, 3))
    assert model.input_ids == ["img", "vec"]
    np.testing.assert_array_equal(model.predict({"vec": vec, "img": img}),
                                  model.predict([img, vec]))


def test_float32_by_default_and_float64_on_request():
    g = sequential([4], [("Dense", {"units": 2})])
    assert nn.compile_model(g).predict(np.ones((1, 4))).dtype == np.float32
    m64 = nn.compile_model(g, dtype="float64")
    assert m64.predict(np.ones((1, 4))).dtype == np.float64
    assert all(w.dtype == np.float64 for w in m64.weights.values())


def test_samples_are_reshaped_when_sizes_agree_and_refused_otherwise():
    g = sequential([1, 8, 8], [("Flatten", {}), ("Dense", {"units": 2})])
    model = nn.compile_model(g)
    assert model.predict(np.zeros((3, 64))).shape == (3, 2)
    with pytest.raises(nn.DatasetError) as e:
        model.predict(np.zeros((3, 63)))
    assert "[1, 8, 8]" in str(e.value) and "[63]" in str(e.value)


def test_set_weights_names_every_mismatch():
    model = nn.compile_model(sequential([4], [("d1", "Dense", {"units": 2})]))
    good = model.get_weights()
    with pytest.raises(nn.WeightsError) as e:
        model.set_weights({"d1/W": np.zeros((5, 2)), "d9/W": np.zeros(1)})
    msg = str(e.value)
    assert "d1/W" in msg and "[5, 2]" in msg and "[4, 2]" in msg
    assert "missing 'd1/b'" in msg and "unexpected 'd9/W'" in msg
    model.set_weights({k: v + 1 for k, v in good.items()})
    np.testing.assert_array_equal(model.weights["d1/b"], good["d1/b"] + 1)


def test_inspect_gives_activations_and_gradients_per_node():
    model = nn.compile_model(residual_graph(), seed=0)
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(1, 1, 6, 6)), rng.normal(size=(1, 3))]
    snap = model.inspect(x, np.array([1]), "cross_entropy")
    assert snap["conv1"]["activation"].shape == (1, 2, 6, 6)
    assert snap["conv1"]["gradient"].shape == (1, 2, 6, 6)
    assert snap["conv1"]["weight_grads"]["W"].shape == (2, 1, 3, 3)
    assert snap["out"]["activation"].sum() == pytest.approx(1.0, rel=1e-5)


def test_first_nonfinite_node_is_found():
    model = nn.compile_model(sequential([2], [("a", "Dense", {"units": 2}),
                                              ("b", "Dense", {"units": 2})]))
    assert model.first_nonfinite_node(np.ones((1, 2))) is None
    model.weights["b/W"][0, 0] = np.nan
    assert model.first_nonfinite_node(np.ones((1, 2))) == "b"


def test_only_layers_fed_by_other_layers_compute_input_gradients():
    model = nn.compile_model(residual_graph(), seed=0)
    need = {s.node_id: s.need_dx for s in model.steps if s.input_index < 0}
    assert not need["conv1"] and not need["skip"]  # read only the Input 'img'
    assert need["cat"] and need["conv2"] and need["dense"]
