"""Weights, model bundles and ONNX files opened from the window are read off the GUI
thread: a slow file shows the progress dialog with Cancel, Cancel keeps the graph and the
weights, and a bad file is refused in one sentence with nothing the user made lost."""
from __future__ import annotations

import threading
import zipfile

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QProgressDialog, QPushButton

import nnengine as nn
from nnengine import limits

from .shell_fixtures import *


@pytest.fixture
def loaded(window):
    """The window with weights of its own (drawn from seed 7), as after a Load Weights."""
    weights = nn.compile_model(window.document.graph.copy(), seed=7).get_weights()
    window.training.set_weights(weights, source="mine.npz")
    return window


def _state(window) -> tuple:
    """What must survive a cancelled or failed read: the graph, the weights, their source."""
    c = window.training
    return (window.document.graph.to_dict(), c.weights_source,
            {k: v.copy() for k, v in c.current_weights().items()})


def _same(a: tuple, b: tuple) -> bool:
    return a[:2] == b[:2] and a[2].keys() == b[2].keys() and all(
        np.array_equal(a[2][k], b[2][k]) for k in a[2])


def _slow(monkeypatch, module, name):
    """`module.name` made to wait for the returned event; records the threads it ran on."""
    release, threads = threading.Event(), []
    real = getattr(module, name)

    def slow(*args, **kwargs):
        threads.append(threading.current_thread())
        assert release.wait(30), "the test never released the reader"
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, slow)
    return release, threads


def _press_cancel_when_shown(window, qtbot, seen: dict) -> None:
    def press() -> None:
        dialog = next((d for d in window.findChildren(QProgressDialog) if d.isVisible()), None)
        if dialog is None:
            QTimer.singleShot(20, press)
            return
        seen["label"] = dialog.labelText()
        button = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Cancel")
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(20, press)


def _cancel_a_slow_read(window, qtbot, monkeypatch, module, name, action) -> str:
    """Run `action` with `module.name` slowed down, press Cancel in the progress dialog it
    shows; `action` must return False, the reader must have run off the GUI thread. Returns
    the dialog's text."""
    release, threads = _slow(monkeypatch, module, name)
    seen: dict = {}
    _press_cancel_when_shown(window, qtbot, seen)
    assert not action()
    release.set()
    assert threads and threads[0] is not threading.main_thread()
    return seen["label"]


def _export_weights(window, path) -> None:
    nn.save_weights(nn.compile_model(window.document.graph.copy(), seed=1).get_weights(), path)


# --- Load Weights (.npz and model bundles) ------------------------------------------------

def test_loading_weights_is_read_off_the_gui_thread_and_cancel_keeps_them(
        loaded, tmp_path, monkeypatch, qtbot, dialogs):
    from designer.training import actions

    path = tmp_path / "other.npz"
    _export_weights(loaded, path)
    before = _state(loaded)
    label = _cancel_a_slow_read(loaded, qtbot, monkeypatch, actions, "read_weights",
                                lambda: loaded.training_actions.load_weights_from(path))
    assert label == "Reading “other.npz”…"
    assert _same(_state(loaded), before) and dialogs.shown == []
    assert not any(d.isVisible() for d in loaded.findChildren(QProgressDialog))


def test_loading_weights_from_the_menu_makes_them_current(loaded, tmp_path, dialogs):
    path = tmp_path / "other.npz"
    _export_weights(loaded, path)
    dialogs.paths.append(str(path))
    loaded.actions["load_weights"].trigger()
    assert dialogs.kinds() == ["open"]
    c = loaded.training
    assert c.weights_source == "other.npz"
    np.testing.assert_array_equal(c.current_weights()["dense1/W"], nn.load_weights(path)["dense1/W"])


def _bad_weight_files(window, tmp_path) -> list[tuple[str, object, str]]:
    """(file name, how to write it, what the one sentence says)."""
    good = nn.compile_model(window.document.graph.copy(), seed=1).get_weights()

    def write_npz(arrays):
        return lambda p: np.savez(p, **arrays)

    def bundle_with_huge_metrics(p):   # 400 kB of metrics.json in about 1 kB
        real = p.with_name("real.zip")
        nn.save_bundle(real, window.document.graph, good, {"epochs": []})
        with zipfile.ZipFile(real) as src, zipfile.ZipFile(p, "w") as z:
            for name in src.namelist():
                data = src.read(name) if name != "metrics.json" else \
                    b"{" + b" " * 400_000 + b"}"
                z.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)

    return [
        ("garbage.npz", lambda p: p.write_bytes(b"not a zip at all" * 10), "not a weight file"),
        ("missing.npz", None, "no such file"),
        ("wrong.npz", write_npz({"nope/W": np.zeros(3)}), "missing 'dense1/W'"),
        ("nan.npz", write_npz({**good, "dense1/W": np.full_like(good["dense1/W"], np.nan)}),
         "dense1/W"),
        ("huge.npz", write_npz({**good, "dense1/W": np.zeros((4, 8), np.float32),
                                "extra/x": np.zeros(5000, np.float32)}), "5,000"),
        ("bomb.zip", bundle_with_huge_metrics, "the limit is 97.7 KiB"),
        ("folder.npz", lambda p: p.mkdir(), ""),
    ]


def test_a_bad_weight_file_is_one_sentence_and_keeps_everything(loaded, tmp_path, dialogs):
    before = _state(loaded)
    with limits.override(array_elements=1000, inflated_bytes=100_000):
        for name, write, expected in _bad_weight_files(loaded, tmp_path):
            path = tmp_path / name
            if write is not None:
                write(path)
            dialogs.shown.clear()
            assert not loaded.training_actions.load_weights_from(path), name
            (kind, title, text), = dialogs.shown
            assert (kind, title) == ("warning", "Load Weights")
            head, _, why = text.partition("\n\n")
            assert head == f"“{name}” could not be loaded.", text
            assert expected.lower() in why.lower(), (name, why)
            assert "Traceback" not in why and "\n" not in why.strip(), why
            assert _same(_state(loaded), before), name


# --- Import ONNX ---------------------------------------------------------------------------

def test_importing_onnx_is_read_off_the_gui_thread_and_cancel_keeps_the_graph(
        loaded, tmp_path, monkeypatch, qtbot, dialogs):
    pytest.importorskip("onnx")
    from nnengine import export

    path = tmp_path / "model.onnx"
    export.export_onnx(nn.compile_model(loaded.document.graph.copy(), seed=3), path)
    loaded.document.set_param("dense1", "units", 6)      # unsaved work
    before = _state(loaded)
    label = _cancel_a_slow_read(loaded, qtbot, monkeypatch, export, "import_onnx",
                                lambda: loaded.model_io.import_path(path))
    assert label == "Reading “model.onnx”…"
    assert _same(_state(loaded), before) and loaded.document.is_modified
    assert dialogs.shown == []
    loaded.document.undo_stack.undo()                    # the edit is still there to undo
    assert loaded.document.graph.params_of("dense1")["units"] == 8


def test_a_bad_onnx_file_is_one_sentence_and_keeps_everything(loaded, tmp_path, dialogs):
    pytest.importorskip("onnx")
    before = _state(loaded)
    cases = {"empty.onnx": b"", "huge.onnx": b"\x08" * 5000}
    with limits.override(file_bytes=4000):
        for name, data in cases.items():
            path = tmp_path / name
            path.write_bytes(data)
            dialogs.shown.clear()
            assert not loaded.model_io.import_path(path)
            (kind, title, text), = dialogs.shown
            assert (kind, title) == ("warning", "Import ONNX")
            head, _, why = text.partition("\n\n")
            assert head == f"“{name}” could not be imported." and why and "\n" not in why
            assert "Traceback" not in why
            assert _same(_state(loaded), before), name


# --- data files for a run ------------------------------------------------------------------

def test_a_data_file_whose_labels_do_not_fit_the_output_is_refused_naming_it(tmp_path):
    from designer.training.run_setup import prepare_run

    data = tmp_path / "rows.csv"
    data.write_text("1,2,3,4,0\n3,4,5,6,50000\n5,6,7,8,1\n")
    graph = mlp_graph()                                   # 3 softmax units
    with pytest.raises(nn.DatasetError) as e:
        prepare_run(graph, {"dataset": str(data), "loss": "cross_entropy"})
    assert str(e.value) == (f"{data}: the largest label is 50,000, but the graph's output "
                            "'out' has 3 units, one per class (labels 0 to 2)")
    data.write_text("1,2,3,4,0\n3,4,5,6,2\n5,6,7,8,1\n1,1,1,1,2\n")
    _model, dataset, _config = prepare_run(graph, {"dataset": str(data),
                                                   "loss": "cross_entropy"})
    assert dataset.num_classes == 3 and dataset.class_names is None


# --- graphs, projects and data files -------------------------------------------------------

def test_a_named_pipe_opened_as_a_graph_can_be_cancelled_and_blocks_nothing(
        window, tmp_path, qtbot, dialogs):
    import os

    pipe = tmp_path / "pipe.json"
    os.mkfifo(pipe)                        # opening it for reading waits for a writer
    before = window.document.graph.to_dict()
    seen: dict = {}
    _press_cancel_when_shown(window, qtbot, seen)
    assert not window.files.open_path(pipe)
    assert seen == {"label": "Reading “pipe.json”…"}
    assert window.document.graph.to_dict() == before and dialogs.shown == []
    good = tmp_path / "good.json"          # the stuck read holds up no other read
    nn.save_graph(mlp_graph(), good)
    assert window.files.open_path(good) and window.document.path == good
    writer = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)   # let the stuck reader end
    os.close(writer)


def test_a_data_file_is_previewed_after_reading_it_off_the_gui_thread(window, tmp_path,
                                                                      monkeypatch, qtbot):
    release, threads = _slow(monkeypatch, nn, "load_dataset")
    data = tmp_path / "rows.csv"
    data.write_text("1,2,3,4,0\n3,4,5,6,1\n5,6,7,8,2\n1,1,1,1,2\n")
    panel = window.training_panel
    panel.set_dataset(str(data))
    assert panel.preview.summary.text().startswith("Reading “")   # the window goes on
    assert panel.preview.shown is None
    release.set()
    qtbot.waitUntil(lambda: panel.preview.shown == "table")
    assert threads and threads[0] is not threading.main_thread()
    assert "3 classes" in panel.preview.summary.text()


def test_a_project_whose_data_file_is_missing_opens_and_says_so(window, tmp_path, qtbot,
                                                                dialogs):
    from designer.training.run_setup import prepare_run

    graph = mlp_graph()
    graph.training = {**graph.training, "dataset": "gone.csv"}
    path = tmp_path / "project.json"
    nn.save_graph(graph, path)
    assert window.files.open_path(path) and dialogs.shown == []
    preview = window.training_panel.preview
    qtbot.waitUntil(lambda: "cannot be shown" in preview.summary.text())
    assert "gone.csv: no such file or folder" in preview.summary.text()
    with pytest.raises(nn.DatasetError, match="gone.csv: no such file or folder"):
        prepare_run(window.document.graph, window.document.graph.training, tmp_path)


def _collector_thread(qtbot, start_worker) -> list[threading.Thread]:
    """Which thread destroys a closed window's objects (kept in a reference cycle) when
    `start_worker(work)` starts a worker whose allocations run the cycle collector."""
    import gc
    import weakref

    from PySide6.QtCore import QObject

    class Closed:
        pass

    where: list[threading.Thread] = []
    closed = Closed()
    closed.me, closed.action = closed, QObject()
    watch = weakref.ref(closed, lambda _ref: where.append(threading.current_thread()))
    del closed
    gc.disable()                # as if no generation filled up before the worker
    try:
        done = start_worker(gc.collect)
        qtbot.waitUntil(done, timeout=10_000)
    finally:
        gc.enable()
    assert watch() is None
    return where


def test_qt_garbage_is_destroyed_on_the_gui_thread_not_by_a_reader(qtbot):
    """A reader's allocations may run Python's cycle collector on its own thread; Qt objects
    it destroyed there could deadlock the window (PySide6 and Qt's connection locks, seen
    once in the suite). Garbage waiting when a worker starts is collected on the GUI thread."""
    from designer.backprop.context import ToolJob
    from designer.files import start_reading

    def read(work):
        return start_reading(work).done

    def tool(work):
        job = ToolJob(lambda _progress, _cancelled: work())
        job.start()
        return job._thread.isFinished

    assert _collector_thread(qtbot, read) == [threading.main_thread()]
    assert _collector_thread(qtbot, tool) == [threading.main_thread()]
