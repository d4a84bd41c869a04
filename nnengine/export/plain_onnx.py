"""Map an ONNX model not written by nnengine onto layers, operator by operator.

Covers the common operators of feed-forward and convolutional models (Gemm, MatMul + Add,
Conv, pools, BatchNormalization, the activation operators, Flatten, Reshape, Add/Sum,
Concat, Gather over a constant table, and PyTorch's LSTM and RNN patterns in onnx_recurrent);
the operators that have no layer are all named in one ExportError, and an attribute the
matching layer cannot express (groups, dilations, asymmetric padding other than "same") is
named with its node. The first dimension of every graph input is taken as the batch.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ExportError
from ..graph import Graph
from ..layers.conv import window_geometry
from .onnx_import import initializers
from .onnx_recurrent import recurrent, squeeze, transpose

_FLOAT_TYPES = {1: "float32", 10: "float32", 11: "float32", 16: "float32"}
_INT_TYPES = {6, 7}  # int32, int64


class PlainImporter:
    """State of one import: the graph being built, weights, and which layer produces each
    ONNX tensor."""

    def __init__(self, onnx, proto, source: str, batch: int):
        self.onnx = onnx
        self.batch = batch
        self.proto = proto
        self.source = source
        self.arrays = initializers(onnx, proto)
        self.graph = Graph(proto.graph.name or Path(source).stem)
        self.weights: dict[str, np.ndarray] = {}
        self.producer: dict[str, str] = {}  # ONNX tensor name -> node id
        self.skip: set[int] = set()  # indices of nodes folded into an earlier layer
        self.nodes = list(proto.graph.node)
        self.consumers: dict[str, list[int]] = {}
        for i, node in enumerate(self.nodes):
            for name in node.input:
                self.consumers.setdefault(name, []).append(i)
        self.shapes = self._infer_shapes()
        self.opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")),
                          1)

    # --- helpers for the operator handlers ---------------------------------------------------
    def fail(self, node, reason: str) -> ExportError:
        label = f"{node.op_type} node '{node.name or node.output[0]}'"
        return ExportError(f"{self.source}: cannot import the {label}: {reason}")

    def attrs(self, node) -> dict[str, Any]:
        return {a.name: self.onnx.helper.get_attribute_value(a) for a in node.attribute}

    def const(self, node, index: int, what: str) -> np.ndarray:
        name = node.input[index] if index < len(node.input) else ""
        if name not in self.arrays:
            raise self.fail(node, f"its {what} must be a constant (initializer)")
        return self.arrays[name]

    def optional_const(self, node, index: int, what: str) -> np.ndarray | None:
        if index >= len(node.input) or not node.input[index]:
            return None
        return self.const(node, index, what)

    def source_of(self, node, index: int = 0) -> str:
        name = node.input[index]
        if name in self.arrays:
            raise self.fail(node, f"input {index} is a constant; nnengine layers take "
                                  "constants only as weights")
        if name not in self.producer:
            raise self.fail(node, f"its input '{name}' comes from no supported operator")
        return self.producer[name]

    def shape(self, name: str) -> list[int | None] | None:
        return self.shapes.get(name)

    def sample_shape(self, node, index: int = 0) -> list[int]:
        """Static shape of an input without its batch dimension."""
        dims = self.shape(node.input[index])
        if dims is None or any(d is None for d in dims[1:]):
            raise self.fail(node, "the shape of its input is not known")
        return [int(d) for d in dims[1:]]

    def only_consumer(self, tensor: str) -> int | None:
        users = self.consumers.get(tensor, [])
        outputs = {o.name for o in self.proto.graph.output}
        return users[0] if len(users) == 1 and tensor not in outputs else None

    def add(self, node, type_name: str, params: dict[str, Any], sources: list[str],
            weights: dict[str, np.ndarray] | None = None, output: str | None = None) -> str:
        """Add a layer fed by `sources`; it produces `output` (default: the node's first)."""
        node_id = self._new_id(node.name or (node.output[0] if node.output else "")
                               or type_name.lower())
        self.graph.add_node(node_id, type_name, params)
        for port, src in enumerate(sources):
            self.graph.add_edge(src, node_id, port)
        for name, value in (weights or {}).items():
            self.weights[f"{node_id}/{name}"] = np.ascontiguousarray(value, dtype=np.float32)
        self.producer[output or node.output[0]] = node_id
        return node_id

    def _new_id(self, base: str) -> str:
        stem = re.sub(r"[^A-Za-z0-9_]", "_", base).strip("_") or "node"
        if not (stem[0].isalpha() or stem[0] == "_"):
            stem = "n_" + stem
        node_id, k = stem, 2
        while node_id in self.graph:
            node_id, k = f"{stem}_{k}", k + 1
        return node_id

    def _infer_shapes(self) -> dict[str, list[int | None]]:
        try:
            inferred = self.onnx.shape_inference.infer_shapes(self.proto)
        except (self.onnx.shape_inference.InferenceError, ValueError):  # a help only
            inferred = self.proto
        shapes: dict[str, list[int | None]] = {}
        g = inferred.graph
        for info in list(g.input) + list(g.value_info) + list(g.output):
            t = info.type.tensor_type
            if t.HasField("shape"):
                shapes[info.name] = [d.dim_value if d.HasField("dim_value") else None
                                     for d in t.shape.dim]
        return shapes

    # --- the whole graph ---------------------------------------------------------------------
    def run(self) -> tuple[Graph, dict[str, np.ndarray]]:
        g = self.proto.graph
        unknown = sorted({n.op_type for n in self.nodes} - set(HANDLERS) - {"Constant"})
        if unknown:
            known = ", ".join(sorted(HANDLERS))
            raise ExportError(f"{self.source}: cannot import the operator"
                              f"{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: no "
                              f"nnengine layer (supported: {known})")
        for info in g.input:
            if info.name not in self.arrays:
                self._add_input(info)
        for i, node in enumerate(self.nodes):
            if i in self.skip or node.op_type == "Constant":
                continue
            HANDLERS[node.op_type](self, i, node)
        if len(g.output) != 1:
            raise ExportError(f"{self.source}: the model has {len(g.output)} outputs; an "
                              "nnengine graph has exactly one")
        if g.output[0].name not in self.producer:
            raise ExportError(f"{self.source}: the output '{g.output[0].name}' comes from no "
                              "supported operator")
        return self.graph, self.weights

    def _add_input(self, info) -> None:
        t = info.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
        if len(dims) < 2 or any(d is None or d < 1 for d in dims[1:]):
            raise ExportError(f"{self.source}: input '{info.name}' needs a fixed shape after "
                              f"the batch dimension, received {dims}")
        params: dict[str, Any] = {"shape": [int(d) for d in dims[1:]]}
        if t.elem_type in _INT_TYPES:
            params["dtype"] = "int64"
        elif t.elem_type not in _FLOAT_TYPES:
            raise ExportError(f"{self.source}: input '{info.name}' has an element type "
                              f"nnengine cannot feed (ONNX type {t.elem_type})")
        node_id = self._new_id(info.name)
        self.graph.add_node(node_id, "Input", params)
        self.producer[info.name] = node_id


# --- operator handlers: (importer, node index, node) -> None ---------------------------------
def _gemm(im: PlainImporter, i: int, node) -> None:
    a = im.attrs(node)
    if a.get("transA", 0):
        raise im.fail(node, "transA=1 is not supported")
    B = im.const(node, 1, "B")
    W = (B.T if a.get("transB", 0) else B) * a.get("alpha", 1.0)
    C = im.optional_const(node, 2, "bias C")
    weights = {"W": W}
    if C is not None:
        weights["b"] = np.broadcast_to(C * a.get("beta", 1.0), (W.shape[1],))
    im.add(node, "Dense", {"units": int(W.shape[1]), "use_bias": C is not None},
           [im.source_of(node)], weights)


def _matmul(im: PlainImporter, i: int, node) -> None:
    W = im.const(node, 1, "second input")
    dims = im.shape(node.input[0])
    if W.ndim != 2 or (dims is not None and len(dims) != 2):
        raise im.fail(node, "only (batch, features) x (features, units) is a Dense layer")
    weights = {"W": W}
    nxt = im.only_consumer(node.output[0])
    output = node.output[0]
    if nxt is not None and im.nodes[nxt].op_type == "Add":
        add = im.nodes[nxt]
        other = add.input[1] if add.input[0] == node.output[0] else add.input[0]
        bias = im.arrays.get(other)
        if bias is not None and bias.size == W.shape[1]:
            weights["b"] = bias.reshape(-1)
            im.skip.add(nxt)
            output = add.output[0]
    im.add(node, "Dense", {"units": int(W.shape[1]), "use_bias": "b" in weights},
           [im.source_of(node)], weights, output=output)


def _window_params(im: PlainImporter, node, window_of: Callable[[dict], list[int]]
                   ) -> tuple[Any, Any, Any]:
    """(window, stride, padding param) of Conv or a pool, checking what a layer can express.
    Each is an int when height and width agree, else a pair [h, w]."""
    a = im.attrs(node)
    kernel = [int(v) for v in window_of(a)]
    if len(kernel) != 2:
        raise im.fail(node, f"only 2-D windows are supported, received {kernel}")
    strides = [int(v) for v in a.get("strides", [1, 1])]
    if any(d != 1 for d in a.get("dilations", [1, 1])):
        raise im.fail(node, "dilations are not supported")
    if a.get("ceil_mode", 0):
        raise im.fail(node, "ceil_mode=1 is not supported (windows that do not fit are "
                            "dropped)")
    k, s = _int_or_pair(kernel), _int_or_pair(strides)
    auto_pad = a.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
    _, height, width = im.sample_shape(node)
    same = window_geometry(height, width, k, s, "same")[0]
    if auto_pad == "VALID":
        return k, s, "valid"
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        if auto_pad == "SAME_LOWER" and (same[0] != same[1] or same[2] != same[3]):
            raise im.fail(node, "SAME_LOWER puts the odd pad first; nnengine puts it last")
        return k, s, "same" if any(same) else "valid"
    top, left, bottom, right = (list(a.get("pads", [0, 0, 0, 0])) + [0] * 4)[:4]
    if top == bottom and left == right:
        return k, s, "valid" if top == left == 0 else _int_or_pair([int(top), int(left)])
    if (top, bottom, left, right) == same:
        return k, s, "same"
    raise im.fail(node, f"padding {[top, left, bottom, right]} is neither equal on opposite "
                        "sides nor the \"same\" padding")


def _int_or_pair(values: list[int]) -> int | list[int]:
    return values[0] if values[0] == values[1] else values


def _conv(im: PlainImporter, i: int, node) -> None:
    a = im.attrs(node)
    if a.get("group", 1) != 1:
        raise im.fail(node, "grouped convolution is not supported")
    W = im.const(node, 1, "weights")
    k, s, padding = _window_params(im, node, lambda a: a.get("kernel_shape", W.shape[2:]))
    b = im.optional_const(node, 2, "bias")
    weights = {"W": W} | ({"b": b} if b is not None else {})
    im.add(node, "Conv2D", {"filters": int(W.shape[0]), "kernel_size": k, "stride": s,
                            "padding": padding, "use_bias": b is not None},
           [im.source_of(node)], weights)


def _pool(type_name: str) -> Callable:
    def handle(im: PlainImporter, i: int, node) -> None:
        if len(node.output) > 1 and node.output[1]:
            raise im.fail(node, "the Indices output is not supported")
        p, s, padding = _window_params(im, node, lambda a: list(a.get("kernel_shape", [])))
        if type_name == "AvgPool2D" and padding not in ("valid",):
            include = im.attrs(node).get("count_include_pad", 0)
            if (padding == "same") == bool(include):
                raise im.fail(node, "an average pool counts padding in the mean with explicit "
                                    "equal pads and leaves it out with \"same\" padding only")
        im.add(node, type_name, {"pool_size": p, "stride": None if s == p else s,
                                 "padding": padding}, [im.source_of(node)])
    return handle


def _global_avg_pool(im: PlainImporter, i: int, node) -> None:
    source = im.source_of(node)
    nxt = im.only_consumer(node.output[0])
    follower = im.nodes[nxt] if nxt is not None else None
    if follower is not None and follower.op_type == "Flatten" and \
            im.attrs(follower).get("axis", 1) == 1:
        im.skip.add(nxt)  # GlobalAveragePool + Flatten is exactly GlobalAvgPool2D
        im.add(node, "GlobalAvgPool2D", {}, [source], output=follower.output[0])
        return
    pooled = im.add(node, "GlobalAvgPool2D", {}, [source], output=f"{node.output[0]}/flat")
    channels = im.sample_shape(node)[0]
    im.add(node, "Reshape", {"shape": [channels, 1, 1]}, [pooled])  # ONNX keeps (C, 1, 1)


def _batch_norm(im: PlainImporter, i: int, node) -> None:
    a = im.attrs(node)
    if a.get("training_mode", 0) or any(o for o in node.output[1:]):
        raise im.fail(node, "only the inference form (one output) is supported")
    names = ("gamma", "beta", "running_mean", "running_var")
    weights = {n: im.const(node, k + 1, n) for k, n in enumerate(names)}
    im.add(node, "BatchNorm", {"momentum": float(a.get("momentum", 0.9)),
                               "epsilon": float(a.get("epsilon", 1e-5))},
           [im.source_of(node)], weights)


def _activation(function: str, alpha_default: float | None = None) -> Callable:
    def handle(im: PlainImporter, i: int, node) -> None:
        params: dict[str, Any] = {"function": function}
        if alpha_default is not None:
            params["alpha"] = float(im.attrs(node).get("alpha", alpha_default))
        im.add(node, "Activation", params, [im.source_of(node)])
    return handle


def _softmax(im: PlainImporter, i: int, node) -> None:
    dims = im.shape(node.input[0])
    rank = len(dims) if dims is not None else None
    default = -1 if im.opset >= 13 else 1
    axis = im.attrs(node).get("axis", default)
    if not (axis == -1 or (rank is not None and axis == rank - 1)):
        raise im.fail(node, f"softmax runs over the last axis only, received axis {axis}")
    im.add(node, "Activation", {"function": "softmax"}, [im.source_of(node)])


def _prelu(im: PlainImporter, i: int, node) -> None:
    slope = im.const(node, 1, "slope")
    if slope.size == 1:
        im.add(node, "PReLU", {"shared": True}, [im.source_of(node)],
               {"alpha": slope.reshape(1)})
        return
    shape = im.sample_shape(node)
    alpha = slope.reshape(-1)
    per_axis1 = alpha.reshape((-1,) + (1,) * (len(shape) - 1))
    if alpha.size != shape[0] or not np.array_equal(np.broadcast_to(slope, shape),
                                                    np.broadcast_to(per_axis1, shape)):
        raise im.fail(node, f"slope of shape {list(slope.shape)} is neither shared nor one "
                            "per channel (axis 1)")
    im.add(node, "PReLU", {}, [im.source_of(node)], {"alpha": alpha})


def _flatten(im: PlainImporter, i: int, node) -> None:
    if im.attrs(node).get("axis", 1) != 1:
        raise im.fail(node, "only axis=1 (keep the batch) is supported")
    im.add(node, "Flatten", {}, [im.source_of(node)])


def _reshape(im: PlainImporter, i: int, node) -> None:
    target = im.const(node, 1, "target shape").astype(np.int64).tolist()
    out = im.shape(node.output[0])
    if not target or target[0] not in (0, -1, im.batch) or out is None or \
            any(d is None for d in out[1:]):
        raise im.fail(node, f"target shape {target} does not keep the batch dimension first")
    im.add(node, "Reshape", {"shape": [int(d) for d in out[1:]]}, [im.source_of(node)])


def _dropout(im: PlainImporter, i: int, node) -> None:
    ratio = im.optional_const(node, 1, "ratio")
    rate = float(ratio) if ratio is not None else float(im.attrs(node).get("ratio", 0.5))
    im.add(node, "Dropout", {"rate": rate}, [im.source_of(node)])


def _add(im: PlainImporter, i: int, node) -> None:
    im.add(node, "Add", {}, [im.source_of(node, k) for k in range(len(node.input))])


def _concat(im: PlainImporter, i: int, node) -> None:
    im.add(node, "Concatenate", {"axis": int(im.attrs(node)["axis"])},
           [im.source_of(node, k) for k in range(len(node.input))])


def _gather(im: PlainImporter, i: int, node) -> None:
    E = im.const(node, 0, "table")
    if E.ndim != 2 or im.attrs(node).get("axis", 0) != 0:
        raise im.fail(node, "only row lookups in a 2-D table (an embedding) are supported")
    im.add(node, "Embedding", {"vocab_size": int(E.shape[0]), "dim": int(E.shape[1])},
           [im.source_of(node, 1)], {"E": E})


HANDLERS: dict[str, Callable[[PlainImporter, int, Any], None]] = {
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Conv": _conv,
    "MaxPool": _pool("MaxPool2D"),
    "AveragePool": _pool("AvgPool2D"),
    "GlobalAveragePool": _global_avg_pool,
    "BatchNormalization": _batch_norm,
    "Relu": _activation("relu"),
    "LeakyRelu": _activation("leaky_relu", 0.01),
    "Elu": _activation("elu", 1.0),
    "Softplus": _activation("softplus"),
    "Sigmoid": _activation("sigmoid"),
    "Tanh": _activation("tanh"),
    "Identity": _activation("identity"),
    "Softmax": _softmax,
    "PRelu": _prelu,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Dropout": _dropout,
    "Add": _add,
    "Sum": _add,
    "Concat": _concat,
    "Gather": _gather,
    "Transpose": transpose,
    "Squeeze": squeeze,
    "LSTM": recurrent,
    "RNN": recurrent,
}
"""ONNX operator -> handler that adds the matching layer."""


def plain_graph(onnx, proto, batch: int, source: str) -> tuple[Graph, dict[str, np.ndarray]]:
    """`batch`: the size the batch dimension has in `proto`'s shapes (after folding)."""
    return PlainImporter(onnx, proto, source, batch).run()
