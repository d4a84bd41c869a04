"""Run cards (SPEC section 4): what a training run was, in one small JSON object, and the
structure hash that ties it to the graph it was trained on.

    {"format": "nnengine.run", "version": 1, "graph_sha256": ..., "dataset": {"name",
     "sha256"}, "seed": ..., "training": {resolved settings}, "started": ISO 8601,
     "seconds": ..., "epochs": ..., "ended": "finished" | "stopped" | "diverged" | "failed",
     "test": {metrics}, "versions": {"nnengine", "numpy", "python"}}

Non-finite numbers are written as null (`bundle.metrics_to_json`).
"""
from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import json
import platform
from typing import Any

import numpy as np

from .catalogue import LAYERS, _ensure_loaded
from .datasets.base import Dataset
from .graph import Graph

RUN_FORMAT = "nnengine.run"
RUN_VERSION = 1
ENDINGS = ("finished", "stopped", "diverged", "failed")


def canonical_structure(graph: Graph) -> dict[str, Any]:
    """The part of a graph its weights depend on, in one canonical form:

        {"nodes": [{"id", "type", "params"}] sorted by id, with params resolved (every
                   catalogue default filled in, values as the catalogue checks them),
         "inputs": [the Input node ids in file order] (their order is the model's inputs'),
         "edges": [{"source", "target", "port"}] sorted by (target, port, source)}

    Positions, the graph's name and its training block are left out."""
    _ensure_loaded()
    nodes = []
    for node_id in sorted(graph.node_ids()):
        type_name = graph.type_of(node_id)
        params = graph.params_of(node_id)
        if type_name in LAYERS:
            resolved, _problems = LAYERS.get(type_name).resolve(params)
            params = resolved
        nodes.append({"id": node_id, "type": type_name, "params": _plain(params)})
    edges = sorted(({"source": s, "target": t, "port": int(p)} for s, t, p in graph.edges()),
                   key=lambda e: (e["target"], e["port"], e["source"]))
    return {"nodes": nodes, "inputs": graph.input_ids(), "edges": edges}


def graph_sha256(graph: Graph) -> str:
    """SHA-256 (hex) of `canonical_structure(graph)` as compact JSON with sorted keys: moving
    a node or renaming the graph keeps it; any parameter, node or edge change alters it."""
    text = json.dumps(canonical_structure(graph), sort_keys=True, separators=(",", ":"),
                      allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


HASH_ROWS = 4096   # rows copied at a time to hash an array that is not contiguous


def dataset_sha256(x: Any, y: Any = None) -> str:
    """SHA-256 of a data set's arrays (dtype, shape and bytes of each, in order)."""
    h = hashlib.sha256()
    for part in (x if isinstance(x, (list, tuple)) else [x]) + ([y] if y is not None else []):
        a = part if hasattr(part, "shape") and hasattr(part, "dtype") else \
            np.ascontiguousarray(part)
        h.update(f"{np.dtype(a.dtype).str}{tuple(a.shape)}".encode())
        if isinstance(a, np.ndarray) and a.flags.c_contiguous:
            h.update(a.reshape(-1).view(np.uint8))   # the array's own memory: no copy
            continue
        for i in range(0, len(a), HASH_ROWS):   # a strided array or Rows: a piece at a time
            h.update(np.ascontiguousarray(a[i:i + HASH_ROWS]).reshape(-1).view(np.uint8))
    return h.hexdigest()


def dataset_content_sha256(dataset: Dataset) -> str:
    """SHA-256 of a data set as loaded: `dataset_sha256` over the training inputs (a dict
    of inputs in the order of its keys, sorted), the training labels, then the same of the
    test split; the same samples give the same hash whatever file carried them."""
    parts: list[Any] = []
    for x, y in ((dataset.x_train, dataset.y_train), (dataset.x_test, dataset.y_test)):
        if isinstance(x, dict):
            parts += [x[k] for k in sorted(x)]
        else:
            parts += list(x) if isinstance(x, list) else [x]
        parts.append(y)
    return dataset_sha256(parts)


def versions() -> dict[str, str]:
    try:
        version = importlib.metadata.version("nn-designer")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return {"nnengine": version, "numpy": np.__version__,
            "python": platform.python_version()}


def run_card(graph: Graph, training: dict[str, Any], dataset: dict[str, Any],
             started: datetime.datetime | str | None, seconds: float | None, epochs: int,
             ended: str | None, test: dict[str, Any] | None = None) -> dict[str, Any]:
    """A run card for `graph` trained with the resolved `training` settings on `dataset`
    ({"name", "sha256"}); `ended` is one of ENDINGS (None: not known, e.g. imported)."""
    if ended is not None and ended not in ENDINGS:
        raise ValueError(f"ended must be one of {', '.join(ENDINGS)}, received {ended!r}")
    if isinstance(started, datetime.datetime):
        started = started.astimezone().isoformat(timespec="seconds")
    return {"format": RUN_FORMAT, "version": RUN_VERSION, "graph_sha256": graph_sha256(graph),
            "dataset": {"name": dataset.get("name"), "sha256": dataset.get("sha256")},
            "seed": training.get("seed"), "training": _plain(dict(training)),
            "started": started, "seconds": seconds, "epochs": int(epochs), "ended": ended,
            "test": _plain(dict(test)) if test else None, "versions": versions()}


def _plain(value: Any) -> Any:
    """JSON-able copy: tuples as lists, NumPy scalars as Python numbers."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


__all__ = ["ENDINGS", "RUN_FORMAT", "RUN_VERSION", "canonical_structure",
           "dataset_content_sha256", "dataset_sha256",
           "graph_sha256", "run_card", "versions"]
