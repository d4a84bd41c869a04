"""CanvasScene: mirrors a GraphDocument through its signals, never the other way round.

The document changes (through undo commands); its past-tense signals arrive here and the
scene adds, removes, moves and redraws items. Display data for each node (`NodeView`) is
computed from the graph and the latest analysis, so after `analysis_changed` every card
shows the current shapes, parameter counts and problems.

A large graph being opened is drawn ahead of time (`stage`), a slice at a time between
events, so the window never freezes; the reset to that graph then adopts the items.
"""
from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtWidgets import QGraphicsScene

import nnengine
from nnengine import Analysis, Graph

from ..document import GraphDocument
from ..style import format_params, format_shape, format_value
from .items import EdgeItem, NodeItem, NodeView

MARGIN = 2000  # room to pan around the graph


@dataclass
class Staged:
    """Items drawn ahead for `graph` as `analysis` describes it, not yet in the scene."""

    graph: Graph
    analysis: Analysis
    nodes: dict[str, NodeItem]
    edges: dict[tuple[str, str], EdgeItem]


class CanvasScene(QGraphicsScene):
    def __init__(self, document: GraphDocument, parent=None):
        super().__init__(parent)
        self.document = document
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[tuple[str, str], EdgeItem] = {}
        self._staged: Staged | None = None
        self._shown: Analysis | None = None   # the analysis the items show
        d = document
        d.graph_reset.connect(self.rebuild)
        d.node_added.connect(self._on_node_added)
        d.node_removed.connect(self._on_node_removed)
        d.node_moved.connect(self._on_node_moved)
        d.params_changed.connect(self._refresh_node)
        d.node_renamed.connect(self._on_node_renamed)
        d.edge_added.connect(self._on_edge_added)
        d.edge_removed.connect(self._on_edge_removed)
        d.analysis_changed.connect(self.refresh_all)
        self.rebuild()

    # --- lookups -------------------------------------------------------------------------------
    def node_item(self, node_id: str) -> NodeItem | None:
        return self.nodes.get(node_id)

    def edge_item(self, source: str, target: str) -> EdgeItem | None:
        return self.edges.get((source, target))

    def selected_node_ids(self) -> list[str]:
        order = {n: i for i, n in enumerate(self.document.graph.node_ids())}
        ids = [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]
        return sorted(ids, key=lambda n: order.get(n, len(order)))

    def selected_edges(self) -> list[tuple[str, str]]:
        return [i.key for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def graph_rect(self) -> QRectF:
        """The bounding rectangle of the nodes and edges (empty for an empty graph)."""
        rect = QRectF()
        for item in list(self.nodes.values()) + list(self.edges.values()):
            rect = rect.united(item.sceneBoundingRect())
        return rect

    # --- building ------------------------------------------------------------------------------
    def rebuild(self) -> None:
        self.clearSelection()
        for item in list(self.edges.values()) + list(self.nodes.values()):
            self.removeItem(item)
        doc = self.document
        staged, self._staged = self._staged, None
        if staged is None or staged.graph is not doc.graph or staged.analysis is not \
                doc.analysis:
            staged = self._drawn(doc.graph, doc.analysis)
        self.nodes, self.edges = staged.nodes, staged.edges
        for item in self.nodes.values():
            self.addItem(item)
        for edge in self.edges.values():
            self.addItem(edge)
        self._shown = doc.analysis
        rect = self.graph_rect()
        self.setSceneRect(rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN))

    def stage(self, graph: Graph, analysis: Analysis) -> Iterator[tuple[int, int]]:
        """Draw the items of `graph` (about to be opened) without touching the scene, one
        node or edge per step: yields (items drawn, items). Once done, the document's reset to
        that graph adopts them; closing the generator early (Cancel) leaves nothing."""
        self._staged = None
        self._staged = yield from _draw(graph, analysis)

    @staticmethod
    def _drawn(graph: Graph, analysis: Analysis) -> Staged:
        steps = _draw(graph, analysis)
        while True:
            try:
                next(steps)
            except StopIteration as done:
                return done.value

    def node_view(self, node_id: str) -> NodeView:
        """The card's content for `node_id`, from the graph and the current analysis."""
        return node_view(self.document.graph, self.document.analysis, node_id)

    def refresh_all(self) -> None:
        if self._shown is self.document.analysis:
            return   # just rebuilt from it
        self._shown = self.document.analysis
        for node_id in self.nodes:
            self._refresh_node(node_id)
        shapes = self.document.analysis.shapes
        for (s, _), edge in self.edges.items():
            edge.set_label(format_shape(shapes[s]) if s in shapes else "")

    # --- document signals ----------------------------------------------------------------------
    def _refresh_node(self, node_id: str) -> None:
        item = self.nodes.get(node_id)
        if item is not None and node_id in self.document.graph:
            item.set_view(self.node_view(node_id))

    def _on_node_added(self, node_id: str) -> None:
        item = NodeItem(self.node_view(node_id))
        x, y = self.document.position(node_id)
        item.setPos(x, y)
        self.addItem(item)
        self.nodes[node_id] = item
        self._grow(item.sceneBoundingRect())

    def _on_node_removed(self, node_id: str) -> None:
        item = self.nodes.pop(node_id, None)
        if item is not None:
            self.removeItem(item)

    def _on_node_moved(self, node_id: str) -> None:
        item = self.nodes.get(node_id)
        if item is None:
            return
        x, y = self.document.position(node_id)
        if item.pos() != QPointF(x, y):
            item.setPos(x, y)
        self._grow(item.sceneBoundingRect())

    def _on_node_renamed(self, old: str, new: str) -> None:
        item = self.nodes.pop(old, None)
        if item is None:
            return
        self.nodes[new] = item
        item.set_view(self.node_view(new))
        for key in [k for k in self.edges if old in k]:
            edge = self.edges.pop(key)
            self.edges[edge.key] = edge  # the key reads the items' new ids

    def _add_edge_item(self, source: str, target: str, port: int) -> None:
        s, t = self.nodes.get(source), self.nodes.get(target)
        if s is None or t is None:
            return
        edge = _edge(s, t, port)
        self.addItem(edge)
        self.edges[(source, target)] = edge

    def _on_edge_added(self, source: str, target: str, port: int) -> None:
        self._add_edge_item(source, target, port)
        self._refresh_node(source)
        self._refresh_node(target)

    def _on_edge_removed(self, source: str, target: str, port: int) -> None:
        edge = self.edges.pop((source, target), None)
        if edge is not None:
            for node in (edge.source, edge.target):
                if edge in node.edges:
                    node.edges.remove(edge)
            self.removeItem(edge)
        self._refresh_node(source)
        self._refresh_node(target)

    def _grow(self, rect: QRectF) -> None:
        """Keep room to pan around every node."""
        wanted = rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
        if not self.sceneRect().contains(wanted):
            self.setSceneRect(self.sceneRect().united(wanted))


def node_view(g: Graph, a: Analysis, node_id: str) -> NodeView:
    """The card's content for `node_id`, from graph `g` and its analysis `a`."""
    type_name = g.type_of(node_id)
    try:
        spec = nnengine.layer_spec(type_name)
    except KeyError:
        spec = None
    params = g.params_of(node_id)
    inputs = g.inputs_of(node_id)
    ports = [p for p, _ in inputs]
    if spec is None:
        n_inputs = max(ports) + 1 if ports else 1
        key: tuple[tuple[str, str], ...] = ()
    else:
        if spec.is_input:
            n_inputs = 0
        elif spec.max_inputs is None:  # any number: the connected ones plus a free one
            n_inputs = max(spec.min_inputs, max(ports) + 2 if ports else 0)
        else:
            n_inputs = max(spec.max_inputs, max(ports) + 1 if ports else 0)
        config = spec.defaults() | params
        key = tuple((name, format_value(config[name]) if name in config else "—")
                    for name in spec.key_params
                    if spec.param(name) is None or spec.param(name).applies(config))
    shape = a.shapes.get(node_id)
    known = node_id in a.weight_shapes
    sources = dict(inputs)
    tips = tuple(
        f"input {i}: {format_shape(a.shapes.get(sources[i]))} from {sources[i]}"
        if i in sources else f"input {i}: drag an output here to connect"
        for i in range(n_inputs))
    return NodeView(
        node_id=node_id, type_name=type_name,
        category=spec.category if spec else "",
        description=spec.description if spec else "unknown layer type",
        key_params=key,
        shape_text=format_shape(shape),
        params_text=format_params(a.param_count(node_id)) if known else "",
        problems=tuple(p.message for p in a.problems_of(node_id)),
        input_ports=n_inputs,
        connected_inputs=frozenset(ports),
        input_tips=tips,
        has_output=True,
        output_connected=g.nx.out_degree(node_id) > 0,
    )


def _edge(source: NodeItem, target: NodeItem, port: int) -> EdgeItem:
    edge = EdgeItem(source, target, port)
    source.edges.append(edge)
    target.edges.append(edge)
    return edge


def _draw(graph: Graph, analysis: Analysis) -> Generator[tuple[int, int], None, Staged]:
    """The items of `graph`, one node or edge per step: yields (items drawn, items)."""
    ids, links = graph.node_ids(), list(graph.edges())
    total = len(ids) + len(links)
    nodes: dict[str, NodeItem] = {}
    for i, node_id in enumerate(ids):
        item = NodeItem(node_view(graph, analysis, node_id))
        pos = graph.node(node_id).get("position")
        item.setPos(*(pos if pos is not None else (0.0, 0.0)))
        nodes[node_id] = item
        yield i + 1, total
    edges: dict[tuple[str, str], EdgeItem] = {}
    shapes = analysis.shapes
    for i, (s, t, p) in enumerate(links):
        if s in nodes and t in nodes:
            edge = _edge(nodes[s], nodes[t], p)
            edge.set_label(format_shape(shapes[s]) if s in shapes else "")
            edges[(s, t)] = edge
        yield len(ids) + i + 1, total
    return Staged(graph, analysis, nodes, edges)
