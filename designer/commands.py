"""One QUndoCommand per kind of edit.

Commands change the graph only through the document's low-level mutators (`_add_node`, ...),
so every change, done or undone, reaches the canvas as the document's past-tense signals.
Each command's text says what it does ("Add Dense", "Connect dense1 → relu1"); the Edit menu
shows it as "Undo Add Dense".

Undo must give back the identical graph, including the order of nodes and edges (it decides
the order of Input nodes and the file's layout), so structural commands take an order
snapshot when they run and restore it after undoing.
"""
from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand

if TYPE_CHECKING:
    from .document import GraphDocument, NodeEntry, OrderSnapshot

_MOVE_ID = 1001
_PARAMS_ID = 1002


class _Command(QUndoCommand):
    def __init__(self, doc: GraphDocument, text: str):
        super().__init__(text)
        self.doc = doc


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


class AddNodes(_Command):
    """Adds nodes and the edges among/into them: used by add, paste and duplicate.

    nodes: dicts {"id", "type", "params", "position"}; edges: (source, target, port).
    """

    def __init__(self, doc: GraphDocument, nodes: list[NodeEntry],
                 edges: Iterable[tuple[str, str, int]] = (), text: str | None = None):
        self.nodes = copy.deepcopy(list(nodes))
        self.edges = list(edges)
        if text is None:
            text = (f"Add {self.nodes[0]['type']}" if len(self.nodes) == 1
                    else f"Add {_plural(len(self.nodes), 'node')}")
        super().__init__(doc, text)
        self._order: OrderSnapshot | None = None

    def redo(self) -> None:
        self._order = self.doc._order_snapshot()
        for n in self.nodes:
            self.doc._add_node(n["id"], n["type"], copy.deepcopy(n["params"]), n["position"])
        for s, t, port in self.edges:
            self.doc._add_edge(s, t, port)

    def undo(self) -> None:
        for s, t, _ in reversed(self.edges):
            self.doc._remove_edge(s, t)
        for n in reversed(self.nodes):
            self.doc._remove_node(n["id"])
        self.doc._restore_order(self._order)


class RemoveItems(_Command):
    """Removes nodes (with every edge touching them) and single edges."""

    def __init__(self, doc: GraphDocument, node_ids: Iterable[str],
                 edges: Iterable[tuple[str, str]] = (), text: str | None = None):
        order = {n: i for i, n in enumerate(doc.graph.node_ids())}
        self.node_ids = sorted(set(node_ids), key=order.__getitem__)
        self.explicit_edges = [(s, t) for s, t in edges
                               if s not in self.node_ids and t not in self.node_ids]
        if text is None:
            if len(self.node_ids) == 1 and not self.explicit_edges:
                text = f"Delete {self.node_ids[0]}"
            elif not self.node_ids and len(self.explicit_edges) == 1:
                s, t = self.explicit_edges[0]
                text = f"Delete edge {s} → {t}"
            else:
                parts = []
                if self.node_ids:
                    parts.append(_plural(len(self.node_ids), "node"))
                if self.explicit_edges:
                    parts.append(_plural(len(self.explicit_edges), "edge"))
                text = "Delete " + " and ".join(parts)
        super().__init__(doc, text)
        self._order: OrderSnapshot | None = None
        self._nodes: list[NodeEntry] = []
        self._edges: list[tuple[str, str, int]] = []

    def redo(self) -> None:
        g = self.doc.graph
        self._order = self.doc._order_snapshot()
        gone = set(self.node_ids)
        self._nodes = [{"id": n, "type": g.type_of(n), "params": copy.deepcopy(g.params_of(n)),
                        "position": g.node(n).get("position")} for n in self.node_ids]
        wanted = set(self.explicit_edges)
        self._edges = [(s, t, p) for s, t, p in g.edges()
                       if s in gone or t in gone or (s, t) in wanted]
        for s, t, _ in reversed(self._edges):
            self.doc._remove_edge(s, t)
        for n in reversed(self.node_ids):
            self.doc._remove_node(n)

    def undo(self) -> None:
        for n in self._nodes:
            self.doc._add_node(n["id"], n["type"], copy.deepcopy(n["params"]), n["position"])
        for s, t, p in self._edges:
            self.doc._add_edge(s, t, p)
        self.doc._restore_order(self._order)


class MoveNodes(_Command):
    """Moves nodes; with merge=True, consecutive moves of the same nodes become one step."""

    def __init__(self, doc: GraphDocument, new: dict[str, tuple[float, float]],
                 old: dict[str, tuple[float, float] | None], merge: bool = False,
                 text: str | None = None):
        if text is None:
            text = f"Move {next(iter(new))}" if len(new) == 1 else \
                f"Move {_plural(len(new), 'node')}"
        super().__init__(doc, text)
        self.new = dict(new)
        self.old = dict(old)
        self.merge = merge

    def id(self) -> int:
        return _MOVE_ID if self.merge else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, MoveNodes) or not other.merge or set(other.new) != set(self.new):
            return False
        self.new = dict(other.new)
        return True

    def redo(self) -> None:
        for n, pos in self.new.items():
            self.doc._move(n, pos)

    def undo(self) -> None:
        for n, pos in self.old.items():
            self.doc._move(n, pos)


class Connect(_Command):
    def __init__(self, doc: GraphDocument, source: str, target: str, port: int = 0):
        super().__init__(doc, f"Connect {source} → {target}")
        self.source, self.target, self.port = source, target, port
        self._order: OrderSnapshot | None = None

    def redo(self) -> None:
        self._order = self.doc._order_snapshot()
        self.doc._add_edge(self.source, self.target, self.port)

    def undo(self) -> None:
        self.doc._remove_edge(self.source, self.target)
        self.doc._restore_order(self._order)


class Disconnect(_Command):
    def __init__(self, doc: GraphDocument, source: str, target: str):
        super().__init__(doc, f"Disconnect {source} → {target}")
        self.source, self.target = source, target
        self.port = 0
        self._order: OrderSnapshot | None = None

    def redo(self) -> None:
        self._order = self.doc._order_snapshot()
        self.port = self.doc.graph.edge_port(self.source, self.target)
        self.doc._remove_edge(self.source, self.target)

    def undo(self) -> None:
        self.doc._add_edge(self.source, self.target, self.port)
        self.doc._restore_order(self._order)


class SetParams(_Command):
    """Replaces a node's params. A change of a single field merges with the next change of
    the same field of the same node, so a spin-box drag is one undo step."""

    def __init__(self, doc: GraphDocument, node_id: str, old: dict[str, Any],
                 new: dict[str, Any]):
        self.node_id = node_id
        self.old = copy.deepcopy(old)
        self.new = copy.deepcopy(new)
        changed = sorted(k for k in set(old) | set(new) if old.get(k, _MISSING)
                         != new.get(k, _MISSING))
        self.field = changed[0] if len(changed) == 1 else None
        what = f"{self.field} of {node_id}" if self.field else f"parameters of {node_id}"
        super().__init__(doc, f"Change {what}")

    def id(self) -> int:
        return _PARAMS_ID if self.field else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetParams) or other.node_id != self.node_id \
                or other.field != self.field:
            return False
        self.new = copy.deepcopy(other.new)
        if self.new == self.old:
            self.setObsolete(True)  # edited back to where it started: nothing to undo
        return True

    def redo(self) -> None:
        self.doc._set_params(self.node_id, copy.deepcopy(self.new))

    def undo(self) -> None:
        self.doc._set_params(self.node_id, copy.deepcopy(self.old))


_MISSING = object()


class Rename(_Command):
    def __init__(self, doc: GraphDocument, old: str, new: str):
        super().__init__(doc, f"Rename {old} to {new}")
        self.old, self.new = old, new
        self._order: OrderSnapshot | None = None

    def redo(self) -> None:
        self._order = self.doc._order_snapshot()
        self.doc._rename(self.old, self.new)

    def undo(self) -> None:
        self.doc._rename(self.new, self.old)
        self.doc._restore_order(self._order)


class SetTraining(_Command):
    def __init__(self, doc: GraphDocument, old: dict[str, Any], new: dict[str, Any]):
        super().__init__(doc, "Change training settings")
        self.old = copy.deepcopy(old)
        self.new = copy.deepcopy(new)

    def redo(self) -> None:
        self.doc._set_training(copy.deepcopy(self.new))

    def undo(self) -> None:
        self.doc._set_training(copy.deepcopy(self.old))


class Macro(_Command):
    """Several commands as one undo step; runs them in order and undoes them in reverse.
    (The steps are plain children run by this command, not pushed on the stack.)"""

    def __init__(self, doc: GraphDocument, text: str, steps: list[QUndoCommand]):
        super().__init__(doc, text)
        self.steps = list(steps)

    def redo(self) -> None:
        for step in self.steps:
            step.redo()

    def undo(self) -> None:
        for step in reversed(self.steps):
            step.undo()


class ApplyRepair(Macro):
    """A one-click repair (insert a Flatten, add an Input, ...); its text is the repair's
    description."""
