"""ONNX LSTM and RNN nodes as nnengine's LSTM and SimpleRNN, in the shape PyTorch writes them.

`nn.LSTM(..., batch_first=True)` exports as Transpose(x, [1, 0, 2]) -> LSTM (zero initial
state, folded to an initializer) -> Y: (T, 1, N, H) -> Squeeze(axis 1) -> Transpose([1, 0,
2]), optionally followed by Gather(axis 1, index -1) for `out[:, -1]`; or the last state is
taken from Y_h: (1, N, H) by Squeeze(axis 0) or Gather(axis 0). Each of these chains
becomes one layer (return_sequences true for the whole sequence, false for the last step);
anything else is named in the error.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .onnx_import import lstm_from_onnx

if TYPE_CHECKING:
    from .plain_onnx import PlainImporter

_DEFAULT_ACTIVATIONS = {"RNN": ["Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"]}


def transpose(im: PlainImporter, i: int, node) -> None:
    """Only the batch-first Transpose in front of an RNN or LSTM (it takes it over)."""
    consumer = im.only_consumer(node.output[0])
    feeds_rnn = consumer is not None and im.nodes[consumer].op_type in ("RNN", "LSTM") and \
        im.nodes[consumer].input[0] == node.output[0]
    if list(im.attrs(node).get("perm", [])) != [1, 0, 2] or not feeds_rnn:
        raise im.fail(node, "a Transpose is only imported as the batch-first input of an "
                            "LSTM or RNN (perm [1, 0, 2])")
    im.producer[node.output[0]] = im.source_of(node)


def squeeze(im: PlainImporter, i: int, node) -> None:
    """Squeezes are taken over by the LSTM or RNN whose output they reshape; no other."""
    raise im.fail(node, "a Squeeze is only imported on the output of an LSTM or RNN")


def recurrent(im: PlainImporter, i: int, node) -> None:
    kind = node.op_type
    a = im.attrs(node)
    direction = a.get("direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else direction
    activations = [s.decode() if isinstance(s, bytes) else s for s in a.get("activations", [])]
    if direction != "forward":
        raise im.fail(node, f"only forward {kind}s are supported, received {direction}")
    if activations and activations != _DEFAULT_ACTIVATIONS[kind]:
        raise im.fail(node, f"only the activations {_DEFAULT_ACTIVATIONS[kind]} are supported, "
                            f"received {activations}")
    if "clip" in a or a.get("input_forget", 0):
        raise im.fail(node, "clip and input_forget are not supported")
    if len(node.input) > 4 and node.input[4]:
        raise im.fail(node, "sequence_lens is not supported (every sequence is full length)")
    if kind == "LSTM" and len(node.input) > 7 and node.input[7]:
        raise im.fail(node, "peephole weights are not supported")
    states = node.input[5:7] if kind == "LSTM" else node.input[5:6]
    for k, name in enumerate(states, start=5):
        if name and np.any(im.const(node, k, "initial state")):
            raise im.fail(node, "the initial state must be zeros (nnengine starts from zero)")
    layout = a.get("layout", 0)
    source = im.source_of(node)
    fed_by = [n.op_type for n in im.nodes if node.input[0] in n.output]
    if layout == 0 and fed_by != ["Transpose"]:
        raise im.fail(node, "the input must be batch-first: a Transpose(perm [1, 0, 2]) "
                            "in front of it, or layout=1")
    W, R = im.const(node, 1, "W"), im.const(node, 2, "R")
    hidden = int(a.get("hidden_size", R.shape[-1]))
    gates = 4 if kind == "LSTM" else 1
    B = im.optional_const(node, 3, "B")
    if B is None:
        B = np.zeros((1, 2 * gates * hidden), dtype=W.dtype)
    b = B[0, :gates * hidden] + B[0, gates * hidden:]
    if kind == "LSTM":
        weights = {"W": lstm_from_onnx(W), "U": lstm_from_onnx(R),
                   "b": lstm_from_onnx(b[None, :, None])[0]}
    else:
        weights = {"W": W[0].T, "U": R[0].T, "b": b}
    output, return_sequences = _output_chain(im, node, layout)
    im.add(node, "LSTM" if kind == "LSTM" else "SimpleRNN",
           {"units": hidden, "return_sequences": return_sequences}, [source], weights,
           output=output)


def _const_ints(im: PlainImporter, node, index: int, attr: str) -> list[int] | None:
    """A small integer list from input `index` (opset 13+) or attribute `attr`."""
    if index < len(node.input) and node.input[index] in im.arrays:
        return [int(v) for v in np.ravel(im.arrays[node.input[index]])]
    value = im.attrs(node).get(attr)
    return None if value is None else [int(v) for v in np.ravel(value)]


def _follow(im: PlainImporter, tensor: str, op: str, check) -> object | None:
    """The one consumer of `tensor` when it is an `op` node that passes `check`."""
    k = im.only_consumer(tensor)
    if k is None or im.nodes[k].op_type != op or not check(im.nodes[k]):
        return None
    im.skip.add(k)
    return im.nodes[k]


def _last_step(im: PlainImporter, axis: int, steps: int):
    """Gather(axis, index -1 or steps - 1): the last step."""
    def check(n) -> bool:
        index = im.arrays.get(n.input[1])
        return im.attrs(n).get("axis", 0) == axis and index is not None and index.ndim == 0 \
            and int(index) in (-1, steps - 1)
    return check


def _output_chain(im: PlainImporter, node, layout: int) -> tuple[str, bool]:
    """(the tensor the layer's output stands for, return_sequences), skipping the nodes of
    the chain that leads there."""
    outputs = {o.name for o in im.proto.graph.output}
    used = [k for k, name in enumerate(node.output)
            if name and (im.consumers.get(name) or name in outputs)]
    steps = (im.shape(node.input[0]) or [None, None])[1 if layout else 0]
    if used == [0]:
        batch_axis = 0 if layout else 1
        squeeze = _follow(im, node.output[0], "Squeeze",
                          lambda n: _const_ints(im, n, 1, "axes") in ([1], [-3]) if not layout
                          else _const_ints(im, n, 1, "axes") in ([2], [-2]))
        if squeeze is None:
            raise im.fail(node, "its sequence output Y must be squeezed on the direction axis "
                                f"(axis {batch_axis + (1 if layout else 0)})")
        out = squeeze.output[0]
        if not layout:
            back = _follow(im, out, "Transpose",
                           lambda n: list(im.attrs(n).get("perm", [])) == [1, 0, 2])
            if back is None:
                raise im.fail(node, "its sequence output must be turned batch-first again "
                                    "(Transpose perm [1, 0, 2])")
            out = back.output[0]
        last = _follow(im, out, "Gather", _last_step(im, 1, steps or 0))
        return (last.output[0], False) if last is not None else (out, True)
    if used == [1]:
        axis = 1 if layout else 0  # Y_h: (1, N, H), or (N, 1, H) with layout 1
        squeeze = _follow(im, node.output[1], "Squeeze",
                          lambda n: _const_ints(im, n, 1, "axes") in ([axis], [axis - 3]))
        last = squeeze or _follow(im, node.output[1], "Gather", _last_step(im, axis, 1))
        if last is None:
            raise im.fail(node, f"its last state Y_h must be squeezed on axis {axis}")
        return last.output[0], False
    raise im.fail(node, "only one of its outputs may be used: the sequence Y or the last "
                        "state Y_h")
