"""The backprop tools through the real window: the stepper steps by keyboard and shows
values then gradients on the canvas's edges, one SGD step lowers the sample's loss without
touching the graph; the gradient check, the learning-rate finder and the initialisation
preview run off the GUI thread and show their results; the finder's rate is one undoable
edit; each tool is in the node's context menu."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QContextMenuEvent

from designer.backprop.stepper import StepperSession
from nnengine.tools import BackwardEvent, ForwardEvent

from .shell_fixtures import *

WAIT = 20000


def started_stepper(window, qtbot):
    tools = window.backprop_tools
    window.actions["stepper"].trigger()
    panel = tools.stepper
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.session is not None, timeout=WAIT)
    return panel


def test_stepper_walks_forward_then_backward_by_keyboard(window, qtbot):
    panel = started_stepper(window, qtbot)
    assert window.backprop_tools.stepper_dock.isVisible()
    events = panel.session.events
    assert panel.position == 0 and "Forward: input" in panel.text.toPlainText()
    qtbot.keyClick(panel, Qt.Key.Key_Right)
    qtbot.keyClick(panel, Qt.Key.Key_Right)
    assert panel.position == 2 and events[2].node_id == "relu1"
    assert "relu: y = max(0, x)" in panel.text.toPlainText()
    tags = panel.overlay.tags()  # input→dense1 and dense1→relu1 carry values by now
    assert len(tags) == 2 and not any(t.gradient for t in tags)
    qtbot.keyClick(panel, Qt.Key.Key_End)
    assert isinstance(events[panel.position], BackwardEvent)
    assert "backprop stops here" in panel.text.toPlainText()
    tags = panel.overlay.tags()
    assert len(tags) == 4 and all(t.gradient for t in tags)  # every edge carries a gradient
    qtbot.keyClick(panel, Qt.Key.Key_Home)
    assert panel.position == 0 and not panel.buttons["back"].isEnabled()


def test_stepper_numbers_are_the_models_for_that_sample(window, qtbot):
    panel = started_stepper(window, qtbot)
    s = panel.session
    seen = s.model.inspect(s.xs, s.targets, s.loss)
    for e in s.events:
        if isinstance(e, ForwardEvent):
            np.testing.assert_array_equal(e.output, seen[e.node_id]["activation"])


def test_one_sgd_step_lowers_the_samples_loss_and_leaves_the_graph_alone(window, qtbot):
    panel = started_stepper(window, qtbot)
    before = window.document.graph.to_dict()
    panel.lr_box.setValue(0.05)
    qtbot.mouseClick(panel.sgd_button, Qt.MouseButton.LeftButton)
    text = panel.text.toPlainText()
    assert text.startswith("One SGD step at rate 0.05: loss")
    first, after = (float(v) for v in text.split("\n")[0].split("loss ")[1].split(" → "))
    assert after < first
    assert "dense1/W: ‖Δ‖" in text
    assert window.document.graph.to_dict() == before


def test_typed_values_are_traced(window, qtbot):
    window.actions["stepper"].trigger()
    panel = window.backprop_tools.stepper
    qtbot.keyClicks(panel.typed_x, "5.1, 3.5, 1.4, 0.2")
    qtbot.keyClicks(panel.typed_t, "0")
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.session is not None, timeout=WAIT)
    assert panel.session.xs[0].tolist() == [[5.1, 3.5, 1.4, 0.2]] or np.allclose(
        panel.session.xs[0], [[5.1, 3.5, 1.4, 0.2]])


def test_typed_values_of_the_wrong_size_get_a_sentence(window, qtbot):
    window.actions["stepper"].trigger()
    panel = window.backprop_tools.stepper
    qtbot.keyClicks(panel.typed_x, "1, 2")
    qtbot.keyClicks(panel.typed_t, "0")
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "needs 4 values, received 2" in panel.weights_label.text(),
                    timeout=WAIT)
    assert panel.session is None


def test_gradient_check_dialog_shows_a_verdict_per_weight(window, qtbot):
    dialog = window.backprop_tools.gradient_check("dense1")
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=WAIT)
    rows = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert rows == ["dense1/W", "dense1/b"]
    assert all(dialog.table.item(r, 3).text().startswith("pass")
               for r in range(dialog.table.rowCount()))
    assert dialog.summary.text().startswith("Backprop agrees")
    dialog.close()


def test_lr_finder_marks_a_rate_and_sets_it_undoably(window, qtbot):
    dialog = window.backprop_tools.find_learning_rate()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=WAIT)
    rate = dialog.result.suggestion
    assert rate is not None and dialog.marker.isVisible()
    x, _ = dialog.curve.getData()
    assert len(x) == len(dialog.result.losses)
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    doc = window.document
    assert doc.graph.training["optimizer"]["learning_rate"] == float(f"{rate:.2g}")
    doc.undo_stack.undo()
    assert "optimizer" not in (doc.graph.training or {})


def test_init_preview_follows_an_activation_change(window, qtbot):
    tools = window.backprop_tools
    window.actions["init_preview"].trigger()
    preview = tools.init_preview
    qtbot.waitUntil(lambda: len(preview.rows) == 4, timeout=WAIT)
    assert [r.node_id for r in preview.rows] == ["dense1", "relu1", "dense2", "out"]
    assert preview.rows[1].dead_share is not None
    window.document.set_param("relu1", "function", "sigmoid")
    qtbot.waitUntil(lambda: preview.rows and preview.rows[1].function == "sigmoid",
                    timeout=WAIT)
    assert preview.rows[1].saturated_share is not None and preview.rows[1].dead_share is None


def test_each_tool_is_in_the_nodes_context_menu(window, qtbot):
    view = window.view
    item = view.node_item("dense1")
    pos = view.mapFromScene(item.sceneBoundingRect().center())
    view.contextMenuEvent(QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos,
                                            view.mapToGlobal(pos)))
    texts = [a.text() for a in view.repair_menu.actions()]
    view.repair_menu.close()
    assert "Gradient Check of dense1…" in texts
    assert "Find Learning Rate…" in texts and "Initialisation Preview" in texts
    train_menu = window.backprop_tools.menu
    assert window.actions["gradient_check"] in train_menu.actions()


def test_session_runs_without_a_window():
    from designer.backprop.context import build_context
    from tests.designer.shell_fixtures import mlp_graph as graph

    session = StepperSession(build_context(graph()), "test", 3)
    assert isinstance(session.events[0], ForwardEvent)


def test_tools_use_the_trained_weights_once_a_run_has_finished(window, qtbot):
    from designer.training.states import TrainingState

    window.document.set_training({"dataset": "iris", "epochs": 3, "seed": 0})
    controller = window.training
    window.actions["train"].trigger()
    assert controller.wait(120_000) and controller.state == TrainingState.FINISHED
    panel = started_stepper(window, qtbot)
    assert "the weights of run" in panel.weights_label.text()
    trained = controller.current_weights()
    for key, w in panel.session.context.model.weights.items():
        np.testing.assert_array_equal(w, trained[key])


def test_a_sample_clicked_in_the_confusion_matrix_is_traced(window, qtbot):
    window.actions["stepper"].trigger()
    panel = window.backprop_tools.stepper
    window.dashboard.sample_chosen.emit(7)
    qtbot.waitUntil(lambda: panel.session is not None, timeout=WAIT)
    assert panel.split_box.currentData() == "test" and panel.index_box.value() == 7
    s = panel.session
    xs_all = s.model.as_inputs(s.context.dataset.x_test)
    np.testing.assert_array_equal(s.xs[0], xs_all[0][7:8])


def test_the_tools_wait_while_a_run_is_going(window, qtbot):
    from designer.training.states import TrainingState

    window.document.set_training({"dataset": "iris", "epochs": 200, "seed": 0})
    controller = window.training
    window.actions["train"].trigger()
    qtbot.waitUntil(lambda: controller.state == TrainingState.RUNNING, timeout=WAIT)
    assert not window.actions["gradient_check"].isEnabled()
    assert window.actions["stepper"].toolTip() == "Stop or finish the run first"
    window.actions["stop"].trigger()
    assert controller.wait(60_000)
    assert window.actions["gradient_check"].isEnabled()
