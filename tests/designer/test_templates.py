"""The template gallery: every template is a lesson card in a chapter, loads and validates,
and the dialog shows chapters, cards and the selected card's lesson."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

import nnengine
from designer.lessons import TEMPLATES_DIR, load_cards, load_chapters
from nnengine.datasets import builtin_names

from .shell_fixtures import *


def test_gallery_lists_every_template_file():
    listed = [t.path.name for t in load_cards()]
    assert sorted(listed) == sorted(p.name for p in TEMPLATES_DIR.glob("*.json"))
    assert len(listed) == len(set(listed))
    assert all(t.sentence.endswith(".") and len(t.sentence) < 120 for t in load_cards())


@pytest.mark.parametrize("template", load_cards(), ids=lambda t: t.path.stem)
def test_template_validates_with_its_training_block(template):
    graph = nnengine.load_graph(template.path)
    analysis = nnengine.analyze(graph)
    assert analysis.problems == []
    assert all(graph.node(n)["position"] is not None for n in graph.node_ids())
    config = nnengine.TrainingConfig.from_dict(graph.training)
    assert config.dataset.split("(")[0] in builtin_names()  # a name, maybe with settings


def test_gallery_dialog_shows_chapters_cards_and_the_lesson(qtbot):
    from designer.gallery import CARD, TemplateGallery

    gallery = TemplateGallery()
    qtbot.addWidget(gallery)
    gallery.show()
    chapters = load_chapters()
    assert gallery.chapter_list.count() == len(chapters)
    assert gallery.list.count() == len(chapters[0].cards)  # the first chapter's cards
    first = gallery.list.item(0)
    assert not first.data(Qt.ItemDataRole.DecorationRole).isNull()  # the picture
    assert gallery.list.visualItemRect(first).size().width() <= CARD.width() + 6
    assert "perceptron rule" in gallery.lesson.toPlainText()
    gallery.select("skipgram.json")
    chosen = gallery.chosen()
    assert chosen.path.name == "skipgram.json"
    assert gallery.chapter_list.currentItem().text() == chosen.chapter
    assert chosen.graph().name == chosen.title
    assert " ".join(chosen.lesson.split())[:60] in gallery.lesson.toPlainText()
    gallery.chapter_list.setCurrentRow(2)  # clicking a chapter shows its cards
    assert [gallery.list.item(i).text() for i in range(gallery.list.count())] == \
        [c.title for c in chapters[2].cards]


def test_thumbnail_draws_something(qtbot):
    from designer.gallery import THUMB, example_graph, render_thumbnail

    picture = render_thumbnail(example_graph()).toImage()
    assert picture.width() == THUMB.width() * 2
    colours = {picture.pixel(x, picture.height() // 2) for x in range(0, picture.width(), 4)}
    assert len(colours) > 3  # background, edges and coloured nodes
