"""Shared fixtures for the designer tests: offscreen Qt, small graphs and a document."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import pytest

import nnengine as nn


def chain(name: str, nodes: list[tuple[str, str, dict]], training: dict | None = None
          ) -> nn.Graph:
    """A graph whose nodes feed each other in the order given."""
    g = nn.Graph(name, training)
    prev = None
    for node_id, type_name, params in nodes:
        g.add_node(node_id, type_name, params)
        if prev is not None:
            g.add_edge(prev, node_id)
        prev = node_id
    return g


def mlp_graph() -> nn.Graph:
    """input [4] -> dense1 (8) -> relu1 -> dense2 (3) -> out (softmax); valid."""
    return chain("MLP", [
        ("input", "Input", {"shape": [4]}),
        ("dense1", "Dense", {"units": 8}),
        ("relu1", "Activation", {"function": "relu"}),
        ("dense2", "Dense", {"units": 3}),
        ("out", "Activation", {"function": "softmax"}),
    ])


def big_chain(n: int = 300) -> nn.Graph:
    """An n-node chain alternating Dense and ReLU after one Input (for timing)."""
    nodes: list[tuple[str, str, dict]] = [("input", "Input", {"shape": [16]})]
    for i in range(1, n):
        if i % 2:
            nodes.append((f"dense{i}", "Dense", {"units": 16}))
        else:
            nodes.append((f"relu{i}", "Activation", {"function": "relu"}))
    return chain("big", nodes)


@pytest.fixture
def make_document():
    """GraphDocument factory (a copy of the given graph, the MLP by default)."""
    from designer.document import GraphDocument

    def make(graph: nn.Graph | None = None) -> GraphDocument:
        return GraphDocument(graph.copy() if graph is not None else mlp_graph())

    return make


@pytest.fixture
def document(make_document):
    """A GraphDocument holding the valid 5-node MLP (no window)."""
    return make_document()


@pytest.fixture(autouse=True)
def _empty_clipboard_after_test():
    """Offscreen Qt crashes at exit if the clipboard still owns our mime data."""
    yield
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is not None:
        QApplication.clipboard().clear()
