"""The template gallery: every template is listed, loads, validates and can train."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

import nnengine
from nnengine.datasets import builtin_names

from .shell_fixtures import *


def templates():
    from designer.gallery import load_templates

    return load_templates()


def test_gallery_lists_every_template_file():
    from designer.gallery import TEMPLATES_DIR

    listed = {t.path.name for t in templates()}
    assert listed == {p.name for p in TEMPLATES_DIR.glob("*.json")}
    assert all(t.sentence.endswith(".") and len(t.sentence) < 120 for t in templates())


@pytest.mark.parametrize("template", templates(), ids=lambda t: t.path.stem)
def test_template_validates_with_its_training_block(template):
    graph = nnengine.load_graph(template.path)
    analysis = nnengine.analyze(graph)
    assert analysis.problems == []
    assert all(graph.node(n)["position"] is not None for n in graph.node_ids())
    config = nnengine.TrainingConfig.from_dict(graph.training)
    assert config.dataset in builtin_names()


@pytest.mark.slow
@pytest.mark.parametrize("name, metric, goal", [
    ("xor.json", "accuracy", 0.99), ("perceptron.json", "accuracy", 0.95),
    ("iris_mlp.json", "accuracy", 0.9), ("rbf.json", "accuracy", 0.95),
])
def test_quick_templates_learn(name, metric, goal):
    from designer.gallery import TEMPLATES_DIR
    from nnengine.trainer import Trainer

    graph = nnengine.load_graph(TEMPLATES_DIR / name)
    config = nnengine.TrainingConfig.from_dict(graph.training)
    model = nnengine.compile_model(graph, seed=config.seed)
    trainer = Trainer(model, nnengine.load_dataset(config.dataset), config)
    trainer.fit()
    assert trainer.evaluate_test()[metric] >= goal


def test_gallery_dialog_shows_cards_and_returns_the_choice(qtbot):
    from designer.gallery import CARD, TemplateGallery

    gallery = TemplateGallery()
    qtbot.addWidget(gallery)
    gallery.show()
    assert gallery.list.count() == len(templates())
    first = gallery.list.item(0)
    assert not first.data(Qt.ItemDataRole.DecorationRole).isNull()  # the picture
    assert gallery.list.visualItemRect(first).size().width() <= CARD.width() + 6
    gallery.select("skipgram.json")
    chosen = gallery.chosen()
    assert chosen.path.name == "skipgram.json"
    assert chosen.graph().name == chosen.title


def test_thumbnail_draws_something(qtbot):
    from designer.gallery import THUMB, example_graph, render_thumbnail

    picture = render_thumbnail(example_graph()).toImage()
    assert picture.width() == THUMB.width() * 2
    colours = {picture.pixel(x, picture.height() // 2) for x in range(0, picture.width(), 4)}
    assert len(colours) > 3  # background, edges and coloured nodes
