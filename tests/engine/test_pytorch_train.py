"""`--format pytorch-train`: the written train.py trains as nnengine defines training, under
`python train.py` and under `torchrun` (DDP on CPU with gloo), resumes from its checkpoints,
reads the data files nnengine reads, and hands back weights nnengine evaluates the same."""
from __future__ import annotations

import gzip
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import nnengine as nn
from nnengine.cli import main
from nnengine.datasets import load_dataset
from nnengine.errors import ExportError
from nnengine.export import export_pytorch_train
from nnengine.export.pytorch_train import SUPPORTED
from nnengine.serialization import load_graph, save_graph
from nnengine.trainer import Trainer
from nnengine.training_config import TrainingConfig
from nnengine.weights_io import load_weights, save_weights
from tests.engine.export_cases import ROOT

TEMPLATES = ROOT / "resources" / "templates"


def export(graph: nn.Graph, folder: Path, seed: int = 0) -> nn.Model:
    model = nn.compile_model(graph, seed=seed)
    export_pytorch_train(model, folder)
    return model


def run(folder: Path, *args: str, procs: int = 1) -> list[str]:
    """Run train.py (under torchrun for several processes); its stdout lines."""
    launcher = [sys.executable]
    if procs > 1:
        launcher += ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}"]
    done = subprocess.run([*launcher, "train.py", *args], cwd=folder, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()


def epochs(lines: list[str]) -> list[dict]:
    return [json.loads(line.split(": ", 1)[1]) for line in lines if line.startswith("epoch ")]


def printed_test(lines: list[str]) -> dict:
    return json.loads(next(line for line in lines if line.startswith("test: "))[6:])


@pytest.mark.slow
@pytest.mark.parametrize("template", ["digits_mlp", "digits_cnn"])
def test_torchrun_on_two_cpu_processes_trains_like_one(template, tmp_path):
    path = TEMPLATES / f"{template}.json"
    export(load_graph(path), tmp_path)
    # 1000 of the training samples: 800 to train on after the validation split, an even
    # number, so DistributedSampler pads nothing; the test split is the whole of digits'.
    digits = load_dataset("digits")
    np.savez(tmp_path / "even.npz", x=digits.x_train[:1000], y=digits.y_train[:1000],
             x_test=digits.x_test, y_test=digits.y_test)
    common = ["--data", "even.npz", "--epochs", "2", "--batch-size", "64"]
    single = run(tmp_path, *common, "--out", "one.npz", "--checkpoint", "one.pt")
    double = run(tmp_path, *common, "--out", "two.npz", "--checkpoint", "two.pt", procs=2)
    # Each process takes every second sample of one shared permutation, so the two together
    # step on the very samples one process steps on. Only the float32 sums differ in order
    # (two half-batch means averaged by the all-reduce), a relative 1e-7 per step that Adam
    # carries on; with an odd number of samples DistributedSampler would repeat one, and
    # that changes every later step (seen: 3e-3 after two epochs).
    for one, two in zip(epochs(single), epochs(double), strict=True):
        assert two["loss"] == pytest.approx(one["loss"], rel=1e-5)  # seen: 2e-8
    assert len(epochs(double)) == 2
    # The weights come back as an nnengine .npz, and nnengine's evaluate agrees with train.py.
    done = subprocess.run([sys.executable, "-m", "nnengine", "evaluate", str(path), "--weights",
                           str(tmp_path / "two.npz"), "--dataset", "digits"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert round(json.loads(done.stdout)["accuracy"], 3) == \
        round(printed_test(double)["accuracy"], 3)


def _dropout_mlp() -> nn.Graph:
    g = nn.Graph("dropout mlp", {"dataset": "digits", "batch_size": 64, "epochs": 3,
                                 "optimizer": {"type": "adam", "learning_rate": 0.003}})
    for node_id, kind, params in [("input", "Input", {"shape": [64]}),
                                  ("hidden", "Dense", {"units": 16}),
                                  ("relu", "Activation", {"function": "relu"}),
                                  ("drop", "Dropout", {"rate": 0.3}),
                                  ("logits", "Dense", {"units": 10}),
                                  ("out", "Activation", {"function": "softmax"})]:
        g.add_node(node_id, kind, params)
    for a, b in [("input", "hidden"), ("hidden", "relu"), ("relu", "drop"), ("drop", "logits"),
                 ("logits", "out")]:
        g.add_edge(a, b)
    return g


def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(tmp_path):
    export(_dropout_mlp(), tmp_path)
    digits = load_dataset("digits")
    np.savez(tmp_path / "some.npz", x=digits.x_train[:300], y=digits.y_train[:300],
             x_test=digits.x_test[:50], y_test=digits.y_test[:50])
    common = ["--data", "some.npz", "--epochs", "3"]
    whole = run(tmp_path, *common, "--out", "whole.npz", "--checkpoint", "whole.pt")
    run(tmp_path, *common, "--epochs", "1", "--out", "part.npz", "--checkpoint", "part.pt")
    resumed = run(tmp_path, *common, "--resume", "--out", "resumed.npz", "--checkpoint",
                  "part.pt")
    assert resumed[0] == "resumed from part.pt after epoch 1"
    assert epochs(resumed) == epochs(whole)[1:]
    history = json.loads((tmp_path / "resumed.json").read_text())
    assert history == json.loads((tmp_path / "whole.json").read_text())
    a, b = load_weights(tmp_path / "whole.npz"), load_weights(tmp_path / "resumed.npz")
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    c = load_weights(tmp_path / "part.npz")
    assert not np.array_equal(a["hidden/W"], c["hidden/W"])  # the resumed epochs did train


def _rnn_classifier(l2: float, clip_norm: float | None) -> nn.Graph:
    g = nn.Graph("rnn", {"dataset": "seq.npz", "batch_size": 20, "epochs": 1, "l2": l2,
                         "clip_norm": clip_norm, "shuffle": False, "validation_split": 0.0,
                         "optimizer": {"type": "sgd", "learning_rate": 0.5, "momentum": 0.9}})
    for node_id, kind, params in [("x", "Input", {"shape": [6, 3]}),
                                  ("rnn", "SimpleRNN", {"units": 5}),
                                  ("dense", "Dense", {"units": 3}),
                                  ("p", "Activation", {"function": "softmax"})]:
        g.add_node(node_id, kind, params)
    for a, b in [("x", "rnn"), ("rnn", "dense"), ("dense", "p")]:
        g.add_edge(a, b)
    return g


def test_l2_and_clip_norm_steps_equal_nnengine(tmp_path):
    """Two SGD-momentum steps (40 samples, batches of 20, no shuffling) with l2 and a
    clip_norm small enough to clip: the weights equal nnengine's, which differ from
    nnengine's without either option (so both options acted)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(40, 6, 3)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    np.savez(tmp_path / "seq.npz", x=x, y=y, x_test=x[:4], y_test=y[:4])

    def nnengine_weights(l2: float, clip_norm: float | None) -> dict[str, np.ndarray]:
        graph = _rnn_classifier(l2, clip_norm)
        model = nn.compile_model(graph, seed=3)
        config = TrainingConfig.from_dict(graph.training).replace(dataset=None)
        Trainer(model, load_dataset(tmp_path / "seq.npz"), config).fit()
        return model.get_weights()

    export_pytorch_train(nn.compile_model(_rnn_classifier(0.05, 0.05), seed=3), tmp_path,
                         base_dir=tmp_path)
    run(tmp_path, "--out", "torch.npz")
    torch_w, engine_w = load_weights(tmp_path / "torch.npz"), nnengine_weights(0.05, 0.05)
    for key, w in engine_w.items():
        np.testing.assert_allclose(torch_w[key], w, rtol=2e-5, atol=2e-6, err_msg=key)
    for other in (nnengine_weights(0.0, 0.05), nnengine_weights(0.05, None)):
        assert not np.allclose(other["rnn/U"], engine_w["rnn/U"], rtol=1e-4, atol=1e-5)


def _load_train_module(folder: Path):
    """train.py as a module; its `import model` must find this folder's model.py."""
    sys.modules.pop("model", None)
    spec = importlib.util.spec_from_file_location(f"train_{id(folder)}", folder / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_data_files(root: Path) -> list[Path]:
    """The same kind of data as a .csv (word labels, a header), .npz without a test part,
    IDX files with a t10k test pair, and a folder of PNG images."""
    rng = np.random.default_rng(0)
    rows = ["a,b,c,d,kind"] + [",".join(f"{v:.4f}" for v in rng.normal(size=4)) +
                               f",{rng.choice(['cat', 'dog', 'emu'])}" for _ in range(30)]
    (root / "data.csv").write_text("\n".join(rows) + "\n")
    np.savez(root / "plain.npz", x=rng.normal(size=(30, 2, 2)).astype(np.float32),
             y=rng.integers(0, 3, 30))
    idx = root / "idx"
    idx.mkdir()
    for prefix, n in (("train", 12), ("t10k", 5)):
        images = rng.integers(0, 256, (n, 2, 2), dtype=np.uint8)
        header = bytes([0, 0, 8, 3]) + np.array([n, 2, 2], ">u4").tobytes()
        (idx / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(header +
                                                                          images.tobytes()))
        labels = rng.integers(0, 3, n, dtype=np.uint8)
        (idx / f"{prefix}-labels-idx1-ubyte").write_bytes(
            bytes([0, 0, 8, 1]) + np.array([n], ">u4").tobytes() + labels.tobytes())
    images = root / "images"
    for k, name in enumerate(["circle", "square"]):
        (images / name).mkdir(parents=True)
        for j in range(6):
            pixels = rng.integers(0, 256, (3, 5), dtype=np.uint8)
            Image.fromarray(pixels).save(images / name / f"{j}.png")
    return [root / "data.csv", root / "plain.npz", idx / "train-images-idx3-ubyte.gz", images]


def test_train_py_reads_data_files_as_nnengine_does(tmp_path):
    files = _write_data_files(tmp_path)
    shapes = {"data.csv": [4], "plain.npz": [2, 2], "train-images-idx3-ubyte.gz": [2, 2],
              "images": [1, 3, 5]}
    for path in files:
        g = nn.Graph("reader")
        g.add_node("pixels", "Input", {"shape": shapes[path.name]})
        g.add_node("flat", "Flatten")
        g.add_node("d", "Dense", {"units": 3})
        g.add_edge("pixels", "flat")
        g.add_edge("flat", "d")
        folder = tmp_path / f"out_{path.stem}"
        export(g, folder)
        train = _load_train_module(folder)
        x, y, x_test, y_test = train.read_data(path)
        want = load_dataset(path, {"pixels": shapes[path.name]})
        np.testing.assert_array_equal(x["pixels"], want.x_train, err_msg=path.name)
        np.testing.assert_array_equal(y, want.y_train, err_msg=path.name)
        np.testing.assert_array_equal(x_test["pixels"], want.x_test, err_msg=path.name)
        np.testing.assert_array_equal(y_test, want.y_test, err_msg=path.name)
        assert y.dtype == want.y_train.dtype


def test_folder_contents_and_a_built_in_data_set_beside(tmp_path):
    model = export(load_graph(TEMPLATES / "digits_cnn.json"), tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"model.py", "train.py", "README.md",
                                                    "weights.npz", "digits.npz"}
    digits = load_dataset("digits")
    with np.load(tmp_path / "digits.npz") as z:
        np.testing.assert_array_equal(z["x_test"], digits.x_test)
        np.testing.assert_array_equal(z["y"], digits.y_train)
    # standardize is on in the template: model.py holds the statistics train.py fills in.
    saved = load_weights(tmp_path / "weights.npz")
    assert set(saved) == set(model.weights) | {"input/mean", "input/std"}
    source = (tmp_path / "train.py").read_text()
    assert "'standardize': True" in source and "'loss': 'cross_entropy'" in source
    compile(source, "train.py", "exec")


def test_a_setting_train_py_cannot_reproduce_is_refused(tmp_path, monkeypatch):
    monkeypatch.setitem(SUPPORTED, "loss", ("cross_entropy",))
    g = _dropout_mlp()
    g.training["loss"] = "hinge"
    with pytest.raises(ExportError, match="the loss 'hinge' has no PyTorch training "
                                          "counterpart in train.py"):
        export(g, tmp_path)


def test_command_line_writes_the_folder_with_the_data_file_found_beside_the_graph(tmp_path):
    """`nnengine export --format pytorch-train`: a data file named relative to the graph
    file is written into train.py as an absolute path, so the folder can move."""
    (tmp_path / "project" / "data").mkdir(parents=True)
    np.savez(tmp_path / "project" / "data" / "seq.npz", x=np.zeros((4, 6, 3), np.float32),
             y=np.arange(4) % 3)
    graph = _rnn_classifier(0.0, None)
    graph.training["dataset"] = "data/seq.npz"
    save_graph(graph, tmp_path / "project" / "rnn.json")
    save_weights(nn.compile_model(graph), tmp_path / "w.npz")
    status = main(["export", str(tmp_path / "project" / "rnn.json"), "--weights",
                   str(tmp_path / "w.npz"), "--format", "pytorch-train", "--output",
                   str(tmp_path / "out")])
    assert status == 0
    train = _load_train_module(tmp_path / "out")
    assert train.TRAINING["dataset"] == str((tmp_path / "project" / "data" / "seq.npz")
                                            .resolve())
    assert train.TRAINING["l2"] == 0.0 and train.TRAINING["optimizer"]["momentum"] == 0.9


def test_a_layers_added_loss_trains_and_evaluates_as_in_nnengine(tmp_path):
    """ActivityRegularization adds l1·mean Σ|a| + l2·mean Σa² to the loss: one SGD step over
    the whole set gives nnengine's weights, and the printed test loss holds the term too."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(24, 4)).astype(np.float32)
    y = rng.integers(0, 3, 24)
    np.savez(tmp_path / "d.npz", x=x[:20], y=y[:20], x_test=x[20:], y_test=y[20:])
    g = nn.Graph("sparse", {"dataset": "d.npz", "batch_size": 20, "epochs": 1,
                            "shuffle": False, "validation_split": 0.0,
                            "optimizer": {"type": "sgd", "learning_rate": 0.5}})
    for node_id, kind, params in [("x", "Input", {"shape": [4]}),
                                  ("code", "Dense", {"units": 3}),
                                  ("sparse", "ActivityRegularization", {"l1": 0.3, "l2": 0.2}),
                                  ("logits", "Dense", {"units": 3}),
                                  ("p", "Activation", {"function": "softmax"})]:
        g.add_node(node_id, kind, params)
    for a, b in [("x", "code"), ("code", "sparse"), ("sparse", "logits"), ("logits", "p")]:
        g.add_edge(a, b)
    model = nn.compile_model(g, seed=1)
    export_pytorch_train(model, tmp_path, base_dir=tmp_path)
    lines = run(tmp_path)
    config = TrainingConfig.from_dict(g.training).replace(dataset=None)
    trainer = Trainer(model, load_dataset(tmp_path / "d.npz"), config)
    trainer.fit()
    trained = load_weights(tmp_path / "trained.npz")
    for key, w in model.weights.items():
        np.testing.assert_allclose(trained[key], w, rtol=2e-5, atol=2e-6, err_msg=key)
    want = trainer.evaluate_test()["loss"]
    assert printed_test(lines)["loss"] == pytest.approx(want, rel=1e-5)
    assert trainer.model.mean_loss_terms(x[20:])  # the term is there to be counted
