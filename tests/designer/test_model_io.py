"""File ▸ Export and File ▸ Import ONNX… in the real main window (offscreen): ONNX and
PyTorch exports, an ONNX model imported back as the same graph with the same predictions,
the install hint without onnx, a damaged file, and training on from imported weights."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nnengine as nn
from designer.training.run_setup import prepare_run
from designer.training.states import TrainingState

from .shell_fixtures import *

INSTALL = 'pip install "nn-designer[onnx]"'


def structure(graph: nn.Graph) -> dict:
    """The graph's dict without node positions."""
    d = graph.to_dict()
    d["nodes"] = [{k: v for k, v in n.items() if k != "position"} for n in d["nodes"]]
    return d


def train(window, **training) -> None:
    doc, c = window.document, window.training
    doc.set_training({**doc.graph.training, "epochs": 3, "batch_size": 16, **training})
    assert c.start()
    assert c.wait(60_000) and c.state == TrainingState.FINISHED, c.last_message


def ort_outputs(path: Path, x: np.ndarray) -> np.ndarray:
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": np.asarray(x, dtype=np.float32)})[0]


def first_batch_loss(graph: nn.Graph, weights: dict | None = None) -> float:
    """The loss of the first training batch of `graph`'s run, from `weights` (or the seed)."""
    model, dataset, config = prepare_run(graph, graph.training)
    if weights is not None:
        model.set_weights(weights)
    losses: list[float] = []

    class First(nn.Callback):
        def on_batch_end(self, trainer, epoch, batch, logs):
            losses.append(logs["loss"])
            trainer.control.stop()

    nn.Trainer(model, dataset, config.replace(epochs=1), [First()]).fit()
    return losses[0]


def test_file_menu_has_export_and_import(window):
    titles = [a.text() for a in window.file_menu.actions()]
    assert "&Import ONNX…" in titles and "&Export" in titles
    assert [a.text() for a in window.model_io.export_menu.actions()] == [
        "&Weights (.npz)…", "Model &Bundle (.zip)…", "&ONNX (.onnx)…",
        "&PyTorch Source (.py)…", "PyTorch &Training Folder…", "&NumPy Predictor Folder…"]
    assert titles.index("&Export") < titles.index("&Quit")
    for key in ("train", "train_on", "pause", "resume", "stop", "step", "evaluate",
                "predict", "export_weights", "export_bundle", "load_weights"):
        assert key in window.actions   # the Train menu moved module, not behaviour


def test_export_onnx_then_import_it_back(window, dialogs, tmp_path):
    pytest.importorskip("onnx")
    c = window.training
    train(window)
    before_predict = c.predict(3)       # the window's own model around the run's weights
    x = c.dataset.x_test
    expected = c.model.predict(x)
    before_graph = structure(window.document.graph)
    path = tmp_path / "iris"
    dialogs.paths.append(str(path))                       # the suffix is added
    window.actions["export_onnx"].trigger()
    path = path.with_suffix(".onnx")
    assert path.is_file(), dialogs.texts()
    assert "freshly" not in window.statusBar().currentMessage()
    np.testing.assert_allclose(ort_outputs(path, x), expected, rtol=1e-5, atol=1e-6)

    window.document.new(mlp_graph())                     # something else on the canvas
    dialogs.paths.append(str(path))
    window.actions["import_onnx"].trigger()
    assert [k for k in dialogs.kinds() if k in ("warning", "critical")] == []
    assert structure(window.document.graph) == before_graph
    assert set(window.view.scene().items()) and window.view.node_item("dense1") is not None
    assert window.document.path is None and window.document.is_modified
    assert c.weights_loaded and "Imported iris.onnx" in window.statusBar().currentMessage()
    after = c.predict(3)
    np.testing.assert_allclose(after["output"], before_predict["output"], rtol=1e-5)
    assert after["predicted"] == before_predict["predicted"]
    np.testing.assert_allclose(c.model.predict(x), expected, rtol=1e-5, atol=1e-6)


def test_export_before_training_uses_fresh_weights_from_the_seed(window, dialogs, tmp_path):
    pytest.importorskip("onnx")
    dialogs.paths.append(str(tmp_path / "fresh.onnx"))
    window.actions["export_onnx"].trigger()
    assert "freshly initialised weights (seed 0)" in window.statusBar().currentMessage()
    model = nn.compile_model(window.document.graph, seed=0)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(ort_outputs(tmp_path / "fresh.onnx", x), model.predict(x),
                               rtol=1e-5, atol=1e-6)


def test_export_pytorch_writes_source_and_weights(window, dialogs, tmp_path):
    train(window)
    dialogs.paths.append(str(tmp_path / "model.py"))
    window.actions["export_pytorch"].trigger()
    source = (tmp_path / "model.py").read_text()
    compile(source, "model.py", "exec")                  # valid Python
    assert "nn.Module" in source and "dense1" in source
    saved = dict(np.load(tmp_path / "model.npz"))
    current = window.training.current_weights()
    assert set(saved) == set(current)
    for k, v in current.items():
        np.testing.assert_array_equal(saved[k], v)
    dialogs.paths.append(str(tmp_path / "w.npz"))
    window.actions["export_npz"].trigger()
    assert set(np.load(tmp_path / "w.npz")) == set(current)
    dialogs.paths.append(str(tmp_path / "b"))
    window.actions["export_zip"].trigger()
    bundle = nn.load_bundle(tmp_path / "b.zip")
    assert len(bundle.metrics["epochs"]) == 3


def test_export_training_and_numpy_folders(window, dialogs, tmp_path):
    """The folders `nnengine export --format pytorch-train / numpy` write, with the current
    weights; a name taken by a file is refused in one sentence."""
    train(window)
    current = window.training.current_weights()
    dialogs.paths.append(str(tmp_path / "to_torch"))
    window.actions["export_pytorch_train"].trigger()
    folder = tmp_path / "to_torch"
    assert {"model.py", "train.py", "README.md", "weights.npz"} <= \
        {p.name for p in folder.iterdir()}
    assert "PyTorch training folder written to" in window.statusBar().currentMessage()
    compile((folder / "train.py").read_text(), "train.py", "exec")
    dialogs.paths.append(str(tmp_path / "to_numpy"))
    window.actions["export_numpy"].trigger()
    saved = dict(np.load(tmp_path / "to_numpy" / "weights.npz"))
    assert set(saved) == set(current)
    for k, v in current.items():
        np.testing.assert_array_equal(saved[k], v)
    model = nn.compile_model(window.document.graph)
    model.set_weights(current)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    subprocess.run([sys.executable, str(tmp_path / "to_numpy" / "predict.py"),
                    str(tmp_path / "x.npy"), str(tmp_path / "y.npy")], check=True)
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), model.predict(x), rtol=1e-5,
                               atol=1e-6)
    (tmp_path / "taken").write_text("a file")
    dialogs.paths.append(str(tmp_path / "taken"))
    window.actions["export_numpy"].trigger()
    assert "Taken is a file; choose a name for a new folder." in dialogs.texts()


def test_without_onnx_the_actions_say_what_to_install(window, dialogs, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnx" else real(name, *a))
    for key in ("export_onnx", "import_onnx"):
        assert window.actions[key].isVisible() and window.actions[key].isEnabled()
        dialogs.shown.clear()
        window.actions[key].trigger()
        assert dialogs.kinds() == ["information"], dialogs.texts()   # no file dialog
        assert INSTALL in dialogs.texts()


def test_a_damaged_onnx_file_is_refused_and_the_graph_kept(window, dialogs, tmp_path):
    pytest.importorskip("onnx")
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x07 this is not an ONNX model \xff\xfe" * 20)
    before = window.document.graph.to_dict()
    dialogs.paths.append(str(bad))
    window.actions["import_onnx"].trigger()
    (_kind, title, text), = [s for s in dialogs.shown if s[0] == "warning"]
    assert title == "Import ONNX" and "broken.onnx" in text and "Traceback" not in text
    assert "Not a readable ONNX model" in text and str(tmp_path) not in text
    assert window.document.graph.to_dict() == before
    dialogs.shown.clear()
    dialogs.paths.append(str(tmp_path / "missing.onnx"))
    window.actions["import_onnx"].trigger()
    assert "The file does not exist." in dialogs.texts()
    assert window.document.graph.to_dict() == before


def test_training_after_import_trains_on_from_the_imported_weights(window, dialogs, qtbot,
                                                                  tmp_path):
    pytest.importorskip("onnx")
    from nnengine import export as onnx_import

    c = window.training
    train(window, standardize=True)
    path = tmp_path / "trained.onnx"
    dialogs.paths.append(str(path))
    window.actions["export_onnx"].trigger()
    _, imported = onnx_import.import_onnx(path)
    window.document.new(mlp_graph())
    dialogs.paths.append(str(path))
    window.actions["import_onnx"].trigger()
    graph = window.document.graph.copy()
    expected = first_batch_loss(graph, imported)
    fresh = first_batch_loss(graph)
    assert abs(expected - fresh) > 1e-3              # the two starts can be told apart
    window.actions["step"].trigger()                 # one batch from the imported weights
    qtbot.waitUntil(lambda: (c.poll(), len(c.metrics))[1] >= 1, timeout=30_000)
    assert c.metrics.batch_loss[0] == pytest.approx(expected, rel=1e-6)
    c.stop()
    assert c.wait(30_000)
    assert not c.weights_loaded                      # the next Train starts fresh again
    assert c.train_on() and c.wait(60_000) and c.state == TrainingState.FINISHED
