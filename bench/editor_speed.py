"""Live validation on a 300-node graph: one parameter edit, with and without the canvas.

    QT_QPA_PLATFORM=offscreen python bench/editor_speed.py

Prints the median time of one edit (undo command + nnengine.analyze + signals), then the
same with a CanvasView redrawing; goal: unnoticeable (under about 50 ms).
"""
from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

import nnengine as nn
from designer.canvas.view import CanvasView
from designer.document import GraphDocument


def chain(n: int) -> nn.Graph:
    g = nn.Graph("big")
    g.add_node("input", "Input", {"shape": [16]})
    prev = "input"
    for i in range(1, n):
        node = f"dense{i}" if i % 2 else f"relu{i}"
        g.add_node(node, "Dense" if i % 2 else "Activation",
                   {"units": 16} if i % 2 else {"function": "relu"})
        g.add_edge(prev, node)
        prev = node
    return g


def median_edit_ms(doc: GraphDocument, app: QApplication, runs: int = 20) -> float:
    times = []
    for i in range(runs):
        start = time.perf_counter()
        doc.set_param("dense1", "units", 17 + i % 2)
        app.processEvents()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    app = QApplication.instance() or QApplication([])
    start = time.perf_counter()
    for _ in range(20):
        nn.analyze(chain(300))
    analyze_ms = (time.perf_counter() - start) * 1000 / 20
    doc = GraphDocument(chain(300))
    alone = median_edit_ms(doc, app)
    view = CanvasView(GraphDocument(chain(300)))
    view.resize(1200, 800)
    view.show()
    with_view = median_edit_ms(view.document, app)
    print(f"analyze, 300 nodes:               {analyze_ms:7.1f} ms")
    print(f"one edit, document only:          {alone:7.1f} ms")
    print(f"one edit, with the canvas redraw: {with_view:7.1f} ms   (goal < 50 ms)")


if __name__ == "__main__":
    main()
