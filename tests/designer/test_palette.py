"""The palette is generated from the catalogue, searchable, and drags/double-clicks layers."""
from __future__ import annotations

from PySide6.QtCore import Qt

import nnengine
from nnengine.catalogue import CATEGORIES

from .shell_fixtures import *


def make_palette(qtbot):
    from designer.palette import Palette

    palette = Palette()
    qtbot.addWidget(palette)
    return palette


def test_every_layer_once_under_its_category(qtbot):
    palette = make_palette(qtbot)
    specs = nnengine.layer_specs()
    assert sorted(palette.visible_types()) == sorted(s.type for s in specs)
    groups = {palette.tree.topLevelItem(i).text(0): palette.tree.topLevelItem(i)
              for i in range(palette.tree.topLevelItemCount())
              if not palette.tree.topLevelItem(i).isHidden()}
    assert list(groups) == [c for c in CATEGORIES if any(s.category == c for s in specs)]
    for spec in specs:
        item = palette.item_for(spec.type)
        assert item.parent() is groups[spec.category]
        assert spec.description in item.toolTip(0)
        assert not item.icon(0).isNull()


def test_search_matches_type_and_description(qtbot):
    palette = make_palette(qtbot)
    palette.search.setText("conv")
    assert "Conv2D" in palette.visible_types()
    assert "Dense" not in palette.visible_types()
    palette.search.setText("residual")  # only in Add's description
    assert palette.visible_types() == ["Add"]
    palette.search.setText("no such layer")
    assert palette.visible_types() == []
    assert all(palette.tree.topLevelItem(i).isHidden()
               for i in range(palette.tree.topLevelItemCount()))
    palette.search.clear()
    assert len(palette.visible_types()) == len(nnengine.layer_specs())


def test_drag_carries_the_type_name(qtbot):
    from designer.palette import LAYER_MIME

    palette = make_palette(qtbot)
    mime = palette.tree.mimeData([palette.item_for("Dense")])
    assert bytes(mime.data(LAYER_MIME).data()).decode("utf-8") == "Dense"
    assert palette.item_for("Dense").flags() & Qt.ItemFlag.ItemIsDragEnabled


def test_double_click_and_enter_ask_for_the_layer(qtbot):
    palette = make_palette(qtbot)
    with qtbot.waitSignal(palette.layer_activated) as blocker:
        palette.tree.itemDoubleClicked.emit(palette.item_for("Dropout"), 0)
    assert blocker.args == ["Dropout", None]
    palette.search.setText("lstm")
    with qtbot.waitSignal(palette.layer_activated) as blocker:
        palette.search.returnPressed.emit()
    assert blocker.args == ["LSTM", None]


def test_search_finds_functions_losses_and_synonyms(qtbot):
    palette = make_palette(qtbot)
    assert not [i for i in palette.visible_entries() if i.text(0).startswith("Activation:")]
    palette.search.setText("relu")
    shown = [i.text(0) for i in palette.visible_entries()]
    assert "Activation: relu" in shown and "Activation: leaky_relu" in shown
    assert "PReLU" in shown
    assert palette.best_entry().text(0) == "Activation: relu"
    palette.search.setText("softmax")
    assert palette.best_entry().text(0) == "Activation: softmax"
    palette.search.setText("fully connected")
    assert palette.visible_types() == ["Dense"]
    palette.search.setText("logistic")
    assert "Activation: sigmoid" in [i.text(0) for i in palette.visible_entries()]
    palette.search.setText("cross entropy")
    assert [i.text(0) for i in palette.visible_entries()] == [
        "loss: binary_cross_entropy", "loss: cross_entropy"]
    with qtbot.waitSignal(palette.loss_chosen) as blocker:
        palette.search.setText("cross_entropy")
        palette.search.returnPressed.emit()
    assert blocker.args == ["cross_entropy"]


def test_a_function_found_by_name_is_added_with_that_function(qtbot):
    from designer.palette import dropped_layer

    palette = make_palette(qtbot)
    palette.search.setText("softmax")
    with qtbot.waitSignal(palette.layer_activated) as blocker:
        palette.search.returnPressed.emit()
    assert blocker.args == ["Activation", {"function": "softmax"}]
    item = palette.best_entry()
    assert dropped_layer(palette.tree.mimeData([item])) == ("Activation", {"function": "softmax"})


def test_search_words_name_real_things():
    from designer.search_terms import FUNCTION_WORDS, LAYER_WORDS, LOSS_WORDS
    from nnengine.catalogue import LOSSES

    assert set(LAYER_WORDS) <= {s.type for s in nnengine.layer_specs()}
    assert set(FUNCTION_WORDS) <= set(nnengine.layer_spec("Activation").param("function").choices)
    assert set(LOSS_WORDS) <= set(LOSSES.names())
