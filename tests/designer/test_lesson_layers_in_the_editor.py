"""The lesson layers in the editor: found in the palette by what they are for, and explained
in the inspector with their formulas and parameters (all from the catalogue)."""
from __future__ import annotations

import html

import nnengine
from tests.designer.test_inspector import make_inspector
from tests.designer.test_palette import make_palette

from .shell_fixtures import *


def test_palette_finds_them_by_what_they_are_for(qtbot):
    palette = make_palette(qtbot)
    for words, layer in (("variational", "Sampling"), ("sparse", "ActivityRegularization"),
                         ("CBOW", "GlobalAvgPool1D")):
        palette.search.setText(words)
        assert layer in palette.visible_types(), words


def test_inspector_explains_them_with_their_formulas(qtbot):
    from designer.document import GraphDocument

    vae = nnengine.load_graph("resources/templates/vae.json")
    sparse = nnengine.load_graph("resources/templates/sparse_autoencoder.json")
    cbow = nnengine.load_graph("resources/templates/cbow.json")
    for graph, node, words in (
            (vae, "code", ["z = mean + exp(logvar/2)·ε", "β · (−½ · mean_n Σ(1 + logvar"]),
            (sparse, "sparsity", ["loss += l1 · mean_n Σ|x|", "[32]"]),
            (cbow, "average", ["(1/T) · Σ_t x[n, t, f]", "[16]"])):
        inspector = make_inspector(qtbot, GraphDocument(graph))
        inspector.show_nodes([node])
        text = html.unescape(inspector.explain.text())
        assert all(w in text for w in words), (node, text)
    inspector = make_inspector(qtbot, GraphDocument(vae))
    inspector.show_nodes(["code"])
    assert inspector.fields["beta"].read() == 0.015625
