"""Behaviour of the recurrent and embedding layers against SPEC section 3's formulas."""
from __future__ import annotations

import numpy as np
import pytest

from nnengine.catalogue import layer_spec
from nnengine.errors import DatasetError, ShapeError


def make(type_name: str, **params):
    spec = layer_spec(type_name)
    config, problems = spec.resolve(params)
    assert not problems, problems
    return spec.layer_class(config)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def lstm_reference(w, x):
    """Plain step-by-step LSTM from the SPEC: z = x·W + h·U + b split into i, f, g, o."""
    N, T, _ = x.shape
    H = w["U"].shape[0]
    h = np.zeros((N, H))
    c = np.zeros((N, H))
    hs = []
    for t in range(T):
        z = x[:, t] @ w["W"] + h @ w["U"] + w["b"]
        i, f, g, o = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        hs.append(h)
    return np.stack(hs, axis=1), c


def random_lstm(rng, F=3, H=4, T=5, N=2):
    layer = make("LSTM", units=H)
    w = layer.init_weights([(T, F)], rng, np.float64)
    w = {k: v + rng.normal(scale=0.3, size=v.shape) for k, v in w.items()}
    return layer, w, rng.normal(size=(N, T, F))


def test_lstm_forward_matches_step_by_step_reference():
    layer, w, x = random_lstm(np.random.default_rng(0))
    y, _ = layer.forward(w, [x], False, None)
    hs, _ = lstm_reference(w, x)
    np.testing.assert_allclose(y, hs[:, -1], rtol=1e-12, atol=1e-12)


def test_lstm_gate_order_is_i_f_g_o():
    """i opens for the first step only, f and o stay open: c keeps tanh(x_0) afterwards.

    W, U and b are set per block in the file order i, f, g, o; another order fails."""
    H, F = 2, 1
    layer = make("LSTM", units=H, return_sequences=True)
    big = 30.0
    W = np.zeros((F, 4 * H))
    W[0, 2 * H:3 * H] = 1.0                   # g follows the input
    b = np.zeros(4 * H)
    b[:H] = big                               # i open (until U shuts it)
    b[H:2 * H] = big                          # f open: c carries over
    b[3 * H:] = big                           # o open; g (third block) = tanh(x)
    U = np.zeros((H, 4 * H))
    U[:, :H] = -4 * big                       # once h > 0, i shuts
    w = {"W": W, "U": U, "b": b}
    x = np.array([[[0.5], [-3.0], [2.0]]])    # later inputs must not reach c
    y, _ = layer.forward(w, [x], False, None)
    expected_c = np.tanh(0.5)
    np.testing.assert_allclose(y[0, :, 0], np.tanh(expected_c), atol=1e-6)
    hs, c = lstm_reference(w, x)
    np.testing.assert_allclose(y, hs, atol=1e-12)
    np.testing.assert_allclose(c[0], expected_c, atol=1e-6)


def test_lstm_forget_gate_bias_starts_at_one():
    H = 3
    w = make("LSTM", units=H).init_weights([(4, 2)], np.random.default_rng(0), np.float32)
    expected = np.zeros(4 * H, dtype=np.float32)
    expected[H:2 * H] = 1
    np.testing.assert_array_equal(w["b"], expected)
    for k in range(4):  # one orthogonal block per gate
        block = w["U"][:, k * H:(k + 1) * H].astype(np.float64)
        np.testing.assert_allclose(block.T @ block, np.eye(H), atol=1e-5)


@pytest.mark.parametrize("type_name", ["SimpleRNN", "LSTM"])
def test_return_sequences_last_step_equals_plain_output(type_name):
    rng = np.random.default_rng(1)
    seq = make(type_name, units=3, return_sequences=True)
    last = make(type_name, units=3)
    w = seq.init_weights([(6, 2)], rng, np.float64)
    x = rng.normal(size=(4, 6, 2))
    ys, _ = seq.forward(w, [x], False, None)
    y, _ = last.forward(w, [x], False, None)
    assert ys.shape == (4, 6, 3) and y.shape == (4, 3)
    np.testing.assert_array_equal(ys[:, -1], y)


def test_simple_rnn_matches_formula():
    rng = np.random.default_rng(2)
    layer = make("SimpleRNN", units=3, return_sequences=True)
    w = layer.init_weights([(4, 2)], rng, np.float64)
    w["b"] += 0.1
    x = rng.normal(size=(2, 4, 2))
    y, _ = layer.forward(w, [x], False, None)
    h = np.zeros((2, 3))
    for t in range(4):
        h = np.tanh(x[:, t] @ w["W"] + h @ w["U"] + w["b"])
        np.testing.assert_allclose(y[:, t], h, atol=1e-12)


@pytest.mark.parametrize("type_name", ["SimpleRNN", "LSTM"])
def test_float32_stays_float32(type_name):
    layer = make(type_name, units=4, return_sequences=True)
    w = layer.init_weights([(5, 3)], np.random.default_rng(0), np.float32)
    x = np.random.default_rng(1).normal(size=(2, 5, 3)).astype(np.float32)
    y, ctx = layer.forward(w, [x], True, None)
    assert y.dtype == np.float32
    (dx,), grads = layer.backward(w, ctx, np.ones_like(y))
    assert dx.dtype == np.float32 and all(g.dtype == np.float32 for g in grads.values())


@pytest.mark.parametrize("type_name", ["SimpleRNN", "LSTM"])
@pytest.mark.parametrize("shape", [(8,), (2, 3, 4)])
def test_non_sequence_input_is_a_shape_error(type_name, shape):
    with pytest.raises(ShapeError, match=rf"{type_name} needs input \(time steps, features\)"
                       rf".*received shape \[{', '.join(map(str, shape))}\]"):
        make(type_name, units=2).output_shape([shape])


def test_embedding_lookup_and_repeated_ids_accumulate_gradient():
    layer = make("Embedding", vocab_size=5, dim=3)
    w = layer.init_weights([(4,)], np.random.default_rng(0), np.float32)
    ids = np.array([[1, 3, 1, 1], [0, 3, 4, 1]], dtype=np.int64)
    y, ctx = layer.forward(w, [ids], True, None)
    assert y.shape == (2, 4, 3) and y.dtype == np.float32
    np.testing.assert_array_equal(y, w["E"][ids])
    dy = np.arange(24, dtype=np.float32).reshape(2, 4, 3)
    dxs, grads = layer.backward(w, ctx, dy)
    assert dxs == [None]
    expected = np.zeros((5, 3), dtype=np.float32)
    for n in range(2):
        for t in range(4):
            expected[ids[n, t]] += dy[n, t]
    np.testing.assert_allclose(grads["E"], expected)
    np.testing.assert_array_equal(grads["E"][2], 0)  # never looked up
    np.testing.assert_allclose(grads["E"][1], dy[0, 0] + dy[0, 2] + dy[0, 3] + dy[1, 3])


def test_embedding_2d_ids():
    layer = make("Embedding", vocab_size=6, dim=2)
    w = layer.init_weights([(2, 3)], np.random.default_rng(0), np.float32)
    ids = np.random.default_rng(1).integers(0, 6, size=(4, 2, 3))
    y, _ = layer.forward(w, [ids], False, None)
    assert y.shape == (4, *layer.output_shape([(2, 3)]))
    np.testing.assert_array_equal(y, w["E"][ids])


def test_embedding_init_is_keras_uniform():
    w = make("Embedding", vocab_size=200, dim=50).init_weights(
        [(3,)], np.random.default_rng(0), np.float32)
    assert np.abs(w["E"]).max() <= 0.05 and np.abs(w["E"]).max() > 0.04


@pytest.mark.parametrize("bad", [5, 12, -1])
def test_embedding_out_of_range_id_names_id_and_vocab(bad):
    layer = make("Embedding", vocab_size=5, dim=2)
    w = layer.init_weights([(3,)], np.random.default_rng(0), np.float32)
    ids = np.array([[0, bad, 2]])
    with pytest.raises(DatasetError, match=rf"token id {bad}\b.*vocab_size=5"):
        layer.forward(w, [ids], False, None)


def test_embedding_rejects_fractional_ids():
    layer = make("Embedding", vocab_size=5, dim=2)
    w = layer.init_weights([(2,)], np.random.default_rng(0), np.float32)
    with pytest.raises(DatasetError, match="integer token ids"):
        layer.forward(w, [np.array([[0.5, 1.0]])], False, None)
