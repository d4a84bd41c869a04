"""Recurrent layers: SimpleRNN and LSTM, with backpropagation through time.

Both read x: (batch, T, F) and return the last hidden state (batch, units), or every state
(batch, T, units) with return_sequences. State starts at zero. Init: W glorot_uniform, U
orthogonal (one block per LSTM gate), b zeros except the LSTM forget-gate bias, 1 as in
Keras' unit_forget_bias.

Speed: x·W for all steps is one matmul before the time loop; inside the loop there is one
h·U matmul and a few in-place elementwise calls. Internally every step is a contiguous
(features, batch) block of a preallocated (T, features, batch) array ("column layout"), so
gate slices are contiguous too. dW and dU are one matmul each over all steps after the
backward loop.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..catalogue import LayerSpec, ParamSpec, Weight, register_layer
from ..errors import ShapeError
from ..initializers import constant, orthogonal_blocks, scheme
from .base import FRESH, Layer, Workspace

# LSTM internals keep the gates in the order o, i, f, g (the file order is i, f, g, o) so the
# three sigmoid gates are one contiguous slice and the three gates scaled by dc are another.
_TO_INTERNAL = np.array([3, 0, 1, 2])
_TO_FILE = np.argsort(_TO_INTERNAL)
# sigmoid(z) = 0.5·tanh(z/2) + 0.5: halving the o, i, f columns of W, U and b lets one tanh
# call serve all four gates, and tanh never overflows (a stable sigmoid).
_HALF = np.array([0.5, 0.5, 0.5, 1.0])


def _sequence_shape(name: str, input_shapes) -> tuple[int, int]:
    shape = input_shapes[0]
    if len(shape) != 2:
        raise ShapeError(
            f"{name} needs input (time steps, features), received shape {list(shape)}",
            code="needs_sequence")
    return shape


def _forget_bias(rng, shape, config) -> np.ndarray:
    """LSTM b: zeros except a forget-gate bias of 1 (Keras' unit_forget_bias), so early
    training does not forget at once."""
    b = np.zeros(shape)
    units = shape[0] // 4
    b[units:2 * units] = 1
    return b


class SimpleRNNContext(NamedTuple):
    x_cols: np.ndarray  # (T, F, batch)
    states: np.ndarray  # (T + 1, units, batch): h_0 = 0, then every h_t


class LSTMContext(NamedTuple):
    x_cols: np.ndarray  # (T, F, batch)
    gates: np.ndarray  # (T, 4, units, batch): activated o, i, f, g (internal order)
    cells: np.ndarray  # (T + 1, units, batch): c_0 = 0, then every c_t
    states: np.ndarray  # (T + 1, units, batch): h_0 = 0, then every h_t
    tanh_c: np.ndarray  # (T, units, batch)


def _copy(ws: Workspace, name: str, a: np.ndarray) -> np.ndarray:
    """a as a C-contiguous workspace array."""
    out = ws.empty(name, a.shape, a.dtype)
    np.copyto(out, a)
    return out


def _columns(x: np.ndarray, ws: Workspace) -> np.ndarray:
    """(batch, T, F) -> contiguous (T, F, batch): each step is one (F, batch) block."""
    return _copy(ws, "x_cols", x.transpose(1, 2, 0))


def _output(states: np.ndarray, return_sequences: bool, ws: Workspace) -> np.ndarray:
    """states: (T + 1, units, batch), zero state first -> (batch, T, units) or (batch, units)."""
    if return_sequences:
        return _copy(ws, "y", states[1:].transpose(2, 0, 1))
    return _copy(ws, "y", states[-1].T)


def _dy_steps(dy: np.ndarray, return_sequences: bool, T: int, ws: Workspace):
    """dL/dh_t as (units, batch) for each step t; None where no output reaches it."""
    if return_sequences:
        dy_cols = _copy(ws, "dy", dy.transpose(1, 2, 0))
        return lambda t: dy_cols[t]
    last = _copy(ws, "dy", dy.T)
    return lambda t: last if t == T - 1 else None


def _sequence_grads(dz: np.ndarray, x_cols: np.ndarray, states: np.ndarray, W: np.ndarray,
                    ws: Workspace, need_dx: bool):
    """Weight and input gradients from every step's pre-activation gradient, one matmul each.

    dz: (T, K, batch); x_cols: (T, F, batch); states: (T + 1, H, batch); W: (F, K), all in
    the same gate order -> dW (F, K), dU (H, K), db (K,), dx (batch, T, F) or None.
    """
    T, K, N = dz.shape
    F, H = x_cols.shape[1], states.shape[1]
    dz_flat = _copy(ws, "dz_flat", dz.transpose(1, 0, 2)).reshape(K, T * N)
    x_flat = _copy(ws, "x_flat", x_cols.transpose(1, 0, 2)).reshape(F, T * N)
    h_flat = _copy(ws, "h_flat", states[:-1].transpose(1, 0, 2)).reshape(H, T * N)
    dW = np.matmul(x_flat, dz_flat.T, out=ws.empty("dW", (F, K), dz.dtype))
    dU = np.matmul(h_flat, dz_flat.T, out=ws.empty("dU", (H, K), dz.dtype))
    db = np.sum(dz_flat, axis=1, out=ws.empty("db", (K,), dz.dtype))
    if not need_dx:
        return dW, dU, db, None
    dx = np.matmul(W, dz, out=ws.empty("dx_cols", (T, F, N), dz.dtype))
    return dW, dU, db, _copy(ws, "dx", dx.transpose(2, 0, 1))


class SimpleRNN(Layer):
    """h_t = tanh(x_t·W + h_{t-1}·U + b). x: (batch, T, F) -> (batch, units) or
    (batch, T, units)."""

    def output_shape(self, input_shapes):
        T, _ = _sequence_shape("SimpleRNN", input_shapes)
        units = self.config["units"]
        return (T, units) if self.config["return_sequences"] else (units,)

    def dims(self, input_shapes):
        return {"features": input_shapes[0][1]}

    def multiply_adds(self, input_shapes):
        T, F = _sequence_shape("SimpleRNN", input_shapes)
        H = self.config["units"]
        return T * (F + H) * H

    def forward(self, w, xs, training, rng, ws=FRESH):
        W, U = w["W"], w["U"]
        x_cols = _columns(xs[0], ws)
        T, _, N = x_cols.shape
        H = W.shape[1]
        dt = np.result_type(x_cols, W)
        # Column layout: states[t] is h_t as (units, batch), states[0] the zero state.
        states = ws.empty("states", (T + 1, H, N), dt)
        states[0] = 0
        xw = np.matmul(W.T, x_cols, out=ws.empty("xw", (T, H, N), dt))
        xw += w["b"][:, None]
        U_T = np.ascontiguousarray(U.T)
        for t in range(T):
            h = states[t + 1]
            np.matmul(U_T, states[t], out=h)
            h += xw[t]
            np.tanh(h, out=h)
        return (_output(states, self.config["return_sequences"], ws),
                SimpleRNNContext(x_cols, states))

    def backward(self, w, ctx, dy, ws=FRESH, need_dx=True):
        x_cols, states = ctx
        T = x_cols.shape[0]
        U = w["U"]
        # dz holds tanh' first; the loop turns step t into dL/d(pre-activation), (T, H, N).
        dz = np.multiply(states[1:], states[1:], out=ws.empty("dz", states[1:].shape,
                                                               states.dtype))
        np.subtract(1, dz, out=dz)
        dy_at = _dy_steps(dy, self.config["return_sequences"], T, ws)
        dh = ws.zeros("dh", states[0].shape, states.dtype)
        for t in range(T - 1, -1, -1):
            dy_t = dy_at(t)
            if dy_t is not None:
                dh += dy_t
            dz[t] *= dh
            np.matmul(U, dz[t], out=dh)
        dW, dU, db, dx = _sequence_grads(dz, x_cols, states, w["W"], ws, need_dx)
        return [dx], {"W": dW, "U": dU, "b": db}


class LSTM(Layer):
    """Long short-term memory. z = x_t·W + h·U + b split into gates i, f, g, o;
    c = σ(f)·c + σ(i)·tanh(g), h = σ(o)·tanh(c). x: (batch, T, F) -> (batch, units) or
    (batch, T, units)."""

    def output_shape(self, input_shapes):
        T, _ = _sequence_shape("LSTM", input_shapes)
        units = self.config["units"]
        return (T, units) if self.config["return_sequences"] else (units,)

    def dims(self, input_shapes):
        return {"features": input_shapes[0][1]}

    def multiply_adds(self, input_shapes):
        T, F = _sequence_shape("LSTM", input_shapes)
        H = self.config["units"]
        return T * (F + H) * 4 * H

    def forward(self, w, xs, training, rng, ws=FRESH):
        W = w["W"]
        x_cols = _columns(xs[0], ws)
        T, _, N = x_cols.shape
        H = W.shape[1] // 4
        dt = np.result_type(x_cols, W)
        half = np.repeat(_HALF, H).astype(dt)  # per column of z, internal order
        Ws_T = (_internal(W) * half).T
        Us_T = np.ascontiguousarray((_internal(w["U"]) * half).T)
        bs = (_internal(w["b"][None]) * half).reshape(4 * H, 1)
        # Column layout, internal gate order: gates[t] is (4·units, batch) = o, i, f, g;
        # it starts as x_t·W + b and becomes the activated gates in the loop.
        gates = np.matmul(Ws_T, x_cols, out=ws.empty("gates", (T, 4 * H, N), dt))
        gates += bs
        g4 = gates.reshape(T, 4, H, N)
        cells = ws.empty("cells", (T + 1, H, N), dt)
        states = ws.empty("states", (T + 1, H, N), dt)
        tanh_c = ws.empty("tanh_c", (T, H, N), dt)
        cells[0] = 0
        states[0] = 0
        hu = ws.empty("hu", (4 * H, N), dt)
        ig = ws.empty("ig", (H, N), dt)
        for t in range(T):
            a = gates[t]
            np.matmul(Us_T, states[t], out=hu)
            a += hu
            np.tanh(a, out=a)
            sig = a[:3 * H]
            sig *= 0.5
            sig += 0.5
            o, i, f, g = g4[t]
            c = cells[t + 1]
            np.multiply(f, cells[t], out=c)
            np.multiply(i, g, out=ig)
            c += ig
            np.tanh(c, out=tanh_c[t])
            np.multiply(o, tanh_c[t], out=states[t + 1])
        return (_output(states, self.config["return_sequences"], ws),
                LSTMContext(x_cols, g4, cells, states, tanh_c))

    def backward(self, w, ctx, dy, ws=FRESH, need_dx=True):
        x_cols, g4, cells, states, tanh_c = ctx
        T, H, N = tanh_c.shape
        o, i, f, g = (g4[:, k] for k in range(4))
        # Per-step factors for all steps at once, so the loop stays short:
        # dc_t = dc_{t+1}·f_{t+1} + dh_t·o_t·(1 - tanh²c_t);
        # dz_o = dh·tanh(c)·σ'(o); dz_i, dz_f, dz_g = dc·(g·σ'(i), c_{t-1}·σ'(f), i·tanh'(g)).
        # Computed in place: fresh large temporaries cost page faults that rival the math.
        dh_to_dc = np.multiply(tanh_c, tanh_c, out=ws.empty("dh_to_dc", tanh_c.shape,
                                                              tanh_c.dtype))
        np.subtract(1, dh_to_dc, out=dh_to_dc)
        dh_to_dc *= o
        # dz holds the factors first; the loop turns step t into dL/dz_t (internal gate order).
        dz = ws.empty("dz", g4.shape, g4.dtype)
        s_o, s_i, s_f, s_g = (dz[:, k] for k in range(4))
        np.subtract(1, o, out=s_o)
        s_o *= o
        s_o *= tanh_c
        np.subtract(1, i, out=s_i)
        s_i *= i
        s_i *= g
        np.subtract(1, f, out=s_f)
        s_f *= f
        s_f *= cells[:-1]
        np.multiply(g, g, out=s_g)
        np.subtract(1, s_g, out=s_g)
        s_g *= i
        U_int = np.ascontiguousarray(_internal(w["U"]))  # (H, 4H)
        dy_at = _dy_steps(dy, self.config["return_sequences"], T, ws)
        dh = ws.zeros("dh", (H, N), dz.dtype)
        dc = ws.zeros("dc", (H, N), dz.dtype)  # dL/dc_t
        tmp = ws.empty("tmp", (H, N), dz.dtype)
        for t in range(T - 1, -1, -1):
            dy_t = dy_at(t)
            if dy_t is not None:
                dh += dy_t
            np.multiply(dh, dh_to_dc[t], out=tmp)
            dc += tmp
            dz[t, 0] *= dh
            dz[t, 1:] *= dc
            np.matmul(U_int, dz[t].reshape(4 * H, N), out=dh)
            dc *= f[t]  # what reaches c_{t-1}
        dW, dU, db, dx = _sequence_grads(dz.reshape(T, 4 * H, N), x_cols, states,
                                         _internal(w["W"]), ws, need_dx)
        return [dx], {"W": _file_order(dW), "U": _file_order(dU),
                      "b": _file_order(db[None])[0]}


def _internal(m: np.ndarray) -> np.ndarray:
    """(rows, 4H) in the file's gate order i, f, g, o -> internal order o, i, f, g."""
    rows, H = m.shape[0], m.shape[1] // 4
    return m.reshape(rows, 4, H)[:, _TO_INTERNAL].reshape(rows, 4 * H)


def _file_order(m: np.ndarray) -> np.ndarray:
    """(rows, 4H) in internal gate order o, i, f, g -> the file's order i, f, g, o."""
    rows, H = m.shape[0], m.shape[1] // 4
    return m.reshape(rows, 4, H)[:, _TO_FILE].reshape(rows, 4 * H)


_UNITS = ParamSpec("units", "int", help="Size of the hidden state (outputs per step)", minimum=1)
_RETURN_SEQUENCES = ParamSpec(
    "return_sequences", "bool", False,
    help="Output the hidden state at every step (T, units) instead of only the last one")

register_layer(LayerSpec(
    type="SimpleRNN", category="Recurrent and embedding", layer_class=SimpleRNN,
    description="A plain recurrent layer: each step mixes the input with the previous state.",
    formula="h_t = tanh(x_t·W + h_{t−1}·U + b), h_0 = 0",
    params=(_UNITS, _RETURN_SEQUENCES),
    weights=(Weight("W", ("features", "units"), scheme("glorot_uniform"), regularized=True),
             Weight("U", ("units", "units"), orthogonal_blocks, regularized=True),
             Weight("b", ("units",), constant(0.0))),
    key_params=("units", "return_sequences"),
))

register_layer(LayerSpec(
    type="LSTM", category="Recurrent and embedding", layer_class=LSTM,
    description="Long short-term memory: gated recurrence that can carry information over "
                "many steps.",
    formula="z = x_t·W + h·U + b → i, f, g, o; c = σ(f)·c + σ(i)·tanh(g); h = σ(o)·tanh(c)",
    params=(_UNITS, _RETURN_SEQUENCES),
    # Four blocks side by side in each, one per gate: i, f, g, o.
    weights=(Weight("W", ("features", "4·units"), scheme("glorot_uniform"), regularized=True),
             Weight("U", ("units", "4·units"), orthogonal_blocks, regularized=True),
             Weight("b", ("4·units",), _forget_bias)),
    key_params=("units", "return_sequences"),
))
