"""GraphDocument: the one place that changes the graph.

It owns the graph (with node positions), the file path and the QUndoStack. Views never
change the graph: they call an intent (`connect`, `add_node`, ...), the intent pushes one
undo command, the command calls the low-level mutators (`_add_node`, ...), and each mutator
emits a past-tense signal that the canvas, palette and inspector redraw from. After every
change on the stack the graph is analysed again (`analysis`, `analysis_changed`).
"""
from __future__ import annotations

import copy
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import networkx as nx
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

import nnengine
from nnengine import Graph, Problem, analyze
from nnengine.graph import is_valid_id

from . import commands
from .layout import COLUMN_SPACING, clear_offset, place_missing

NodeEntry = dict[str, Any]   # {"id", "type", "params", "position"}
OrderSnapshot = tuple[list[str], list[tuple[str, str]]]

LOCKED_MESSAGE = "the graph cannot change while training runs; stop training first"


class GraphDocument(QObject):
    node_added = Signal(str)
    node_removed = Signal(str)
    node_moved = Signal(str)
    params_changed = Signal(str)
    node_renamed = Signal(str, str)            # old id, new id
    edge_added = Signal(str, str, int)         # source, target, port
    edge_removed = Signal(str, str, int)
    training_changed = Signal()
    graph_reset = Signal()                     # the whole graph was replaced (new, open)
    analysis_changed = Signal()
    only_moved = Signal()     # an undo step moved nodes only: structure and analysis stay
    path_changed = Signal()
    clean_changed = Signal(bool)
    locked_changed = Signal(bool)
    repaired = Signal(list)                    # the ids a repair just added or moved

    def __init__(self, graph: Graph | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._resetting = False
        self._index = 0   # the undo stack's index the analysis was made at
        self.undo_stack = QUndoStack(self)
        self.undo_stack.indexChanged.connect(self._reanalyze)
        self.undo_stack.cleanChanged.connect(self.clean_changed)
        self.path: Path | None = None
        self.last_error = ""
        self._locked = False
        self.graph = graph if graph is not None else Graph()
        self.analysis: nnengine.Analysis = prepare(self.graph)

    # --- state -------------------------------------------------------------------------------
    @property
    def locked(self) -> bool:
        """True while training runs: structural and parameter edits are refused."""
        return self._locked

    @locked.setter
    def locked(self, value: bool) -> None:
        if value != self._locked:
            self._locked = bool(value)
            self.locked_changed.emit(self._locked)

    @property
    def is_modified(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def title(self) -> str:
        """'name — file*' for the window title; * marks unsaved changes."""
        where = self.path.name if self.path else "not saved"
        return f"{self.graph.name} — {where}{'*' if self.is_modified else ''}"

    def position(self, node_id: str) -> tuple[float, float]:
        pos = self.graph.node(node_id).get("position")
        return (0.0, 0.0) if pos is None else (float(pos[0]), float(pos[1]))

    def problems_of(self, node_id: str) -> list[Problem]:
        return self.analysis.problems_of(node_id)

    # --- whole document ----------------------------------------------------------------------
    def new(self, graph: Graph | None = None, analysis: nnengine.Analysis | None = None
            ) -> None:
        """Replace the graph (an empty one by default); forgets the path and the undo history.
        `analysis`: what `prepare(graph)` returned (off the GUI thread), else made here."""
        self._replace(graph if graph is not None else Graph(), None, analysis)

    def load(self, path: str | os.PathLike, graph: Graph | None = None,
             analysis: nnengine.Analysis | None = None) -> None:
        """Open a graph file, or take `graph` already read from it and `prepare`d (off the
        GUI thread). Raises NNEngineError with a one-sentence message; on failure the
        current graph is untouched."""
        if graph is None:
            graph = nnengine.load_graph(Path(path))
        self._replace(graph, Path(path), analysis)

    def save(self, path: str | os.PathLike | None = None) -> None:
        """Save (atomically) to `path` or the current path; marks the document clean.
        Raises ValueError when there is no path, OSError when the file cannot be written."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("no file name given")
        nnengine.save_graph(self.graph, target)
        changed = target != self.path
        self.path = target
        self.undo_stack.setClean()
        if changed:
            self.path_changed.emit()

    def set_path(self, path: str | os.PathLike | None) -> None:
        self.path = Path(path) if path is not None else None
        self.path_changed.emit()

    def mark_modified(self) -> None:
        """Mark unsaved without an edit (e.g. a graph recovered from an autosave)."""
        self.undo_stack.resetClean()

    def _replace(self, graph: Graph, path: Path | None,
                 analysis: nnengine.Analysis | None) -> None:
        self._resetting = True
        try:
            self.graph = graph
            if analysis is None:
                analysis = prepare(graph)
            self.undo_stack.clear()
            self.undo_stack.setClean()
            self._index = 0
            self.path = path
        finally:
            self._resetting = False
        self.analysis = analysis
        self.graph_reset.emit()
        self.analysis_changed.emit()
        self.training_changed.emit()
        self.path_changed.emit()

    # --- intents: each pushes one undo command, or refuses with last_error -------------------
    def _refuse(self, message: str) -> bool:
        self.last_error = message
        return False

    def _editable(self) -> bool:
        if self._locked:
            return self._refuse(LOCKED_MESSAGE)
        self.last_error = ""
        return True

    def add_node(self, type_name: str, position: tuple[float, float] | None = None,
                 params: dict[str, Any] | None = None,
                 connect_from: str | None = None) -> str | None:
        """Add a node of `type_name`; returns its new id, or None when refused.

        The node gets the catalogue defaults plus a starting value for each required
        parameter, so a dropped node is valid at once; `params` are laid over those. `connect_from` also connects that
        node's output to the new node's first input, in the same undo step.
        """
        if not self._editable():
            return None
        try:
            spec = nnengine.layer_spec(type_name)
        except KeyError:
            self._refuse(f"unknown layer type '{type_name}'")
            return None
        if connect_from is not None and (connect_from not in self.graph or spec.is_input):
            connect_from = None
        if position is None:
            position = self._free_spot(connect_from)
        node_id = self.graph.free_id(type_name)
        params = starter_params(spec, self.graph) | dict(params or {})
        edges = [(connect_from, node_id, 0)] if connect_from else []
        entry = {"id": node_id, "type": type_name, "params": dict(params),
                 "position": (float(position[0]), float(position[1]))}
        self.undo_stack.push(commands.AddNodes(self, [entry], edges, f"Add {type_name}"))
        return node_id

    def _free_spot(self, near: str | None) -> tuple[float, float]:
        if near is not None:
            x, y = self.position(near)
            return (x + COLUMN_SPACING, y)
        if not len(self.graph):
            return (0.0, 0.0)
        right = max(self.graph.node_ids(), key=lambda n: self.position(n)[0])
        x, y = self.position(right)
        return (x + COLUMN_SPACING, y)

    def remove_items(self, node_ids: Iterable[str] = (),
                     edges: Iterable[tuple] = ()) -> bool:
        """Delete nodes (with their edges) and edges given as (source, target[, port])."""
        if not self._editable():
            return False
        nodes = [n for n in dict.fromkeys(node_ids) if n in self.graph]
        pairs = [(e[0], e[1]) for e in edges if self.graph.nx.has_edge(e[0], e[1])]
        if not nodes and not pairs:
            return self._refuse("nothing selected to delete")
        self.undo_stack.push(commands.RemoveItems(self, nodes, pairs))
        return True

    def move_nodes(self, positions: dict[str, tuple[float, float]], merge: bool = False) -> bool:
        """Move nodes to new top-left positions: one undo step (merge=True folds it into the
        previous move of the same nodes, for moves made of many small steps)."""
        new = {n: (float(p[0]), float(p[1])) for n, p in positions.items()
               if n in self.graph and self.graph.node(n).get("position") != tuple(map(float, p))}
        if not new:
            return False
        old = {n: self.graph.node(n).get("position") for n in new}
        self.undo_stack.push(commands.MoveNodes(self, new, old, merge))
        return True

    def can_connect(self, source: str, target: str, port: int = 0) -> bool:
        """Whether source's output may feed target's input `port`; the reason is last_error."""
        if not self._editable():
            return False
        g = self.graph
        for end in (source, target):
            if end not in g:
                return self._refuse(f"cannot connect: there is no node '{end}'")
        if source == target:
            return self._refuse("cannot connect a node to itself")
        try:
            spec = nnengine.layer_spec(g.type_of(target))
        except KeyError:
            spec = None
        if spec is not None and spec.is_input:
            return self._refuse(f"cannot connect into {target}: an Input node takes no "
                                "incoming edges")
        if spec is not None and spec.max_inputs is not None and port >= spec.max_inputs:
            return self._refuse(f"cannot connect: {spec.type} has only {spec.max_inputs} "
                                f"input port{'s' if spec.max_inputs != 1 else ''}")
        if g.nx.has_edge(source, target):
            return self._refuse(f"cannot connect: {source} already feeds {target}")
        for p, s in g.inputs_of(target):
            if p == port:
                return self._refuse(f"cannot connect: input {port} of {target} is already "
                                    f"taken by {s}; disconnect it first")
        if nx.has_path(g.nx, target, source):
            return self._refuse(f"cannot connect {source} → {target}: it would form a cycle")
        return True

    def connect(self, source: str, target: str, port: int = 0) -> bool:
        """Connect source's output to target's input `port`; refuses cycles, occupied ports,
        self loops, Input targets and ports that do not exist (reason in last_error)."""
        if not self.can_connect(source, target, port):
            return False
        self.undo_stack.push(commands.Connect(self, source, target, port))
        return True

    def disconnect(self, source: str, target: str) -> bool:
        if not self._editable():
            return False
        if not self.graph.nx.has_edge(source, target):
            return self._refuse(f"{source} is not connected to {target}")
        self.undo_stack.push(commands.Disconnect(self, source, target))
        return True

    def set_params(self, node_id: str, params: dict[str, Any]) -> bool:
        """Replace a node's whole params dict (one undo step; repeated edits of the same
        single field merge into one)."""
        if not self._editable():
            return False
        if node_id not in self.graph:
            return self._refuse(f"there is no node '{node_id}'")
        old = self.graph.params_of(node_id)
        if old == params:
            return False
        self.undo_stack.push(commands.SetParams(self, node_id, old, params))
        return True

    def set_param(self, node_id: str, name: str, value: Any) -> bool:
        """Set one field of a node's params (value None removes it: back to the default)."""
        if node_id not in self.graph:
            return self._refuse(f"there is no node '{node_id}'")
        params = copy.deepcopy(self.graph.params_of(node_id))
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
        return self.set_params(node_id, params)

    def rename(self, old: str, new: str) -> bool:
        if not self._editable():
            return False
        if old not in self.graph:
            return self._refuse(f"there is no node '{old}'")
        if new == old:
            return False
        if not is_valid_id(new):
            return self._refuse(f"'{new}' is not a valid id: use letters, digits and _, "
                                "not starting with a digit")
        if new in self.graph:
            return self._refuse(f"the id '{new}' is already used by another node")
        self.undo_stack.push(commands.Rename(self, old, new))
        return True

    def set_training(self, training: dict[str, Any]) -> bool:
        if training == self.graph.training:
            return False
        self.undo_stack.push(commands.SetTraining(self, self.graph.training, training))
        return True

    def fragment(self, node_ids: Iterable[str]) -> dict[str, Any]:
        """The given nodes and the edges among them, as plain JSON-able data (for copy)."""
        chosen = set(node_ids)
        nodes = []
        for n in self.graph.node_ids():
            if n in chosen:
                d = self.graph.node(n)
                nodes.append({"id": n, "type": d["type"], "params": copy.deepcopy(d["params"]),
                              "position": list(self.position(n))})
        edges = [{"source": s, "target": t, "target_port": p} for s, t, p in self.graph.edges()
                 if s in chosen and t in chosen]
        return {"nodes": nodes, "edges": edges}

    def paste(self, fragment: dict[str, Any], offset: tuple[float, float] = (40.0, 40.0),
              text: str | None = None) -> list[str]:
        """Add a fragment's nodes (fresh ids where taken) and inner edges, shifted by
        `offset`; returns the new ids in order (empty when refused or malformed)."""
        if not self._editable():
            return []
        try:
            entries, edges = self._fragment_entries(fragment, offset)
        except (KeyError, TypeError, ValueError, IndexError):
            self._refuse("the clipboard does not hold nodes of this program")
            return []
        if not entries:
            self._refuse("nothing to paste")
            return []
        if text is None:
            text = f"Paste {entries[0]['id']}" if len(entries) == 1 else \
                f"Paste {len(entries)} nodes"
        self.undo_stack.push(commands.AddNodes(self, entries, edges, text))
        return [e["id"] for e in entries]

    def _fragment_entries(self, fragment: dict[str, Any], offset: tuple[float, float]
                          ) -> tuple[list[NodeEntry], list[tuple[str, str, int]]]:
        taken = set(self.graph.node_ids())
        mapping: dict[str, str] = {}
        entries: list[NodeEntry] = []
        for node in fragment["nodes"]:
            old = str(node["id"])
            new = old if is_valid_id(old) and old not in taken else _fresh_id(old, taken)
            taken.add(new)
            mapping[old] = new
            x, y = node.get("position") or (0.0, 0.0)
            entries.append({"id": new, "type": str(node["type"]),
                            "params": copy.deepcopy(dict(node.get("params") or {})),
                            "position": (float(x) + offset[0], float(y) + offset[1])})
        edges = [(mapping[e["source"]], mapping[e["target"]], int(e.get("target_port", 0)))
                 for e in fragment.get("edges", [])
                 if e["source"] in mapping and e["target"] in mapping]
        return entries, edges

    def duplicate(self, node_ids: Iterable[str]) -> list[str]:
        ids = [n for n in node_ids if n in self.graph]
        if not ids:
            self._refuse("nothing selected to duplicate")
            return []
        text = f"Duplicate {ids[0]}" if len(ids) == 1 else f"Duplicate {len(ids)} nodes"
        return self.paste(self.fragment(ids), self.clear_offset(ids), text)

    def clear_offset(self, node_ids: Iterable[str]) -> tuple[float, float]:
        """Where copies of these nodes go: the first rows below them free of other cards."""
        return clear_offset([self.position(n) for n in self.graph.node_ids()],
                            [self.position(n) for n in node_ids if n in self.graph])

    def apply_repair(self, problem: Problem) -> bool:
        """Apply the first repair offered for `problem` (see designer.repairs)."""
        from .repairs import repairs_for

        found = repairs_for(self, problem)
        if not found:
            return self._refuse(f"no automatic repair for: {problem.message}")
        return found[0].apply()

    # --- low-level mutators: called only by commands; each emits its signal ------------------
    def _add_node(self, node_id: str, type_name: str, params: dict[str, Any],
                  position: tuple[float, float] | None) -> None:
        self.graph.add_node(node_id, type_name, params, position)
        self.node_added.emit(node_id)

    def _remove_node(self, node_id: str) -> None:
        for s, t in list(self.graph.nx.in_edges(node_id)) + list(self.graph.nx.out_edges(node_id)):
            self._remove_edge(s, t)
        self.graph.remove_node(node_id)
        self.node_removed.emit(node_id)

    def _add_edge(self, source: str, target: str, port: int) -> None:
        self.graph.add_edge(source, target, port)
        self.edge_added.emit(source, target, port)

    def _remove_edge(self, source: str, target: str) -> None:
        port = self.graph.edge_port(source, target)
        self.graph.remove_edge(source, target)
        self.edge_removed.emit(source, target, port)

    def _set_params(self, node_id: str, params: dict[str, Any]) -> None:
        self.graph.set_params(node_id, params)
        self.params_changed.emit(node_id)

    def _rename(self, old: str, new: str) -> None:
        self.graph.rename_node(old, new)
        self.node_renamed.emit(old, new)

    def _move(self, node_id: str, position: tuple[float, float] | None) -> None:
        self.graph.set_position(node_id, position)
        self.node_moved.emit(node_id)

    def _set_training(self, training: dict[str, Any]) -> None:
        self.graph.training = training
        self.training_changed.emit()

    def _order_snapshot(self) -> OrderSnapshot:
        return self.graph.node_ids(), [(s, t) for s, t, _ in self.graph.edges()]

    def _restore_order(self, snapshot: OrderSnapshot | None) -> None:
        """Put nodes and edges back in a recorded order (undo appends what it re-adds)."""
        if snapshot is None:
            return
        g = self.graph.nx
        nodes, edges = snapshot
        order = [n for n in nodes if n in g] + [n for n in g if n not in set(nodes)]
        edge_order = [e for e in edges if g.has_edge(*e)]
        known = set(edge_order)
        edge_order += [(s, t) for s, t in g.edges if (s, t) not in known]
        if order == list(g.nodes) and edge_order == list(g.edges):
            return
        node_data = {n: g.nodes[n] for n in order}
        edge_data = {e: g.edges[e] for e in edge_order}
        g.clear()
        for n in order:
            g.add_node(n, **node_data[n])
        for s, t in edge_order:
            g.add_edge(s, t, **edge_data[(s, t)])

    def _reanalyze(self, index: int) -> None:
        previous, self._index = self._index, index
        if self._resetting:
            return
        low, high = sorted((previous, index))
        done = range(low, high) or range(index - 1, index)   # the same index: a merge
        if done and all(isinstance(self.undo_stack.command(i), commands.MoveNodes)
                        for i in done):
            self.only_moved.emit()   # the analysis does not depend on positions
            return
        self.analysis = analyze(self.graph)
        self.analysis_changed.emit()


def prepare(graph: Graph) -> nnengine.Analysis:
    """Give every node without a position one, and analyse the graph: the heavy part of
    opening a graph, which needs no Qt and so runs off the GUI thread for a large one."""
    for node_id, pos in place_missing(graph).items():
        graph.set_position(node_id, pos)
    return analyze(graph)


def _fresh_id(base: str, taken: set[str]) -> str:
    probe = Graph()
    probe.nx.add_nodes_from(taken)  # free_id only asks which ids exist
    return probe.free_id(base or "node")


@lru_cache(maxsize=16)
def dataset_sample_shape(name: str) -> tuple[int, ...] | None:
    """The shape of one sample of a built-in data set, or None when it is not one."""
    try:
        return tuple(nnengine.load_dataset(name).sample_shape())
    except Exception:  # noqa: BLE001 - any failure just means "no guess"
        return None


def graph_sample_shape(graph: Graph) -> tuple[int, ...] | None:
    name = graph.training.get("dataset")
    return dataset_sample_shape(name) if isinstance(name, str) else None


def starter_params(spec: Any, graph: Graph) -> dict[str, Any]:
    """Values for the required parameters of a new node (the rest stay at the catalogue's
    defaults, i.e. omitted): 32 for counts, the data set's sample shape for shapes."""
    params: dict[str, Any] = {}
    for p in spec.params:
        if not p.required:
            continue
        if p.kind in ("int", "int_or_choice"):
            value = 32
            if p.minimum is not None:
                value = max(value, int(p.minimum) + (1 if p.exclusive_minimum else 0))
            if p.maximum is not None:
                value = min(value, int(p.maximum))
            params[p.name] = value
        elif p.kind == "float":
            params[p.name] = float(p.minimum) if p.minimum is not None else 1.0
        elif p.kind == "shape":
            params[p.name] = list(graph_sample_shape(graph) or (2,))
        elif p.kind == "choice" and p.choices:
            params[p.name] = p.choices[0]
        elif p.kind == "bool":
            params[p.name] = False
    return params
