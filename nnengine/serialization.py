"""Graph files, weight files and model bundles (SPEC sections 2 and 4).

Graph files are JSON, `"format": "nnengine.graph"`, `"version": 1`. Reading is in stages,
each with its own errors: bytes (missing file, folder, too big, not UTF-8), JSON (syntax,
nesting depth, duplicate keys, NaN), format and version (older versions are migrated
through `MIGRATIONS`, newer ones refused), structure (unknown keys, wrong types, with the
node id), then `Graph.from_dict` builds the graph and `TrainingConfig` checks its `training`
block. Value problems a user can draw (bad params, cycles, shapes) are left to `analyze`, so
the GUI can open an unfinished graph. Every error message starts with the file.

Weight files are `.npz`, one array per weight keyed `<node id>/<weight name>`. A bundle is
one zip holding `graph.json`, `weights.npz` and `metrics.json`.

Every save is atomic: a temporary file beside the target, then `os.replace`.
"""
from __future__ import annotations

import io
import json
import math
import os
import re
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, NamedTuple

import numpy as np

from .errors import ConfigError, FileFormatError, GraphError, Problem
from .graph import Graph, is_valid_id
from .training_config import TrainingConfig

FORMAT = "nnengine.graph"
VERSION = 1
MAX_GRAPH_BYTES = 64 * 2**20
MAX_DEPTH = 64
TOP_KEYS = ("format", "version", "name", "nodes", "edges", "training")
NODE_KEYS = ("id", "type", "params", "position")
EDGE_KEYS = ("source", "target", "target_port")
BUNDLE_MEMBERS = ("graph.json", "weights.npz", "metrics.json")

Migration = Callable[[dict[str, Any]], dict[str, Any]]
MIGRATIONS: dict[int, Migration] = {}
"""Version v -> a function turning a version-v file's plain data into version v + 1."""


def register_migration(from_version: int) -> Callable[[Migration], Migration]:
    """Decorator: `@register_migration(1)` upgrades version-1 data to version 2."""
    def wrap(fn: Migration) -> Migration:
        MIGRATIONS[from_version] = fn
        return fn
    return wrap


# --- reading bytes -------------------------------------------------------------------------

def read_file_bytes(path: str | os.PathLike, what: str, limit: int | None = None) -> bytes:
    """A file's bytes; a missing file, a folder or an oversized file is a FileFormatError."""
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise FileFormatError(f"{path}: is a folder, not a {what}")
        if limit is not None and info.st_size > limit:
            raise FileFormatError(f"{path}: is {_size_text(info.st_size)}, too big for a "
                                  f"{what} (the limit is {_size_text(limit)})")
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise FileFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FileFormatError(f"{path}: is a folder, not a {what}") from None
    except PermissionError:
        raise FileFormatError(f"{path}: permission denied") from None
    except OSError as e:
        raise FileFormatError(f"{path}: cannot be read ({e.strerror or e})") from None


def _size_text(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"


# --- graph files ---------------------------------------------------------------------------

def load_graph(path: str | os.PathLike) -> Graph:
    """Read a graph file; raises FileFormatError, GraphError or ConfigError naming the file."""
    raw = read_file_bytes(path, "graph file", MAX_GRAPH_BYTES)
    return graph_from_json(_decode(raw, str(path)), str(path))


def _decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FileFormatError(f"{source}: is not UTF-8 text (byte 0x{raw[e.start]:02x} at "
                              f"offset {e.start}); a graph file is JSON text") from None


def graph_from_json(text: str, source: str = "<graph>") -> Graph:
    """Build a Graph from graph-file text; `source` names it in error messages."""
    data = parse_graph_json(text, source)
    data = migrate(data, source)
    problems = check_graph_data(data)
    if problems:
        raise GraphError(problems, source)
    try:
        graph = Graph.from_dict(data)
    except GraphError as e:
        raise GraphError(e.problems, source) from None
    training = data.get("training")
    if training:
        try:
            TrainingConfig.from_dict(training, where=f"{source}: training")
        except (TypeError, ValueError) as e:  # e.g. a list where a name belongs
            raise ConfigError(f"{source}: training: a value has the wrong type ({e})") from None
    return graph


def parse_graph_json(text: str, source: str) -> dict[str, Any]:
    """Text -> plain data, refusing what json would accept but a graph file must not hold:
    NaN and Infinity, duplicate keys, and nesting deeper than MAX_DEPTH."""
    if not text.strip():
        raise FileFormatError(f"{source}: is empty; a graph file is a JSON object with "
                              f"\"format\": \"{FORMAT}\"")
    depth = _nesting_depth(text)
    if depth > MAX_DEPTH:
        raise FileFormatError(f"{source}: nests lists and objects {depth} levels deep; a graph "
                              f"file needs only a few (the limit is {MAX_DEPTH})")
    try:
        data = json.loads(text, object_pairs_hook=_object_without_duplicates,
                          parse_constant=_refuse_constant)
    except _BadJSON as e:
        raise FileFormatError(f"{source}: {e}") from None
    except json.JSONDecodeError as e:
        raise FileFormatError(f"{source}: is not valid JSON: {e.msg} (line {e.lineno}, column "
                              f"{e.colno})") from None
    except RecursionError:
        raise FileFormatError(f"{source}: nests lists and objects too deeply") from None
    except ValueError as e:
        why = "it holds a number with thousands of digits" if "digits" in str(e) else str(e)
        raise FileFormatError(f"{source}: cannot be read as JSON ({why})") from None
    if not isinstance(data, dict):
        raise FileFormatError(f"{source}: a graph file holds a JSON object {{...}}, this one "
                              f"holds {_json_kind(data)}")
    return data


class _BadJSON(ValueError):
    pass


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _BadJSON(f"the key '{key}' appears twice in one object")
        out[key] = value
    return out


def _refuse_constant(name: str) -> None:
    raise _BadJSON(f"holds {name}, which is not a number in JSON")


def _nesting_depth(text: str) -> int:
    """Deepest nesting of [ and { outside strings (json would hit a RecursionError)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0
    stripped = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    b = np.frombuffer(stripped.encode("utf-8", "replace"), dtype=np.uint8)
    step = np.isin(b, (ord("["), ord("{"))).astype(np.int32) - np.isin(b, (ord("]"), ord("}")))
    return int(np.cumsum(step).max(initial=0))


def _json_kind(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def migrate(data: dict[str, Any], source: str = "<graph>") -> dict[str, Any]:
    """Check format and version, and upgrade older versions step by step to VERSION."""
    fmt = data.get("format")
    if fmt != FORMAT:
        if fmt is None:
            raise FileFormatError(f"{source}: has no \"format\": \"{FORMAT}\" entry, so it is "
                                  "not an nnengine graph file")
        raise FileFormatError(f"{source}: is not an nnengine graph file (its format is "
                              f"{fmt!r}, expected \"{FORMAT}\")")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise FileFormatError(f"{source}: \"version\" must be a whole number, received "
                              f"{version!r}")
    if version > VERSION:
        raise FileFormatError(f"{source}: was saved by a newer nnengine (graph format version "
                              f"{version}); this nnengine reads versions up to {VERSION}, so "
                              "please update it to open this file")
    while version < VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise FileFormatError(f"{source}: graph format version {version} is too old to be "
                                  f"read (no migration from it to version {version + 1})")
        data = step(dict(data))
        version += 1
        data["version"] = version
    return data


def check_graph_data(data: dict[str, Any]) -> list[Problem]:
    """Structural problems of plain graph data: unknown keys and wrong types, each tied to
    the node it concerns. Values are `analyze`'s job."""
    problems: list[Problem] = []

    def unknown(keys: Any, allowed: tuple[str, ...], where: str, node: str | None) -> None:
        for key in keys:
            if key not in allowed:
                problems.append(Problem(node, f"{where}unknown key '{key}' (allowed: "
                                              f"{', '.join(allowed)})", "unknown_key"))

    unknown(data, TOP_KEYS, "", None)
    if not isinstance(data.get("name", ""), str):
        problems.append(Problem(None, f"\"name\" must be a string, received "
                                      f"{_json_kind(data['name'])}", "structure"))
    if not isinstance(data.get("training") or {}, dict):
        problems.append(Problem(None, f"\"training\" must be an object, received "
                                      f"{_json_kind(data['training'])}", "structure"))
    nodes = data.get("nodes", [])
    if not isinstance(nodes, list):
        problems.append(Problem(None, f"\"nodes\" must be a list, received {_json_kind(nodes)}",
                                "structure"))
        nodes = []
    for i, node in enumerate(nodes):
        if not isinstance(node, dict):
            problems.append(Problem(None, f"node {i + 1} must be an object, received "
                                          f"{_json_kind(node)}", "structure"))
            continue
        node_id = node.get("id")
        label = node_id if is_valid_id(node_id) else None
        where = "" if label else f"node {i + 1}: "
        unknown(node, NODE_KEYS, where, label)
        if "type" in node and not isinstance(node["type"], str):
            problems.append(Problem(label, f"{where}\"type\" must be a layer type name, "
                                           f"received {_json_kind(node['type'])}", "structure"))
        if not isinstance(node.get("params") or {}, dict):
            problems.append(Problem(label, f"{where}\"params\" must be an object, received "
                                           f"{_json_kind(node['params'])}", "structure"))
        position = node.get("position")
        if position is not None and not (
                isinstance(position, list) and len(position) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                        and math.isfinite(v) for v in position)):
            problems.append(Problem(label, f"{where}\"position\" must be two numbers [x, y], "
                                           f"received {json.dumps(position)[:40]}", "structure"))
    edges = data.get("edges", [])
    if not isinstance(edges, list):
        problems.append(Problem(None, f"\"edges\" must be a list, received {_json_kind(edges)}",
                                "structure"))
        edges = []
    for i, edge in enumerate(edges):
        if not isinstance(edge, dict):
            problems.append(Problem(None, f"edge {i + 1} must be an object, received "
                                          f"{_json_kind(edge)}", "structure"))
            continue
        target = edge.get("target")
        label = target if is_valid_id(target) else None
        where = f"edge {i + 1} ({edge.get('source')} -> {target}): "
        unknown(edge, EDGE_KEYS, where, label)
        for end in ("source", "target"):
            if not isinstance(edge.get(end), str):
                problems.append(Problem(label, f"{where}\"{end}\" must be a node id, received "
                                               f"{_json_kind(edge.get(end))}", "structure"))
    return problems


def graph_to_json(graph: Graph) -> str:
    """The graph as graph-file text: one line per node and per edge, so diffs stay small."""
    data = {"format": FORMAT, "version": VERSION, **graph.to_dict()}
    parts = []
    for key, value in data.items():
        if key in ("nodes", "edges") and value:
            items = ",\n".join(f"    {_dumps(item, graph)}" for item in value)
            text = f"[\n{items}\n  ]"
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False,
                              default=_plain).replace("\n", "\n  ")
        parts.append(f"  {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def _dumps(item: dict[str, Any], graph: Graph) -> str:
    try:
        return json.dumps(item, ensure_ascii=False, allow_nan=False, default=_plain)
    except (TypeError, ValueError) as e:
        node = item.get("id") or item.get("target")
        raise GraphError([Problem(node, f"cannot be saved: its values are not plain JSON "
                                        f"numbers, strings and lists ({e})", "structure")],
                         graph.name) from None


def _plain(value: Any) -> Any:
    """numpy scalars and tuples that land in params are saved as plain JSON values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def save_graph(graph: Graph, path: str | os.PathLike) -> None:
    """Write a graph file atomically (a crash mid-save leaves the old file intact)."""
    write_atomic(path, graph_to_json(graph).encode("utf-8"))


def write_atomic(path: str | os.PathLike, data: bytes | Callable[[IO[bytes]], None]) -> None:
    """Write bytes (or let `data(file)` write) to a temporary file beside `path`, flush it
    to disk, then rename it over `path`. OSErrors name `path`, not the temporary file."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise OSError(e.errno, e.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise OSError(e.errno, e.strerror, str(path)) from None
        raise


def _mode_for(path: Path) -> int:
    """Keep an existing file's permissions; new files get the usual 0666 minus umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


# --- weight files --------------------------------------------------------------------------

def save_weights(model_or_weights: Any, path: str | os.PathLike) -> None:
    """Write weights keyed `<node id>/<weight name>` to an .npz file, atomically.

    `model_or_weights`: a Model (its `get_weights()`) or a dict of arrays."""
    weights = (model_or_weights.get_weights() if hasattr(model_or_weights, "get_weights")
               else dict(model_or_weights))
    arrays = {str(k): np.ascontiguousarray(v) for k, v in weights.items()}
    write_atomic(path, lambda f: np.savez(f, **arrays))


def load_weights(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a weight file; every array must be finite real numbers. Keys and shapes are
    checked against a graph by `apply_weights` / `Model.set_weights`."""
    raw = read_file_bytes(path, "weight file")
    return weights_from_bytes(raw, str(path))


def weights_from_bytes(raw: bytes, source: str) -> dict[str, np.ndarray]:
    if not raw.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise FileFormatError(f"{source}: is not a weight file (.npz, a zip archive of arrays)")
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            weights = {k: z[k] for k in z.files}
    except ValueError as e:
        why = "it holds Python objects, which are not loaded for safety" if "pickle" in str(e) \
            else str(e)
        raise FileFormatError(f"{source}: is not a valid weight file ({why})") from None
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, zlib.error) as e:
        raise FileFormatError(f"{source}: is not a valid weight file ({e})") from None
    for key, value in weights.items():
        if value.dtype.kind not in "fiu":
            raise FileFormatError(f"{source}: weight '{key}' must hold real numbers, found "
                                  f"dtype {value.dtype}")
        if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            raise FileFormatError(f"{source}: weight '{key}' contains NaN or infinite values")
    return weights


def apply_weights(model: Any, path: str | os.PathLike) -> None:
    """Load a weight file into `model`, checking every key and shape (all mismatches are
    counted, the first named)."""
    model.set_weights(load_weights(path), source=f"{path}: the weights")


# --- bundles -------------------------------------------------------------------------------

class Bundle(NamedTuple):
    graph: Graph
    weights: dict[str, np.ndarray]
    metrics: Any


def save_bundle(path: str | os.PathLike, graph: Graph, weights: Any, metrics: Any = None
                ) -> None:
    """One zip with graph.json, weights.npz and metrics.json, to hand a model to someone.

    `weights`: a Model or a dict of arrays; `metrics`: JSON-able data or a History."""
    if hasattr(weights, "get_weights"):
        weights = weights.get_weights()
    buf = io.BytesIO()
    np.savez(buf, **{str(k): np.ascontiguousarray(v) for k, v in weights.items()})
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
            extra = [n for n in names if n not in BUNDLE_MEMBERS]
            if extra:
                raise FileFormatError(f"{source}: unexpected file '{extra[0]}' in the bundle "
                                      f"(a bundle holds {', '.join(BUNDLE_MEMBERS)})")
            missing = [n for n in BUNDLE_MEMBERS[:2] if n not in names]
            if missing:
                raise FileFormatError(f"{source}: the bundle has no {missing[0]}")
            if z.getinfo("graph.json").file_size > MAX_GRAPH_BYTES:
                raise FileFormatError(f"{source}: its graph.json is too big")
            graph_text = _decode(z.read("graph.json"), f"{source}/graph.json")
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


def is_bundle(path: str | os.PathLike) -> bool:
    """Whether `path` is a zip holding a graph.json (a bundle, not a weight file)."""
    try:
        with zipfile.ZipFile(path) as z:
            return "graph.json" in z.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def metrics_to_json(metrics: Any) -> str:
    """Training metrics as JSON text; NaN and infinities (a diverged run) become null."""
    if hasattr(metrics, "epochs") and not isinstance(metrics, dict):
        metrics = {"epochs": metrics.epochs}
    return json.dumps(_finite(metrics), indent=2) + "\n"


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, np.ndarray):
        return _finite(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


__all__ = ["FORMAT", "MIGRATIONS", "VERSION", "Bundle", "apply_weights",
           "graph_from_json", "graph_to_json", "is_bundle", "load_bundle", "load_graph",
           "load_weights", "metrics_to_json", "migrate", "register_migration", "save_bundle",
           "save_graph", "save_weights", "write_atomic"]
