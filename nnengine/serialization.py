"""Graph files (SPEC section 2): reading, writing and migrating them.

Graph files are JSON, `"format": "nnengine.graph"`, `"version": 1`. Reading is in stages,
each with its own errors: bytes (missing file, folder, too big, not UTF-8), JSON (syntax,
nesting depth, duplicate keys, NaN), format and version (older versions are migrated
through `MIGRATIONS`, newer ones refused), structure (unknown keys, wrong types, with the
node id), then `Graph.from_dict` builds the graph and `TrainingConfig` checks its `training`
block. Value problems a user can draw (bad params, cycles, shapes) are left to `analyze`, so
the GUI can open an unfinished graph. Every error message starts with the file.

Weight files live in `weights_io`, model bundles in `bundle`; saves are atomic (`fileio`).
"""
from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .errors import ConfigError, FileFormatError, GraphError, Problem
from .fileio import read_file_bytes, write_atomic
from .graph import Graph, is_valid_id
from .training_config import TrainingConfig

FORMAT = "nnengine.graph"
VERSION = 1
MAX_DEPTH = 64
TOP_KEYS = ("format", "version", "name", "nodes", "edges", "training")
NODE_KEYS = ("id", "type", "params", "position")
EDGE_KEYS = ("source", "target", "target_port")

Migration = Callable[[dict[str, Any]], dict[str, Any]]
MIGRATIONS: dict[int, Migration] = {}
"""Version v -> a function turning a version-v file's plain data into version v + 1."""


def register_migration(from_version: int) -> Callable[[Migration], Migration]:
    """Decorator: `@register_migration(1)` upgrades version-1 data to version 2."""
    def wrap(fn: Migration) -> Migration:
        MIGRATIONS[from_version] = fn
        return fn
    return wrap


# --- reading -----------------------------------------------------------------------------

def load_graph(path: str | os.PathLike) -> Graph:
    """Read a graph file; raises FileFormatError, GraphError or ConfigError naming the file."""
    raw = read_file_bytes(path, "graph file", budget="graph_bytes")
    return graph_from_json(decode_graph_text(raw, str(path)), str(path))


def decode_graph_text(raw: bytes, source: str) -> str:
    """Graph-file bytes as text (UTF-8, a byte-order mark allowed)."""
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
    def objects(key: str, noun: str) -> Iterator[tuple[int, dict[str, Any]]]:
        """The objects of the list `data[key]`; a non-list or a non-object is a problem."""
        items = data.get(key, [])
        if not isinstance(items, list):
            problems.append(Problem(None, f"\"{key}\" must be a list, received "
                                          f"{_json_kind(items)}", "structure"))
            return
        for i, item in enumerate(items):
            if isinstance(item, dict):
                yield i, item
            else:
                problems.append(Problem(None, f"{noun} {i + 1} must be an object, received "
                                              f"{_json_kind(item)}", "structure"))

    for i, node in objects("nodes", "node"):
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
    for i, edge in objects("edges", "edge"):
        target = edge.get("target")
        label = target if is_valid_id(target) else None
        where = f"edge {i + 1} ({edge.get('source')} -> {target}): "
        unknown(edge, EDGE_KEYS, where, label)
        for end in ("source", "target"):
            if not isinstance(edge.get(end), str):
                problems.append(Problem(label, f"{where}\"{end}\" must be a node id, received "
                                               f"{_json_kind(edge.get(end))}", "structure"))
    return problems


# --- writing -----------------------------------------------------------------------------

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



__all__ = ["FORMAT", "MIGRATIONS", "VERSION", "decode_graph_text",
           "graph_from_json", "graph_to_json", "load_graph", "migrate", "register_migration",
           "save_graph"]
