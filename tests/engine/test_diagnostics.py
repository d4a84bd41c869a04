"""Training health alarms on constructed situations."""
from __future__ import annotations

import numpy as np

import nnengine as nn
from nnengine import diagnostics as dg
from tests.engine.builders import mlp, sequential


def probe(model, n=64, dim=2, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim)).astype(np.float32)
    t = rng.integers(0, model.output_shape[0], n)
    return x, t


def codes(alarms):
    return {(a.code, a.node_id) for a in alarms}


def test_relu_layer_with_huge_negative_bias_is_dead():
    g = sequential([2], [("dense1", "Dense", {"units": 16}),
                         ("relu1", "Activation", {"function": "relu"}),
                         ("out", "Dense", {"units": 2}),
                         ("soft", "Activation", {"function": "softmax"})])
    model = nn.compile_model(g, seed=0)
    x, t = probe(model)
    assert not [a for a in dg.check_model(model, x, t, "cross_entropy") if a.code == "dead_relu"]
    model.weights["dense1/b"][:12] = -1e3
    alarms = dg.check_model(model, x, t, "cross_entropy")
    dead = [a for a in alarms if a.code == "dead_relu"]
    assert len(dead) == 1 and dead[0].node_id == "relu1"
    assert dead[0].severity == dg.ERROR
    assert "75%" in dead[0].message and "relu1" in dead[0].message
    assert "dense1" in dead[0].message and "learning rate" in dead[0].message


def test_dead_fraction_counts_conv_channels():
    a = np.zeros((4, 8, 3, 3), np.float32)
    a[:, :2, 1, 1] = 1.0
    assert dg.dead_fraction(a) == 0.75


def test_saturated_sigmoid_units():
    g = sequential([2], [("d", "Dense", {"units": 10}),
                         ("sig", "Activation", {"function": "sigmoid"}),
                         ("o", "Dense", {"units": 2}),
                         ("s", "Activation", {"function": "softmax"})])
    model = nn.compile_model(g, seed=0)
    model.weights["d/W"][...] *= 1e4
    x, t = probe(model)
    sat = [a for a in dg.check_model(model, x, t, "cross_entropy") if a.code == "saturated"]
    assert [a.node_id for a in sat] == ["sig"]


def test_deep_sigmoid_net_has_vanishing_gradients_and_relu_net_has_not():
    x, _ = probe(nn.compile_model(mlp(2, [16], 2), seed=0))
    t = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    deep_sigmoid = nn.compile_model(mlp(2, [16] * 8, 2, act="sigmoid"), seed=0)
    alarms = dg.check_model(deep_sigmoid, x, t, "cross_entropy")
    vanishing = [a for a in alarms if a.code == "vanishing"]
    assert len(vanishing) == 1
    assert vanishing[0].node_id == "n0"  # the first Dense, farthest from the loss
    assert "n0" in vanishing[0].message and "relu" in vanishing[0].message
    deep_relu = nn.compile_model(mlp(2, [16] * 8, 2, act="relu"), seed=0)
    assert not [a for a in dg.check_model(deep_relu, x, t, "cross_entropy")
                if a.code == "vanishing"]


def test_vanishing_relative_to_weights_is_an_error():
    snap = {"d1": {"weights": {"W": np.ones((4, 4))}, "weight_grads": {"W": np.full((4, 4),
                                                                                  1e-12)}},
            "d2": {"weights": {"W": np.ones((4, 4))}, "weight_grads": {"W": np.ones((4, 4))}}}
    alarms = dg.gradient_alarms(snap)
    assert [(a.code, a.node_id, a.severity) for a in alarms] == [("vanishing", "d1", dg.ERROR)]


def test_exploding_and_fast_growing_gradients():
    snap = {"d1": {"weights": {"W": np.ones(3)}, "weight_grads": {"W": np.full(3, 1e4)}},
            "d2": {"weights": {"W": np.ones(3)}, "weight_grads": {"W": np.full(3, 50.0)}},
            "d3": {"weights": {"W": np.ones(3)}, "weight_grads": {"W": np.array([np.nan, 1, 1])}}}
    alarms = dg.gradient_alarms(snap, {"d2": [1.0, 2.0, 3.0, 99.0]})
    assert ("exploding", "d1") in codes(alarms)
    assert ("exploding", "d2") in codes(alarms)  # grew from 1 to 87
    assert ("exploding", "d3") in codes(alarms)  # not finite
    calm = dg.gradient_alarms({"d2": snap["d2"]}, {"d2": [40.0, 45.0, 48.0, 49.0]})
    assert calm == []


def test_overfitting_from_history():
    epochs = [{"epoch": i + 1, "loss": 1.0 / (i + 1), "val_loss": v}
              for i, v in enumerate([1.0, 0.8, 0.6, 0.55, 0.6, 0.7, 0.8])]
    alarms = dg.history_alarms(epochs)
    assert [a.code for a in alarms] == ["overfitting"]
    assert alarms[0].node_id is None and "epoch 4" in alarms[0].message
    healthy = [{"loss": 1.0 / (i + 1), "val_loss": 1.1 / (i + 1)} for i in range(8)]
    assert dg.history_alarms(healthy) == []
    # a near-zero loss wobbling while every validation sample is right is no overfitting
    perfect = [{**e, "val_accuracy": 1.0} for e in epochs]
    assert dg.history_alarms(perfect) == []
    assert dg.history_alarms([{**e, "val_accuracy": 0.9} for e in epochs]) != []
    wobble = [{"loss": 1.0 / (i + 1), "val_loss": v}    # one noisy epoch, tiny losses
              for i, v in enumerate([0.5, 0.2, 0.05, 0.02, 0.021, 0.03, 0.022, 0.021])]
    assert dg.history_alarms(wobble) == []


def test_flat_and_rising_loss():
    flat = [{"loss": 0.693 + 1e-4 * (i % 2)} for i in range(6)]
    assert [a.code for a in dg.history_alarms(flat)] == ["flat_loss"]
    rising = [{"loss": 0.5 * 1.2 ** i} for i in range(6)]
    assert [a.code for a in dg.history_alarms(rising)] == ["rising_loss"]
    solved = [{"loss": 1e-5, "accuracy": 1.0} for _ in range(6)]
    assert dg.history_alarms(solved) == []


def test_diagnose_sorts_by_severity_and_kinds_come_from_the_model():
    model = nn.compile_model(mlp(2, [4], 2, act="relu"), seed=0)
    kinds = dg.layer_kinds(model)
    assert kinds["n1"] == ("Activation", "relu") and kinds["n0"] == ("Dense", None)
    epochs = [{"loss": 0.69} for _ in range(5)]
    snap = {"n0": {"weights": {"W": np.ones(2)}, "weight_grads": {"W": np.full(2, 1e5)}}}
    alarms = dg.diagnose(snap, kinds, epochs)
    assert [a.severity for a in alarms] == [dg.ERROR, dg.WARNING]


def test_a_confident_sigmoid_output_is_no_alarm_but_the_same_hidden_layer_is():
    """A classifier's output near 0 and 1 is the goal; a hidden layer there is saturated."""
    out = sequential([2], [("d", "Dense", {"units": 1}),
                           ("sig", "Activation", {"function": "sigmoid"})])
    hidden = sequential([2], [("d", "Dense", {"units": 4}),
                              ("sig", "Activation", {"function": "sigmoid"}),
                              ("o", "Dense", {"units": 1}),
                              ("s", "Activation", {"function": "sigmoid"})])
    for seed in (0, 1, 2):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(64, 2)).astype(np.float32)
        t = (x[:, 0] > 0).astype(np.float32)[:, None]
        for graph, expected in ((out, []), (hidden, ["sig"])):
            model = nn.compile_model(graph, seed=seed)
            model.weights["d/W"][...] = 1e4
            alarms = dg.check_model(model, x, t, "binary_cross_entropy")
            assert [a.node_id for a in alarms if a.code == "saturated"] == expected


def test_output_side_walks_back_over_weightless_layers_to_the_last_weighted_one():
    kinds = {"in": ("Input", None), "d": ("Dense", None), "sig": ("Activation", "sigmoid"),
             "r": ("Reshape", None)}
    snap = {"d": {"weights": {"W": np.ones(2)}}, "sig": {}, "r": {}}
    sources = {"d": "in", "sig": "d", "r": "sig"}
    assert dg.output_side(snap, kinds, sources) == {"r", "sig", "d"}


def test_templates_that_reach_their_target_raise_no_saturation_alarm():
    from nnengine.training_config import TrainingConfig

    for name in ("xor", "autoencoder"):
        graph = nn.load_graph(f"resources/templates/{name}.json")
        config = TrainingConfig.from_dict(graph.training)
        model = nn.compile_model(graph, seed=config.seed)
        trainer = nn.Trainer(model, nn.load_dataset(config.dataset), config)
        history = trainer.fit()
        snap = dg.probe_snapshot(model, trainer.x_train, trainer.y_train, config.loss)
        alarms = dg.diagnose(snap, dg.layer_kinds(model), history.epochs,
                             sources=dg.first_sources(model))
        assert not [a for a in alarms if a.code == "saturated"], name
