"""Read an ONNX model back as an nnengine graph and its weights.

Files written by `onnx_export` carry each layer in their nodes' `doc_string`, so they come
back as the very same graph (ids, parameters, positions, training block) with weights read
from the initializers. Other files (PyTorch's, for one) have their constant parts folded
(`onnx_folding`), then are mapped operator by operator (`plain_onnx`).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ExportError, FileFormatError
from ..graph import Graph
from ..validation import analyze
from .onnx_export import LSTM_TO_ONNX, META_KEY, TAG_PREFIX, require_onnx

_FROM_ONNX = np.argsort(LSTM_TO_ONNX)  # gate blocks i, o, f, c (ONNX) -> i, f, g, o


def import_onnx(path: str | os.PathLike) -> tuple[Graph, dict[str, np.ndarray]]:
    """(graph, weights keyed "node/name") from an ONNX file; ExportError names an operator
    or pattern that has no nnengine layer."""
    onnx = require_onnx()
    path = Path(path)
    from google.protobuf.message import DecodeError

    try:
        proto = onnx.load(str(path))
    except (DecodeError, ValueError) as e:
        raise FileFormatError(f"{path}: not a readable ONNX model ({e})") from None
    if not proto.graph.node:
        raise FileFormatError(f"{path}: holds no ONNX graph (the file is empty or not an "
                              "ONNX model)")
    return graph_from_onnx(proto, source=str(path))


def graph_from_onnx(proto, source: str = "<onnx>") -> tuple[Graph, dict[str, np.ndarray]]:
    onnx = require_onnx()
    tags = _tags(proto)
    if tags is not None:
        graph, weights = _from_tags(onnx, proto, tags, source)
    else:
        from .onnx_folding import fold_constants
        from .plain_onnx import plain_graph

        graph, weights = plain_graph(onnx, *fold_constants(onnx, proto), source)
    analysis = analyze(graph)
    if analysis.problems:
        raise ExportError(f"{source}: the ONNX model does not make a valid graph: "
                          f"{analysis.problems[0]}")
    return graph, weights


def initializers(onnx, proto) -> dict[str, np.ndarray]:
    """name -> array of every initializer and Constant node output."""
    arrays = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    for node in proto.graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    arrays[node.output[0]] = onnx.numpy_helper.to_array(attr.t)
    return arrays


# --- files written by onnx_export ------------------------------------------------------------
def _parse_tag(doc: str) -> dict[str, Any] | None:
    if not doc.startswith(TAG_PREFIX):
        return None
    try:
        tag = json.loads(doc[len(TAG_PREFIX):])
    except ValueError:
        return None
    keys = {"id", "type", "params", "inputs", "position"}
    return tag if isinstance(tag, dict) and keys <= set(tag) else None


def _tags(proto) -> dict[str, dict[str, Any]] | None:
    """node id -> tag when every node and graph input carries one, else None."""
    init_names = {t.name for t in proto.graph.initializer}
    docs = [i.doc_string for i in proto.graph.input if i.name not in init_names]
    docs += [n.doc_string for n in proto.graph.node]
    tags: dict[str, dict[str, Any]] = {}
    for doc in docs:
        tag = _parse_tag(doc)
        if tag is None:
            return None
        tags.setdefault(tag["id"], tag)
    return tags


def _from_tags(onnx, proto, tags: dict[str, dict[str, Any]], source: str
               ) -> tuple[Graph, dict[str, np.ndarray]]:
    meta = {p.key: p.value for p in proto.metadata_props}
    try:
        info = json.loads(meta.get(META_KEY, "{}"))
    except ValueError:
        info = {}
    order = info.get("order")
    if not isinstance(order, list) or sorted(order) != sorted(tags):
        order = list(tags)
    graph = Graph(str(info.get("name") or proto.graph.name or Path(source).stem),
                  info.get("training") if isinstance(info.get("training"), dict) else None)
    try:
        for node_id in order:
            tag = tags[node_id]
            graph.add_node(node_id, tag["type"], tag["params"], tag["position"])
        for node_id in order:
            for port, src in enumerate(tags[node_id]["inputs"]):
                graph.add_edge(src, node_id, port)
    except (TypeError, ValueError) as e:
        raise FileFormatError(f"{source}: damaged nnengine layer tags ({e})") from None
    analysis = analyze(graph)
    if analysis.problems:
        raise ExportError(f"{source}: {analysis.problems[0]}")
    arrays = initializers(onnx, proto)
    weights: dict[str, np.ndarray] = {}
    for node_id in order:
        expected = dict(analysis.weight_shapes.get(node_id, {}))
        if graph.type_of(node_id) == "Input" and f"{node_id}/mean" in arrays:
            expected = {n: analysis.shapes[node_id] for n in ("mean", "std")}
        inverse = _INVERSE.get(graph.type_of(node_id))
        found = inverse(node_id, arrays) if inverse else {
            n: arrays.get(f"{node_id}/{n}") for n in expected}
        for name, shape in expected.items():
            value = found.get(name)
            if value is None:
                raise FileFormatError(f"{source}: node '{node_id}' has no weight '{name}' "
                                      f"(initializer '{node_id}/{name}')")
            weights[f"{node_id}/{name}"] = np.ascontiguousarray(value).reshape(shape)
    return graph, weights


def _rnn_weights(node_id: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    W, R, B = (arrays.get(f"{node_id}/{n}:onnx") for n in ("W", "U", "b"))
    if W is None or R is None or B is None:
        return {}
    hidden = W.shape[1]
    return {"W": W[0].T, "U": R[0].T, "b": B[0, :hidden] + B[0, hidden:]}


def lstm_from_onnx(m: np.ndarray) -> np.ndarray:
    """(1, 4H, rows) with gates i, o, f, c -> (rows, 4H) with gates i, f, g, o."""
    t = m[0].T
    rows, hidden = t.shape[0], t.shape[1] // 4
    return t.reshape(rows, 4, hidden)[:, _FROM_ONNX].reshape(rows, 4 * hidden)


def _lstm_weights(node_id: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    W, R, B = (arrays.get(f"{node_id}/{n}:onnx") for n in ("W", "U", "b"))
    if W is None or R is None or B is None:
        return {}
    four_h = W.shape[1]
    b = B[0, :four_h] + B[0, four_h:]
    return {"W": lstm_from_onnx(W), "U": lstm_from_onnx(R),
            "b": lstm_from_onnx(b[None, :, None])[0]}


_INVERSE = {"SimpleRNN": _rnn_weights, "LSTM": _lstm_weights}
"""Layer type -> weights from initializers stored in a converted layout."""
