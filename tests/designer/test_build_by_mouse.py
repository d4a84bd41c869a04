"""Issue 4's "done when", as a user does it: on the real main window, from File ▸ New, build
the digits CNN with the mouse (palette drops, port drags, clicks and typing in the
inspector), check it, save it, open it again and find it unchanged, then train it briefly.

Everything goes through real widgets and real mouse/keyboard events on them (offscreen);
only the file dialogs are answered by the `dialogs` fixture.
"""
from __future__ import annotations

from itertools import pairwise

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QMenu,
    QStyle,
    QStyleOptionComboBox,
    QTabBar,
    QToolButton,
    QWidget,
)

import nnengine

from .qt_events import send_drop
from .shell_fixtures import *

LEFT = Qt.MouseButton.LeftButton
NO_MOD = Qt.KeyboardModifier.NoModifier
CTRL = Qt.KeyboardModifier.ControlModifier

# (type, centre of the drop in scene coordinates at the zoom used below): three rows, the
# chain snaking left to right.
LAYERS = [
    ("Input", (-450, -300)), ("Conv2D", (-150, -300)), ("Activation", (150, -300)),
    ("MaxPool2D", (450, -300)),
    ("Conv2D", (-450, -40)), ("Activation", (-150, -40)), ("MaxPool2D", (150, -40)),
    ("Flatten", (450, -40)),
    ("Dense", (-450, 220)), ("Activation", (-150, 220)),
]

# What each node must end up as (catalogue defaults filled in): the digits CNN of
# resources/templates/digits_cnn.json with half its filters.
EXPECTED = [
    ("Input", {"shape": [1, 8, 8]}),
    ("Conv2D", {"filters": 16, "kernel_size": 3, "padding": "same"}),
    ("Activation", {"function": "relu"}),
    ("MaxPool2D", {"pool_size": 2}),
    ("Conv2D", {"filters": 32, "kernel_size": 3, "padding": "same"}),
    ("Activation", {"function": "relu"}),
    ("MaxPool2D", {"pool_size": 2}),
    ("Flatten", {}),
    ("Dense", {"units": 10}),
    ("Activation", {"function": "softmax"}),
]
# conv 1·16·9+16, conv 16·32·9+32, dense (32·2·2)·10+10
PARAMETERS = 160 + 4640 + 1290


# --- the user's hands --------------------------------------------------------------------
def click(qtbot, widget: QWidget, pos: QPoint | None = None) -> None:
    qtbot.mouseClick(widget, LEFT, NO_MOD, pos if pos is not None else widget.rect().center())


def click_tool(qtbot, window, key: str) -> None:
    """Click the tool-bar button of `window.actions[key]`."""
    button = window.tool_bar.widgetForAction(window.actions[key])
    assert isinstance(button, QToolButton) and button.isVisible() and button.isEnabled(), key
    click(qtbot, button)
    qtbot.wait(10)  # let what the action queued run, as the event loop would


def choose_menu(qtbot, window, menu_title: str, key: str) -> None:
    """Open a menu of the menu bar with a click and click one of its entries."""
    bar = window.menuBar()
    top = next(a for a in bar.actions() if a.text().replace("&", "") == menu_title)
    click(qtbot, bar, bar.actionGeometry(top).center())
    menu: QMenu = top.menu()
    qtbot.waitUntil(menu.isVisible)
    action = window.actions[key]
    rect = menu.actionGeometry(action)
    qtbot.mouseMove(menu, rect.center())
    click(qtbot, menu, rect.center())
    qtbot.waitUntil(lambda: not menu.isVisible())


def type_into(qtbot, editor: QWidget, text: str, finish: bool = True) -> None:
    """Click into a line edit or spin box, select what is there, type `text`, press Enter."""
    target = editor.lineEdit() if isinstance(editor, (QAbstractSpinBox, QComboBox)) \
        else editor
    assert isinstance(target, QLineEdit)
    click(qtbot, target)
    qtbot.waitUntil(target.hasFocus)
    qtbot.keyClick(target, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(target, text)
    if finish:
        qtbot.keyClick(target, Qt.Key.Key_Return)


def choose_in_combo(qtbot, combo: QComboBox, text: str) -> None:
    """Open the combo box's list with a click on its arrow and click the entry `text`."""
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    arrow = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                         QStyle.SubControl.SC_ComboBoxArrow, combo)
    click(qtbot, combo, arrow.center())
    view = combo.view()
    qtbot.waitUntil(view.isVisible)
    # Qt ignores a release in the list right after it opened (the end of the opening click).
    qtbot.wait(QApplication.doubleClickInterval() + 50)
    row = combo.findText(text)
    assert row >= 0, text
    index = combo.model().index(row, combo.modelColumn())
    view.scrollTo(index)
    centre = view.visualRect(index).center()
    qtbot.mouseMove(view.viewport(), centre)
    click(qtbot, view.viewport(), centre)
    qtbot.waitUntil(lambda: not view.isVisible())
    assert combo.currentText() == text


def drop_from_palette(window, type_name: str, scene_point: QPointF) -> None:
    """A palette entry dragged over the canvas and released at `scene_point`. The mime data
    is what the palette's own drag carries (`LayerTree.mimeData`)."""
    mime = window.palette.tree.mimeData([window.palette.item_for(type_name)])
    drop = send_drop(window.view.viewport(), mime, window.view.mapFromScene(scene_point))
    assert drop.isAccepted()


def drag_on_canvas(qtbot, view, start: QPointF, end: QPointF, steps: int = 8) -> None:
    """Press at scene point `start`, move there in steps, release at `end`."""
    vp = view.viewport()
    a, b = view.mapFromScene(start), view.mapFromScene(end)
    qtbot.mouseMove(vp, a)
    qtbot.mousePress(vp, LEFT, NO_MOD, a)
    for i in range(1, steps + 1):
        qtbot.mouseMove(vp, a + (b - a) * i / steps)
    qtbot.mouseRelease(vp, LEFT, NO_MOD, b)


def click_node(qtbot, window, node_id: str) -> None:
    """Click a node's header; the inspector then shows it."""
    view = window.view
    header = view.node_item(node_id).mapToScene(QPointF(60, 12))
    click(qtbot, view.viewport(), view.mapFromScene(header))
    assert view.selected_node_ids() == [node_id]
    assert window.inspector.node_id == node_id


def effective(doc, node_id: str) -> dict:
    """The node's parameters with the catalogue's defaults filled in."""
    return defaults(doc.graph.type_of(node_id)) | doc.graph.params_of(node_id)


def defaults(type_name: str) -> dict:
    return nnengine.layer_spec(type_name).defaults()


# --- the test ------------------------------------------------------------------------------
def test_build_the_digits_cnn_by_mouse_save_and_reopen(window, dialogs, qtbot, tmp_path):
    doc, view = window.document, window.view

    # 1. An empty canvas.
    click_tool(qtbot, window, "new")
    assert len(doc.graph) == 0 and doc.path is None
    click_tool(qtbot, window, "zoom_out")
    click_tool(qtbot, window, "zoom_out")  # room for ten nodes in three rows
    visible = view.mapToScene(view.viewport().rect()).boundingRect()

    # 2. Ten layers from the palette, each dropped where the pointer is.
    ids: list[str] = []
    for type_name, (x, y) in LAYERS:
        before = set(doc.graph.node_ids())
        drop_from_palette(window, type_name, QPointF(x, y))
        (new,) = set(doc.graph.node_ids()) - before
        ids.append(new)
        item = view.node_item(new)
        assert doc.graph.type_of(new) == type_name
        assert item.sceneBoundingRect().contains(QPointF(x, y)), (new, item.pos())
        assert visible.contains(item.sceneBoundingRect()), new
        assert view.selected_node_ids() == [new] and window.inspector.node_id == new
    assert [doc.graph.type_of(n) for n in ids] == [t for t, _ in LAYERS]

    # 3. Output port -> next node's input port, by dragging.
    for a, b in pairwise(ids):
        drag_on_canvas(qtbot, view, view.node_item(a).output_port.scenePos(),
                       view.node_item(b).input_ports[0].scenePos())
        assert doc.graph.inputs_of(b) == [(0, a)], window.statusBar().currentMessage()
        assert view.edge_item(a, b) is not None
    inp, conv1, _, _, conv2, _, _, _, dense, out = ids

    # 4. Parameters in the inspector, as typed and picked by the user.
    click_node(qtbot, window, inp)
    type_into(qtbot, window.inspector.fields["shape"].editor, "1, 8, 8")
    assert doc.graph.params_of(inp)["shape"] == [1, 8, 8]
    for conv, filters in ((conv1, "16"), (conv2, "32")):
        click_node(qtbot, window, conv)
        type_into(qtbot, window.inspector.fields["filters"].editor, filters)
        choose_in_combo(qtbot, window.inspector.fields["padding"].editor, "same")
        assert doc.graph.params_of(conv)["filters"] == int(filters)
        assert doc.graph.params_of(conv)["padding"] == "same"
    click_node(qtbot, window, dense)
    # typed without Enter: clicking the next node on the canvas commits it
    type_into(qtbot, window.inspector.fields["units"].editor, "10", finish=False)
    click_node(qtbot, window, out)
    assert doc.graph.params_of(dense)["units"] == 10
    choose_in_combo(qtbot, window.inspector.fields["function"].editor, "softmax")
    assert doc.graph.params_of(out)["function"] == "softmax"

    # 5. A valid graph with the digits CNN's shapes and parameter count.
    analysis = doc.analysis
    assert analysis.problems == []
    assert analysis.output_id == out and analysis.shapes[out] == (10,)
    assert analysis.shapes[conv1] == (16, 8, 8) and analysis.shapes[ids[7]] == (128,)
    assert [(doc.graph.type_of(n), effective(doc, n)) for n in ids] == [
        (t, defaults(t) | p) for t, p in EXPECTED]
    assert analysis.total_params == PARAMETERS
    assert f"{PARAMETERS:,} parameters" in window.summary_label.text()
    assert not any(view.node_item(n).badge.isVisible() for n in ids)
    assert view.edge_item(ids[7], dense).label == "[128]"
    assert window.isWindowModified()
    built = doc.graph.to_dict()

    # 6. Save As, start afresh, Open: the same graph, positions included.
    path = tmp_path / "my_cnn.json"
    dialogs.paths.append(str(path))
    choose_menu(qtbot, window, "File", "save_as")
    assert path.is_file() and doc.path == path and not window.isWindowModified()
    assert "my_cnn.json" in window.windowTitle()
    click_tool(qtbot, window, "new")
    assert len(doc.graph) == 0
    dialogs.paths.append(str(path))
    click_tool(qtbot, window, "open")
    assert dialogs.kinds() == ["save", "open"]
    assert doc.graph.to_dict() == built
    assert doc.path == path and not window.isWindowModified()
    assert doc.analysis.problems == [] and doc.analysis.total_params == PARAMETERS
    for n in ids:
        assert (view.node_item(n).x(), view.node_item(n).y()) == doc.position(n)
    assert all(view.edge_item(a, b) is not None for a, b in pairwise(ids))

    # 7. Train one epoch on digits from the Training panel; the loss curve gets points.
    tabs = next(t for t in window.findChildren(QTabBar)
                if "Training" in [t.tabText(i) for i in range(t.count())])
    training_tab = next(i for i in range(tabs.count()) if tabs.tabText(i) == "Training")
    click(qtbot, tabs, tabs.tabRect(training_tab).center())
    panel = window.training_panel
    qtbot.waitUntil(panel.isVisible)
    choose_in_combo(qtbot, panel.dataset, "digits")
    type_into(qtbot, panel.epochs, "1")
    assert doc.graph.training["dataset"] == "digits" and doc.graph.training["epochs"] == 1
    click(qtbot, panel.train_button)
    curve = window.dashboard.curves.loss_batch
    qtbot.waitUntil(lambda: curve.getData()[0] is not None and len(curve.getData()[0]) > 0,
                    timeout=60_000)
    assert window.training.wait(120_000), window.training.last_message
    window.dashboard.refresh_all()
    x, y = curve.getData()
    assert len(x) > 10 and np.all(np.isfinite(y))
    assert not doc.locked


def test_zoomed_out_ports_can_be_grabbed_a_few_pixels_off(window, qtbot):
    """At 40 % a port is 4 pixels wide; pressing and releasing near it still connects."""
    doc, view = window.document, window.view
    click_tool(qtbot, window, "new")
    for _ in range(4):
        click_tool(qtbot, window, "zoom_out")
    assert view.zoom() < 0.45
    drop_from_palette(window, "Input", QPointF(-300, 0))
    drop_from_palette(window, "Dense", QPointF(300, 60))
    src, dst = doc.graph.node_ids()
    where = doc.position(src)
    vp = view.viewport()
    a = view.mapFromScene(view.node_item(src).output_port.scenePos()) + QPoint(6, -5)
    b = view.mapFromScene(view.node_item(dst).input_ports[0].scenePos()) + QPoint(-7, 5)
    assert not isinstance(view.itemAt(a), type(view.node_item(src).output_port))
    qtbot.mouseMove(vp, a)
    qtbot.mousePress(vp, LEFT, NO_MOD, a)
    for i in range(1, 9):
        qtbot.mouseMove(vp, a + (b - a) * i / 8)
    qtbot.mouseRelease(vp, LEFT, NO_MOD, b)
    assert doc.graph.inputs_of(dst) == [(0, src)]
    assert doc.position(src) == where  # a connection, not a move
