"""Training from the designer: controller, worker thread, mailbox, panel and plots (offscreen)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer

import nnengine as nn
from designer.document import GraphDocument
from designer.plots.dashboard import TrainingDashboard
from designer.training.controller import TrainingController
from designer.training.mailbox import BatchTable, EpochHistory, EpochRecord, Mailbox
from designer.training.panel import TrainingPanel
from designer.training.probe import Probe
from designer.training.reporter import SnapshotBudget, TrainingReporter
from designer.training.run_setup import prepare_run
from designer.training.states import TrainingState

TEMPLATES = Path(__file__).resolve().parents[2] / "resources" / "templates"


def template(name: str, **training) -> nn.Graph:
    data = json.loads((TEMPLATES / f"{name}.json").read_text())
    g = nn.Graph.from_dict({k: v for k, v in data.items() if k not in ("format", "version")})
    g.training = {**g.training, **training}
    return g


def bn_dropout_graph(**training) -> nn.Graph:
    """moons through Dense, BatchNorm, ReLU, Dropout: the snapshot must not disturb the
    dropout generator or BatchNorm's running statistics."""
    g = nn.Graph("bn", {"dataset": "moons", "loss": "cross_entropy", "epochs": 3,
                        "batch_size": 16, "seed": 3, **training})
    prev = None
    for node_id, type_name, params in [
            ("input", "Input", {"shape": [2]}), ("dense1", "Dense", {"units": 16}),
            ("bn1", "BatchNorm", {}), ("relu1", "Activation", {"function": "relu"}),
            ("drop1", "Dropout", {"rate": 0.3}), ("dense2", "Dense", {"units": 2}),
            ("out", "Activation", {"function": "softmax"})]:
        g.add_node(node_id, type_name, params)
        if prev:
            g.add_edge(prev, node_id)
        prev = node_id
    return g


@pytest.fixture
def run(qtbot):
    """Start a controller (and a dashboard) on a graph; stops every run at teardown."""
    made = []

    def start(graph: nn.Graph, dashboard: bool = True, **kwargs) -> tuple:
        c = TrainingController(graph=graph, **kwargs)
        dash = None
        if dashboard:
            dash = TrainingDashboard(c)
            dash.resize(1000, 640)
            qtbot.addWidget(dash)
            dash.show()
        made.append(c)
        return c, dash

    yield start
    for c in made:
        c.shutdown()


def wait_for(qtbot, condition, timeout=20_000):
    qtbot.waitUntil(condition, timeout=timeout)


# --- the pure parts ---------------------------------------------------------------------------
def test_mailbox_is_bounded_and_keeps_only_the_newest_snapshot():
    box = Mailbox(max_batches=3)
    for i in range(5):
        box.put_batch((i, 1, i, 0.0, 1.0, np.nan, 8, 0.0))
    box.put_snapshot("old")
    box.put_snapshot("new")
    d = box.drain()
    assert d.batches.step.tolist() == [2, 3, 4] and d.dropped == 2
    assert d.snapshot == "new"
    assert not box.drain()


def test_epoch_history_thins_evenly():
    h = EpochHistory(capacity=10)
    for e in range(1, 101):
        h.add(EpochRecord(e, {"loss": 1.0 / e}))
    assert len(h) <= 10 and h.epochs()[0] == 1 and h.epochs()[-1] == 100
    kept = h.epochs()
    gap = max(np.diff(kept))
    assert all(h.nearest(e).epoch == e for e in kept)       # a kept epoch is found itself
    assert abs(h.nearest(50).epoch - 50) <= gap / 2          # else the closest one kept
    assert h.nearest(-5).epoch == 1 and h.nearest(500).epoch == 100


def test_rate_policy_bounds_rate_and_share():
    p = SnapshotBudget(max_hz=10, share=0.1)
    p.start = 0.0
    assert p.due(0.0)
    p.record(0.0, 0.05)           # a 50 ms snapshot
    assert not p.due(0.08)        # too soon (rate)
    assert not p.due(0.3)         # 50 ms > 10 % of 0.3 s (share)
    assert p.due(0.6)


def test_a_slow_first_snapshot_does_not_hold_back_the_next(monkeypatch):
    """The run's first snapshot, taken before any batch while the window reads the run's
    data, is start-up work: charged to a 2 % share, 90 ms would stop snapshots for 4.5 s."""
    graph = template("iris_mlp", epochs=1)
    model, dataset, config = prepare_run(graph, graph.training)
    trainer = nn.Trainer(model, dataset, config, [])
    snapshot = Probe.snapshot

    def slow(self, *args, **kwargs):
        time.sleep(0.09)
        return snapshot(self, *args, **kwargs)

    monkeypatch.setattr(Probe, "snapshot", slow)
    rep = TrainingReporter(Mailbox(), nn.TrainingControl(), None,
                           SnapshotBudget(max_hz=10, share=0.02))
    rep.on_train_begin(trainer)
    assert rep.latest is not None                       # taken, for the window's first view
    later = rep.budget.last + 0.11                     # past the 10-a-second limit
    assert rep.budget.spent == 0.0 and rep.budget.due(later)


# --- training runs --------------------------------------------------------------------------
def test_every_plot_receives_data_on_the_digits_cnn(qtbot, run):
    c, dash = run(template("digits_cnn", epochs=2))
    assert c.start()
    assert c.wait(120_000) and c.state == TrainingState.FINISHED, c.last_message
    dash.refresh_all()
    x, y = dash.curves.loss_batch.getOriginalDataset()
    assert len(x) == 2 * c.progress.batches and np.all(np.isfinite(y))
    assert len(dash.curves.loss_epoch.getData()[0]) == 2
    assert len(dash.curves.val_acc.getData()[0]) == 2
    dash.show_node("flatten")                   # 64 maps of 2x2 as 256 flat features
    assert dash.activations.node_id == "flatten"
    assert dash.tabs.currentWidget() is dash.activations
    dash.activations.refresh()
    assert dash.activations.image.image is not None
    assert dash.activations.units.getData()[0] is not None
    dash.show_node("conv1")
    assert dash.tabs.currentWidget() is dash.feature_maps
    dash.feature_maps.refresh()
    assert not dash.feature_maps.showing_message
    maps = dash.feature_maps.maps.image
    assert maps is not None and maps.shape[0] >= 8 and maps.shape[1] >= 8
    dash.gradients.refresh()
    gx, gy = dash.gradients.curves["conv1"].getOriginalDataset()   # not log10
    assert len(gx) == len(x) and np.nanmin(gy) > 0
    dash.weights.refresh()
    assert dash.weights.filters.image is not None and len(dash.weights.hists["W"].getData()[0])
    dash.confusion.refresh()
    assert dash.confusion.matrix.sum() == c.run.split_sizes["test"]   # the whole split
    assert dash.confusion.samples.count() > 0
    assert dash.tabs.isTabVisible(dash.tabs.indexOf(dash.feature_maps))
    assert not dash.tabs.isTabVisible(dash.tabs.indexOf(dash.boundary))
    assert not dash.tabs.isTabVisible(dash.tabs.indexOf(dash.reconstruction))
    # two epochs have ended, so the loss has been judged (no alarm changed to say so)
    assert dash.health.status.text().startswith("✓ No problems found"), dash.health.alarms
    assert dash.scrubber.epochs == [1, 2]
    assert c.test_metrics["accuracy"] > 0.5
    assert "epoch 2/2" in c.progress.text()


def test_decision_boundary_and_scrubber_show_a_past_epoch(qtbot, run):
    c, dash = run(template("spirals", epochs=6), snapshot_hz=1000, snapshot_share=1.0)
    c.start()
    assert c.wait(60_000) and c.state == TrainingState.FINISHED
    dash.show_page("Decision boundary")
    dash.boundary.refresh()
    img = dash.boundary.image.image
    assert img is not None and img.shape[-1] == 3
    assert len(dash.boundary.points.data) > 100
    assert dash.boundary.snapshot.epoch == 6
    dash.show_epoch(2)
    assert not dash.scrubber.live and dash.scrubber.chosen == 2
    assert dash.boundary.snapshot.epoch == 2 and dash.weights.snapshot.epoch == 2
    assert dash.curves.markers[0].isVisible() and dash.curves.markers[0].value() == 2
    past = dash.boundary.snapshot.boundary.classes
    dash.show_epoch(None)
    assert dash.scrubber.live and not dash.curves.markers[0].isVisible()
    assert dash.boundary.snapshot.epoch == 6
    assert past.shape == dash.boundary.snapshot.boundary.classes.shape


def test_reconstruction_for_an_autoencoder(qtbot, run):
    c, dash = run(template("autoencoder", epochs=2))
    c.start()
    assert c.wait(60_000) and c.state == TrainingState.FINISHED
    dash.show_node(c.run.output_id)
    assert dash.tabs.currentWidget() is dash.reconstruction
    dash.reconstruction.refresh()
    assert dash.reconstruction.output_image.image.shape == (8, 8)
    assert not dash.tabs.isTabVisible(dash.tabs.indexOf(dash.confusion))


def test_denoising_shows_noisy_input_output_and_clean_target(qtbot, run):
    c, dash = run(template("denoising_autoencoder", epochs=8))
    c.start()
    assert c.wait(60_000) and c.state == TrainingState.FINISHED
    dash.show_node(c.run.output_id)
    view = dash.reconstruction
    view.refresh()
    shown = [view.input_image.image, view.output_image.image, view.target_image.image]
    assert view.target_widget.isVisible() and all(i.shape == (8, 8) for i in shown)
    noisy, out, clean = (np.nan_to_num(i) for i in shown)
    assert not np.array_equal(noisy, clean)           # the input really is a noisy copy
    assert np.mean((out - clean) ** 2) < np.mean((noisy - clean) ** 2)
    assert "closer than the input" in view.caption.text()


def test_nan_pauses_with_a_message_naming_a_node_then_resumes(qtbot, run):
    graph = template("digits_mlp", epochs=3, optimizer={"type": "sgd", "learning_rate": 1e12})
    c, dash = run(graph)
    with qtbot.waitSignal(c.diverged, timeout=60_000) as blocker:
        c.start()
    message, node = blocker.args
    assert c.state == TrainingState.DIVERGED
    assert node in graph and f"'{node}'" in message and "learning rate" in message
    assert all(np.all(np.isfinite(w)) for w in c.current_weights().values())
    assert dash.health.alarms[0].code == "diverged"
    graph.training = {**graph.training, "optimizer": {"type": "sgd", "learning_rate": 0.01}}
    c.resume()          # continues from the last finite weights (here too large to recover)
    assert c.wait(60_000) and c.state in (TrainingState.FINISHED, TrainingState.DIVERGED)
    assert c.start()    # a fresh run with the lower learning rate
    assert c.wait(60_000) and c.state == TrainingState.FINISHED, c.last_message


def test_the_event_loop_answers_during_training(qtbot, run):
    """A timer of the window's keeps firing while batches arrive: nothing waits for the
    training process (the bench measures how late the timer fires)."""
    c, dash = run(template("digits_cnn", epochs=6))
    seen: list[int] = []          # batches received, at every tick of the window's timer
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: seen.append(len(c.metrics)))
    timer.start()
    c.start()
    assert c.wait(120_000)
    timer.stop()
    during = {n for n in seen if 0 < n < 6 * c.progress.batches}
    assert len(during) >= 3       # ticks between many arrivals, not only before and after
    assert dash.curves.draws >= 2


def test_export_reload_predict_and_bundle(qtbot, run, tmp_path):
    c, _ = run(template("iris_mlp", epochs=5), dashboard=False)
    c.start()
    assert c.wait(60_000) and c.state == TrainingState.FINISHED
    path = c.export_weights(tmp_path / "weights.npz")
    saved = dict(np.load(path))
    assert set(saved) == set(c.current_weights())
    before = c.predict(3)
    other = TrainingController(graph=template("iris_mlp", epochs=5))
    untrained = other.evaluate()
    other.load_weights(path)
    for k, v in c.current_weights().items():
        np.testing.assert_array_equal(other.current_weights()[k], v)
    after = other.predict(3)
    np.testing.assert_allclose(after["output"], before["output"])
    assert after["predicted"] == before["predicted"]
    assert other.evaluate() == pytest.approx(c.evaluate())
    assert other.evaluate()["loss"] < untrained["loss"]
    bundle_path = c.export_bundle(tmp_path / "iris.zip")
    bundle = nn.load_bundle(bundle_path)
    assert len(bundle.metrics["epochs"]) == 5 and "accuracy" in bundle.metrics["test"]
    assert bundle.graph.training["epochs"] == 5
    for k, v in c.current_weights().items():
        np.testing.assert_array_equal(bundle.weights[k], v)
    third = TrainingController(graph=template("iris_mlp", epochs=5))
    third.load_weights(bundle_path)                # a bundle works as a weight file too
    assert third.predict(3)["predicted"] == before["predicted"]
    bad = tmp_path / "bad.npz"
    np.savez(bad, **{"nope/W": np.zeros(3)})
    with pytest.raises(nn.WeightsError, match="missing 'dense1/W'"):
        other.load_weights(bad)


@pytest.mark.parametrize("name", ["digits_cnn", "bn_dropout"])
def test_same_weights_as_the_command_line(qtbot, run, name, tmp_path):
    graph = template("digits_cnn", epochs=2) if name == "digits_cnn" else \
        bn_dropout_graph(epochs=30)  # long enough for several snapshots to reach the GUI
    c, _ = run(graph, snapshot_hz=1000, snapshot_share=1.0)   # snapshot as often as possible
    c.start()
    assert c.wait(120_000) and c.state == TrainingState.FINISHED
    assert len(c.timeline.entries) > 2
    nn.save_graph(graph, tmp_path / "graph.json")
    subprocess.run([sys.executable, "-m", "nnengine", "train", str(tmp_path / "graph.json"),
                    "--out", str(tmp_path / "run")], check=True, capture_output=True)
    gui, cli = c.current_weights(), nn.load_weights(tmp_path / "run" / "weights.npz")
    assert set(gui) == set(cli)
    for k in cli:
        np.testing.assert_array_equal(gui[k], cli[k], err_msg=k)


def test_confusion_click_lists_samples_and_picks_the_sample(qtbot, run):
    c, dash = run(template("digits_mlp", epochs=2))
    c.start()
    assert c.wait(60_000) and c.state == TrainingState.FINISHED
    dash.show_page("Confusion")
    conf = dash.confusion
    conf.refresh()
    qtbot.wait(50)
    vb = conf.plot.getPlotItem().getViewBox()
    widget_pos = conf.plot.mapFromScene(vb.mapViewToScene(QPointF(3.5, 3.5)))  # cell (3, 3)
    with qtbot.waitSignal(conf.cell_chosen, timeout=2000) as cell:
        qtbot.mouseClick(conf.plot.viewport(), Qt.MouseButton.LeftButton,
                         pos=QPoint(int(widget_pos.x()), int(widget_pos.y())))
    assert cell.args == [3, 3]
    expected = conf.cell_samples(3, 3)
    assert conf.samples.count() == len(expected) == conf.matrix[3, 3] > 0
    item = conf.samples.item(1)
    index = item.data(Qt.ItemDataRole.UserRole)
    rect = conf.samples.visualItemRect(item)
    with qtbot.waitSignal(c.snapshot_changed, timeout=5000):
        qtbot.mouseClick(conf.samples.viewport(), Qt.MouseButton.LeftButton,
                         pos=rect.center())
    assert c.sample == ("test", index)
    assert c.snapshot.sample == ("test", index)
    assert dash.activations.snapshot.sample == ("test", index)


def test_panel_edits_are_undoable_and_lock_the_graph(qtbot):
    doc = GraphDocument(template("digits_mlp", epochs=1))
    c = TrainingController(document=doc)
    panel = TrainingPanel(c, doc)
    qtbot.addWidget(panel)
    assert panel.learning_rate.value() == pytest.approx(
        doc.graph.training["optimizer"]["learning_rate"])
    assert panel.dataset.currentData() == "digits"
    panel.learning_rate.setValue(0.05)
    assert doc.graph.training["optimizer"]["learning_rate"] == pytest.approx(0.05)
    panel.epochs.setValue(2)
    assert doc.graph.training["epochs"] == 2
    doc.undo_stack.undo()
    assert doc.graph.training["epochs"] == 1 and panel.epochs.value() == 1
    panel.ask_file = lambda: ""
    panel.dataset.setCurrentIndex(panel.dataset.findData("File…"))
    panel.dataset.activated.emit(panel.dataset.currentIndex())
    assert doc.graph.training["dataset"] == "digits"            # dialog cancelled
    seen = []
    c.run_started.connect(lambda: seen.append((doc.locked, panel.train_button.isEnabled(),
                                                doc.add_node("Dense"), doc.last_error)))
    with qtbot.waitSignal(c.run_started, timeout=30_000):
        panel.train_button.click()
    locked, train_enabled, added, error = seen[0]
    assert locked and not train_enabled
    assert not added and "training" in error          # structural edits refused meanwhile
    assert c.wait(60_000)
    assert not doc.locked and panel.train_button.isEnabled()
    assert panel.progress.value() == 1000 and "epoch 1/1" in panel.progress.format()
    c.shutdown()


def test_step_from_idle_runs_one_batch(qtbot, run):
    c, _ = run(template("spirals", epochs=50), dashboard=False)
    c.step()
    wait_for(qtbot, lambda: (c.poll(), c.progress.step)[1] == 1 and c.state == TrainingState.PAUSED)
    qtbot.wait(150)
    c.poll()
    assert c.progress.step == 1
    c.stop()
    assert c.wait(10_000) and c.state == TrainingState.STOPPED


def test_panel_shows_the_data_sets_suggested_settings_where_the_block_is_silent(qtbot):
    """A learner who only picks a data set sees (and trains with) settings that learn."""
    g = nn.Graph("first", {"loss": "binary_cross_entropy"})
    doc = GraphDocument(g)
    c = TrainingController(document=doc)
    panel = TrainingPanel(c, doc)
    qtbot.addWidget(panel)
    assert panel.epochs.value() == 10 and panel.learning_rate.value() == pytest.approx(0.001)
    panel.dataset.setCurrentIndex(panel.dataset.findData("xor"))
    panel.dataset.activated.emit(panel.dataset.currentIndex())
    assert doc.graph.training == {"loss": "binary_cross_entropy", "dataset": "xor"}
    assert panel.epochs.value() == 100 and panel.learning_rate.value() == pytest.approx(0.05)
    panel.dataset.setCurrentIndex(panel.dataset.findData("iris"))
    panel.dataset.activated.emit(panel.dataset.currentIndex())
    assert panel.standardize.isChecked() and panel.batch_size.value() == 16
    c.shutdown()


def test_speed_meter_counts_samples_over_its_window():
    from designer.training.metrics import SpeedMeter

    meter = SpeedMeter(window=3.0)
    meter.add(BatchTable.of([0.1, 0.2], [1.0, 1.0], seconds=[10.0, 11.0], size=[32, 32]))
    meter.add(BatchTable.of([0.3, 0.4], [1.0, 1.0], seconds=[12.0, 15.0], size=[32, 16]))
    # 10 s and 11 s fell out of the 3 s window; of 12 and 15 the first only starts the span
    assert meter.rate() == 16 / (15.0 - 12.0)
