"""The inspector: fields from the catalogue, checked edits, renaming, explain and summary."""
from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox

import nnengine

from .shell_fixtures import *


def make_inspector(qtbot, document):
    from designer.inspector import Inspector

    inspector = Inspector(document)
    qtbot.addWidget(inspector)
    inspector.show()
    return inspector


def commit_text(field, text: str) -> None:
    field.editor.setText(text)
    field.editor.textEdited.emit(text)
    field.editor.editingFinished.emit()


def test_fields_follow_the_param_kinds(qtbot, shell_document):
    inspector = make_inspector(qtbot, shell_document)
    inspector.show_nodes(["dense1"])
    assert isinstance(inspector.fields["units"].editor, QSpinBox)
    assert inspector.fields["units"].editor.value() == 8
    assert inspector.fields["units"].editor.minimum() == 1
    assert isinstance(inspector.fields["use_bias"].editor, QCheckBox)
    assert isinstance(inspector.fields["init"].editor, QComboBox)
    inspector.show_nodes(["input"])
    assert isinstance(inspector.fields["shape"].editor, QLineEdit)
    assert inspector.fields["shape"].editor.text() == "4"


def test_edit_changes_shapes_downstream_and_undoes(qtbot, shell_document):
    doc = shell_document
    inspector = make_inspector(qtbot, doc)
    inspector.show_nodes(["dense1"])
    inspector.fields["units"].editor.setValue(16)
    assert doc.graph.params_of("dense1")["units"] == 16
    assert doc.analysis.shapes["relu1"] == (16,)
    assert "16" in inspector.explain.text()
    assert doc.undo_stack.undoText() == "Change units of dense1"
    doc.undo_stack.undo()
    assert inspector.fields["units"].editor.value() == 8
    assert doc.analysis.shapes["relu1"] == (8,)


def test_invalid_values_are_red_and_not_applied(qtbot, shell_document):
    doc = shell_document
    inspector = make_inspector(qtbot, doc)
    inspector.show_nodes(["input"])
    shape = inspector.fields["shape"]
    commit_text(shape, "4, 0")
    assert shape.error and "positive" in shape.error
    assert not shape.error_label.isHidden()
    assert doc.graph.params_of("input")["shape"] == [4]
    commit_text(shape, "four")
    assert "whole numbers" in shape.error
    assert doc.undo_stack.count() == 0
    commit_text(shape, "2, 2")
    assert shape.error is None
    assert doc.graph.params_of("input")["shape"] == [2, 2]


def test_conditional_params_and_float_checks(qtbot, shell_document):
    doc = shell_document
    inspector = make_inspector(qtbot, doc)
    inspector.show_nodes(["relu1"])
    alpha = inspector.fields["alpha"]
    assert alpha.widget.isHidden()  # only for leaky_relu and elu
    function = inspector.fields["function"].editor
    function.setCurrentText("leaky_relu")
    assert doc.graph.params_of("relu1")["function"] == "leaky_relu"
    assert not alpha.widget.isHidden()
    commit_text(alpha, "-1")
    assert "at least 0" in alpha.error
    assert "alpha" not in doc.graph.params_of("relu1")
    commit_text(alpha, "2e-2")
    assert doc.graph.params_of("relu1")["alpha"] == 0.02
    assert alpha.editor.styleSheet() == ""


def test_rename_checks_validity_and_uniqueness(qtbot, shell_document):
    doc = shell_document
    inspector = make_inspector(qtbot, doc)
    inspector.show_nodes(["dense1"])
    edit = inspector.id_edit
    before = doc.graph.node_ids()
    for bad, why in (("dense2", "already used"), ("2dense", "letters")):
        edit.setText(bad)
        edit.textEdited.emit(bad)
        edit.editingFinished.emit()
        assert why in inspector.id_error.text()
        assert doc.graph.node_ids() == before
    assert doc.undo_stack.count() == 0
    edit.setText("hidden")
    edit.editingFinished.emit()
    assert "hidden" in doc.graph and "dense1" not in doc.graph
    assert inspector.node_id == "hidden"
    assert inspector.id_error.isHidden()
    doc.undo_stack.undo()
    assert "dense1" in doc.graph
    assert edit.text() == "dense1"


def test_explain_and_summary(qtbot, shell_document):
    doc = shell_document
    inspector = make_inspector(qtbot, doc)
    inspector.show_nodes(["dense1"])
    text = inspector.explain.text()
    assert html.escape(nnengine.layer_spec("Dense").formula) in text
    assert "[4]" in text and "[8]" in text
    assert "40" in text  # 4·8 weights + 8 biases
    assert "in·units" in text
    inspector.show_nodes([])
    summary = inspector.summary.text()
    assert "Small MLP" in summary
    assert f"{doc.analysis.total_params:,}" in summary
    doc.remove_items(["input"])
    assert "problem" in inspector.summary.text()


def test_repairs_are_offered_as_buttons(qtbot, shell_document):
    doc = shell_document
    inspector = make_inspector(qtbot, doc)
    doc.set_param("input", "shape", [1, 2, 2])  # a Dense layer cannot take an image
    inspector.show_nodes(["dense1"])
    assert "Problems" in inspector.explain.text()
    (button,) = inspector.repair_buttons
    assert "Flatten" in button.text()
    button.linkActivated.emit("fix")
    assert doc.analysis.problems == []
    assert inspector.repair_buttons == []
    doc.undo_stack.undo()
    assert doc.analysis.problems
    inspector.show_nodes([])
    doc.remove_items(["input"])  # graph-wide: no Input at all
    assert any("Input" in b.text() for b in inspector.repair_buttons)


def test_a_fix_that_would_trade_one_problem_for_another_is_explained_not_offered(qtbot):
    """[8] reshaped to [2, 2, 2] would satisfy the conv, but the second pooling would then
    fail: no button, and a line saying so (the problem's message still suggests a Reshape)."""
    from designer.document import GraphDocument

    from .conftest import chain

    doc = GraphDocument(chain("reshape downstream", [
        ("input", "Input", {"shape": [8]}), ("conv", "Conv2D", {"filters": 2, "kernel_size": 1}),
        ("pool1", "MaxPool2D", {}), ("pool2", "MaxPool2D", {}), ("flat", "Flatten", {}),
        ("dense", "Dense", {"units": 2})]))
    inspector = make_inspector(qtbot, doc)
    inspector.show_nodes(["conv"])
    assert inspector.repair_buttons == []
    (note,) = inspector.repair_notes
    assert html.unescape(note.text()).startswith(
        "Not offered: “Insert a Reshape between input and conv: [8] becomes [2, 2, 2]”, as "
        "pool2 would then fail: pool window")
    doc.set_param("input", "shape", [64])   # now the Reshape to [1, 8, 8] is offered
    inspector.show_nodes(["conv"])
    assert inspector.repair_buttons and inspector.repair_notes == []


def test_explain_gives_receptive_field_output_size_and_activation_math(qtbot):
    from designer.document import GraphDocument

    g = nnengine.Graph("conv")
    g.add_node("input", "Input", {"shape": [1, 8, 8]})
    g.add_node("conv1", "Conv2D", {"filters": 4, "kernel_size": 3, "padding": "same"})
    g.add_node("relu", "Activation", {"function": "relu"})
    g.add_node("conv2", "Conv2D", {"filters": 4, "kernel_size": 3, "padding": "same"})
    g.add_node("pool", "MaxPool2D", {"pool_size": 2})
    g.add_node("conv3", "Conv2D", {"filters": 4, "kernel_size": 3, "stride": 2, "padding": 1})
    g.add_node("tanh", "Activation", {"function": "tanh"})
    for a, b in [("input", "conv1"), ("conv1", "relu"), ("relu", "conv2"), ("conv2", "pool"),
                 ("pool", "conv3"), ("conv3", "tanh")]:
        g.add_edge(a, b)
    inspector = make_inspector(qtbot, GraphDocument(g))

    def explain(node_id: str) -> str:
        inspector.show_nodes([node_id])
        return html.unescape(inspector.explain.text())

    assert "Receptive field" in explain("conv1") and "3×3 input pixels" in explain("conv1")
    assert "5×5 input pixels" in explain("conv2")  # two 3x3 convolutions see 5x5
    text = explain("pool")
    assert "6×6 input pixels" in text and "2×2 pixels apart" in text
    assert "⌊(8 + 2·0 − 2) / 2⌋ + 1 = 4" in text
    text = explain("conv3")  # 6 + (3 − 1)·2: the pooling's jump spreads the kernel
    assert "10×10 input pixels" in text and "⌊(4 + 2·1 − 3) / 2⌋ + 1 = 2" in text
    assert "⌈8 / 1⌉ = 8" in explain("conv1")
    relu, tanh = explain("relu"), explain("tanh")
    assert "y = max(0, x)" in relu and "y′ = 1 if x > 0, else 0" in relu and "[0, ∞)" in relu
    assert "y′ = 1 − y²" in tanh and "(−1, 1)" in tanh and "y = f(x)" not in tanh


def test_a_stray_character_in_a_shape_is_refused_not_dropped(qtbot, shell_document):
    from designer.param_fields import parse_shape

    doc = shell_document
    inspector = make_inspector(qtbot, doc)
    inspector.show_nodes(["input"])
    shape = inspector.fields["shape"]
    for typed in ("1, 8, x", "1, 8,", "1,,8", "x8", "8 x"):
        commit_text(shape, typed)
        assert shape.error and "whole numbers" in shape.error, typed
        assert doc.graph.params_of("input")["shape"] == [4]
    assert doc.undo_stack.count() == 0
    for typed, value in (("[1, 8, 8]", [1, 8, 8]), ("8x8", [8, 8]), ("2 3", [2, 3]),
                         ("1 × 8", [1, 8])):
        assert parse_shape(typed) == value


def test_escape_gives_a_red_field_its_value_back(qtbot, shell_document):
    doc = shell_document
    inspector = make_inspector(qtbot, doc)
    inspector.show_nodes(["input"])
    shape = inspector.fields["shape"]
    shape.editor.setFocus()
    shape.editor.selectAll()
    qtbot.keyClicks(shape.editor, "4, x")
    assert shape.error  # red while typing
    qtbot.keyClick(shape.editor, Qt.Key.Key_Escape)
    assert shape.editor.text() == "4" and shape.error is None
    assert shape.editor.styleSheet() == ""
    shape.editor.editingFinished.emit()  # leaving the field now commits nothing
    assert doc.undo_stack.count() == 0
    inspector.show_nodes(["dense1"])
    edit = inspector.id_edit
    edit.setText("2bad")
    edit.textEdited.emit("2bad")
    assert inspector.id_error.isVisibleTo(inspector)
    qtbot.keyClick(edit, Qt.Key.Key_Escape)
    assert edit.text() == "dense1" and not inspector.id_error.isVisibleTo(inspector)


def test_window_fields_take_an_int_or_height_width(qtbot):
    from designer.document import GraphDocument

    g = nnengine.Graph("conv")
    g.add_node("input", "Input", {"shape": [1, 6, 6]}, (0.0, 0.0))
    g.add_node("conv", "Conv2D", {"filters": 2}, (280.0, 0.0))
    g.add_edge("input", "conv")
    doc = GraphDocument(g)
    inspector = make_inspector(qtbot, doc)
    inspector.show_nodes(["conv"])
    kernel = inspector.fields["kernel_size"]
    assert isinstance(kernel.editor, QLineEdit) and kernel.editor.text() == "3"
    commit_text(kernel, "2, 1")
    assert kernel.error is None
    assert doc.graph.params_of("conv")["kernel_size"] == [2, 1]
    assert doc.analysis.shapes["conv"] == (2, 5, 6)
    assert "[2, 5, 6]" in inspector.explain.text()
    commit_text(kernel, "2, 0")
    assert kernel.error and "at least 1" in kernel.error
    assert doc.graph.params_of("conv")["kernel_size"] == [2, 1]
    padding = inspector.fields["padding"].editor
    padding.setEditText("1, 0")
    padding.lineEdit().editingFinished.emit()
    assert doc.graph.params_of("conv")["padding"] == [1, 0]
    assert doc.analysis.shapes["conv"] == (2, 7, 6)
    explain = inspector.explain.text()
    assert "⌊(6 + 2·1 − 2) / 1⌋ + 1 = 7" in explain and "⌊(6 + 2·0 − 1) / 1⌋ + 1 = 6" in explain
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.graph.params_of("conv").get("kernel_size", 3) == 3
    assert kernel.editor.text() == "3"
