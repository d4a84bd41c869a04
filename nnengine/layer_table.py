"""The Analyze table: per layer its type, output shape, parameters, multiply-adds and the
memory its activation takes per sample, with totals (as MATLAB's Analyze and Keras' summary).

Everything is read from the validated graph: shapes and weights from `analyze`, the
multiply-adds from each layer's `multiply_adds` (the catalogue's layer classes). The GUI shows
these rows; `table_text` and `table_csv` are what "copy" and "save" write.
"""
from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .fileio import size_text
from .graph import Graph
from .validation import Analysis, analyze

COLUMNS = ("node", "type", "output shape", "parameters", "multiply-adds",
           "activation memory per sample")


@dataclass(frozen=True)
class LayerRow:
    """One node; a number is None where the graph's problems leave it unknown."""

    node: str
    type: str
    shape: tuple[int, ...] | None
    params: int | None
    multiply_adds: int | None
    activation_bytes: int | None


@dataclass(frozen=True)
class LayerTable:
    rows: list[LayerRow]
    dtype: str

    def total(self, column: str) -> int:
        return sum(getattr(r, column) or 0 for r in self.rows)

    @property
    def complete(self) -> bool:
        """Every number known (no problem in the graph hides one)."""
        return all(None not in (r.params, r.multiply_adds, r.activation_bytes)
                   for r in self.rows)


def layer_table(graph: Graph, analysis: Analysis | None = None,
                dtype: str = "float32") -> LayerTable:
    """The table for `graph` (its `analysis`, when already at hand), activations of `dtype`."""
    a = analysis if analysis is not None else analyze(graph)
    itemsize = np.dtype(dtype).itemsize
    rows = []
    for node_id in graph.node_ids():
        shape = a.shapes.get(node_id)
        layer = a.layers.get(node_id)
        inputs = [a.shapes.get(s) for _, s in graph.inputs_of(node_id)]
        macs = None
        if layer is not None and shape is not None and None not in inputs:
            macs = int(layer.multiply_adds([tuple(s) for s in inputs]))
        rows.append(LayerRow(
            node_id, graph.type_of(node_id), tuple(shape) if shape is not None else None,
            a.param_count(node_id) if node_id in a.weight_shapes else None, macs,
            math.prod(shape) * itemsize if shape is not None else None))
    return LayerTable(rows, dtype)


def _bytes(n: int | None) -> str:
    return "?" if n is None else size_text(n)


def _count(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"


def display_rows(table: LayerTable) -> list[tuple[str, ...]]:
    """Each row as the text shown, the totals last."""
    rows = [(r.node, r.type, "?" if r.shape is None else str(list(r.shape)), _count(r.params),
             _count(r.multiply_adds), _bytes(r.activation_bytes)) for r in table.rows]
    rows.append(("total", "", "", _count(table.total("params")),
                 _count(table.total("multiply_adds")),
                 _bytes(table.total("activation_bytes"))))
    return rows


def aligned(rows: Sequence[Sequence[str]], numeric_from: int) -> str:
    """Rows as columns of text, a rule above the last (total) row; columns from
    `numeric_from` on are right-aligned."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for i, row in enumerate(rows):
        if i == len(rows) - 1:
            lines.append("  ".join("-" * w for w in widths))
        cells = [c.rjust(w) if k >= numeric_from else c.ljust(w)
                 for k, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def table_text(table: LayerTable) -> str:
    return aligned([COLUMNS, *display_rows(table)], numeric_from=3)


def table_csv(table: LayerTable) -> str:
    """Plain numbers (bytes, counts; empty where unknown), one row per node, then total."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["node", "type", "output shape", "parameters", "multiply_adds",
                     "activation_bytes_per_sample"])
    for r in table.rows:
        writer.writerow([r.node, r.type,
                         "" if r.shape is None else "x".join(map(str, r.shape)),
                         "" if r.params is None else r.params,
                         "" if r.multiply_adds is None else r.multiply_adds,
                         "" if r.activation_bytes is None else r.activation_bytes])
    writer.writerow(["total", "", "", table.total("params"), table.total("multiply_adds"),
                     table.total("activation_bytes")])
    return out.getvalue()
