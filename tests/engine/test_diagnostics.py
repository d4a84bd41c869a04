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
    """A share of dead units that healthy nets carry (digits CNN: up to ~45%) is no alarm, a
    majority is a warning, nearly all an error (it was an error from 50%, warning from 20%:
    the templates' own healthy runs were shown in red)."""
    g = sequential([2], [("dense1", "Dense", {"units": 16}),
                         ("relu1", "Activation", {"function": "relu"}),
                         ("out", "Dense", {"units": 2}),
                         ("soft", "Activation", {"function": "softmax"})])
    model = nn.compile_model(g, seed=0)
    x, t = probe(model)
    assert not [a for a in dg.check_model(model, x, t, "cross_entropy") if a.code == "dead_relu"]
    for dead, severity in ((6, None), (12, dg.WARNING), (15, dg.ERROR)):
        model.weights["dense1/b"][:dead] = -1e3
        alarms = [a for a in dg.check_model(model, x, t, "cross_entropy")
                  if a.code == "dead_relu"]
        assert [a.severity for a in alarms] == ([severity] if severity else []), dead
    assert alarms[0].node_id == "relu1" and "94%" in alarms[0].message
    assert "dense1" in alarms[0].message and "learning rate" in alarms[0].message


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
    now = 50.0 * np.sqrt(3)     # d2's norm, the history's last entry (as the probe keeps it)
    alarms = dg.gradient_alarms(snap, {"d2": [1.0, 2.0, 4.0, 9.0, 20.0, now]})
    assert ("exploding", "d1") in codes(alarms)
    assert ("exploding", "d2") in codes(alarms)  # doubled at every snapshot, 1 to 87
    assert ("exploding", "d3") in codes(alarms)  # not finite
    calm = dg.gradient_alarms({"d2": snap["d2"]}, {"d2": [40.0, 45.0, 48.0, 49.0, now]})
    assert calm == []


def test_one_jump_of_the_gradient_is_no_explosion():
    """An LSTM's gradient jumps as its loss falls off its plateau, an optimizer bounces: one
    or two large steps after a calm stretch are not the sustained growth of an explosion
    (growth over 5 snapshots, 10x from their low, fired on them before)."""
    snap = {"lstm": {"weights": {"W": np.ones(3)}, "weight_grads": {"W": np.full(3, 3.6)}}}
    now = 3.6 * np.sqrt(3)
    for history in ([0.16, 0.23, 0.16, 0.23, 1.1, now], [0.2, 0.2, 0.2, 0.2, 0.2, now],
                    [0.3, 0.26, 0.3, 1.1, 2.2, now]):
        assert dg.gradient_alarms(snap, {"lstm": history}) == [], history
    growing = [0.1, 0.2, 0.4, 0.9, 2.5, now]
    assert codes(dg.gradient_alarms(snap, {"lstm": growing})) == {("exploding", "lstm")}


def test_with_clipping_on_the_advice_is_a_lower_rate_not_clip_norm():
    snap = {"d": {"weights": {"W": np.ones(3)}, "weight_grads": {"W": np.full(3, 1e4)}}}
    plain, = dg.gradient_alarms(snap)
    assert "clip_norm" in plain.message
    clipped, = dg.gradient_alarms(snap, clip_norm=1.0)
    assert clipped.code == "exploding"
    assert "clipping is on (clip_norm = 1)" in clipped.message
    assert "lower learning rate" in clipped.message
    assert "try a lower learning rate, gradient clipping" not in clipped.message.lower()


def test_overfitting_from_history():
    """The validation loss has stayed above its best for 5 epochs, its last three clearly
    (x1.3) above it (3 epochs and x1.1 before: noise on 225 validation points fired it)."""
    epochs = [{"epoch": i + 1, "loss": 1.0 / (i + 1), "val_loss": v}
              for i, v in enumerate([1.0, 0.8, 0.6, 0.55, 0.6, 0.7, 0.8, 0.9, 1.0])]
    alarms = dg.history_alarms(epochs)
    assert [a.code for a in alarms] == ["overfitting"]
    assert alarms[0].node_id is None and "epoch 4" in alarms[0].message
    assert dg.history_alarms(epochs[:7]) == []       # only 3 epochs past the best: not yet
    healthy = [{"loss": 1.0 / (i + 1), "val_loss": 1.1 / (i + 1)} for i in range(8)]
    assert dg.history_alarms(healthy) == []
    # a near-zero loss wobbling while every validation sample is right is no overfitting
    perfect = [{**e, "val_accuracy": 1.0} for e in epochs]
    assert dg.history_alarms(perfect) == []
    assert dg.history_alarms([{**e, "val_accuracy": 0.9} for e in epochs]) != []
    wobble = [{"loss": 1.0 / (i + 1), "val_loss": v}    # one noisy epoch, tiny losses
              for i, v in enumerate([0.5, 0.2, 0.05, 0.02, 0.021, 0.03, 0.022, 0.021])]
    assert dg.history_alarms(wobble) == []


def test_a_validation_loss_that_bounces_is_not_overfitting():
    """A deep net early in training: its validation loss jumps between 0.24 and 1.2 from epoch
    to epoch; a median above the best by less than that wobble is no trend."""
    vals = [2.41, 1.14, 0.379, 0.555, 0.242, 1.17, 1.06, 0.408, 0.318, 0.535]
    bouncy = [{"loss": 1.0 / (i + 1), "val_loss": v} for i, v in enumerate(vals)]
    assert dg.history_alarms(bouncy) == []
    steady = [{"loss": 1.0 / (i + 1), "val_loss": 0.242 + 0.03 * max(i - 4, 0)}
              for i in range(14)]                 # a best, then a steady climb
    assert [a.code for a in dg.history_alarms(steady)] == ["overfitting"]


def noisy(values, seed=0, scale=0.01):
    rng = np.random.default_rng(seed)
    return [{"loss": float(v) * (1 + scale * rng.normal())} for v in values]


def test_flat_and_rising_loss():
    n = dg.TREND_EPOCHS
    for seed in (0, 1, 2):
        flat = noisy([0.693] * (n + 2), seed)
        assert [a.code for a in dg.history_alarms(flat)] == ["flat_loss"]
        assert dg.history_alarms(flat[:dg.STUCK_EPOCHS - 1]) == []   # too few to judge
    rising = [{"loss": 0.5 * 1.2 ** i} for i in range(dg.RISING_EPOCHS)]
    assert [a.code for a in dg.history_alarms(rising)] == ["rising_loss"]
    solved = [{"loss": 1e-5, "accuracy": 1.0} for _ in range(n + 2)]
    assert dg.history_alarms(solved) == []


def test_a_plateau_that_is_still_falling_or_after_learning_is_not_flat():
    """Judged against its own noise over `TREND_EPOCHS` epochs (over 5 epochs within 1%
    before: the spirals card's plateau and a net converged on noisy data read as flat)."""
    n = dg.TREND_EPOCHS
    for seed in (0, 1, 2):
        slow = noisy(np.linspace(0.62, 0.58, n + 5), seed)       # spirals, on its way
        assert dg.history_alarms(slow) == []
        converged = noisy([2.5, 1.5, 1.0, 0.7, 0.55] + [0.47] * n, seed, 0.02)
        assert dg.history_alarms(converged) == []                # halved since epoch 1
        stuck = noisy([0.75, 0.7] + [0.69] * n, seed)             # learned nothing
        assert [a.code for a in dg.history_alarms(stuck)] == ["flat_loss"]


def test_a_bounce_or_noise_is_not_a_rising_loss():
    """A rise at every one of `RISING_EPOCHS` epochs (over 5 epochs by 10% before: Adam's
    bounce at 100% and the noise of a converged loss fired it)."""
    bounce = [{"loss": v} for v in [0.05, 0.03, 0.018, 0.632, 0.146, 0.107, 0.05]]
    assert dg.history_alarms(bounce) == []
    wobble = [{"loss": v} for v in [0.266, 0.251, 0.24, 0.245, 0.242, 0.248, 0.245, 0.225,
                                    0.245, 0.252, 0.238, 0.315]]
    assert dg.history_alarms(wobble) == []
    climbing = [{"loss": v} for v in [0.3, 0.2, 0.25, 0.31, 0.4, 0.52, 0.7]]
    assert [a.code for a in dg.history_alarms(climbing)] == ["rising_loss"]


def test_diagnose_sorts_by_severity_and_kinds_come_from_the_model():
    model = nn.compile_model(mlp(2, [4], 2, act="relu"), seed=0)
    kinds = dg.layer_kinds(model)
    assert kinds["n1"] == ("Activation", "relu") and kinds["n0"] == ("Dense", None)
    epochs = [{"loss": 0.69} for _ in range(dg.TREND_EPOCHS)]
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


def residual_or_plain(skip: bool) -> nn.Graph:
    """stem -> Dense -> tanh (-> Add with the stem) -> Dense -> softmax."""
    g = nn.Graph()
    g.add_node("in", "Input", {"shape": [2]})
    for node_id, type_name, params in (("stem", "Dense", {"units": 4}),
                                       ("d", "Dense", {"units": 4}),
                                       ("th", "Activation", {"function": "tanh"}),
                                       ("o", "Dense", {"units": 2}),
                                       ("s", "Activation", {"function": "softmax"})):
        g.add_node(node_id, type_name, params)
    g.add_edge("in", "stem")
    g.add_edge("stem", "d")
    g.add_edge("d", "th")
    if skip:
        g.add_node("add", "Add", {})
        g.add_edge("stem", "add", 0)
        g.add_edge("th", "add", 1)
        g.add_edge("add", "o")
    else:
        g.add_edge("th", "o")
    g.add_edge("o", "s")
    return g


def test_skip_branches_are_the_layers_a_skip_connection_jumps_over():
    assert dg.skip_branches(residual_or_plain(skip=True)) == {"d", "th"}
    assert dg.skip_branches(residual_or_plain(skip=False)) == frozenset()
    assert dg.skip_branches(nn.load_graph("resources/templates/deep_residual.json")) == {
        f"{kind}{i}" for kind in ("dense", "tanh") for i in range(1, 21)}


def test_saturated_units_a_skip_jumps_over_are_a_note_and_without_the_skip_a_problem():
    """The skip carries the gradient past a saturated residual branch, so it is no problem;
    the same saturated layer in a plain chain blocks the gradient to the stem."""
    for seed in (0, 1, 2):
        x = np.random.default_rng(seed).normal(size=(64, 2)).astype(np.float32)
        t = (x[:, 0] > 0).astype(np.int64)
        for skip, severities in ((True, {dg.INFO}), (False, {dg.WARNING, dg.ERROR})):
            model = nn.compile_model(residual_or_plain(skip), seed=seed)
            model.weights["d/W"][...] *= 1e4
            sat = [a for a in dg.check_model(model, x, t, "cross_entropy")
                   if a.code == "saturated"]
            assert [a.node_id for a in sat] == ["th"], (skip, seed)
            assert sat[0].severity in severities, (skip, seed)


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


def test_a_short_run_that_never_learned_is_flat_and_one_that_learns_is_not():
    def codes(losses):
        return [a.code for a in dg.history_alarms([{"loss": v, "accuracy": 0.5}
                                                   for v in losses])]

    rng = np.random.default_rng(0)
    stuck = list(0.693 + 0.002 * rng.standard_normal(10))          # a default net at 50%
    assert "flat_loss" in codes(stuck)
    assert "flat_loss" not in codes(stuck[:dg.STUCK_EPOCHS - 1])   # too short to judge
    learning = [0.70, 0.69, 0.68, 0.66, 0.64, 0.62, 0.60, 0.57, 0.55, 0.52]
    assert "flat_loss" not in codes(learning)
    slow_start = [0.70, 0.70, 0.70, 0.69, 0.69, 0.69, 0.69, 0.68, 0.66, 0.60]
    assert "flat_loss" not in codes(slow_start)                    # 2% below the first: moving
