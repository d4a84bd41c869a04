"""Trainable weights packed into one buffer (nnengine/packed.py): the optimizer updates the
whole model at once, and the result is the same as updating each weight on its own."""
from __future__ import annotations

import numpy as np
import pytest

import nnengine as nn
from nnengine.optimizers import make_optimizer
from tests.engine.test_workspaces import GRAPHS, trainer


def test_every_trainable_weight_is_a_view_of_the_packed_buffer():
    model = nn.compile_model(GRAPHS["residual-cnn"](), seed=1)
    values = model.packed.values
    assert values.size == sum(model.weights[k].size for k in model.trainable_keys)
    for step in model.steps:
        for name, key in step.keys.items():
            if key in model.trainable_keys:
                assert step.weights[name] is model.weights[key]
                assert np.shares_memory(model.weights[key], values), key
    new = {k: np.full_like(v, 0.25) for k, v in model.get_weights().items()}
    model.set_weights(new)                       # written through to the buffer
    assert np.all(values == 0.25)


def unpacked(t: nn.Trainer) -> nn.Trainer:
    """The same trainer updating each weight on its own (the engine before packing)."""
    t.model.packed = None
    return t


@pytest.mark.parametrize("name", GRAPHS)
@pytest.mark.parametrize("optimizer", [{"type": "adam", "learning_rate": 0.01},
                                       {"type": "sgd", "learning_rate": 0.05, "momentum": 0.9},
                                       {"type": "rmsprop", "learning_rate": 0.001}])
def test_packed_updates_give_bit_identical_weights(name, optimizer):
    packed = trainer(GRAPHS[name](), 50, l2=0.001)
    apart = unpacked(trainer(GRAPHS[name](), 50, l2=0.001))
    for t in (packed, apart):
        t.optimizer = make_optimizer(optimizer)
    assert packed.fit().epochs[-1]["loss"] == apart.fit().epochs[-1]["loss"]
    for key, value in packed.model.weights.items():
        np.testing.assert_array_equal(value, apart.model.weights[key], err_msg=key)


def test_clipping_the_packed_gradient_matches_clipping_each_weight():
    """The squared norms are summed in another order (one pass over the packed array), so
    the clipping scale can differ in its last bits; the weights agree to float32 rounding."""
    packed = trainer(GRAPHS["mlp"](), 50, clip_norm=0.1)
    apart = unpacked(trainer(GRAPHS["mlp"](), 50, clip_norm=0.1))
    packed.fit()
    apart.fit()
    for key, value in packed.model.weights.items():
        np.testing.assert_allclose(value, apart.model.weights[key], rtol=1e-4, atol=1e-6,
                                   err_msg=key)
    squares = packed.grad_squares
    assert set(squares) == set(packed.model.trainable_keys)
    assert all(v > 0 for v in squares.values())
