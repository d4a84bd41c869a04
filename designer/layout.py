"""Automatic layout for nodes without positions: layered by topological depth, left to right.

Pure Python (no Qt) so the document can lay out a freshly opened file before anything is drawn.
Positions are the nodes' top-left corners in scene pixels.
"""
from __future__ import annotations

import networkx as nx

from nnengine import Graph

COLUMN_SPACING = 280
ROW_SPACING = 200


def layered_positions(graph: Graph) -> dict[str, tuple[float, float]]:
    """A position for every node: column = longest path from a source, rows ordered by the
    mean row of their predecessors (fewer crossings) and centred on y = 0."""
    index = {n: i for i, n in enumerate(graph.node_ids())}
    try:
        order = list(nx.lexicographical_topological_sort(graph.nx, key=index.__getitem__))
    except nx.NetworkXUnfeasible:  # a cycle: fall back to file order
        order = graph.node_ids()
    depth: dict[str, int] = {}
    for n in order:
        preds = [depth[p] for p in graph.nx.predecessors(n) if p in depth]
        depth[n] = max(preds) + 1 if preds else 0
    columns: dict[int, list[str]] = {}
    for n in order:
        columns.setdefault(depth[n], []).append(n)
    row: dict[str, float] = {}
    positions: dict[str, tuple[float, float]] = {}
    for d in sorted(columns):
        nodes = columns[d]

        def barycentre(n: str) -> tuple[float, int]:
            rows = [row[p] for p in graph.nx.predecessors(n) if p in row]
            return (sum(rows) / len(rows) if rows else float(index[n]), index[n])

        nodes.sort(key=barycentre)
        for i, n in enumerate(nodes):
            row[n] = i - (len(nodes) - 1) / 2
            positions[n] = (float(d * COLUMN_SPACING), float(round(row[n] * ROW_SPACING)))
    return positions


def place_missing(graph: Graph) -> dict[str, tuple[float, float]]:
    """Positions for the nodes that lack one (all of them laid out together when none has
    one; otherwise the missing ones go below the placed ones)."""
    missing = [n for n in graph.node_ids() if graph.node(n).get("position") is None]
    if not missing:
        return {}
    layout = layered_positions(graph)
    placed = [graph.node(n)["position"] for n in graph.node_ids() if n not in missing]
    if not placed:
        return {n: layout[n] for n in missing}
    top = min(y for _, y in (layout[n] for n in missing))
    below = max(y for _, y in placed) + ROW_SPACING
    left = min(x for x, _ in placed)
    return {n: (layout[n][0] + left, layout[n][1] - top + below) for n in missing}


CARD_WIDTH = 200   # a node card's width (style.NODE_WIDTH; this module stays free of Qt)


def clear_offset(placed: list[tuple[float, float]], moving: list[tuple[float, float]]
                 ) -> tuple[float, float]:
    """How far down to put copies of the cards at `moving` so that none covers a card at
    `placed`: whole rows down, the first that is free (pasted and duplicated nodes must not
    land on their originals)."""
    def covers(a: tuple[float, float], b: tuple[float, float]) -> bool:
        return abs(a[0] - b[0]) < CARD_WIDTH + 20 and abs(a[1] - b[1]) < ROW_SPACING * 0.7

    dy = float(ROW_SPACING)
    while any(covers((x, y + dy), p) for x, y in moving for p in placed):
        dy += ROW_SPACING
    return (0.0, dy)
