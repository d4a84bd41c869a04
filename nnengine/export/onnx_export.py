"""Export a compiled model as a standard ONNX model (opset 17, batch dimension "batch").

Graph inputs are named after the Input node ids, the output after the output node id, and
each layer's output tensor after its node id. Each layer becomes the standard operator where
one exists, else a small composition (step, stair, linear, RBF); the converters live in
CONVERTERS, keyed by layer type, so a new layer is one entry.

Every ONNX node a layer produces carries the layer in its `doc_string` (TAG_PREFIX + JSON:
id, type, params, input ids, position), and the model's metadata holds the graph's name,
training block and node order, so `onnx_import` rebuilds the very same graph. Initializers
that hold a weight unchanged are named by its weight-file key (`dense1/W`); converted ones
(RNN and LSTM layouts) get a suffix.

`onnx` is imported only inside the functions: the engine runs without it.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ExportError
from ..layers.activations import effective_alpha
from ..layers.conv import pair, window_geometry

OPSET = 17
IR_VERSION = 8  # the IR version that introduced opset 17: the widest runtime support
TAG_PREFIX = "nnengine:"
META_KEY = "nnengine.graph"
INSTALL_HINT = 'pip install "nn-designer[onnx]"'
LSTM_TO_ONNX = [0, 3, 1, 2]  # gate blocks i, f, g, o (here) -> i, o, f, c (ONNX)
_MAX_BYTES = 2_000_000_000  # protobuf cannot hold a model larger than 2 GB


def require_onnx():
    """The onnx module, or an ExportError that says what to install."""
    try:
        import onnx
    except ImportError:
        raise ExportError(f"ONNX support needs the onnx package: {INSTALL_HINT}") from None
    return onnx


@dataclass
class NodeView:
    """What a converter sees of one layer: config (defaults filled in), weights, the tensor
    names feeding it by port, and shapes without the batch dimension."""

    id: str
    type: str
    config: dict[str, Any]
    weights: dict[str, np.ndarray]
    inputs: list[str]
    in_shapes: list[tuple[int, ...]]
    out_shape: tuple[int, ...]


class Emitter:
    """Collects the ONNX nodes and initializers of the layer being converted.

    `out` is the name the layer's final operator must write (its node id); intermediate
    tensors are named `<node id>/<op><k>`, which no node id can clash with."""

    def __init__(self, onnx, dtype: np.dtype):
        self.onnx = onnx
        self.dtype = np.dtype(dtype)
        self.elem = onnx.helper.np_dtype_to_tensor_dtype(self.dtype)
        self.nodes: list = []
        self.initializers: list = []
        self.node_id = ""
        self.out = ""
        self._doc = ""
        self._count = 0

    def begin(self, node_id: str, out: str, tag: dict[str, Any]) -> None:
        self.node_id, self.out, self._count = node_id, out, 0
        self._doc = TAG_PREFIX + json.dumps(tag, separators=(",", ":"))

    def const(self, suffix: str, value: Any, dtype: Any = None) -> str:
        """An initializer named `<node id>/<suffix>` (float32 unless given)."""
        name = f"{self.node_id}/{suffix}"
        array = np.ascontiguousarray(np.asarray(value, dtype=dtype or self.dtype))
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def ints(self, suffix: str, values: list[int]) -> str:
        return self.const(suffix, np.asarray(values, dtype=np.int64), np.int64)

    def weight(self, n: NodeView, name: str) -> str:
        """The weight unchanged, named by its weight-file key (`node/name`)."""
        return self.const(name, n.weights[name])

    def op(self, op_type: str, inputs: list[str], out: str | None = None,
           outputs: list[str] | None = None, **attrs: Any) -> str:
        """Add one operator; returns its (first) output name. `outputs` lists every output
        name ("" skips an optional one); otherwise one output, `out` or a fresh name."""
        self._count += 1
        if outputs is None:
            outputs = [out or f"{self.node_id}/{op_type.lower()}{self._count}"]
        name = self.node_id if self._count == 1 else f"{self.node_id}/{self._count}"
        self.nodes.append(self.onnx.helper.make_node(
            op_type, inputs, outputs, name=name, doc_string=self._doc, **attrs))
        return next(o for o in outputs if o)


Converter = Callable[[Emitter, NodeView], None]


# --- converters, one per layer type ----------------------------------------------------------
def _dense(e: Emitter, n: NodeView) -> None:
    # Gemm with W as (in, units), transB=0: the initializer is the weight unchanged.
    inputs = [n.inputs[0], e.weight(n, "W")] + ([e.weight(n, "b")] if "b" in n.weights else [])
    e.op("Gemm", inputs, e.out)


def _identity(e: Emitter, n: NodeView) -> None:
    e.op("Identity", [n.inputs[0]], e.out)


def _flatten(e: Emitter, n: NodeView) -> None:
    e.op("Flatten", [n.inputs[0]], e.out, axis=1)


def _reshape(e: Emitter, n: NodeView) -> None:
    # 0 copies the batch dimension (allowzero=0), so the batch stays dynamic.
    e.op("Reshape", [n.inputs[0], e.ints("shape", [0, *n.config["shape"]])], e.out)


def _simple(op_type: str, **attrs: Any) -> Callable[[Emitter, NodeView, str], None]:
    def convert(e: Emitter, n: NodeView, x: str) -> None:
        e.op(op_type, [x], e.out, **attrs)
    return convert


def _linear(e: Emitter, n: NodeView, x: str) -> None:
    y = e.op("Mul", [x, e.const("slope", n.config["slope"])])
    e.op("Add", [y, e.const("intercept", n.config["intercept"])], e.out)


def _step(e: Emitter, n: NodeView, x: str) -> None:
    above = e.op("GreaterOrEqual", [x, e.const("threshold", n.config["threshold"])])
    e.op("Cast", [above], e.out, to=e.elem)


def _stair(e: Emitter, n: NodeView, x: str) -> None:
    # clip(floor(x·levels) / levels, 0, 1), as the engine computes it.
    levels = n.config["levels"]
    y = e.op("Floor", [e.op("Mul", [x, e.const("levels", levels)])])
    y = e.op("Div", [y, e.const("steps", levels)])
    e.op("Clip", [y, e.const("low", 0), e.const("high", 1)], e.out)


def _leaky_relu(e: Emitter, n: NodeView, x: str) -> None:
    e.op("LeakyRelu", [x], e.out, alpha=effective_alpha(n.config))


def _elu(e: Emitter, n: NodeView, x: str) -> None:
    e.op("Elu", [x], e.out, alpha=effective_alpha(n.config))


ACTIVATIONS: dict[str, Callable[[Emitter, NodeView, str], None]] = {
    "identity": _simple("Identity"),
    "linear": _linear,
    "step": _step,
    "stair": _stair,
    "relu": _simple("Relu"),
    "leaky_relu": _leaky_relu,
    "elu": _elu,
    "softplus": _simple("Softplus"),
    "sigmoid": _simple("Sigmoid"),
    "tanh": _simple("Tanh"),
    "softmax": _simple("Softmax", axis=-1),
}
"""Activation function -> converter writing `e.out` from input tensor x."""


def _activation(e: Emitter, n: NodeView) -> None:
    function = n.config["function"]
    if function not in ACTIVATIONS:
        raise ExportError(f"node '{n.id}': the activation '{function}' has no ONNX converter")
    ACTIVATIONS[function](e, n, n.inputs[0])


def _prelu(e: Emitter, n: NodeView) -> None:
    alpha = n.weights["alpha"]
    if not n.config["shared"]:  # (C,) -> (C, 1, ...) so it broadcasts along axis 1
        alpha = alpha.reshape((-1,) + (1,) * (len(n.in_shapes[0]) - 1))
    e.op("PRelu", [n.inputs[0], e.const("alpha", alpha)], e.out)


def _onnx_pads(n: NodeView, window, stride) -> list[int]:
    """The engine's padding as ONNX pads [top, left, bottom, right] (explicit, so "same"
    with an even window keeps the extra row and column at the bottom and right)."""
    _, height, width = n.in_shapes[0]
    (top, bottom, left, right), _, _ = window_geometry(height, width, window, stride,
                                                       n.config["padding"])
    return [top, left, bottom, right]


def _conv(e: Emitter, n: NodeView) -> None:
    k, s = n.config["kernel_size"], n.config["stride"]
    inputs = [n.inputs[0], e.weight(n, "W")] + ([e.weight(n, "b")] if "b" in n.weights else [])
    e.op("Conv", inputs, e.out, kernel_shape=list(pair(k)), strides=list(pair(s)),
         pads=_onnx_pads(n, k, s))


def _pool(op_type: str) -> Converter:
    def convert(e: Emitter, n: NodeView) -> None:
        p = n.config["pool_size"]
        s = n.config["stride"] or p
        attrs: dict[str, Any] = {"kernel_shape": list(pair(p)), "strides": list(pair(s)),
                                 "pads": _onnx_pads(n, p, s)}
        if op_type == "AveragePool":
            # An int pad counts its zeros in the mean (PyTorch); "same" does not (TensorFlow).
            attrs["count_include_pad"] = int(not isinstance(n.config["padding"], str))
        e.op(op_type, [n.inputs[0]], e.out, **attrs)
    return convert


def _global_avg_pool(e: Emitter, n: NodeView) -> None:
    e.op("Flatten", [e.op("GlobalAveragePool", [n.inputs[0]])], e.out, axis=1)


def _global_avg_pool_1d(e: Emitter, n: NodeView) -> None:
    e.op("ReduceMean", [n.inputs[0]], e.out, axes=[1], keepdims=0)


def _first_input(e: Emitter, n: NodeView) -> None:
    """Inference form of Sampling (z = mean) and ActivityRegularization (y = x): their
    random draw and loss terms exist only in training, which ONNX does not hold."""
    e.op("Identity", [n.inputs[0]], e.out)


def _batch_norm(e: Emitter, n: NodeView) -> None:
    inputs = [n.inputs[0]] + [e.weight(n, w) for w in ("gamma", "beta", "running_mean",
                                                       "running_var")]
    # Inference form; ONNX's momentum has the engine's meaning (share of the old statistics).
    e.op("BatchNormalization", inputs, e.out, epsilon=n.config["epsilon"],
         momentum=n.config["momentum"])


def _add(e: Emitter, n: NodeView) -> None:
    total = n.inputs[0]
    for k, x in enumerate(n.inputs[1:], start=2):
        total = e.op("Add", [total, x], e.out if k == len(n.inputs) else None)


def _concatenate(e: Emitter, n: NodeView) -> None:
    e.op("Concat", list(n.inputs), e.out, axis=n.config["axis"])


def _dot(e: Emitter, n: NodeView) -> None:
    product = e.op("Mul", list(n.inputs))
    e.op("ReduceSum", [product, e.ints("axes", [1])], e.out, keepdims=1)


def _embedding(e: Emitter, n: NodeView) -> None:
    e.op("Gather", [e.weight(n, "E"), n.inputs[0]], e.out, axis=0)


def _recurrent(e: Emitter, n: NodeView, op_type: str, w: str, r: str, b: str) -> None:
    """RNN/LSTM in ONNX's default layout: x (batch, T, F) is transposed to (T, batch, F);
    Y (T, 1, batch, H) goes back to (batch, T, H), or Y_h (1, batch, H) to (batch, H)."""
    x_t = e.op("Transpose", [n.inputs[0]], perm=[1, 0, 2])
    hidden = n.config["units"]
    if n.config["return_sequences"]:
        y = e.op(op_type, [x_t, w, r, b], outputs=[f"{n.id}/y"], hidden_size=hidden)
        y = e.op("Transpose", [y], perm=[2, 0, 1, 3])
        e.op("Squeeze", [y, e.ints("axes", [2])], e.out)
    else:
        y_h = e.op(op_type, [x_t, w, r, b], outputs=["", f"{n.id}/y_h"], hidden_size=hidden)
        e.op("Squeeze", [y_h, e.ints("axes", [0])], e.out)


def _simple_rnn(e: Emitter, n: NodeView) -> None:
    W, U, b = n.weights["W"], n.weights["U"], n.weights["b"]
    _recurrent(e, n, "RNN", e.const("W:onnx", W.T[None]), e.const("U:onnx", U.T[None]),
               e.const("b:onnx", np.concatenate([b, np.zeros_like(b)])[None]))


def lstm_to_onnx(m: np.ndarray) -> np.ndarray:
    """(rows, 4H) with gates i, f, g, o -> (1, 4H, rows) with gates i, o, f, c."""
    rows, hidden = m.shape[0], m.shape[1] // 4
    return m.reshape(rows, 4, hidden)[:, LSTM_TO_ONNX].reshape(rows, 4 * hidden).T[None]


def _lstm(e: Emitter, n: NodeView) -> None:
    W, U, b = n.weights["W"], n.weights["U"], n.weights["b"]
    b_onnx = lstm_to_onnx(b[None])[0, :, 0]  # bias of x·W; the bias of h·U is zero
    _recurrent(e, n, "LSTM", e.const("W:onnx", lstm_to_onnx(W)),
               e.const("U:onnx", lstm_to_onnx(U)),
               e.const("b:onnx", np.concatenate([b_onnx, np.zeros_like(b_onnx)])[None]))


def _rbf(e: Emitter, n: NodeView) -> None:
    # ‖x − c‖² = ‖x‖² − 2x·c + ‖c‖², clipped at 0, as the engine computes it; ORT folds the
    # ‖c‖² and −beta branches into constants.
    x = n.inputs[0]
    centers, beta = e.weight(n, "centers"), e.weight(n, "beta")
    axis1 = e.ints("axis1", [1])
    x2 = e.op("ReduceSum", [e.op("Mul", [x, x]), axis1], keepdims=1)  # (batch, 1)
    c2 = e.op("ReduceSum", [e.op("Mul", [centers, centers]), axis1], keepdims=0)  # (units,)
    xc = e.op("Gemm", [x, centers], transB=1)  # (batch, units)
    d2 = e.op("Sub", [x2, e.op("Mul", [xc, e.const("two", 2)])])
    d2 = e.op("Max", [e.op("Add", [d2, c2]), e.const("zero", 0)])
    e.op("Exp", [e.op("Mul", [e.op("Neg", [beta]), d2])], e.out)


CONVERTERS: dict[str, Converter] = {
    "Dense": _dense,
    "Activation": _activation,
    "PReLU": _prelu,
    "Dropout": _identity,
    "GaussianNoise": _identity,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Conv2D": _conv,
    "MaxPool2D": _pool("MaxPool"),
    "AvgPool2D": _pool("AveragePool"),
    "GlobalAvgPool2D": _global_avg_pool,
    "GlobalAvgPool1D": _global_avg_pool_1d,
    "ActivityRegularization": _first_input,
    "Sampling": _first_input,
    "BatchNorm": _batch_norm,
    "Add": _add,
    "Concatenate": _concatenate,
    "Dot": _dot,
    "Embedding": _embedding,
    "SimpleRNN": _simple_rnn,
    "LSTM": _lstm,
    "RBF": _rbf,
}
"""Layer type -> converter; Input is handled by `to_onnx` itself (it is a graph input)."""


# --- the model -------------------------------------------------------------------------------
def node_tag(graph, node_id: str) -> dict[str, Any]:
    """What `onnx_import` needs to rebuild one node exactly."""
    position = graph.node(node_id).get("position")
    return {"id": node_id, "type": graph.type_of(node_id),
            "params": graph.params_of(node_id),
            "inputs": [s for _, s in graph.inputs_of(node_id)],
            "position": list(position) if position is not None else None}


def to_onnx(model) -> Any:
    """The model as an onnx.ModelProto (checked by onnx's checker)."""
    onnx = require_onnx()
    helper = onnx.helper
    weight_bytes = sum(w.nbytes for w in model.weights.values())
    if weight_bytes > _MAX_BYTES:
        raise ExportError(f"the model's weights take {weight_bytes / 1e9:.1f} GB; an ONNX file "
                          "holds at most 2 GB")
    graph = model.graph
    # Always float32, the dtype ONNX runtimes implement for every operator used here
    # (onnxruntime has no float64 Conv or LSTM); a float64 model is rounded to it.
    e = Emitter(onnx, np.float32)
    tensor_of: dict[str, str] = {}
    graph_inputs = []
    for step in model.steps:
        node_id, layer = step.node_id, step.layer
        shape = model.shapes[node_id]
        tag = node_tag(graph, node_id)
        if layer.spec.is_input:
            elem = onnx.TensorProto.INT64 if model.input_dtype(node_id) == np.int64 else e.elem
            info = helper.make_tensor_value_info(node_id, elem, ["batch", *shape])
            info.doc_string = TAG_PREFIX + json.dumps(tag, separators=(",", ":"))
            graph_inputs.append(info)
            tensor_of[node_id] = node_id
            if "mean" in step.weights:  # standardization stored by training
                e.begin(node_id, f"{node_id}/standardized", tag)
                centred = e.op("Sub", [node_id, e.const("mean", step.weights["mean"])])
                e.op("Div", [centred, e.const("std", step.weights["std"])], e.out)
                tensor_of[node_id] = e.out
            continue
        converter = CONVERTERS.get(layer.spec.type)
        if converter is None:
            raise ExportError(f"node '{node_id}': layer type {layer.spec.type} cannot be "
                              "exported to ONNX (no converter for it)")
        view = _view(model, step, [tensor_of[s] for _, s in graph.inputs_of(node_id)])
        e.begin(node_id, node_id, tag)
        converter(e, view)
        tensor_of[node_id] = node_id
    output_id = model.output_id
    out_name = tensor_of[output_id]
    if out_name == output_id and model.steps[-1].layer.spec.is_input:
        e.begin(output_id, f"{output_id}/output", node_tag(graph, output_id))
        out_name = e.op("Identity", [output_id], e.out)  # a graph output cannot be an input
    out_elem = (onnx.TensorProto.INT64 if model.steps[-1].layer.spec.is_input
                and model.input_dtype(output_id) == np.int64 else e.elem)
    output = helper.make_tensor_value_info(out_name, out_elem, ["batch", *model.output_shape])
    onnx_graph = helper.make_graph(e.nodes, _graph_name(graph.name), graph_inputs, [output],
                                   initializer=e.initializers)
    proto = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              ir_version=IR_VERSION, producer_name="nnengine",
                              producer_version=_version(),
                              doc_string=f"{graph.name}, exported by nnengine")
    meta = {"name": graph.name, "training": graph.training, "order": graph.node_ids()}
    helper.set_model_props(proto, {META_KEY: json.dumps(meta)})
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as err:  # a converter bug, not a user error
        raise ExportError(f"the exported ONNX model does not pass onnx's checker: {err}") from err
    return proto


def export_onnx(model, path: str | os.PathLike) -> None:
    """Write `model` (a compiled nnengine Model with its weights) as an ONNX file, atomically."""
    from ..fileio import write_atomic

    write_atomic(path, to_onnx(model).SerializeToString())


def _view(model, step, inputs: list[str]) -> NodeView:
    graph = model.graph
    return NodeView(step.node_id, step.layer.spec.type, step.layer.config, step.weights,
                    inputs, [model.shapes[s] for _, s in graph.inputs_of(step.node_id)],
                    model.shapes[step.node_id])


def _graph_name(name: str) -> str:
    return name or "nnengine"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nn-designer")
    except PackageNotFoundError:  # running from a checkout
        return ""
