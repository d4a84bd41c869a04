"""The run card (SPEC section 4): one small JSON file saying what a training run was, so a
result can be traced to the graph, data and settings that made it.

    {"format": "nnengine.run", "version": 1, "graph_sha256": ..., "dataset": {"name": ...,
     "sha256": ...}, "seed": ..., "training": {...}, "started": ISO 8601, "seconds": ...,
     "epochs": ..., "ended": "finished" | "stopped" | "diverged" | "failed",
     "test": {...}, "versions": {"nnengine": ..., "numpy": ..., "python": ...}}

`graph_sha256` is the SHA-256 of the graph's structure in this canonical form, UTF-8:

    {"edges":[[source,target,port],...],"nodes":[{"id":...,"params":{...},"type":...},...]}

- nodes in the file's order (it fixes the order of several Inputs), each with its type and
  its resolved params: the catalogue's defaults filled in, so leaving a parameter out and
  writing its default give the same hash;
- edges as [source, target, target_port], sorted;
- numbers that are whole (3 and 3.0) written as integers, other numbers as Python's
  shortest repr; keys sorted; no spaces (`json.dumps(..., sort_keys=True,
  separators=(",", ":"), ensure_ascii=False)`).

Positions, the name and the training block are not part of it; any parameter or edge is.
`dataset.sha256` hashes the data as loaded (every array of the train and test splits:
dtype, shape and bytes, in a fixed order), so the same samples give the same hash whatever
file format carried them.
"""
from __future__ import annotations

import hashlib
import json
import platform
from datetime import UTC, datetime
from typing import Any

import numpy as np

from .catalogue import layer_spec, layer_specs
from .datasets.base import Dataset
from .graph import Graph
from .json_text import finite_json
from .training_config import TrainingConfig

FORMAT = "nnengine.run"
VERSION = 1
ENDINGS = ("finished", "stopped", "diverged", "failed")


def graph_structure(graph: Graph) -> dict[str, Any]:
    """The part of a graph that decides what it computes (see the module docstring)."""
    known = {spec.type for spec in layer_specs()}
    nodes = []
    for node_id in graph.node_ids():
        type_name = graph.type_of(node_id)
        params = graph.params_of(node_id)
        if type_name in known:
            resolved, problems = layer_spec(type_name).resolve(params)
            params = params if problems else resolved
        nodes.append({"id": node_id, "type": type_name, "params": _canonical(params)})
    edges = sorted([s, t, int(port)] for s, t, port in graph.edges())
    return {"edges": edges, "nodes": nodes}


def graph_sha256(graph: Graph) -> str:
    """SHA-256 (hex) of the graph's canonical structure."""
    text = json.dumps(graph_structure(graph), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def dataset_sha256(dataset: Dataset) -> str:
    """SHA-256 (hex) of a data set's samples and labels, train then test split."""
    digest = hashlib.sha256()
    for features, labels in ((dataset.x_train, dataset.y_train),
                             (dataset.x_test, dataset.y_test)):
        if isinstance(features, dict):
            arrays = [features[k] for k in sorted(features)]
        elif isinstance(features, list):
            arrays = list(features)
        else:
            arrays = [features]
        for a in (*arrays, labels):
            a = np.ascontiguousarray(a)
            digest.update(f"{a.dtype.str}{list(a.shape)}".encode())
            digest.update(a.data)
    return digest.hexdigest()


def versions() -> dict[str, str]:
    """The versions a run's numbers depend on."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("nn-designer")
    except PackageNotFoundError:  # running from a checkout that is not installed
        ours = "unknown"
    return {"nnengine": ours, "numpy": np.__version__, "python": platform.python_version()}


def make_run_card(graph: Graph, dataset_name: str, dataset: Dataset | str,
                  config: TrainingConfig, started: float, seconds: float, epochs: int,
                  ended: str, test: dict[str, float] | None) -> dict[str, Any]:
    """The run card of a run that began at `started` (seconds since the epoch, as from
    `time.time()`), trained `epochs` epochs in `seconds` and ended as `ended`. `dataset`:
    the data, or its `dataset_sha256` when that was computed elsewhere (the window's
    training process)."""
    if ended not in ENDINGS:
        raise ValueError(f"ended must be one of {', '.join(ENDINGS)}, received {ended!r}")
    when = datetime.fromtimestamp(started, UTC).astimezone()
    return {"format": FORMAT, "version": VERSION, "graph_sha256": graph_sha256(graph),
            "dataset": {"name": dataset_name, "sha256": dataset if isinstance(dataset, str)
                        else dataset_sha256(dataset)},
            "seed": config.seed, "training": config.to_dict(),
            "started": when.isoformat(timespec="seconds"), "seconds": round(seconds, 3),
            "epochs": epochs, "ended": ended, "test": test, "versions": versions()}


def run_card_json(card: dict[str, Any], source: str = "run.json") -> str:
    """The card as JSON text (non-finite numbers as null, with a warning naming `source`)."""
    return finite_json(card, source, indent=2) + "\n"


__all__ = ["ENDINGS", "FORMAT", "VERSION", "dataset_sha256", "graph_sha256",
           "graph_structure", "make_run_card", "run_card_json", "versions"]
