"""The `nnengine` command as SPEC section 5 describes it: validate's table, the three files
train writes, evaluate's JSON, predict, export, --no-shuffle and --weights; and the digits
examples reach their accuracy from the command line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nnengine as nn
from nnengine import cli

REPO = Path(__file__).parents[2]
EXAMPLES = REPO / "resources" / "examples"


def run(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    """The real command, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "nnengine", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def main(capsys, *argv: str) -> tuple[int, str, str]:
    """The same command in this process (fast): (status, stdout, stderr)."""
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_validate_prints_the_summary_table(tmp_path):
    done = run("validate", str(EXAMPLES / "mlp_digits.json"), cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["node", "type", "output", "shape", "params"]
    graph = nn.load_graph(EXAMPLES / "mlp_digits.json")
    analysis = nn.analyze(graph)
    for node_id, line in zip(graph.node_ids(), lines[1:]):
        cells = line.split()
        assert cells[0] == node_id and cells[1] == graph.type_of(node_id)
        assert cells[-1] == f"{analysis.param_count(node_id):,}"
    total = next(line for line in lines if line.startswith("total"))
    assert total.split()[-1] == f"{analysis.total_params:,}"
    assert "valid" in lines[-1] and "digits" in lines[-1]


def test_train_writes_weights_metrics_and_graph(tmp_path, capsys):
    out = tmp_path / "out"
    status, stdout, stderr = main(capsys, "train", str(EXAMPLES / "spirals.json"), "--epochs",
                                  "3", "--seed", "5", "--out", str(out))
    assert status == 0, stderr
    assert "epoch 1/3 [" in stderr and "epoch 3/3 [" in stderr  # the progress bar
    assert "test accuracy" in stdout
    weights = nn.load_weights(out / "weights.npz")
    assert sorted(weights) == ["dense1/W", "dense1/b", "dense2/W", "dense2/b", "dense3/W",
                               "dense3/b"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == [1, 2, 3]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(metrics["epochs"][0])
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):  # also Keras' layout
        assert metrics[key] == [e[key] for e in metrics["epochs"]]
    assert set(metrics["test"]) == {"loss", "accuracy"}
    saved = nn.load_graph(out / "graph.json")
    assert saved.training["epochs"] == 3 and saved.training["seed"] == 5  # options recorded
    original = nn.load_graph(EXAMPLES / "spirals.json")
    assert saved.node_ids() == original.node_ids()
    assert saved.node("dense1")["position"] == original.node("dense1")["position"]

    status, stdout, _ = main(capsys, "evaluate", str(out / "graph.json"), "--weights",
                             str(out / "weights.npz"), "--dataset", "spirals")
    assert status == 0
    result = json.loads(stdout)
    assert set(result) == {"loss", "accuracy"}
    assert result["accuracy"] == pytest.approx(metrics["test"]["accuracy"])


def test_same_seed_same_weights(tmp_path, capsys):
    for name in ("a", "b"):
        assert main(capsys, "train", str(EXAMPLES / "xor.json"), "--epochs", "2",
                    "--out", str(tmp_path / name))[0] == 0
    a, b = (nn.load_weights(tmp_path / n / "weights.npz") for n in ("a", "b"))
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_no_shuffle_full_batch_is_one_optimizer_step_per_epoch(tmp_path, capsys):
    graph_path = tmp_path / "g.json"
    graph = nn.load_graph(EXAMPLES / "xor.json")
    graph.training["validation_split"] = 0.0
    nn.save_graph(graph, graph_path)
    status, _, err = main(capsys, "train", str(graph_path), "--epochs", "2", "--batch-size",
                          "100000", "--no-shuffle", "--optimizer", "sgd", "--lr", "0.5",
                          "--seed", "3", "--out", str(tmp_path / "out"))
    assert status == 0, err
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["batches_per_epoch"] == 1
    # Two plain full-batch SGD steps from the seed-3 weights, done by hand.
    model = nn.compile_model(graph, seed=3)
    data = nn.load_dataset("xor")
    for _ in range(2):
        _, _, grads = model.train_step_grads(data.x_train, data.y_train, "cross_entropy")
        for key, g in grads.items():
            model.weights[key] -= 0.5 * g
    trained = nn.load_weights(tmp_path / "out" / "weights.npz")
    for key, value in model.weights.items():
        np.testing.assert_allclose(trained[key], value, rtol=1e-5, atol=1e-6)


def test_weights_option_starts_from_given_weights(tmp_path, capsys):
    graph = nn.load_graph(EXAMPLES / "xor.json")
    start = nn.compile_model(graph, seed=42)
    nn.save_weights(start, tmp_path / "init.npz")
    assert main(capsys, "train", str(EXAMPLES / "xor.json"), "--epochs", "0", "--weights",
                str(tmp_path / "init.npz"), "--out", str(tmp_path / "zero"))[0] == 0
    kept = nn.load_weights(tmp_path / "zero" / "weights.npz")
    for key, value in start.weights.items():
        np.testing.assert_array_equal(kept[key], value)
    for name, extra in (("from_init", ["--weights", str(tmp_path / "init.npz")]),
                        ("from_seed", [])):
        assert main(capsys, "train", str(EXAMPLES / "xor.json"), "--epochs", "1", *extra,
                    "--out", str(tmp_path / name))[0] == 0
    a = nn.load_weights(tmp_path / "from_init" / "weights.npz")
    b = nn.load_weights(tmp_path / "from_seed" / "weights.npz")
    assert not np.allclose(a["hidden/W"], b["hidden/W"])


def test_predict_with_npy_and_with_npz_per_input(tmp_path, capsys):
    graph = nn.load_graph(EXAMPLES / "mlp_iris.json")
    model = nn.compile_model(graph, seed=0)
    model.set_input_scaling("input", np.full(4, 0.5), np.full(4, 2.0))  # it standardizes
    nn.save_weights(model, tmp_path / "w.npz")
    x = np.random.default_rng(0).normal(size=(7, 4)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    status, _, err = main(capsys, "predict", str(EXAMPLES / "mlp_iris.json"), "--weights",
                          str(tmp_path / "w.npz"), "--input", str(tmp_path / "x.npy"),
                          "--output", str(tmp_path / "y.npy"))
    assert status == 0, err
    y = np.load(tmp_path / "y.npy")
    np.testing.assert_allclose(y, model.predict(x), rtol=1e-6)
    assert y.shape == (7, 3)

    two = nn.load_graph(Path(__file__).parent / "data" / "graph_v1.json")
    nn.save_graph(two, tmp_path / "two.json")
    model = nn.compile_model(two, seed=0)
    nn.save_weights(model, tmp_path / "w2.npz")
    inputs = {"a": np.ones((2, 4), np.float32), "b": np.zeros((2, 3), np.float32)}
    np.savez(tmp_path / "x2.npz", **inputs)
    assert main(capsys, "predict", str(tmp_path / "two.json"), "--weights",
                str(tmp_path / "w2.npz"), "--input", str(tmp_path / "x2.npz"), "--output",
                str(tmp_path / "y2.npy"))[0] == 0
    np.testing.assert_allclose(np.load(tmp_path / "y2.npy"), model.predict(inputs), rtol=1e-6)


def test_export_npz_and_bundle(tmp_path, capsys):
    graph = nn.load_graph(EXAMPLES / "mlp_iris.json")
    model = nn.compile_model(graph, seed=0)
    model.set_input_scaling("input", np.full(4, 0.5), np.full(4, 2.0))  # it standardizes
    weights = model.get_weights()
    np.savez(tmp_path / "messy.npz", **{k: v.astype(np.float64) for k, v in weights.items()})
    assert main(capsys, "export", str(EXAMPLES / "mlp_iris.json"), "--weights",
                str(tmp_path / "messy.npz"), "--format", "npz", "--output",
                str(tmp_path / "clean.npz"))[0] == 0
    clean = nn.load_weights(tmp_path / "clean.npz")
    assert sorted(clean) == sorted(weights)
    for key, value in weights.items():
        np.testing.assert_allclose(clean[key], value)

    nn.save_weights(model, tmp_path / "w.npz")
    assert main(capsys, "export", str(EXAMPLES / "mlp_iris.json"), "--weights",
                str(tmp_path / "w.npz"), "--format", "bundle", "--output",
                str(tmp_path / "model.zip"))[0] == 0
    bundle = nn.load_bundle(tmp_path / "model.zip")
    assert bundle.graph == graph
    status, out, _ = main(capsys, "evaluate", str(tmp_path / "model.zip"), "--dataset", "iris")
    assert status == 0 and set(json.loads(out)) == {"loss", "accuracy"}


def test_a_format_not_built_yet_is_a_clean_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(cli.EXPORT_FORMATS, "future", cli.ExportFormat("future", "later"))
    status, _, err = main(capsys, "export", str(EXAMPLES / "xor.json"), "--weights", "w.npz",
                          "--format", "future", "--output", str(tmp_path / "m"))
    assert status == 1
    assert err.strip() == "nnengine: format 'future' is not available yet"


def test_dataset_path_in_the_file_is_relative_to_the_graph(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2))
    np.savez(folder / "data" / "points.npz", x=x, y=(x[:, 0] > 0).astype(int))
    graph = nn.load_graph(EXAMPLES / "xor.json")
    graph.training["dataset"] = "data/points.npz"
    nn.save_graph(graph, folder / "g.json")
    monkeypatch.chdir(tmp_path)
    assert main(capsys, "validate", "project/g.json")[0] == 0
    status, _, err = main(capsys, "train", "project/g.json", "--epochs", "1", "--out", "out")
    assert status == 0, err


@pytest.mark.slow
def test_digits_mlp_example_reaches_96_percent(tmp_path):
    example = str(EXAMPLES / "mlp_digits.json")
    done = run("train", example, "--out", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    done = run("evaluate", example, "--weights", "out/weights.npz", "--dataset", "digits",
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["accuracy"] >= 0.96


@pytest.mark.slow
def test_digits_cnn_example_reaches_97_percent(tmp_path):
    example = str(EXAMPLES / "cnn_digits.json")
    done = run("train", example, "--out", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] >= 0.97


def test_written_graph_points_at_the_same_data_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x = np.random.default_rng(1).normal(size=(30, 2))
    np.savez("points.npz", x=x, y=(x[:, 1] > 0).astype(int))
    assert main(capsys, "train", str(EXAMPLES / "xor.json"), "--dataset", "points.npz",
                "--epochs", "1", "--out", "runs/a")[0] == 0
    assert nn.load_graph("runs/a/graph.json").training["dataset"] == "../../points.npz"
    assert main(capsys, "train", "runs/a/graph.json", "--epochs", "1", "--out", "runs/b")[0] == 0
