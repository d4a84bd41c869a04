"""One contract test over every catalogue entry: config round trip, shape inference equals
the real output shape, weights match their declared shapes, backward equals numerical
gradients (float64) for every input and trainable weight, and seeded init is deterministic."""
from __future__ import annotations

import numpy as np
import pytest

from nnengine.catalogue import layer_spec, layer_specs
from nnengine.layers.base import Workspace
from tests.engine.gradcheck import assert_close, numerical_gradient
from tests.engine.layer_cases import Case, all_cases

CASES = all_cases()


def build(case: Case):
    spec = layer_spec(case.type)
    config, problems = spec.resolve(case.params)
    assert not problems, problems
    layer = spec.layer_class(config)
    assert not layer.check_config()
    return spec, layer


def make_inputs(case: Case, rng):
    xs = []
    for i, shape in enumerate(case.input_shapes):
        if i in case.int_inputs:
            xs.append(rng.integers(0, case.int_inputs[i], size=(case.batch, *shape)))
        else:
            xs.append(rng.normal(size=(case.batch, *shape)))
    return xs


def test_every_layer_type_has_a_case():
    covered = {c.type for c in CASES}
    missing = [s.type for s in layer_specs() if s.type not in covered]
    assert not missing, f"no contract case for {missing}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_config_round_trip(case):
    spec, layer = build(case)
    again, problems = spec.resolve(dict(layer.config))
    assert not problems and again == layer.config


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_shapes_and_weights(case):
    spec, layer = build(case)
    shapes = [tuple(s) for s in case.input_shapes]
    rng = np.random.default_rng(0)
    w = layer.init_weights(shapes, rng, np.float32)
    declared = layer.weight_shapes(shapes)
    assert {k: v.shape for k, v in w.items()} == declared
    assert all(v.dtype == np.float32 for v in w.values())
    assert set(w) <= {ws.name for ws in spec.weights}
    if spec.is_input:
        xs = [rng.normal(size=(case.batch, *layer.config["shape"]))]
    else:
        xs = make_inputs(case, rng)
    y, _ = layer.forward(w, xs, case.training, np.random.default_rng(1))
    assert y.shape == (case.batch, *layer.output_shape(shapes))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_seeded_init_is_deterministic(case):
    _, layer = build(case)
    shapes = [tuple(s) for s in case.input_shapes]
    a = layer.init_weights(shapes, np.random.default_rng(7), np.float32)
    b = layer.init_weights(shapes, np.random.default_rng(7), np.float32)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("case", [c for c in CASES if c.input_shapes], ids=lambda c: c.id)
def test_backward_matches_numerical_gradient(case):
    spec, layer = build(case)
    shapes = [tuple(s) for s in case.input_shapes]
    rng = np.random.default_rng(3)
    w = {k: v.astype(np.float64) for k, v in
         layer.init_weights(shapes, rng, np.float64).items()}
    # Perturb weights away from special values (zero biases, unit gammas) for a fair check.
    trainable = [ws.name for ws in spec.weights if ws.trainable and ws.name in w]
    for k in trainable:
        w[k] += rng.normal(scale=0.1, size=w[k].shape)
    xs = make_inputs(case, rng)
    y0, _ = layer.forward({k: v.copy() for k, v in w.items()}, xs, case.training,
                          np.random.default_rng(5))
    r = rng.normal(size=y0.shape)

    def loss():
        wc = {k: v.copy() for k, v in w.items()}  # running stats must not drift
        y, ctx = layer.forward(wc, xs, case.training, np.random.default_rng(5))
        return float(np.sum(y * r)) + layer.added_loss(ctx)  # 0 unless it adds to the loss

    wc = {k: v.copy() for k, v in w.items()}
    _, ctx = layer.forward(wc, xs, case.training, np.random.default_rng(5))
    dxs, dws = layer.backward(wc, ctx, r.copy())
    assert len(dxs) == len(xs)
    for i, x in enumerate(xs):
        if i in case.int_inputs:
            assert dxs[i] is None
            continue
        assert_close(dxs[i], numerical_gradient(loss, x), f"{case.id} d/dx{i}")
    assert set(dws) == set(trainable), f"gradients for {set(dws)}, trainable {trainable}"
    for k in trainable:
        assert_close(dws[k], numerical_gradient(loss, w[k]), f"{case.id} d/d{k}")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_weights_follow_their_declarations(case):
    spec, layer = build(case)
    shapes = [tuple(s) for s in case.input_shapes]
    declared = layer.declared_weights()
    names = [d.name for d in declared]
    assert len(names) == len(set(names)), f"{case.id}: a weight declared twice: {names}"
    w = layer.init_weights(shapes, np.random.default_rng(0), np.float64)
    assert list(w) == [d.name for d in declared if not d.optional]
    assert all(v.flags.c_contiguous for v in w.values())
    for d in spec.weights:
        assert d.name in spec.param_count_help and d.name in spec.weight_docs


@pytest.mark.parametrize("case", [c for c in CASES if c.input_shapes], ids=lambda c: c.id)
def test_backward_without_input_gradients_gives_the_same_weight_gradients(case):
    """need_dx=False (the layer reads an Input) skips dx, and never changes dw: every dx is
    None, or dy itself or a view of it where passing it on costs nothing."""
    _, layer = build(case)
    shapes = [tuple(s) for s in case.input_shapes]
    rng = np.random.default_rng(4)
    w = layer.init_weights(shapes, rng, np.float64)
    xs = make_inputs(case, rng)
    y, ctx = layer.forward({k: v.copy() for k, v in w.items()}, xs, case.training,
                           np.random.default_rng(5))
    dy = rng.normal(size=y.shape)
    _, full = layer.backward(w, ctx, dy.copy())
    passed = dy.copy()
    dxs, part = layer.backward(w, ctx, passed, need_dx=False)
    assert len(dxs) == len(xs)
    computed = [i for i, dx in enumerate(dxs) if dx is not None
                and not np.shares_memory(dx, passed)]
    assert not computed, f"{case.id}: need_dx=False, yet dx computed for inputs {computed}"
    assert full.keys() == part.keys()
    for k in full:
        np.testing.assert_array_equal(full[k], part[k])


@pytest.mark.parametrize("case", [c for c in CASES if c.input_shapes], ids=lambda c: c.id)
def test_a_workspace_gives_the_same_results_step_after_step(case):
    """Buffers reused from a workspace must never leak one step into the next."""
    _, layer = build(case)
    shapes = [tuple(s) for s in case.input_shapes]
    w = layer.init_weights(shapes, np.random.default_rng(0), np.float64)
    ws = Workspace()
    for step in range(3):
        rng = np.random.default_rng(10 + step)
        xs = make_inputs(case, rng)
        y, ctx = layer.forward({k: v.copy() for k, v in w.items()}, xs, case.training,
                               np.random.default_rng(5))
        dy = rng.normal(size=y.shape)
        want = (y.copy(), *layer.backward(w, ctx, dy))
        y, ctx = layer.forward({k: v.copy() for k, v in w.items()}, xs, case.training,
                               np.random.default_rng(5), ws)
        got = (y, *layer.backward(w, ctx, dy, ws))
        np.testing.assert_array_equal(got[0], want[0])
        for a, b in zip(got[1], want[1]):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_array_equal(a, b)
        assert got[2].keys() == want[2].keys()
        for k in got[2]:
            np.testing.assert_array_equal(got[2][k], want[2][k])
