"""The real main window, offscreen: palette drops, inspector edits, the Edit menu, clipboard,
files, recovery, templates and the remembered layout."""
from __future__ import annotations

import json

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from designer.layout import ROW_SPACING

from .qt_events import send_drop
from .shell_fixtures import *

B = QMessageBox.StandardButton


def drop_layer(window, type_name: str, at: QPoint) -> None:
    """Drag a palette entry onto the canvas viewport at `at` (viewport pixels)."""
    mime = window.palette.tree.mimeData([window.palette.item_for(type_name)])
    send_drop(window.view.viewport(), mime, at)


def test_title_status_and_unsaved_mark(window):
    doc = window.document
    assert window.windowTitle().startswith("Small MLP — not saved[*]")
    assert not window.isWindowModified()
    assert f"{doc.analysis.total_params:,} parameters" in window.summary_label.text()
    doc.remove_items(["input"])
    assert window.isWindowModified()
    assert "problem" in window.summary_label.text()
    window.view.status_message.emit("cannot connect: it would form a cycle")
    assert window.statusBar().currentMessage() == "cannot connect: it would form a cycle"
    window.actions["new"].trigger()
    assert "Empty graph" in window.summary_label.text()
    assert "problem" not in window.summary_label.text()


def test_drop_a_palette_item_onto_the_canvas(window):
    doc = window.document
    before = set(doc.graph.node_ids())
    at = window.view.viewport().rect().center()
    drop_layer(window, "Dropout", at)
    (added,) = set(doc.graph.node_ids()) - before
    assert doc.graph.type_of(added) == "Dropout"
    assert window.view.node_item(added) is not None
    x, y = doc.position(added)
    centre = window.view.mapToScene(at)
    assert abs(x - centre.x()) < 200 and abs(y - centre.y()) < 100
    assert window.actions["undo"].text() == "Undo Add Dropout"
    assert window.inspector.node_id == added  # the new node is selected


def test_palette_double_click_adds_after_the_selection(window):
    doc = window.document
    window.view.select_nodes(["out"])
    window.palette.tree.itemDoubleClicked.emit(window.palette.item_for("Dense"), 0)
    (new,) = window.view.selected_node_ids()
    assert doc.graph.type_of(new) == "Dense"
    assert doc.graph.inputs_of(new) == [(0, "out")]
    assert doc.position(new)[0] > doc.position("out")[0]
    assert window.view.visible_scene_rect().contains(
        window.view.node_item(new).sceneBoundingRect())  # scrolled into view
    window.actions["undo"].trigger()  # one step removes node and edge
    assert new not in doc.graph


def test_double_click_with_nothing_selected_continues_the_output(window):
    doc = window.document
    window.view.set_zoom(2.0)
    window.view.centerOn(window.view.node_item("input"))
    window.view.select_nodes([])
    window.palette.search.setText("softmax")
    window.palette.search.returnPressed.emit()
    (new,) = window.view.selected_node_ids()
    assert doc.graph.inputs_of(new) == [(0, "out")]
    assert doc.graph.params_of(new)["function"] == "softmax"
    assert window.view.visible_scene_rect().contains(
        window.view.node_item(new).sceneBoundingRect())


def test_double_click_on_a_node_inside_a_chain_inserts_into_it(window):
    doc = window.document
    window.view.select_nodes(["dense1"])
    window.palette.tree.itemDoubleClicked.emit(window.palette.item_for("Dropout"), 0)
    (new,) = window.view.selected_node_ids()
    assert doc.graph.inputs_of(new) == [(0, "dense1")]
    assert doc.graph.inputs_of("relu1") == [(0, new)]
    assert doc.analysis.ok and len(doc.graph.sinks()) == 1
    assert doc.position("relu1")[0] > doc.position(new)[0] > doc.position("dense1")[0]
    window.actions["undo"].trigger()
    assert doc.graph.inputs_of("relu1") == [(0, "dense1")]


def test_dropping_a_layer_on_a_connection_inserts_it(window):
    doc = window.document
    window.view.fit_all()
    edge = window.view.edge_item("relu1", "dense2")
    at = window.view.mapFromScene(edge.path().pointAtPercent(0.5))
    assert window.view.itemAt(at) is edge
    drop_layer(window, "Dropout", at)
    (new,) = window.view.selected_node_ids()
    assert doc.graph.type_of(new) == "Dropout"
    assert doc.graph.inputs_of(new) == [(0, "relu1")]
    assert doc.graph.inputs_of("dense2") == [(0, new)]
    assert window.actions["undo"].text() == "Undo Insert Dropout between relu1 and dense2"
    assert not edge.drop_target
    drop_layer(window, "Dropout", QPoint(5, 5))   # on empty canvas: added, not inserted
    assert len(doc.graph.sinks()) == 2


def test_inspector_edit_changes_the_shape_downstream(window):
    doc = window.document
    window.view.select_nodes(["dense1"])
    assert window.inspector.node_id == "dense1"
    window.inspector.fields["units"].editor.setValue(16)
    assert doc.analysis.shapes["relu1"] == (16,)
    assert window.view.edge_item("dense1", "relu1").label == "[16]"
    assert window.actions["undo"].text() == "Undo Change units of dense1"


def test_invalid_value_is_red_and_not_applied(window):
    doc = window.document
    window.view.select_nodes(["input"])
    field = window.inspector.fields["shape"]
    field.editor.setText("4, -2")
    field.editor.editingFinished.emit()
    assert "positive" in field.error
    assert doc.graph.params_of("input")["shape"] == [4]
    assert not window.isWindowModified()


def test_rename_with_a_duplicate_id_is_refused(window):
    doc = window.document
    window.view.select_nodes(["dense1"])
    edit = window.inspector.id_edit
    edit.setText("out")
    edit.editingFinished.emit()
    assert "already used" in window.inspector.id_error.text()
    assert doc.graph.type_of("out") == "Activation" and "dense1" in doc.graph
    edit.setText("hidden")
    edit.editingFinished.emit()
    assert "hidden" in doc.graph and window.view.node_item("hidden") is not None


def test_undo_redo_from_the_edit_menu(window):
    doc = window.document
    start = doc.graph.to_dict()
    new = doc.add_node("Dense", (0.0, 300.0))
    assert doc.connect("out", new)
    doc.set_param("dense1", "units", 20)
    doc.rename("relu1", "act")
    doc.disconnect("out", new)
    doc.paste(doc.fragment(["dense2"]), (0.0, 200.0))
    doc.remove_items(["dense2"])
    doc.move_nodes({"input": (-40.0, 20.0)})
    after = doc.graph.to_dict()
    undo, redo = window.actions["undo"], window.actions["redo"]
    edit_menu = window.menuBar().actions()[1].menu()
    assert undo in edit_menu.actions() and redo in edit_menu.actions()
    assert undo.text() == "Undo Move input"
    while undo.isEnabled():
        undo.trigger()
    assert doc.graph.to_dict() == start and not window.isWindowModified()
    assert redo.text() == "Redo Add Dense"
    while redo.isEnabled():
        redo.trigger()
    assert doc.graph.to_dict() == after


def test_copy_and_paste_with_offset(window):
    from designer.main_window import FRAGMENT_MIME

    doc = window.document
    window.view.select_nodes(["dense1", "relu1"])
    window.actions["copy"].trigger()
    mime = QApplication.clipboard().mimeData()
    fragment = json.loads(bytes(mime.data(FRAGMENT_MIME).data()).decode())
    assert [n["id"] for n in fragment["nodes"]] == ["dense1", "relu1"]
    window.actions["paste"].trigger()
    first = window.view.selected_node_ids()
    assert len(first) == 2 and not set(first) & {"dense1", "relu1"}
    a, b = first
    assert doc.graph.inputs_of(b) == [(0, a)]  # the inner edge came along
    assert doc.graph.params_of(a) == doc.graph.params_of("dense1")
    x0, y0 = doc.position("dense1")
    assert doc.position(a) == (x0, y0 + ROW_SPACING)  # a row below: not on the original
    window.actions["paste"].trigger()
    second = window.view.selected_node_ids()
    assert doc.position(second[0]) == (x0, y0 + 2 * ROW_SPACING)  # below the first copy
    cards = [window.view.node_item(n).sceneBoundingRect() for n in doc.graph.node_ids()]
    assert not any(p.intersects(q) for i, p in enumerate(cards) for q in cards[i + 1:])
    assert window.actions["undo"].text().startswith("Undo Paste")


def test_cut_then_paste_puts_nodes_back(window):
    doc = window.document
    window.view.select_nodes(["out"])
    position = doc.position("out")
    window.actions["cut"].trigger()
    assert "out" not in doc.graph
    window.actions["paste"].trigger()
    assert "out" in doc.graph and doc.position("out") == position


def test_duplicate_delete_and_select_all(window):
    doc = window.document
    window.view.select_nodes(["dense2"])
    window.actions["duplicate"].trigger()
    (copy,) = window.view.selected_node_ids()
    assert doc.graph.type_of(copy) == "Dense"
    assert not window.view.node_item(copy).sceneBoundingRect().intersects(
        window.view.node_item("dense2").sceneBoundingRect())
    window.actions["delete"].trigger()
    assert copy not in doc.graph
    window.actions["select_all"].trigger()
    assert window.view.selected_node_ids() == doc.graph.node_ids()


def test_save_and_reopen_from_the_file_menu(window, dialogs, tmp_path):
    doc = window.document
    doc.move_nodes({"dense1": (260.0, 80.0)})
    dialogs.paths.append(str(tmp_path / "mlp.json"))
    window.actions["save_as"].trigger()
    assert window.windowTitle().startswith("Small MLP — mlp.json[*]")
    assert not window.isWindowModified()
    saved = doc.graph.to_dict()
    window.actions["new"].trigger()
    assert len(doc.graph) == 0
    dialogs.paths.append(str(tmp_path / "mlp.json"))
    window.actions["open"].trigger()
    assert doc.graph.to_dict() == saved
    window._fill_recent_menu()
    texts = [a.text() for a in window.recent_menu.actions()]
    assert any("mlp.json" in t for t in texts)


def test_open_a_broken_file_keeps_the_current_graph(window, dialogs, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "nnengine.graph", "version": 1, "nodes": [')
    before = window.document.graph.to_dict()
    dialogs.paths.append(str(broken))
    window.actions["open"].trigger()
    assert dialogs.kinds() == ["open", "critical"]
    assert window.document.graph.to_dict() == before
    assert window.windowTitle().startswith("Small MLP")


def test_unsaved_changes_prompt_on_close(window, dialogs):
    window.document.set_param("dense1", "units", 3)
    dialogs.answers.append(B.Cancel)
    assert not window.close()
    assert window.isVisible()
    dialogs.answers.append(B.Discard)
    assert window.close()


def test_recover_from_an_autosave_file(window, settings, tmp_path, dialogs, qtbot):
    from designer.main_window import MainWindow

    window.document.set_param("dense1", "units", 21)
    assert window.files.autosaver.save_now()
    lost = window.document.graph.to_dict()
    # A second start with the same data folder finds the leftover file.
    second = MainWindow(settings=settings, recovery_dir=tmp_path / "data")
    qtbot.addWidget(second)
    dialogs.answers.append(B.Yes)
    assert second.files.offer_recovery()
    assert second.document.graph.to_dict() == lost
    assert second.isWindowModified()
    second.document.undo_stack.setClean()


def test_every_template_opens_without_a_problem(window):
    from designer.lessons import load_cards

    for template in load_cards():
        assert window.files.new(template.graph())
        doc = window.document
        assert doc.analysis.problems == [], template.title
        assert doc.path is None  # a template is never overwritten by Save
        assert all(window.view.node_item(n) is not None for n in doc.graph.node_ids())
        assert window.windowTitle().startswith(template.title)


def test_new_from_template_dialog(window, monkeypatch):
    from designer.gallery import TemplateGallery

    def accept(dialog):
        dialog.select("xor.json")
        return TemplateGallery.DialogCode.Accepted

    monkeypatch.setattr(TemplateGallery, "exec", accept)
    window.actions["template"].trigger()
    assert window.document.graph.name == "XOR with one hidden layer"
    # the card's lesson beside the canvas, while the card is open
    assert window.lesson_dock.isVisible()
    text = window.lesson.toPlainText()
    assert "XOR with one hidden layer" in text and "Lesson" in text and "Look at" in text
    assert "smallest multilayer perceptron" in text
    window.files.new()  # another graph: no lesson for it
    assert "No lesson is open" in window.lesson.toPlainText()


def test_window_layout_is_remembered(window, settings, tmp_path, qtbot):
    from designer.main_window import MainWindow

    window.inspector_dock.hide()
    window.removeDockWidget(window.palette_dock)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, window.palette_dock)
    window.palette_dock.show()
    window.resize(720, 540)  # within the offscreen screen, which restoreGeometry respects
    assert window.close()
    again = MainWindow(settings=settings, recovery_dir=tmp_path / "data")
    qtbot.addWidget(again)
    again.show()
    assert again.inspector_dock.isHidden()
    assert again.dockWidgetArea(again.palette_dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert (again.width(), again.height()) == (720, 540)


def test_standard_shortcuts(window):
    keys = {k: a.shortcut().toString() for k, a in window.actions.items()}
    assert keys["new"] == "Ctrl+N" and keys["open"] == "Ctrl+O" and keys["save"] == "Ctrl+S"
    assert keys["save_as"] == "Ctrl+Shift+S" and keys["undo"] == "Ctrl+Z"
    assert keys["redo"] == "Ctrl+Y" and keys["copy"] == "Ctrl+C" and keys["paste"] == "Ctrl+V"
    assert keys["cut"] == "Ctrl+X" and keys["duplicate"] == "Ctrl+D"
    assert keys["delete"] == "Del" and keys["fit"] == "F"


def test_typing_in_the_inspector_does_not_trigger_window_shortcuts(window, qtbot):
    doc = window.document
    window.view.select_nodes(["dense1"])
    edit = window.inspector.id_edit
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    for key in (Qt.Key.Key_Backspace, Qt.Key.Key_Delete, Qt.Key.Key_F):
        qtbot.keyClick(edit, key)
    assert "dense1" in doc.graph  # Delete/Backspace edited the text, not the graph
    assert edit.text() == "densef"
    edit.setText("dense1")  # leaving the field would rename the node
    units = window.inspector.fields["units"].editor
    units.setFocus()
    qtbot.waitUntil(units.hasFocus)
    qtbot.keyClick(units, Qt.Key.Key_Backspace)
    assert doc.graph.node_ids() == ["input", "dense1", "relu1", "dense2", "out"]


def test_delete_shortcut_on_the_canvas(window, qtbot):
    window.view.select_nodes(["relu1"])
    window.view.setFocus()
    qtbot.waitUntil(window.view.hasFocus)
    qtbot.keyClick(window.view, Qt.Key.Key_Delete)
    assert "relu1" not in window.document.graph
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "relu1" in window.document.graph


def test_locked_document_makes_the_inspector_read_only(window):
    window.view.select_nodes(["dense1"])
    window.document.locked = True
    assert not window.inspector.fields["units"].editor.isEnabled()
    window.document.locked = False
    assert window.inspector.fields["units"].editor.isEnabled()


def test_main_opens_a_file_or_the_example(monkeypatch, tmp_path, qapp, dialogs):
    """`nn-designer FILE` and plain `nn-designer`, with the event loop stubbed out."""
    import sys

    from PySide6.QtCore import QSettings

    import nnengine
    from designer import app as app_module
    from designer import main_window

    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "config"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "config"))
    monkeypatch.setenv("NN_DESIGNER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    windows = []
    original = main_window.MainWindow

    def remember(*args, **kwargs):
        windows.append(original(*args, **kwargs))
        return windows[-1]

    monkeypatch.setattr(main_window, "MainWindow", remember)
    monkeypatch.setattr(type(qapp), "exec", lambda self: 0)
    path = tmp_path / "mine.json"
    graph = mlp_graph()
    nnengine.save_graph(graph, path)
    assert app_module.main([str(path)]) == 0
    assert windows[-1].document.graph.to_dict() == graph.to_dict()
    assert windows[-1].document.path == path
    assert app_module.main([]) == 0
    assert windows[-1].document.graph.name == "CNN on digits"
    assert qapp.organizationName() == app_module.ORGANIZATION
    assert str(tmp_path / "config") in QSettings().fileName()
    for w in windows:
        w.close()
