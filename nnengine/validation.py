"""Validation and shape inference over a whole graph, collecting every problem at once.

`analyze` never raises for anything a user can draw: each problem is tied to the node that
causes it so the GUI can badge every bad node, and it is fast enough to run after each edit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx

from .catalogue import LAYERS, LayerSpec, _ensure_loaded
from .errors import Problem, ShapeError
from .graph import Graph
from .layers.base import Layer, Shape


@dataclass
class Analysis:
    """What validation learned: problems, and for each node its built layer, config,
    output shape, weight shapes and parameter count (None where unknown)."""

    problems: list[Problem] = field(default_factory=list)
    layers: dict[str, Layer] = field(default_factory=dict)
    shapes: dict[str, Shape] = field(default_factory=dict)
    weight_shapes: dict[str, dict[str, Shape]] = field(default_factory=dict)
    input_ids: list[str] = field(default_factory=list)
    output_id: str | None = None
    order: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def problems_of(self, node_id: str) -> list[Problem]:
        return [p for p in self.problems if p.node_id == node_id]

    def param_count(self, node_id: str) -> int:
        return sum(math.prod(s) for s in self.weight_shapes.get(node_id, {}).values())

    @property
    def total_params(self) -> int:
        return sum(self.param_count(n) for n in self.weight_shapes)


def analyze(graph: Graph) -> Analysis:
    _ensure_loaded()
    a = Analysis()
    specs: dict[str, LayerSpec] = {}
    for node_id in graph.node_ids():
        spec = _check_node(graph, node_id, a)
        if spec is not None:
            specs[node_id] = spec
    a.input_ids = [n for n in graph.input_ids()]
    if not a.input_ids:
        a.problems.append(Problem(None, "the graph has no Input node; add one to feed data in",
                                  "no_input"))
    _check_ports(graph, specs, a)
    if not _check_cycles(graph, a):
        return a
    _check_outputs(graph, a)
    a.order = _topological_order(graph)
    _infer_shapes(graph, specs, a)
    return a


def _check_node(graph: Graph, node_id: str, a: Analysis) -> LayerSpec | None:
    type_name = graph.type_of(node_id)
    if type_name not in LAYERS:
        a.problems.append(Problem(node_id, f"unknown layer type '{type_name}'", "unknown_type"))
        return None
    spec = LAYERS.get(type_name)
    config, problems = spec.resolve(graph.params_of(node_id))
    if not problems:
        layer = spec.layer_class(config)
        problems = layer.check_config()
        if not problems:
            a.layers[node_id] = layer
    a.problems += [Problem(node_id, msg, "bad_param") for msg in problems]
    return spec


def _check_ports(graph: Graph, specs: dict[str, LayerSpec], a: Analysis) -> None:
    for node_id, spec in specs.items():
        inputs = graph.inputs_of(node_id)
        ports = [p for p, _ in inputs]
        if spec.is_input:
            if inputs:
                a.problems.append(Problem(node_id, "an Input node takes no incoming edges",
                                          "extra_input"))
            continue
        dup = sorted({p for p in ports if ports.count(p) > 1})
        if dup:
            a.problems.append(Problem(node_id, f"input port {dup[0]} has more than one edge",
                                      "extra_input"))
        limit = spec.max_inputs
        if limit is not None and any(p >= limit for p in ports):
            bad = max(ports)
            a.problems.append(Problem(
                node_id, f"{spec.type} has {limit} input port{'s' if limit > 1 else ''}, "
                f"but an edge goes to port {bad}", "extra_input"))
        needed = max(spec.min_inputs, (max(ports) + 1) if ports else 0)
        if limit is not None:
            needed = min(needed, limit)
        missing = [p for p in range(needed) if p not in ports]
        if missing:
            if spec.min_inputs == 1 and limit == 1:
                msg = f"{spec.type} has no input; connect a layer to it"
            else:
                msg = (f"{spec.type} needs at least {spec.min_inputs} inputs; port "
                       f"{missing[0]} is not connected")
            a.problems.append(Problem(node_id, msg, "missing_input"))


def _check_cycles(graph: Graph, a: Analysis) -> bool:
    try:
        cycle = nx.find_cycle(graph.nx)
    except nx.NetworkXNoCycle:
        return True
    path = " -> ".join([s for s, _ in cycle] + [cycle[0][0]])
    for s, _ in cycle:
        a.problems.append(Problem(s, f"part of a cycle: {path}", "cycle"))
    return False


def _check_outputs(graph: Graph, a: Analysis) -> None:
    sinks = graph.sinks()
    if not sinks:
        return
    # The output is the sink with the most ancestors; other sinks are dangling branches.
    output = max(sinks, key=lambda n: (len(nx.ancestors(graph.nx, n)), -graph.node_ids().index(n)))
    a.output_id = output
    for s in sinks:
        if s != output:
            a.problems.append(Problem(
                s, f"'{s}' has no outgoing edge, but '{output}' is already the model's output; "
                "connect it or remove it", "dangling"))


def _topological_order(graph: Graph) -> list[str]:
    index = {n: i for i, n in enumerate(graph.node_ids())}
    return list(nx.lexicographical_topological_sort(graph.nx, key=index.__getitem__))


def _infer_shapes(graph: Graph, specs: dict[str, LayerSpec], a: Analysis) -> None:
    dtype: dict[str, str] = {}
    for node_id in a.order:
        layer = a.layers.get(node_id)
        spec = specs.get(node_id)
        if layer is None or spec is None:
            continue
        sources = [s for _, s in graph.inputs_of(node_id)]
        if any(s not in a.shapes for s in sources) or any(
                p.node_id == node_id and p.code in ("missing_input", "extra_input")
                for p in a.problems):
            continue
        if spec.is_input:
            dtype[node_id] = layer.config.get("dtype", "float32")
        else:
            kinds = {dtype.get(s, "float32") for s in sources}
            takes_ids = layer.takes_ids
            if takes_ids and kinds != {"int64"}:
                a.problems.append(Problem(node_id, f"{spec.type} needs integer ids: feed it "
                                          "from an Input with dtype int64", "needs_ids"))
                continue
            if not takes_ids and "int64" in kinds:
                a.problems.append(Problem(node_id, f"{spec.type} cannot take integer ids; "
                                          "only an Embedding can", "needs_float"))
                continue
            dtype[node_id] = "float32"
        in_shapes = [a.shapes[s] for s in sources]
        try:
            a.shapes[node_id] = tuple(layer.output_shape(in_shapes))
            a.weight_shapes[node_id] = layer.weight_shapes(in_shapes)
        except ShapeError as e:
            a.problems.append(Problem(node_id, str(e), e.code))
