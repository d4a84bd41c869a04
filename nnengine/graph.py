"""The graph a user edits: a thin wrapper over `networkx.DiGraph`.

Nodes carry `type`, `params` (as the user gave them; defaults are not filled in) and an
optional `position`. Edges carry `port`, the target's input slot. Node order is insertion
order, which fixes the order of several Input nodes and makes every traversal deterministic.
Validation lives in `validation.py`; this module only holds and edits the structure.
"""
from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import networkx as nx

from .errors import GraphError, Problem

ID_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def is_valid_id(node_id: object) -> bool:
    return isinstance(node_id, str) and bool(ID_PATTERN.match(node_id))


class Graph:
    def __init__(self, name: str = "untitled", training: dict[str, Any] | None = None):
        self.name = name
        self.training: dict[str, Any] = dict(training or {})
        self.nx = nx.DiGraph()

    # --- reading -------------------------------------------------------------------------
    def __contains__(self, node_id: object) -> bool:
        return node_id in self.nx

    def __len__(self) -> int:
        return len(self.nx)

    def node_ids(self) -> list[str]:
        return list(self.nx.nodes)

    def node(self, node_id: str) -> dict[str, Any]:
        """The node's attributes: {'type', 'params', 'position'}."""
        return self.nx.nodes[node_id]

    def type_of(self, node_id: str) -> str:
        return self.nx.nodes[node_id]["type"]

    def params_of(self, node_id: str) -> dict[str, Any]:
        return self.nx.nodes[node_id]["params"]

    def edges(self) -> Iterator[tuple[str, str, int]]:
        """(source, target, port) for every edge, in insertion order."""
        for s, t, data in self.nx.edges(data=True):
            yield s, t, data["port"]

    def inputs_of(self, node_id: str) -> list[tuple[int, str]]:
        """(port, source) pairs feeding `node_id`, sorted by port."""
        return sorted((d["port"], s) for s, _, d in self.nx.in_edges(node_id, data=True))

    def successors(self, node_id: str) -> list[str]:
        return list(self.nx.successors(node_id))

    def input_ids(self) -> list[str]:
        return [n for n, d in self.nx.nodes(data=True) if d["type"] == "Input"]

    def sinks(self) -> list[str]:
        return [n for n in self.nx.nodes if self.nx.out_degree(n) == 0]

    def free_id(self, base: str) -> str:
        """A new unique id derived from `base` (dense -> dense1, dense2, ...)."""
        stem = re.sub(r"\d+$", "", base.lower()) or "node"
        stem = re.sub(r"[^A-Za-z0-9_]", "_", stem)
        if not stem[0].isalpha() and stem[0] != "_":
            stem = "n_" + stem
        i = 1
        while f"{stem}{i}" in self.nx:
            i += 1
        return f"{stem}{i}"

    # --- editing -------------------------------------------------------------------------
    def add_node(self, node_id: str, type_name: str, params: dict[str, Any] | None = None,
                 position: tuple[float, float] | None = None) -> None:
        if not is_valid_id(node_id):
            raise GraphError([Problem(None, f"invalid node id {node_id!r}: use letters, digits "
                                            "and _, not starting with a digit", "bad_id")])
        if node_id in self.nx:
            raise GraphError([Problem(node_id, f"duplicate node id '{node_id}'", "duplicate_id")])
        self.nx.add_node(node_id, type=type_name, params=dict(params or {}),
                         position=tuple(position) if position is not None else None)

    def remove_node(self, node_id: str) -> None:
        self.nx.remove_node(node_id)

    def add_edge(self, source: str, target: str, port: int = 0) -> None:
        for end in (source, target):
            if end not in self.nx:
                raise GraphError([Problem(None, f"edge {source} -> {target}: no node '{end}'",
                                          "dangling_edge")])
        if self.nx.has_edge(source, target):
            raise GraphError([Problem(target, f"duplicate edge {source} -> {target}",
                                      "duplicate_edge")])
        self.nx.add_edge(source, target, port=int(port))

    def remove_edge(self, source: str, target: str) -> None:
        self.nx.remove_edge(source, target)

    def edge_port(self, source: str, target: str) -> int:
        return self.nx.edges[source, target]["port"]

    def set_params(self, node_id: str, params: dict[str, Any]) -> None:
        self.nx.nodes[node_id]["params"] = dict(params)

    def set_position(self, node_id: str, position: tuple[float, float] | None) -> None:
        self.nx.nodes[node_id]["position"] = tuple(position) if position is not None else None

    def rename_node(self, old: str, new: str) -> None:
        """Give a node a new id, keeping its edges, its place in node order and its data."""
        if old == new:
            return
        if not is_valid_id(new):
            raise GraphError([Problem(old, f"invalid node id {new!r}", "bad_id")])
        if new in self.nx:
            raise GraphError([Problem(old, f"node id '{new}' is already used", "duplicate_id")])
        order = [new if n == old else n for n in self.nx.nodes]
        nx.relabel_nodes(self.nx, {old: new}, copy=False)
        self._reorder(order)  # relabel_nodes moves the node to the end; keep its place

    def _reorder(self, order: list[str]) -> None:
        nodes = {n: self.nx.nodes[n] for n in order}
        edges = list(self.nx.edges(data=True))
        self.nx.clear()
        for n in order:
            self.nx.add_node(n, **nodes[n])
        self.nx.add_edges_from(edges)

    def copy(self) -> Graph:
        g = Graph(self.name, copy.deepcopy(self.training))
        g.nx = copy.deepcopy(self.nx)
        return g

    # --- plain data ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON structure of SPEC section 2 (without format and version)."""
        nodes = []
        for n, d in self.nx.nodes(data=True):
            entry: dict[str, Any] = {"id": n, "type": d["type"], "params": dict(d["params"])}
            if d.get("position") is not None:
                entry["position"] = [float(v) for v in d["position"]]
            nodes.append(entry)
        edges = []
        for s, t, port in self.edges():
            edge: dict[str, Any] = {"source": s, "target": t}
            if port or self._is_multi_input(t):
                edge["target_port"] = port
            edges.append(edge)
        out: dict[str, Any] = {"name": self.name, "nodes": nodes, "edges": edges}
        if self.training:
            out["training"] = copy.deepcopy(self.training)
        return out

    def _is_multi_input(self, node_id: str) -> bool:
        from .catalogue import LAYERS, _ensure_loaded

        _ensure_loaded()
        t = self.type_of(node_id)
        return t in LAYERS and LAYERS.get(t).max_inputs != 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Graph) and self.to_dict() == other.to_dict()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Graph:
        """Build from plain data (already parsed JSON). Structural problems (non-object
        entries, bad or duplicate ids, edges to unknown nodes) are collected and raised
        together as one GraphError; value problems are left to validation."""
        problems: list[Problem] = []
        g = cls(str(data.get("name", "untitled")), data.get("training") or {})
        nodes = data.get("nodes", [])
        if not isinstance(nodes, list):
            raise GraphError([Problem(None, "'nodes' must be a list", "structure")])
        for i, entry in enumerate(nodes):
            where = f"nodes[{i}]"
            if not isinstance(entry, dict):
                problems.append(Problem(None, f"{where} must be an object", "structure"))
                continue
            unknown = set(entry) - {"id", "type", "params", "position"}
            node_id = entry.get("id")
            label = node_id if is_valid_id(node_id) else None
            if unknown:
                problems.append(Problem(label, f"{where}: unknown key '{min(unknown)}'",
                                        "unknown_key"))
            if not is_valid_id(node_id):
                problems.append(Problem(None, f"{where}: invalid id {node_id!r} (letters, "
                                              "digits and _, not starting with a digit)",
                                        "bad_id"))
                continue
            if node_id in g.nx:
                problems.append(Problem(node_id, f"duplicate node id '{node_id}'",
                                        "duplicate_id"))
                continue
            type_name = entry.get("type")
            if not isinstance(type_name, str):
                problems.append(Problem(node_id, f"node '{node_id}' needs a 'type' string",
                                        "structure"))
                continue
            params = entry.get("params", {})
            if params is None:
                params = {}
            if not isinstance(params, dict):
                problems.append(Problem(node_id, "'params' must be an object", "structure"))
                continue
            position = entry.get("position")
            if position is not None and not (
                    isinstance(position, (list, tuple)) and len(position) == 2
                    and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                            for v in position)):
                problems.append(Problem(node_id, "'position' must be two numbers [x, y]",
                                        "structure"))
                position = None
            g.nx.add_node(node_id, type=type_name, params=dict(params),
                          position=tuple(float(v) for v in position) if position else None)
        edges = data.get("edges", [])
        if not isinstance(edges, list):
            problems.append(Problem(None, "'edges' must be a list", "structure"))
            edges = []
        for i, entry in enumerate(edges):
            where = f"edges[{i}]"
            if not isinstance(entry, dict):
                problems.append(Problem(None, f"{where} must be an object", "structure"))
                continue
            unknown = set(entry) - {"source", "target", "target_port"}
            if unknown:
                problems.append(Problem(None, f"{where}: unknown key '{min(unknown)}'",
                                        "unknown_key"))
            s, t = entry.get("source"), entry.get("target")
            port = entry.get("target_port", 0)
            if isinstance(port, bool) or not isinstance(port, int) or port < 0:
                problems.append(Problem(t if t in g.nx else None,
                                        f"{where}: target_port must be a whole number >= 0, "
                                        f"received {port!r}", "structure"))
                continue
            missing = [e for e in (s, t) if not isinstance(e, str) or e not in g.nx]
            if missing:
                problems.append(Problem(None, f"{where}: edge {s} -> {t} refers to unknown "
                                              f"node {missing[0]!r}", "dangling_edge"))
                continue
            if g.nx.has_edge(s, t):
                problems.append(Problem(t, f"duplicate edge {s} -> {t}", "duplicate_edge"))
                continue
            g.nx.add_edge(s, t, port=port)
        if problems:
            raise GraphError(problems)
        return g
