"""Model bundles (SPEC section 4): one zip holding `graph.json`, `weights.npz` and
`metrics.json`, to hand a trained model to someone; and metrics as JSON text.

Each member is read with its own file's rules (`serialization`, `weights_io`), and errors
name the member, e.g. "model.zip/weights.npz: ...".
"""
from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from typing import IO, Any, NamedTuple

import numpy as np

from .arrays_io import check_zip_members
from .errors import FileFormatError
from .fileio import read_file_bytes, write_atomic
from .graph import Graph
from .json_text import finite_json
from .serialization import decode_graph_text, graph_from_json, graph_to_json
from .weights_io import weight_arrays, weights_from_bytes

BUNDLE_MEMBERS = ("graph.json", "weights.npz", "metrics.json")


class Bundle(NamedTuple):
    graph: Graph
    weights: dict[str, np.ndarray]
    metrics: Any


def save_bundle(path: str | os.PathLike, graph: Graph, weights: Any, metrics: Any = None
                ) -> None:
    """One zip with graph.json, weights.npz and metrics.json, to hand a model to someone.

    `weights`: a Model or a dict of arrays; `metrics`: JSON-able data or a History."""
    buf = io.BytesIO()
    np.savez(buf, **weight_arrays(weights))
    members = {"graph.json": graph_to_json(graph).encode("utf-8"),
               "weights.npz": buf.getvalue(),
               "metrics.json": metrics_to_json(metrics).encode("utf-8")}

    def write(f: IO[bytes]) -> None:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in members.items():
                z.writestr(name, data)
    write_atomic(path, write)


def load_bundle(path: str | os.PathLike) -> Bundle:
    """Read a bundle written by `save_bundle`: (graph, weights, metrics)."""
    raw = read_file_bytes(path, "model bundle")
    source = str(path)
    if not raw.startswith(b"PK"):
        raise FileFormatError(f"{source}: is not a model bundle (a zip archive)")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            names = z.namelist()
            extra = [n for n in names if n not in BUNDLE_MEMBERS and not _project_member(n)]
            if extra:
                raise FileFormatError(f"{source}: unexpected file '{extra[0]}' in the bundle "
                                      f"(a bundle holds {', '.join(BUNDLE_MEMBERS)})")
            missing = [n for n in BUNDLE_MEMBERS[:2] if n not in names]
            if missing:
                raise FileFormatError(f"{source}: the bundle has no {missing[0]}")
            check_zip_members(z, source, FileFormatError, small=("graph.json", "metrics.json"))
            graph_text = decode_graph_text(z.read("graph.json"), f"{source}/graph.json")
            weights_raw = z.read("weights.npz")
            metrics_raw = z.read("metrics.json") if "metrics.json" in names else b"null"
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as e:
        raise FileFormatError(f"{source}: is not a valid model bundle ({e})") from None
    graph = graph_from_json(graph_text, f"{source}/graph.json")
    weights = weights_from_bytes(weights_raw, f"{source}/weights.npz")
    try:
        metrics = json.loads(metrics_raw.decode("utf-8"))
    except (ValueError, RecursionError) as e:
        raise FileFormatError(f"{source}/metrics.json: is not valid JSON ({e})") from None
    return Bundle(graph, weights, metrics)


def _project_member(name: str) -> bool:
    """A project file (project.py) is a bundle with an index and its runs beside it."""
    return name == "project.json" or name.startswith("runs/")


def is_bundle(path: str | os.PathLike) -> bool:
    """Whether `path` is a zip holding a graph.json (a bundle, not a weight file). Only a
    regular file can be one (a device such as /dev/zero is left to the graph reader)."""
    if not os.path.isfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as z:
            return "graph.json" in z.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def metrics_to_json(metrics: Any, source: str = "metrics.json") -> str:
    """Training metrics as JSON text; NaN and infinities (a diverged run) become null, with
    a warning naming `source`."""
    if hasattr(metrics, "epochs") and not isinstance(metrics, dict):
        metrics = {"epochs": metrics.epochs}
    return finite_json(metrics, source, indent=2) + "\n"


__all__ = ["BUNDLE_MEMBERS", "Bundle", "is_bundle", "load_bundle", "metrics_to_json",
           "save_bundle"]
