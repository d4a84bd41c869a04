"""Runs through the real window: results belong to their graph, are kept, compared and saved.

The first four tests are the four failures of the issue, driven as a user would: another
document never shows a run's results; an edit never throws the weights away and exports
refuse while they do not fit; New, Open and quitting ask before trained weights are lost and
bundles open; runs are kept and compared.
"""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMessageBox

import nnengine as nn
import nnengine.project
from nnengine.run_card import graph_sha256

from .shell_fixtures import *

B = QMessageBox.StandardButton
TEMPLATES = Path(__file__).resolve().parents[2] / "resources" / "templates"


def template(name: str, **training) -> nn.Graph:
    data = json.loads((TEMPLATES / f"{name}.json").read_text())
    g = nn.Graph.from_dict({k: v for k, v in data.items() if k not in ("format", "version")})
    g.training = {**g.training, **training}
    return g


def xor_graph(**training) -> nn.Graph:
    """input [2] -> hidden (8) -> tanh -> dense (2) -> softmax, on xor (ids the tests use)."""
    g = nn.Graph("XOR", {"dataset": "xor", "loss": "cross_entropy", "batch_size": 16,
                         "optimizer": {"type": "adam", "learning_rate": 0.05},
                         "validation_split": 0.2, "seed": 0, **training})
    nodes = [("input", "Input", {"shape": [2]}), ("hidden", "Dense", {"units": 8}),
             ("tanh", "Activation", {"function": "tanh"}), ("dense", "Dense", {"units": 2}),
             ("softmax", "Activation", {"function": "softmax"})]
    for i, (n, t, p) in enumerate(nodes):
        g.add_node(n, t, p, (i * 260.0, 0.0))
        if i:
            g.add_edge(nodes[i - 1][0], n)
    return g


def open_graph(window, graph: nn.Graph) -> None:
    window.files.new(graph)


def train(window, qtbot) -> None:
    """Press Train and wait until the run has been recorded."""
    before = len(window.runs.store)
    window.actions["train"].trigger()
    assert window.training.wait(60_000)
    qtbot.waitUntil(lambda: len(window.runs.store) == before + 1, timeout=10_000)


def click_run(window, qtbot, run_id: str) -> None:
    """Click a run's name in the Runs panel (right of its tick box)."""
    table = window.runs.panel.table
    rect = table.visualItemRect(window.runs.panel.item(run_id))
    x = table.header().sectionViewportPosition(0) + 44
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(x, rect.center().y()))


def shown_texts(window) -> dict:
    """What the plots and panel say about results, as a user sees them."""
    d = window.dashboard
    return {"curves": d.curves.context.metrics is not None and len(d.curves.context.metrics),
            "epochs": d.curves.context.metrics.epochs if d.curves.context.metrics else [],
            "scrubber": d.scrubber.label.text(),
            "runs": window.runs.panel.table.topLevelItemCount(),
            "test": window.training.test_metrics}


# --- failure 1: another document never shows this one's results ---------------------------
def test_new_open_and_template_never_show_another_documents_run(window, qtbot, dialogs,
                                                                 tmp_path):
    open_graph(window, xor_graph(epochs=4))
    train(window, qtbot)
    assert window.training.test_metrics["accuracy"] is not None
    assert window.dashboard.scrubber.label.text() == "live · 4 epochs"
    dialogs.answers.append(B.Discard)        # the prompt about the unsaved run
    window.actions["new"].trigger()
    empty = shown_texts(window)
    assert empty["curves"] == 0 and empty["epochs"] == [] and empty["runs"] == 0
    assert empty["test"] is None and empty["scrubber"] == "no epochs yet"
    assert window.dashboard.context.points is None          # no XOR decision boundary
    assert window.training.model is None
    # the same after training again and opening a CNN graph file
    open_graph(window, xor_graph(epochs=3))
    train(window, qtbot)
    cnn = tmp_path / "cnn.json"
    nn.save_graph(template("digits_cnn"), cnn)
    dialogs.answers.append(B.Discard)
    dialogs.paths.append(str(cnn))
    window.actions["open"].trigger()
    assert window.document.graph.name == template("digits_cnn").name
    after = shown_texts(window)
    assert after["curves"] == 0 and after["runs"] == 0 and after["test"] is None
    assert window.dashboard.confusion.context.num_classes == 0   # no 2x2 XOR matrix


# --- failure 2: an edit never throws the weights away; exports refuse while stale ----------
def test_delete_then_undo_keeps_the_trained_weights(window, qtbot, dialogs, tmp_path):
    open_graph(window, xor_graph(epochs=6))
    train(window, qtbot)
    run = window.runs.store.shown
    trained = dict(run.weights)
    test = dict(window.training.test_metrics)
    doc = window.document
    window.view.select_nodes(["tanh"])
    window.actions["delete"].trigger()
    assert "tanh" not in doc.graph
    assert window.runs.banner.isVisible()
    assert "earlier version" in window.runs.banner.label.text()
    # Export and Evaluate refuse, saying why
    dialogs.paths.append(str(tmp_path / "w.npz"))
    window.actions["export_npz"].trigger()
    assert not (tmp_path / "w.npz").exists()
    assert dialogs.shown[-1][0] == "information" and "earlier version" in dialogs.shown[-1][2]
    window.actions["evaluate"].trigger()
    assert "earlier version" in dialogs.shown[-1][2]
    # the run and its weights are still there; undo makes them current again
    window.actions["undo"].trigger()
    assert not window.runs.banner.isVisible()
    assert window.runs.store.shown is run and window.training.has_weights
    dialogs.paths.append(str(tmp_path / "w.npz"))
    window.actions["export_npz"].trigger()
    exported = nn.load_weights(tmp_path / "w.npz")
    for key, value in trained.items():
        np.testing.assert_array_equal(exported[key], value)
    window.actions["evaluate"].trigger()
    assert window.training.test_metrics == test


def test_go_back_to_that_version_from_the_banner(window, qtbot):
    open_graph(window, xor_graph(epochs=3))
    train(window, qtbot)
    run = window.runs.store.shown
    doc = window.document
    doc.move_nodes({"hidden": (10.0, 300.0)})              # a move is not a new version
    assert not window.runs.banner.isVisible()
    doc.set_param("hidden", "units", 3)
    doc.move_nodes({"dense": (40.0, 500.0)})
    assert window.runs.banner.isVisible()
    qtbot.mouseClick(window.runs.banner.back_button, Qt.MouseButton.LeftButton)
    assert graph_sha256(doc.graph) == run.sha
    assert not window.runs.banner.isVisible()
    assert window.training.has_weights
    window.actions["redo"].trigger()                        # the edit is not lost
    assert doc.graph.params_of("hidden")["units"] == 3


def test_go_back_restores_the_graph_when_the_undo_history_does_not_hold_it(
        window, qtbot, dialogs, tmp_path):
    open_graph(window, xor_graph(epochs=3))
    train(window, qtbot)
    run = window.runs.store.shown
    window.document.set_param("hidden", "units", 5)
    path = tmp_path / "p.zip"
    dialogs.answers.append(B.Yes)                           # keep the runs
    dialogs.paths.append(str(tmp_path / "p.json"))
    window.actions["save_as"].trigger()
    window.actions["new"].trigger()
    window.files.open(path)
    doc = window.document
    assert doc.undo_stack.count() == 0 and window.runs.banner.isVisible()
    qtbot.mouseClick(window.runs.banner.back_button, Qt.MouseButton.LeftButton)
    assert graph_sha256(doc.graph) == run.sha and doc.undo_stack.count() == 1
    assert window.training.has_weights
    window.actions["undo"].trigger()
    assert doc.graph.params_of("hidden")["units"] == 5


# --- failure 3: trained weights are never lost without asking; bundles open ----------------
def test_new_open_and_quit_ask_before_losing_trained_weights(window, qtbot, dialogs, tmp_path):
    open_graph(window, xor_graph(epochs=3))
    assert not window.isWindowModified()
    train(window, qtbot)
    dialogs.answers.append(B.Cancel)
    window.actions["new"].trigger()
    assert "weights are not saved" in dialogs.shown[-1][2]
    assert len(window.runs.store) == 1                       # cancelled: nothing changed
    dialogs.answers.append(B.Cancel)
    assert not window.close()
    # Save from the prompt keeps the run in a project file
    dialogs.answers.append(B.Save)
    dialogs.paths.append(str(tmp_path / "xor.json"))
    window.actions["new"].trigger()
    assert (tmp_path / "xor.zip").exists() and len(window.document.graph) == 0
    assert window.files.open(tmp_path / "xor.zip")
    assert len(window.runs.store) == 1 and window.training.has_weights
    assert window.close()                                    # all saved: no question
    assert "weights are not saved" not in dialogs.shown[-1][2]


def test_a_bundle_exported_by_the_app_opens_with_its_weights(window, qtbot, dialogs, tmp_path):
    open_graph(window, xor_graph(epochs=3))
    train(window, qtbot)
    trained = window.runs.store.shown.weights
    dialogs.paths.append(str(tmp_path / "model.zip"))
    window.actions["export_zip"].trigger()
    window.runs.store.mark_saved()
    window.actions["new"].trigger()
    dialogs.paths.append(str(tmp_path / "model.zip"))
    window.actions["open"].trigger()
    assert [k for k, *_ in dialogs.shown].count("critical") == 0, dialogs.texts()
    assert window.document.graph.name == xor_graph().name
    (run,) = window.runs.store.runs
    assert run.name == "from model.zip" and run.epochs == 3
    for key, value in trained.items():
        np.testing.assert_array_equal(window.training.model.get_weights()[key], value)
    assert window.dashboard.curves.context.metrics.epochs   # its curves are shown


def test_the_command_line_opens_projects_and_bundles(monkeypatch, tmp_path, qapp, dialogs):
    from designer import app
    from designer.main_window import MainWindow

    g = xor_graph()
    model = nn.compile_model(g, seed=0)
    nn.save_bundle(tmp_path / "b.zip", g, model, {"epochs": [{"epoch": 1, "loss": 0.5}]})
    opened = []
    monkeypatch.setattr(MainWindow, "show", lambda self: opened.append(self))
    monkeypatch.setattr(type(qapp), "exec", lambda self: 0)
    monkeypatch.setenv("NN_DESIGNER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(app, "QTimer", type("T", (), {"singleShot": staticmethod(
        lambda *a: None)}))
    assert app.main([str(tmp_path / "b.zip")]) == 0
    (w,) = opened
    assert w.document.graph.name == g.name and len(w.runs.store) == 1
    assert w.document.path == tmp_path / "b.zip"
    w.runs.store.mark_saved()
    w.close()


# --- failure 4: runs are kept and compared ---------------------------------------------------
def test_each_run_is_kept_and_two_runs_overlay_with_a_legend(window, qtbot):
    open_graph(window, xor_graph(epochs=4))
    train(window, qtbot)
    window.document.set_training({**window.document.graph.training, "seed": 5})
    train(window, qtbot)
    store, panel = window.runs.store, window.runs.panel
    assert [r.name for r in store.runs] == ["run 1", "run 2"]
    assert panel.table.topLevelItemCount() == 2
    first, second = store.runs
    assert first.card["seed"] == 0 and second.card["seed"] == 5
    assert not np.array_equal(first.weights["hidden/W"], second.weights["hidden/W"])
    # tick both: the comparison tab comes up with both runs' curves and a legend naming both
    panel.set_ticked(first.id, True)
    panel.set_ticked(second.id, True)
    overlay = window.runs.overlay
    assert window.dashboard.tabs.currentWidget() is overlay
    assert overlay.legend_names() == ["run 1", "run 2"]
    for run in (first, second):
        curves = overlay.curves[run.id]
        assert curves and all(len(c.getData()[0]) == 4 for c in curves)
        _x, y = curves[0].getData()
        np.testing.assert_allclose(y, run.metrics.epoch_series("val_loss")[1])
    panel.set_ticked(first.id, False)
    assert not window.dashboard.tabs.isTabVisible(window.dashboard.tabs.indexOf(overlay))


def test_select_rename_and_undoable_delete(window, qtbot):
    open_graph(window, xor_graph(epochs=3))
    train(window, qtbot)
    window.document.set_training({**window.document.graph.training, "epochs": 2})
    train(window, qtbot)
    store, panel, c = window.runs.store, window.runs.panel, window.training
    first, second = store.runs
    assert store.shown is second and c.metrics.epochs == second.metrics.epochs
    click_run(window, qtbot, first.id)
    assert store.shown is first and len(c.metrics.epochs) == 3
    assert window.dashboard.scrubber.label.text() == "live · 3 epochs"
    assert c.test_metrics == first.test
    click_run(window, qtbot, second.id)                     # and back to the newest
    assert store.shown is second and c.metrics.epochs == second.metrics.epochs
    np.testing.assert_array_equal(c.current_weights()["hidden/W"], second.weights["hidden/W"])
    panel.item(first.id).setText(0, "baseline")
    assert first.name == "baseline"
    window.actions["undo"].trigger()
    assert first.name == "run 1"
    panel.delete_requested.emit(second.id)
    assert store.runs == [first] and panel.table.topLevelItemCount() == 1
    window.actions["undo"].trigger()
    assert store.runs == [first, second]


# --- projects ---------------------------------------------------------------------------------
def test_three_runs_saved_and_reopened_identical(window, qtbot, dialogs, tmp_path):
    open_graph(window, xor_graph(epochs=3))
    for seed in (0, 1, 2):
        window.document.set_training({**window.document.graph.training, "seed": seed})
        train(window, qtbot)
    before = list(window.runs.store.runs)
    click_run(window, qtbot, before[1].id)
    dialogs.answers.append(B.Yes)
    dialogs.paths.append(str(tmp_path / "three.json"))
    window.actions["save_as"].trigger()
    assert window.document.path == tmp_path / "three.zip" and not window.isWindowModified()
    with zipfile.ZipFile(tmp_path / "three.zip") as z:
        assert {f"runs/{r.id}/run.json" for r in before} <= set(z.namelist())
    window.actions["new"].trigger()
    assert not dialogs.texts().count("weights are not saved")
    window.files.open(tmp_path / "three.zip")
    after = window.runs.store.runs
    assert [r.name for r in after] == [r.name for r in before]
    assert window.runs.store.shown.id == before[1].id
    for a, b in zip(before, after):
        assert b.card == json.loads(json.dumps(a.card)) and b.test == a.test
        for key in a.weights:
            np.testing.assert_array_equal(b.weights[key], a.weights[key])
        assert b.metrics.epochs == a.metrics.epochs
        np.testing.assert_array_equal(b.metrics.batch_loss, a.metrics.batch_loss)
        np.testing.assert_array_equal(b.metrics.batch_x, a.metrics.batch_x)
        assert b.history.epochs() == a.history.epochs()
        np.testing.assert_array_equal(b.snapshot.boundary.classes, a.snapshot.boundary.classes)
    # the reopened run's scrubber shows a past epoch as it did before saving
    click_run(window, qtbot, after[0].id)
    window.dashboard.show_epoch(1)
    assert window.dashboard.scrubber.label.text() == "epoch 1 of 3"


def test_a_diverged_run_is_kept_saying_where(window, qtbot):
    open_graph(window, template("digits_mlp", epochs=3,
                                optimizer={"type": "sgd", "learning_rate": 1e12}))
    with qtbot.waitSignal(window.training.diverged, timeout=60_000) as blocker:
        window.actions["train"].trigger()
    _message, node = blocker.args
    (run,) = window.runs.store.runs
    assert run.ended == "diverged" and run.card["ended"] == "diverged"
    assert run.ended_text() == f"diverged at {node}"
    assert window.runs.panel.item(run.id).text(6) == f"diverged at {node}"
    assert all(np.all(np.isfinite(w)) for w in run.weights.values())
    window.actions["stop"].trigger()                    # stopping keeps "diverged"
    assert window.runs.store.runs[0].ended == "diverged"


def test_the_run_card_reproduces_the_run_with_nnengine_train(window, qtbot, tmp_path):
    """The run's graph (with the training block it used) trained by the command line gives
    its weights bit for bit, and a run card with the same structure hash and data hash."""
    open_graph(window, xor_graph(epochs=4, seed=3))
    window.document.move_nodes({"hidden": (0.0, 400.0)})
    train(window, qtbot)
    run = window.runs.store.shown
    nn.save_graph(run.graph, tmp_path / "graph.json")
    subprocess.run([sys.executable, "-m", "nnengine", "train", str(tmp_path / "graph.json"),
                    "--out", str(tmp_path / "out")], check=True, capture_output=True)
    cli = nn.load_weights(tmp_path / "out" / "weights.npz")
    assert set(cli) == set(run.weights)
    for key, value in cli.items():
        np.testing.assert_array_equal(run.weights[key], value, err_msg=key)
    card = json.loads((tmp_path / "out" / "run.json").read_text())
    for key in ("format", "version", "graph_sha256", "dataset", "seed", "epochs", "ended"):
        assert run.card[key] == card[key], key
    assert run.card["training"] == card["training"]


def test_weights_loaded_after_an_edit_are_exported_not_refused(window, qtbot, dialogs,
                                                              tmp_path):
    open_graph(window, xor_graph(epochs=3))
    train(window, qtbot)
    assert window.isWindowModified()                       # a run saved nowhere yet
    window.document.set_param("hidden", "units", 3)
    assert window.runs.refusal() is not None
    edited = nn.compile_model(window.document.graph.copy(), seed=9)
    nn.save_weights(edited, tmp_path / "mine.npz")
    dialogs.paths.append(str(tmp_path / "mine.npz"))
    window.actions["load_weights"].trigger()
    assert window.runs.store.shown is None and not window.runs.banner.isVisible()
    assert window.runs.refusal() is None and len(window.runs.store) == 1
    dialogs.paths.append(str(tmp_path / "out.npz"))
    window.actions["export_npz"].trigger()
    out = nn.load_weights(tmp_path / "out.npz")
    np.testing.assert_array_equal(out["hidden/W"], edited.get_weights()["hidden/W"])


def test_any_run_exports_as_it_was_trained_from_the_panel(window, qtbot, dialogs, tmp_path):
    open_graph(window, xor_graph(epochs=3))
    train(window, qtbot)
    run = window.runs.store.shown
    window.document.set_param("hidden", "units", 7)         # the canvas moves on
    dialogs.paths.append(str(tmp_path / "run1.zip"))
    window.runs.panel.export_requested.emit(run.id, "bundle")
    bundle = nn.load_bundle(tmp_path / "run1.zip")
    assert graph_sha256(bundle.graph) == run.sha and bundle.graph.training == run.graph.training
    for key, value in run.weights.items():
        np.testing.assert_array_equal(bundle.weights[key], value)
    assert bundle.metrics["epochs"] == run.metrics.epochs
    dialogs.paths.append(str(tmp_path / "run1.npz"))
    window.runs.panel.export_requested.emit(run.id, "weights")
    assert set(nn.load_weights(tmp_path / "run1.npz")) == set(run.weights)
    dialogs.paths.append(str(tmp_path / "run1.py"))
    window.runs.panel.export_requested.emit(run.id, "pytorch")
    source = (tmp_path / "run1.py").read_text()
    compile(source, "run1.py", "exec")
    assert "hidden" in source and (tmp_path / "run1.npz").exists()


def test_recovered_work_of_a_project_never_saves_over_its_runs(window, qtbot, dialogs,
                                                               tmp_path):
    open_graph(window, xor_graph(epochs=2))
    train(window, qtbot)
    dialogs.answers.append(B.Yes)
    dialogs.paths.append(str(tmp_path / "p.json"))
    window.actions["save_as"].trigger()
    window.document.set_param("hidden", "units", 3)
    assert window.files.autosaver.save_now()
    dialogs.answers.append(B.Yes)                          # recover it
    assert window.files.offer_recovery()
    assert window.document.path is None                    # Save asks where
    assert len(nn.project.load_project(tmp_path / "p.zip").runs) == 1
