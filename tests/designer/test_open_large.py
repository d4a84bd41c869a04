"""Opening a large graph keeps the window responsive: the file is read, laid out and
analysed off the GUI thread, then drawn a slice at a time with the progress dialog up, and
Cancel at any point keeps the graph that was open; on the large canvas, select all, moves
and their undo stay cheap."""
from __future__ import annotations

import threading

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressDialog, QPushButton

import nnengine

from .conftest import big_chain
from .shell_fixtures import *


def _cancel_button(window) -> QPushButton:
    dialog = window.findChildren(QProgressDialog)[0]
    assert dialog.isVisible()
    return next(b for b in dialog.findChildren(QPushButton) if b.text() == "Cancel")


def _watch_drawing(window, monkeypatch, on_step=None):
    """Draw one item per slice with the dialog up at once; record each step's dialog text
    and call `on_step(n)` after step n."""
    from designer import files

    monkeypatch.setattr(files, "SLICE_S", 0.0)
    monkeypatch.setattr(files, "SHOW_PROGRESS_AFTER_MS", 0)
    real = window.files.stage
    seen = []

    def stage(graph, analysis):
        for n, step in enumerate(real(graph, analysis), 1):
            yield step
            dialog = window.findChildren(QProgressDialog)
            seen.append(dialog[0].labelText() if dialog else None)
            if on_step is not None:
                on_step(n)

    window.files.stage = stage
    return seen


def test_a_large_graph_is_prepared_off_the_gui_thread_and_drawn_in_slices(
        window, tmp_path, monkeypatch):
    from designer import files

    threads = []
    real_prepare = files.prepare

    def prepare(graph):
        threads.append(threading.current_thread())
        return real_prepare(graph)

    monkeypatch.setattr(files, "prepare", prepare)
    seen = _watch_drawing(window, monkeypatch)
    path = tmp_path / "big.json"
    graph = big_chain(60)
    nnengine.save_graph(graph, path)
    assert window.files.open_path(path)
    assert threads and threads[0] is not threading.main_thread()
    assert len(seen) == 60 + 59                 # every node and edge, one step each
    assert seen[0] == "Drawing “big.json”: 0 %…" and seen[-1] == "Drawing “big.json”: 100 %…"
    scene = window.view.scene()
    assert set(scene.nodes) == set(graph.node_ids()) and len(scene.edges) == 59
    assert all(item.scene() is scene for item in scene.nodes.values())
    assert scene.edge_item("input", "dense1").label == "[16]"
    assert scene.node_item("dense59").view.params_text == "272 params"
    assert not any(d.isVisible() for d in window.findChildren(QProgressDialog))


def test_cancel_while_drawing_keeps_the_graph_and_its_canvas(window, tmp_path, monkeypatch,
                                                            qtbot):
    window.files.new(mlp_graph())
    scene = window.view.scene()
    before, items = window.document.graph.to_dict(), dict(scene.nodes)
    window.document.set_param("dense1", "units", 9)      # unsaved work must survive

    def press_cancel(step):
        if step == 30:
            qtbot.mouseClick(_cancel_button(window), Qt.MouseButton.LeftButton)

    seen = _watch_drawing(window, monkeypatch, on_step=press_cancel)
    path = tmp_path / "big.json"
    nnengine.save_graph(big_chain(60), path)
    assert not window.files.open_path(path)
    assert 30 <= len(seen) < 60                 # stopped soon after Cancel
    doc = window.document
    assert doc.graph.params_of("dense1")["units"] == 9 and doc.is_modified
    assert {k: v for k, v in doc.graph.to_dict().items() if k != "nodes"} == \
        {k: v for k, v in before.items() if k != "nodes"}
    assert scene.nodes == items and all(i.scene() is scene for i in items.values())
    assert scene._staged is None                # nothing drawn ahead is kept
    assert doc.path is None and window.files.recent.paths() == []
    doc.undo_stack.undo()
    assert doc.graph.params_of("dense1")["units"] == 8


def test_an_error_while_drawing_is_one_sentence_and_keeps_the_graph(window, tmp_path,
                                                                    monkeypatch, dialogs):
    window.files.new(mlp_graph())

    def broken(step):
        if step == 5:
            raise ValueError("the drawing failed on purpose")

    _watch_drawing(window, monkeypatch, on_step=broken)
    path = tmp_path / "big.json"
    nnengine.save_graph(big_chain(20), path)
    assert not window.files.open_path(path)
    assert "the drawing failed on purpose" in dialogs.texts().lower()
    assert window.document.graph.name == "Small MLP"
    assert set(window.view.scene().nodes) == set(window.document.graph.node_ids())


def test_select_all_on_a_large_canvas_is_announced_once(window):
    window.files.new(big_chain(400))
    announced = []
    window.view.selection_changed.connect(announced.append)
    window.select_all()
    assert len(announced) == 1 and len(announced[0]) == 400
    assert window.inspector.isEnabled()


def test_a_move_keeps_the_analysis_and_its_undo_restores_positions(window):
    window.files.new(big_chain(50))
    doc = window.document
    analysis = doc.analysis
    refreshed = []
    doc.analysis_changed.connect(lambda: refreshed.append(1))
    start = {n: doc.position(n) for n in doc.graph.node_ids()}
    doc.move_nodes({n: (x + 40, y) for n, (x, y) in start.items()})
    item = window.view.node_item("dense7")
    assert item.pos().x() == start["dense7"][0] + 40
    doc.undo_stack.undo()
    assert {n: doc.position(n) for n in doc.graph.node_ids()} == start
    assert item.pos().x() == start["dense7"][0]
    assert doc.analysis is analysis and not refreshed   # positions are not analysed
    doc.set_param("dense1", "units", 3)                 # an edit is
    assert doc.analysis is not analysis and refreshed
