"""Training in a process of its own, through the real main window (offscreen): the buttons
steer the child and give the command line's weights; exports never wait for it; a child
killed, silenced or left behind by a closing window is dealt with."""
from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nnengine as nn
from designer.training.controller import TrainingController
from designer.training.process import REPORT_PIPE_BYTES, TrainingProcess
from designer.training.protocol import Command, Job
from designer.training.states import TrainingState

from .shell_fixtures import *
from .test_training import template


def cli_weights(graph: nn.Graph, folder: Path, start: dict | None = None) -> dict:
    """What `nnengine train` learns for `graph` (from `start` weights, as --weights)."""
    folder.mkdir(parents=True, exist_ok=True)
    nn.save_graph(graph, folder / "graph.json")
    extra = []
    if start is not None:
        np.savez(folder / "start.npz", **start)
        extra = ["--weights", str(folder / "start.npz")]
    subprocess.run([sys.executable, "-m", "nnengine", "train", str(folder / "graph.json"),
                    "--out", str(folder / "run"), *extra], check=True, capture_output=True)
    return nn.load_weights(folder / "run" / "weights.npz")


def assert_same(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for k, expected in b.items():
        np.testing.assert_array_equal(a[k], expected, err_msg=k)


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def until(qtbot, condition, timeout: int = 60_000) -> None:
    qtbot.waitUntil(condition, timeout=timeout)


def set_training(window, **training) -> None:
    doc = window.document
    doc.set_training({**doc.graph.training, "batch_size": 16, **training})


def test_step_pause_resume_stop_and_train_on_give_the_command_lines_weights(
        window, qtbot, tmp_path):
    c, act = window.training, window.actions
    set_training(window, epochs=3)
    act["step"].trigger()                           # from idle: a paused run, one batch
    until(qtbot, lambda: c.progress.step == 1 and c.state == TrainingState.PAUSED)
    act["step"].trigger()
    until(qtbot, lambda: c.progress.step == 2 and c.weights is not None
          and c.weights.step == 2)                  # a pause sends the weights it stopped at
    assert c.state == TrainingState.PAUSED and not act["pause"].isEnabled()
    act["resume"].trigger()
    assert c.wait(60_000) and c.state == TrainingState.FINISHED, c.last_message
    first = c.current_weights()
    assert_same(first, cli_weights(window.document.graph, tmp_path / "first"))

    set_training(window, epochs=400)               # train on, stopped part-way ...
    act["train_on"].trigger()
    until(qtbot, lambda: c.state == TrainingState.RUNNING and c.progress.step > 3)
    act["pause"].trigger()
    assert c.state == TrainingState.PAUSED
    act["stop"].trigger()
    assert c.wait(60_000) and c.state == TrainingState.STOPPED, c.last_message
    assert c.progress.epoch < 400
    stopped = c.current_weights()
    assert any(not np.array_equal(stopped[k], first[k]) for k in first)
    set_training(window, epochs=2)                 # ... and on again from where it stopped
    act["train_on"].trigger()
    assert c.wait(60_000) and c.state == TrainingState.FINISHED, c.last_message
    assert_same(c.current_weights(),
                cli_weights(window.document.graph, tmp_path / "on", start=stopped))


def test_export_during_the_last_epoch_and_right_after_it_answers_at_once(
        window, dialogs, qtbot, tmp_path):
    c, act = window.training, window.actions
    set_training(window, epochs=3)
    assert c.start()
    with pytest.raises(nn.WeightsError, match="end of each epoch"):
        c.export_weights(tmp_path / "none.npz")      # nothing has arrived yet: said at once
    exported: dict[str, dict] = {}

    def export(name: str) -> None:
        """Pressed from inside the window's own handling of a report: it must answer
        before returning (the old code waited here up to 30 s for the training thread)."""
        dialogs.paths.append(str(tmp_path / name))
        act["export_weights"].trigger()
        exported[name] = dict(np.load(tmp_path / name))

    c.epoch_recorded.connect(lambda record: export("last_epoch.npz")
                             if record.epoch == 3 else None)
    c.finished.connect(lambda _outcome: export("right_after.npz"))
    assert c.wait(60_000) and c.state == TrainingState.FINISHED, c.last_message
    assert [k for k in dialogs.kinds() if k in ("warning", "critical")] == []
    final = c.current_weights()
    assert_same(exported["last_epoch.npz"], final)
    assert_same(exported["right_after.npz"], final)
    assert_same(final, cli_weights(window.document.graph, tmp_path / "cli"))

    set_training(window, epochs=50)                # paused in the middle of a run
    act["step"].trigger()
    until(qtbot, lambda: c.weights is not None and c.weights.step == 1)
    dialogs.paths.append(str(tmp_path / "paused.npz"))
    act["export_weights"].trigger()
    assert_same(dict(np.load(tmp_path / "paused.npz")), c.current_weights())
    assert "training goes on" in window.statusBar().currentMessage()
    c.stop()
    assert c.wait(30_000)


def test_a_killed_training_process_leaves_the_window_usable(window, qtbot):
    c, doc = window.training, window.document
    set_training(window, epochs=100_000)
    before = doc.graph.to_dict()
    assert c.start()
    until(qtbot, lambda: c.weights is not None and c.weights.epoch >= 1)
    pid = c.child_pid
    os.kill(pid, signal.SIGKILL)
    until(qtbot, lambda: c.state == TrainingState.FAILED)
    assert "The training process was killed by SIGKILL during epoch" in c.last_message
    assert "weights after" in c.last_message and "are kept" in c.last_message
    assert "\n" not in c.last_message and "Traceback" not in c.last_message
    assert doc.graph.to_dict() == before and not doc.locked
    assert window.actions["train"].isEnabled() and window.actions["export_weights"].isEnabled()
    assert c.has_weights                          # the last completed epoch's weights
    until(qtbot, lambda: gone(pid))
    set_training(window, epochs=2)
    assert c.start() and c.wait(60_000) and c.state == TrainingState.FINISHED, c.last_message


def test_closing_the_window_mid_run_leaves_no_training_process(window, qtbot):
    c = window.training
    set_training(window, epochs=100_000)
    c.warm_up()                                   # a spare waits for the next run too
    assert c.start()
    until(qtbot, lambda: c.state == TrainingState.RUNNING)
    c.warm_up()
    pids = c.process_ids                          # each with its watcher
    assert len(pids) == 4 and c.child_pid in pids
    assert window.close()
    assert all(gone(pid) for pid in pids) and c.process_ids == []   # none new either


def test_a_silent_training_process_is_noticed_and_ended(qtbot):
    c = TrainingController(graph=template("iris_mlp", epochs=100_000), stuck_after=3.0)
    try:
        assert c.start()
        until(qtbot, lambda: c.state == TrainingState.RUNNING)
        pid = c.child_pid
        os.kill(pid, signal.SIGSTOP)              # alive, but says nothing any more
        until(qtbot, lambda: c.state == TrainingState.FAILED)
        assert "stopped answering for 3 s and was ended" in c.last_message
        until(qtbot, lambda: gone(pid))
    finally:
        c.shutdown()


def test_a_large_job_never_blocks_the_window(qtbot):
    """Weights to train on from can be more than a pipe holds; a cold child reads nothing
    until its imports are done: the window queues the rest and writes it on later ticks."""
    graph = template("iris_mlp", epochs=1)
    model = nn.compile_model(graph, seed=0)
    weights = {k: v.copy() for k, v in model.weights.items()}
    padding = {f"pad{i}": np.zeros(1 << 16, np.float32) for i in range(16)}   # 4 MiB
    p = TrainingProcess()
    try:
        job = Job(graph, nn.TrainingConfig.from_dict(graph.training),
                  weights={**weights, **padding})
        p.run(job)                                 # returns with most of it still queued
        assert p.unsent > 0
        until(qtbot, lambda: p.flush() and p.unsent == 0)
        until(qtbot, lambda: p.receive() == [] and p.ended, timeout=60_000)
    finally:
        p.kill()


@pytest.mark.skipif(not hasattr(fcntl, "F_GETPIPE_SZ"), reason="Linux's pipe sizes only")
def test_a_whole_mnist_size_snapshot_fits_in_the_report_pipe():
    """A snapshot with 28x28 feature maps and its weights (~300 KB) goes out in one write:
    in a 64 KB pipe it took four of the window's ticks while newer ones were dropped."""
    with open("/proc/sys/fs/pipe-max-size") as f:
        if int(f.read()) < REPORT_PIPE_BYTES:
            pytest.skip("this system caps pipes below 1 MB")
    p = TrainingProcess()
    try:
        for reader in p.readers:                  # the child's, then the watcher's
            assert fcntl.fcntl(reader.fd, fcntl.F_GETPIPE_SZ) >= 300_000
    finally:
        p.kill()


def test_the_training_process_ends_with_its_window_and_never_imports_qt():
    p = TrainingProcess()
    try:
        code = ("import sys; print(sorted(m for m in sys.modules "
                "if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')))")
        for module in ("designer.training.child", "designer.training.watcher"):
            check = subprocess.run([sys.executable, "-c", f"import {module}; " + code],
                                   capture_output=True, text=True, check=True,
                                   env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
            assert check.stdout.strip() == "[]", module
        p.run(Job(template("iris_mlp", epochs=100_000), nn.TrainingConfig.from_dict(
            template("iris_mlp", epochs=100_000).training)))
        p.send(Command.PAUSE)
        p.popen.stdin.close()                     # what the window's death looks like
        p.watcher.stdin.close()
        assert p.popen.wait(30) == 0 and p.watcher.wait(30) == 0
    finally:
        p.kill()


def test_the_whole_test_split_is_counted_on_request_while_training(qtbot, tmp_path):
    from designer.plots.dashboard import TrainingDashboard

    rng = np.random.default_rng(0)
    x, x_test = rng.normal(size=(200, 4)), rng.normal(size=(1500, 4))
    np.savez(tmp_path / "data.npz", x=x.astype(np.float32), y=(x[:, 0] > 0).astype(int),
             x_test=x_test.astype(np.float32), y_test=(x_test[:, 0] > 0).astype(int))
    graph = nn.Graph("big test split", {"dataset": str(tmp_path / "data.npz"), "epochs": 50,
                                        "loss": "cross_entropy", "batch_size": 16})
    for node_id, type_name, params in [("input", "Input", {"shape": [4]}),
                                       ("dense", "Dense", {"units": 2}),
                                       ("out", "Activation", {"function": "softmax"})]:
        graph.add_node(node_id, type_name, params)
    graph.add_edge("input", "dense")
    graph.add_edge("dense", "out")
    c = TrainingController(graph=graph)
    dash = TrainingDashboard(c)
    qtbot.addWidget(dash)
    try:
        c.step()                                    # a paused run
        until(qtbot, lambda: c.run is not None and c.state == TrainingState.PAUSED)
        assert c.run.watched_test == 1000 < c.run.split_sizes["test"] == 1500
        dash.confusion.whole_split_wanted.emit()    # the button under the matrix
        until(qtbot, lambda: c.snapshot is not None and c.snapshot.test_predictions
              is not None and len(c.snapshot.test_predictions) == 1500)
        dash.show_page("Confusion")
        dash.confusion.refresh()
        assert dash.confusion.matrix.sum() == 1500
        assert not dash.confusion.whole_split.isVisibleTo(dash)
    finally:
        c.shutdown()
