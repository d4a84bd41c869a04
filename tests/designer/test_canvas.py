"""The canvas with a real CanvasView (pytest-qt, offscreen): drops, connect-drags, refusals,
moves, Delete, problem badges, edge labels and repairs through the badge."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

import nnengine as nn
from designer.canvas.view import CanvasView
from designer.document import GraphDocument
from designer.palette import LAYER_MIME

from .conftest import big_chain, chain
from .qt_events import send_drop

LEFT = Qt.MouseButton.LeftButton
NO_MOD = Qt.KeyboardModifier.NoModifier


@pytest.fixture
def make_view(qtbot):
    def make(graph: nn.Graph | None = None) -> CanvasView:
        doc = GraphDocument(graph if graph is not None else nn.Graph("empty"))
        view = CanvasView(doc)
        qtbot.addWidget(view)
        view.resize(1000, 640)
        view.show()
        qtbot.waitExposed(view)
        view.set_zoom(1.0)
        return view

    return make


def at(view: CanvasView, scene_point: QPointF) -> QPoint:
    return view.mapFromScene(scene_point)


def drag(qtbot, view: CanvasView, start: QPointF, end: QPointF, steps: int = 6) -> None:
    """Press at scene point `start`, move in steps, release at `end` (scene points)."""
    vp = view.viewport()
    a, b = at(view, start), at(view, end)
    qtbot.mousePress(vp, LEFT, NO_MOD, a)
    for i in range(1, steps + 1):
        qtbot.mouseMove(vp, a + (b - a) * i / steps)
    qtbot.mouseRelease(vp, LEFT, NO_MOD, b)


def two_unconnected() -> nn.Graph:
    g = nn.Graph("two")
    g.add_node("input", "Input", {"shape": [4]}, (0, 0))
    g.add_node("dense1", "Dense", {"units": 3}, (320, 100))
    return g


def drop_layer(view: CanvasView, type_name: str, pos: QPoint) -> QDropEvent:
    mime = QMimeData()
    mime.setData(LAYER_MIME, type_name.encode())
    return send_drop(view.viewport(), mime, pos)


def test_drop_of_palette_item_adds_node_there(make_view):
    view = make_view(two_unconnected())
    drop_at = QPoint(700, 450)
    assert drop_layer(view, "Dropout", drop_at).isAccepted()
    doc = view.document
    assert doc.graph.type_of("dropout1") == "Dropout"
    item = view.node_item("dropout1")
    assert item.sceneBoundingRect().contains(view.mapToScene(drop_at))
    x, y = doc.position("dropout1")
    assert x % 20 == 0 and y % 20 == 0  # snapped to the grid
    assert view.selected_node_ids() == ["dropout1"]
    assert doc.undo_stack.undoText() == "Add Dropout"


def test_mouse_drag_from_output_to_input_connects(make_view, qtbot):
    view = make_view(two_unconnected())
    src = view.node_item("input").output_port
    dst = view.node_item("dense1").input_ports[0]
    drag(qtbot, view, src.scenePos(), dst.scenePos())
    assert view.document.graph.inputs_of("dense1") == [(0, "input")]
    edge = view.edge_item("input", "dense1")
    assert edge is not None and edge.label == "[4]"
    assert view.document.analysis.ok


def test_drag_that_would_close_a_cycle_is_refused(make_view, qtbot):
    g = chain("cycle", [("input", "Input", {"shape": [4]}), ("cat", "Concatenate", {}),
                        ("dense1", "Dense", {"units": 4})])
    view = make_view(g)
    messages: list[str] = []
    view.status_message.connect(messages.append)
    before = view.document.graph.to_dict()
    cat = view.node_item("cat")
    assert len(cat.input_ports) == 2  # connected + one free port
    drag(qtbot, view, view.node_item("dense1").output_port.scenePos(),
         cat.input_ports[1].scenePos())
    assert view.document.graph.to_dict() == before
    assert messages and "cycle" in messages[-1]


def test_drag_onto_occupied_port_is_refused(make_view, qtbot):
    g = chain("chain", [("input", "Input", {"shape": [4]}), ("dense1", "Dense", {"units": 4})])
    g.add_node("other", "Input", {"shape": [4]}, (0, 300))
    view = make_view(g)
    messages: list[str] = []
    view.status_message.connect(messages.append)
    drag(qtbot, view, view.node_item("other").output_port.scenePos(),
         view.node_item("dense1").input_ports[0].scenePos())
    assert view.document.graph.inputs_of("dense1") == [(0, "input")]
    assert "already taken" in messages[-1]


def test_move_is_one_undo_step_and_snaps(make_view, qtbot):
    view = make_view(two_unconnected())
    doc = view.document
    item = view.node_item("dense1")
    grab = item.scenePos() + QPointF(100, 12)  # on the header
    drag(qtbot, view, grab, grab + QPointF(93, 47), steps=8)
    assert doc.position("dense1") == (420.0, 140.0)
    assert item.pos() == QPointF(420, 140)
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert doc.position("dense1") == (320.0, 100.0)
    assert item.pos() == QPointF(320, 100)


def test_edges_follow_moves(make_view, qtbot):
    view = make_view(chain("c", [("input", "Input", {"shape": [4]}),
                                 ("dense1", "Dense", {"units": 4})]))
    view.document.move_nodes({"dense1": (600, 300)})
    edge = view.edge_item("input", "dense1")
    end = edge.path().pointAtPercent(1.0)
    assert end == view.node_item("dense1").input_ports[0].scenePos()


def test_delete_key_removes_selection(make_view, qtbot):
    view = make_view(chain("c", [("input", "Input", {"shape": [4]}),
                                 ("dense1", "Dense", {"units": 4})]))
    view.select_nodes(["dense1"])
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert "dense1" not in view.document.graph
    assert view.node_item("dense1") is None and view.edge_item("input", "dense1") is None
    view.document.undo_stack.undo()
    assert view.node_item("dense1") is not None
    assert view.edge_item("input", "dense1") is not None


def test_rubber_band_selects_nodes(make_view, qtbot):
    view = make_view(two_unconnected())
    drag(qtbot, view, QPointF(-60, -60), QPointF(700, 400))
    assert view.selected_node_ids() == ["input", "dense1"]


def needs_flatten_graph() -> nn.Graph:
    return chain("flat", [("input", "Input", {"shape": [1, 8, 8]}),
                          ("dense1", "Dense", {"units": 10})])


def test_problem_badge_has_message_as_tooltip(make_view):
    view = make_view(needs_flatten_graph())
    badge = view.node_item("dense1").badge
    assert badge.isVisible()
    assert "Dense needs a flat input" in badge.toolTip()
    assert not view.node_item("input").badge.isVisible()


def test_edge_label_shows_the_shape(make_view):
    view = make_view(needs_flatten_graph())
    assert view.edge_item("input", "dense1").label == "[1, 8, 8]"


def test_repair_through_the_badge_and_undo(make_view, qtbot):
    view = make_view(needs_flatten_graph())
    doc = view.document
    before = doc.graph.to_dict()
    badge = view.node_item("dense1").badge
    qtbot.mouseClick(view.viewport(), LEFT, NO_MOD, at(view, badge.scenePos()))
    menu = view.repair_menu
    assert menu is not None
    action = next(a for a in menu.actions() if a.text().startswith("Insert a Flatten"))
    action.trigger()
    menu.close()
    assert doc.analysis.ok
    assert not view.node_item("dense1").badge.isVisible()
    assert view.edge_item("flatten1", "dense1").label == "[64]"
    doc.undo_stack.undo()
    assert doc.graph.to_dict() == before
    assert view.node_item("flatten1") is None
    assert view.node_item("dense1").badge.isVisible()


def test_variadic_merge_node_grows_a_free_port(make_view):
    g = nn.Graph("merge")
    for i in range(3):
        g.add_node(f"in{i}", "Input", {"shape": [2]}, (0, i * 200))
    g.add_node("add", "Add", {}, (300, 0))
    view = make_view(g)
    doc = view.document
    assert len(view.node_item("add").input_ports) == 2
    doc.connect("in0", "add", 0)
    doc.connect("in1", "add", 1)
    assert len(view.node_item("add").input_ports) == 3
    doc.connect("in2", "add", 2)
    assert len(view.node_item("add").input_ports) == 4
    doc.undo_stack.undo()
    assert len(view.node_item("add").input_ports) == 3


def test_new_graph_without_positions_is_laid_out_and_fitted(make_view):
    view = make_view()
    g = big_chain(9)
    view.document.new(g)
    items = [view.node_item(n) for n in g.node_ids()]
    xs = [i.pos().x() for i in items]
    assert xs == sorted(xs)
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert all(visible.contains(i.sceneBoundingRect()) for i in items)


def test_one_edit_on_300_nodes_updates_the_canvas(make_view):
    view = make_view(big_chain(300))
    view.document.set_param("dense1", "units", 17)
    assert view.edge_item("dense1", "relu2").label == "[17]"


def test_wheel_zooms_around_the_cursor(make_view):
    view = make_view(two_unconnected())
    cursor = QPoint(600, 300)
    under = view.mapToScene(cursor)
    wheel = QWheelEvent(QPointF(cursor), QPointF(view.viewport().mapToGlobal(cursor)),
                        QPoint(0, 0), QPoint(0, 240), Qt.MouseButton.NoButton, NO_MOD,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.zoom() > 1.3  # two wheel notches
    after = view.mapToScene(cursor)
    assert abs(after.x() - under.x()) < 2 and abs(after.y() - under.y()) < 2


def test_middle_button_drag_pans(make_view, qtbot):
    view = make_view(two_unconnected())
    vp = view.viewport()
    before = view.mapToScene(QPoint(500, 300))
    qtbot.mousePress(vp, Qt.MouseButton.MiddleButton, NO_MOD, QPoint(500, 300))
    qtbot.mouseMove(vp, QPoint(400, 250))
    qtbot.mouseRelease(vp, Qt.MouseButton.MiddleButton, NO_MOD, QPoint(400, 250))
    after = view.mapToScene(QPoint(500, 300))
    assert (after.x() - before.x(), after.y() - before.y()) == (100, 50)
    assert view.document.undo_stack.count() == 0


def test_scene_follows_rename_and_undo(make_view):
    view = make_view(chain("c", [("input", "Input", {"shape": [4]}),
                                 ("dense1", "Dense", {"units": 4})]))
    doc = view.document
    doc.rename("dense1", "hidden")
    item = view.node_item("hidden")
    assert item is not None and item.node_id == "hidden" and view.node_item("dense1") is None
    assert view.edge_item("input", "hidden") is not None
    doc.undo_stack.undo()
    assert view.node_item("dense1") is item and view.edge_item("input", "dense1") is not None
