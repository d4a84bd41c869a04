"""One-click repairs for problems with an obvious fix.

`repairs_for(document, problem)` plans each candidate fix on a copy of the graph, keeps it
only if analysis of the copy shows the problem gone (and no more problems than before), and
returns it as a `Repair` whose `description` says what it will do, but only when the copy has
fewer problems than the graph: a repair that trades one error for another is no repair.
`Repair.apply()` pushes the whole fix as one undo step. `insert_layer` uses the same planning
to put a new layer on an edge (a palette drop on an edge, or adding after a node).

Repairs: insert a Flatten before a layer that needs flat input (needs_flatten); insert a
Reshape where sizes agree but shapes do not (needs_reshape, needs_sequence, and merge inputs
of equal size but different shape); add a missing Input (no_input, missing_input); remove a
dangling node or its whole branch (dangling).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import networkx as nx

import nnengine
from nnengine import Graph, NNEngineError, Problem, ShapeError, analyze

from . import commands
from .layout import COLUMN_SPACING, ROW_SPACING
from .style import GRID, format_shape

if TYPE_CHECKING:
    from PySide6.QtGui import QUndoCommand

    from nnengine.layers.base import Layer

    from .document import GraphDocument

Shape = tuple[int, ...]


@dataclass
class Repair:
    """A planned fix: `description` is one sentence for the menu; `apply()` does it."""

    description: str
    document: GraphDocument
    steps: list[tuple] = field(default_factory=list)

    def apply(self) -> bool:
        doc = self.document
        if doc.locked:
            return doc._refuse("the graph cannot change while training runs")
        if not _replays(doc.graph, self.steps):  # planned on a graph that has changed since
            return doc._refuse("the graph changed since this repair was offered; try again")
        built = [_command(doc, step) for step in self.steps]
        doc.undo_stack.push(commands.ApplyRepair(doc, self.description, built))
        doc.repaired.emit([n for n in repair_node_ids(self) if n in doc.graph])
        return True


def _command(doc: GraphDocument, step: tuple) -> QUndoCommand:
    kind = step[0]
    if kind == "add":
        return commands.AddNodes(doc, [step[1]])
    if kind == "connect":
        return commands.Connect(doc, *step[1:])
    if kind == "disconnect":
        return commands.Disconnect(doc, *step[1:])
    if kind == "move":
        new = step[1]
        return commands.MoveNodes(doc, new, {n: doc.graph.node(n).get("position") for n in new})
    if kind == "remove":
        return commands.RemoveItems(doc, step[1])
    raise ValueError(f"unknown repair step {kind}")


def _replays(graph: Graph, steps: list[tuple]) -> bool:
    """Whether `steps` still apply to `graph` (tried on a scratch copy)."""
    plan = _Plan(graph)
    try:
        for step in steps:
            kind, args = step[0], step[1:]
            if kind == "add":
                e = args[0]
                if e["id"] in plan.graph:
                    return False
                plan.graph.add_node(e["id"], e["type"], e["params"], e["position"])
            elif kind == "connect":
                plan.connect(*args)
            elif kind == "disconnect":
                plan.disconnect(*args)
            elif kind == "move":
                if any(n not in plan.graph for n in args[0]):
                    return False
            elif kind == "remove":
                plan.remove(list(args[0]))
    except (NNEngineError, KeyError, nx.NetworkXError):
        return False
    return True


class _Plan:
    """Steps applied at once to a scratch copy of the graph, so later steps (and the final
    check) see the effect of earlier ones."""

    def __init__(self, graph: Graph):
        self.graph = graph.copy()
        self.steps: list[tuple] = []

    def pos(self, node_id: str) -> tuple[float, float]:
        p = self.graph.node(node_id).get("position")
        return (0.0, 0.0) if p is None else (float(p[0]), float(p[1]))

    def add(self, type_name: str, params: dict[str, Any], position: tuple[float, float]) -> str:
        node_id = self.graph.free_id(type_name)
        entry = {"id": node_id, "type": type_name, "params": params,
                 "position": (_snap(position[0]), _snap(position[1]))}
        self.graph.add_node(node_id, type_name, params, entry["position"])
        self.steps.append(("add", entry))
        return node_id

    def connect(self, source: str, target: str, port: int) -> None:
        self.graph.add_edge(source, target, port)
        self.steps.append(("connect", source, target, port))

    def disconnect(self, source: str, target: str) -> None:
        self.graph.remove_edge(source, target)
        self.steps.append(("disconnect", source, target))

    def move(self, positions: dict[str, tuple[float, float]]) -> None:
        if positions:
            for n, p in positions.items():
                self.graph.set_position(n, p)
            self.steps.append(("move", positions))

    def remove(self, node_ids: list[str]) -> None:
        for n in node_ids:
            self.graph.remove_node(n)
        self.steps.append(("remove", node_ids))

    def insert_between(self, source: str, target: str, port: int, type_name: str,
                       params: dict[str, Any]) -> str:
        """Put a new node on the edge source -> target, making room to its right: the target
        and what follows it on the target's row move one column right (other rows, such as
        a template's next row, stay where they are)."""
        (sx, sy), (tx, ty) = self.pos(source), self.pos(target)
        self.disconnect(source, target)
        if tx - sx >= 2 * COLUMN_SPACING - 2 * GRID:
            at = ((sx + tx) / 2, (sy + ty) / 2)
        elif tx > sx:
            at = (tx, ty)
            downstream = nx.descendants(self.graph.nx, target) | {target}
            self.move({n: (x + COLUMN_SPACING, y) for n in self.graph.node_ids()
                       if n in downstream for x, y in [self.pos(n)]
                       if x >= tx - GRID and abs(y - ty) < ROW_SPACING / 2})
        else:
            at = ((sx + tx) / 2, (sy + ty) / 2 + 5 * GRID)
        new = self.add(type_name, params, at)
        self.connect(source, new, 0)
        self.connect(new, target, port)
        return new


def _snap(v: float) -> float:
    return float(round(v / GRID) * GRID)


def repairs_for(document: GraphDocument, problem: Problem) -> list[Repair]:
    """The repairs that would fix `problem`, checked on a copy of the graph first."""
    builder = _BUILDERS.get(problem.code)
    if builder is None:
        return []
    return [Repair(description, document, plan.steps)
            for description, plan in builder(document, problem)
            if _improves(document, problem, plan)]


def refused_repairs(document: GraphDocument, node_id: str) -> list[str]:
    """Why the obvious fixes for the node's problems are not offered: one sentence per
    candidate that would trade the problem for others ('Not offered: "Insert a Reshape ...",
    as pool2 would then fail: pool window 2x2 does not fit the 1x1 input')."""
    out = []
    for problem in document.problems_of(node_id):
        builder = _SHOWN_WHEN_REFUSED.get(problem.code, _BUILDERS.get(problem.code))
        for description, plan in builder(document, problem) if builder else []:
            if _improves(document, problem, plan):
                continue
            old = {(p.node_id, p.message) for p in document.analysis.problems}
            new = [p for p in analyze(plan.graph).problems if (p.node_id, p.message) not in old]
            if new:
                who = new[0].node_id or "the graph"
                out.append(f"Not offered: “{description}”, as {who} would then fail: "
                           f"{new[0].message}")
    return out


def _improves(document: GraphDocument, problem: Problem, plan: _Plan) -> bool:
    """Whether the planned graph is rid of `problem` and has fewer problems in all."""
    after = analyze(plan.graph)
    fixed = not any(p.code == problem.code and p.node_id == problem.node_id
                    for p in after.problems)
    return fixed and len(after.problems) < len(document.analysis.problems)


def insert_layer(document: GraphDocument, source: str, target: str, type_name: str,
                 params: dict[str, Any] | None = None) -> str | None:
    """Put a new `type_name` layer on the edge source -> target as one undo step; returns its
    id, or None when refused (the reason in `document.last_error`). `params` are added to
    the starting values a dropped layer gets."""
    from .document import starter_params

    g = document.graph
    if not g.nx.has_edge(source, target):
        document._refuse(f"{source} does not feed {target}")
        return None
    try:
        spec = nnengine.layer_spec(type_name)
    except KeyError:
        document._refuse(f"unknown layer type '{type_name}'")
        return None
    if spec.is_input or spec.min_inputs != 1:
        document._refuse(f"{type_name} cannot go on a connection: it takes "
                         f"{'no' if spec.is_input else spec.min_inputs} inputs")
        return None
    plan = _Plan(g)
    new = plan.insert_between(source, target, g.edge_port(source, target), type_name,
                              starter_params(spec, g) | dict(params or {}))
    text = f"Insert {type_name} between {source} and {target}"
    return new if Repair(text, document, plan.steps).apply() else None


def repair_node_ids(repair: Repair) -> list[str]:
    """The nodes a repair adds or moves (what the canvas keeps in view after it)."""
    ids: list[str] = []
    for step in repair.steps:
        if step[0] == "add":
            ids.append(step[1]["id"])
        elif step[0] == "move":
            ids += list(step[1])
    return ids


def repairs_for_node(document: GraphDocument, node_id: str) -> list[Repair]:
    """Every repair for the node's problems (and graph-wide problems it can fix), without
    duplicates; what a node's badge menu offers."""
    problems = list(document.problems_of(node_id))
    problems += [p for p in document.analysis.problems
                 if p.node_id is None and _input_target(document.graph) == node_id]
    seen: set[str] = set()
    out = []
    for p in problems:
        for r in repairs_for(document, p):
            if r.description not in seen:
                seen.add(r.description)
                out.append(r)
    return out


# --- builders: yield (description, plan) candidates ------------------------------------------
Candidates = list[tuple[str, _Plan]]


def _flatten(doc: GraphDocument, problem: Problem) -> Candidates:
    node = problem.node_id
    if node not in doc.graph:
        return []
    plan = _Plan(doc.graph)
    parts = []
    for port, source in doc.graph.inputs_of(node):
        shape = doc.analysis.shapes.get(source)
        if shape is not None and len(shape) > 1:
            plan.insert_between(source, node, port, "Flatten", {})
            parts.append((source, shape))
    if not parts:
        return []
    source, shape = parts[0]
    return [((f"Insert a Flatten between {source} and {node}: {format_shape(shape)} becomes "
             f"[{math.prod(shape)}]"), plan)]


def _reshape(doc: GraphDocument, problem: Problem, working: bool = True) -> Candidates:
    """A single-input layer that wants another rank: reshape to the first same-size shape
    the layer accepts (for images [C, H, W] with square H = W, for sequences [T, 1]) and the
    layers after it accept too; with `working` False, the first the layer accepts (what
    `refused_repairs` explains when none works all the way down)."""
    node = problem.node_id
    layer = doc.analysis.layers.get(node) if node else None
    inputs = doc.graph.inputs_of(node) if node in doc.graph else []
    if layer is None or len(inputs) != 1:
        return []
    port, source = inputs[0]
    shape = doc.analysis.shapes.get(source)
    if shape is None:
        return []
    for candidate in reshape_candidates(math.prod(shape)):
        if candidate != tuple(shape) and _accepts(layer, [candidate]):
            plan = _Plan(doc.graph)
            plan.insert_between(source, node, port, "Reshape", {"shape": list(candidate)})
            if not working or _improves(doc, problem, plan):   # works all the way down
                return [((f"Insert a Reshape between {source} and {node}: "
                          f"{format_shape(shape)} becomes {format_shape(candidate)}"), plan)]
    return []


def _merge_reshape(doc: GraphDocument, problem: Problem) -> Candidates:
    """Inputs of a merge node with equal sizes but different shapes: reshape each input
    that differs from the first input's shape to that shape."""
    node = problem.node_id
    layer = doc.analysis.layers.get(node) if node else None
    inputs = doc.graph.inputs_of(node) if node in doc.graph else []
    shapes = [doc.analysis.shapes.get(s) for _, s in inputs]
    if layer is None or len(inputs) < 2 or any(s is None for s in shapes):
        return []
    first = tuple(shapes[0])
    if len({math.prod(s) for s in shapes}) != 1 or not _accepts(layer, [first] * len(shapes)):
        return []
    plan = _Plan(doc.graph)
    changed = []
    for (port, source), shape in zip(inputs[1:], shapes[1:]):
        if tuple(shape) != first:
            plan.insert_between(source, node, port, "Reshape", {"shape": list(first)})
            changed.append(source)
    if not changed:
        return []
    who = changed[0] if len(changed) == 1 else f"{len(changed)} inputs"
    return [((f"Insert a Reshape so that {who} of {node} becomes {format_shape(first)}, "
             f"like {inputs[0][1]}"), plan)]


def _add_input(doc: GraphDocument, problem: Problem) -> Candidates:
    g = doc.graph
    if g.input_ids():
        return []
    target = problem.node_id if problem.code == "missing_input" else _input_target(g)
    if target is None or target not in g or g.inputs_of(target):
        return []
    layer = doc.analysis.layers.get(target)
    dtype = "int64" if getattr(layer, "takes_ids", False) else None
    shape = guess_input_shape(g, layer)
    params: dict[str, Any] = {"shape": list(shape)}
    if dtype:
        params["dtype"] = dtype
    plan = _Plan(g)
    x, y = plan.pos(target)
    new = plan.add("Input", params, (x - COLUMN_SPACING, y))
    plan.connect(new, target, 0)
    return [(f"Add an Input of shape {format_shape(shape)} feeding {target}", plan)]


def _connect_from_end(doc: GraphDocument, problem: Problem) -> Candidates:
    """A layer with nothing feeding it, in a graph that has a current output (or other
    loose ends): connect that end to it, usually the layer the user just dropped."""
    g, node = doc.graph, problem.node_id
    if node not in g or g.inputs_of(node) or _is_input(g, node):
        return []
    ends = [doc.analysis.output_id] + [n for n in g.sinks() if n != doc.analysis.output_id]
    out = []
    for end in ends:
        if end is None or end == node or nx.has_path(g.nx, node, end):
            continue
        plan = _Plan(g)
        plan.connect(end, node, 0)
        out.append((f"Connect {end} to {node}", plan))
    return out[:3]


def _missing_input(doc: GraphDocument, problem: Problem) -> Candidates:
    return _connect_from_end(doc, problem) + _add_input(doc, problem)


def _remove_dangling(doc: GraphDocument, problem: Problem) -> Candidates:
    node = problem.node_id
    if node not in doc.graph:
        return []
    plan = _Plan(doc.graph)
    plan.remove([node])
    out = [(f"Remove {node}, which does not lead to the output", plan)]
    branch = _exclusive_branch(doc.graph, node)
    if len(branch) > 1:
        whole = _Plan(doc.graph)
        whole.remove(branch)
        out.append(((f"Remove {node} and the {len(branch) - 1} "
                    f"node{'s' if len(branch) > 2 else ''} that only feed it"), whole))
    return out


_BUILDERS: dict[str, Callable[[GraphDocument, Problem], Candidates]] = {
    "needs_flatten": _flatten,
    "needs_reshape": _reshape,
    "needs_sequence": _reshape,
    "shape_mismatch": _merge_reshape,
    "no_input": _add_input,
    "missing_input": _missing_input,
    "dangling": _remove_dangling,
}

# the Reshape a user would try first, even when no shape works all the way down
_SHOWN_WHEN_REFUSED = {code: partial(_reshape, working=False)
                       for code in ("needs_reshape", "needs_sequence")}

# --- helpers ---------------------------------------------------------------------------------
def _accepts(layer: Layer, shapes: list[Shape]) -> bool:
    try:
        layer.output_shape(shapes)
    except (ShapeError, ValueError, IndexError, TypeError, ZeroDivisionError):
        return False
    return True


def reshape_candidates(size: int) -> list[Shape]:
    """Same-size shapes in order of preference: images [C, S, S] with the largest square
    S, sequences [T, 1], other [T, F] splits, then flat [size]."""
    out: list[Shape] = []
    for s in range(math.isqrt(size), 1, -1):
        if size % (s * s) == 0:
            out.append((size // (s * s), s, s))
    out.append((size, 1))
    out += [(size // d, d) for d in range(2, size) if size % d == 0]
    out.append((size,))
    return out


def guess_input_shape(graph: Graph, layer: Layer | None) -> Shape:
    """A shape for a new Input feeding `layer`: the data set's sample shape (or a same-size
    reshape of it) when the layer accepts it, else a small shape it accepts."""
    from .document import graph_sample_shape

    sample = graph_sample_shape(graph)
    options: list[Shape] = []
    if sample:
        options.append(tuple(sample))
        options += reshape_candidates(math.prod(sample))
    options += [(2,), (1, 8, 8), (10, 1), (10,)]
    if layer is None:
        return options[0]
    for shape in options:
        if _accepts(layer, [shape]):
            return shape
    return options[0]


def _input_target(graph: Graph) -> str | None:
    """The first node (in file order) that needs inputs but has none."""
    for n in graph.node_ids():
        try:
            spec = nnengine.layer_spec(graph.type_of(n))
        except KeyError:
            continue
        if not spec.is_input and spec.min_inputs >= 1 and not graph.inputs_of(n):
            return n
    return None


def _is_input(graph: Graph, node_id: str) -> bool:
    try:
        return nnengine.layer_spec(graph.type_of(node_id)).is_input
    except KeyError:
        return False


def _exclusive_branch(graph: Graph, node: str) -> list[str]:
    """`node` plus every non-Input ancestor whose outputs all end in it (in file order)."""
    branch = {node}
    frontier = [node]
    while frontier:
        n = frontier.pop()
        for p in graph.nx.predecessors(n):
            if p in branch or _is_input(graph, p):
                continue
            if all(s in branch for s in graph.nx.successors(p)):
                branch.add(p)
                frontier.append(p)
    return [n for n in graph.node_ids() if n in branch]
