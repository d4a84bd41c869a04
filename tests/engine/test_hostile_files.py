"""Hostile files and interrupted runs, beyond the one-line corpus of test_malformed_inputs:
budgets checked before the work (in-process, with small budgets), weights checked against
the graph, the run card, `nnengine train`'s outputs as one set under Ctrl+C and SIGKILL,
and JSON that never holds NaN."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

import nnengine as nn
from nnengine import cli, limits
from nnengine.arrays_io import read_npz
from nnengine.json_text import NonFiniteWarning, finite_json
from nnengine.run_card import dataset_content_sha256, graph_sha256
from nnengine.run_output import RUN_FILES, OutputError, RunOutput
from tests.engine.builders import mlp

REPO = Path(__file__).parents[2]
EXAMPLES = REPO / "resources" / "examples"


def main(capsys, *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def command(*argv: str, cwd: Path, **popen) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("NNENGINE_DEBUG", None)
    return subprocess.Popen([sys.executable, "-m", "nnengine", *argv], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


# --- budgets ---------------------------------------------------------------------------------

def test_budgets_come_from_override_then_environment_then_defaults(monkeypatch):
    assert limits.limit("classes") == limits.DEFAULTS["classes"]
    monkeypatch.setenv("NNENGINE_MAX_CLASSES", "77")
    assert limits.limit("classes") == 77
    with limits.override(classes=5):
        assert limits.limit("classes") == 5
    assert limits.limit("classes") == 77
    with pytest.raises(KeyError, match="unknown budget 'clases'"), limits.override(clases=5):
        pass


def test_a_device_is_read_only_up_to_the_budget():
    with limits.override(graph_bytes=1000), pytest.raises(nn.FileFormatError) as e:
        nn.load_graph("/dev/zero")
    assert str(e.value).startswith("/dev/zero: holds more than 1000 bytes, too big")


def test_a_zip_bomb_is_refused_from_its_declared_size_before_inflating(tmp_path):
    """1 MB of zeros deflates to about 1 KB; the member's header says 1 MB, and that is
    refused without inflating it (zipfile never inflates past the declared size)."""
    path = tmp_path / "w.npz"
    np.savez_compressed(path, **{"a/W": np.zeros(250_000, np.float32)})
    assert path.stat().st_size < 5000
    with limits.override(inflated_bytes=100_000), pytest.raises(nn.FileFormatError) as e:
        nn.load_weights(path)
    assert "w.npz/a/W.npy: inflates to 976.7 KiB, too big for a zip member" in str(e.value)
    assert nn.load_weights(path)["a/W"].shape == (250_000,)  # the default budget takes it


def test_a_zip_member_that_lies_about_its_size_is_not_inflated_past_it(tmp_path):
    """A member whose header declares fewer bytes than its data inflates to: zipfile stops
    at the declared size and the CRC check fails; nothing is allocated beyond it."""
    path = tmp_path / "w.npz"
    np.savez_compressed(path, **{"a/W": np.zeros(250_000, np.float32)})
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("a/W.npy")
    small = (1000).to_bytes(4, "little")
    for at in (info.header_offset + 22, raw.rindex(b"PK\x01\x02") + 24):  # local, central
        raw[at:at + 4] = small
    with pytest.raises(nn.FileFormatError, match="w.npz"):
        read_npz(bytes(raw), str(path), nn.FileFormatError)


def test_class_count_is_checked_before_any_per_class_work(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("1,2,0\n3,4,50000000\n5,6,1\n")
    with pytest.raises(nn.DatasetError, match="50,000,001 classes, too big"):
        nn.load_dataset(path)
    path.write_text("1,2,0\n3,4,12\n")
    with limits.override(classes=12), pytest.raises(nn.DatasetError, match="13 classes"):
        nn.load_dataset(path)
    with limits.override(classes=13):
        assert nn.load_dataset(path).num_classes == 13


def _classifier(tmp_path, units: int, **training) -> Path:
    """A graph file: 2 inputs -> `units` softmax outputs, trained with cross_entropy."""
    graph = mlp(2, [], units)
    graph.training = {"loss": "cross_entropy", "epochs": 2, "batch_size": 2, **training}
    path = tmp_path / f"g{units}.json"
    nn.save_graph(graph, path)
    return path


def _labelled(tmp_path, name: str, labels: list[int]) -> Path:
    """Rows of two features and these labels, as a .csv or a .npz."""
    x = np.arange(2 * len(labels), dtype=np.float32).reshape(-1, 2)
    path = tmp_path / name
    if name.endswith(".npz"):
        np.savez(path, x=x, y=np.array(labels))
    else:
        path.write_text("".join(f"{a:g},{b:g},{y}\n" for (a, b), y in zip(x, labels)))
    return path


@pytest.mark.parametrize("kind", ["csv", "npz"])
def test_labels_that_skip_classes_train_when_the_output_has_room(tmp_path, capsys, kind):
    data = _labelled(tmp_path, f"d.{kind}", [1, 7, 1, 7, 7, 1, 1, 7, 1, 7])
    loaded = nn.load_dataset(data, classes=("out", 8))
    assert loaded.num_classes == 8 and loaded.class_names is None
    status, _out, err = main(capsys, "train", str(_classifier(tmp_path, 8)), "--dataset",
                            str(data), "--out", str(tmp_path / "run"))
    assert status == 0, err
    assert (tmp_path / "run" / "weights.npz").is_file()


@pytest.mark.parametrize("kind", ["csv", "npz"])
def test_a_label_beyond_the_graphs_output_is_refused_naming_file_label_and_limit(
        tmp_path, capsys, kind):
    data = _labelled(tmp_path, f"d.{kind}", [0, 50_000, 1])
    with pytest.raises(nn.DatasetError) as e:
        nn.load_dataset(data, classes=("out", 10))
    assert str(e.value) == (f"{data}: the largest label is 50,000, but the graph's output "
                            "'out' has 10 units, one per class (labels 0 to 9)")
    for command in ("train", "evaluate"):
        extra = ["--out", str(tmp_path / "run")] if command == "train" else \
            ["--weights", str(tmp_path / "none.npz")]
        nn.save_weights(nn.compile_model(nn.load_graph(_classifier(tmp_path, 10))),
                        tmp_path / "none.npz")
        status, out, err = main(capsys, command, str(_classifier(tmp_path, 10)), "--dataset",
                                str(data), *extra)
        assert status != 0 and out == ""
        assert err.strip().count("\n") == 0 and "50,000" in err and "10 units" in err, err
        assert data.name in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_the_limit_is_the_output_that_learns_the_classes(tmp_path):
    data = _labelled(tmp_path, "d.csv", [0, 11, 3])
    model = nn.compile_model(mlp(2, [], 4))               # 4 units
    config = nn.TrainingConfig.from_dict({"loss": "cross_entropy"})
    assert nn.label_classes(config, model.output_id, model.output_shape) == \
        (model.output_id, 4)
    one_hot = config.replace(loss="mse", target="one_hot")
    assert nn.label_classes(one_hot, "out", (3, 4)) == ("out", 12)
    regression = config.replace(loss="mse")               # numbers, not classes
    assert nn.label_classes(regression, "out", (4,)) is None
    assert nn.load_dataset(data, classes=nn.label_classes(one_hot, "out", (3, 4))) \
        .num_classes == 12
    with pytest.raises(nn.DatasetError, match="largest label is 11"):
        nn.load_dataset(data, classes=nn.label_classes(config, "out", (4,)))


def test_no_memory_follows_a_labels_value(tmp_path):
    import tracemalloc

    data = _labelled(tmp_path, "d.csv", [0, 99_999, 1])   # just under the ceiling
    tracemalloc.start()
    try:
        loaded = nn.load_dataset(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert loaded.num_classes == 100_000 and loaded.class_names is None
    assert peak < 1_000_000     # 100,000 made-up class names alone took about 6 MB


def test_image_pixels_are_checked_from_the_header(tmp_path):
    from PIL import Image

    for name, size in (("a/big.png", (300, 200)), ("b/small.png", (4, 4))):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size).save(tmp_path / name)
    with limits.override(image_pixels=59_999), pytest.raises(nn.DatasetError) as e:
        nn.load_dataset(tmp_path, {"input": (3, 8, 8)})
    assert "big.png: is 300 x 200 pixels, too big for an image" in str(e.value)
    with limits.override(image_pixels=60_000):
        assert nn.load_dataset(tmp_path, {"input": (3, 8, 8)}).x_train.shape[1:] == (3, 8, 8)


def _png_header(width: int, height: int) -> bytes:
    """A PNG file of 60-odd bytes whose header declares width x height RGB pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                                0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


@pytest.mark.parametrize("side, says", [(8_200, "is 8200 x 8200 pixels, too big"),
                                        (100_000, "declares 10,000,000,000 pixels, too big")])
def test_a_tiny_png_declaring_huge_dimensions_is_refused_from_its_header(tmp_path, side,
                                                                         says):
    from PIL import Image

    for name in ("cats/a.png", "dogs/b.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (4, 4)).save(tmp_path / name)
    (tmp_path / "cats" / "huge.png").write_bytes(_png_header(side, side))
    with pytest.raises(nn.DatasetError) as e:
        nn.load_dataset(tmp_path, {"input": (3, 8, 8)})
    text = str(e.value)
    assert text.startswith(f"{tmp_path / 'cats' / 'huge.png'}: ") and says in text
    assert "(the limit is 67,108,864 pixels; NNENGINE_MAX_IMAGE_PIXELS" in text
    assert "\n" not in text


def test_symlink_loops_in_an_image_folder_are_skipped(tmp_path):
    from PIL import Image

    for name in ("cats/a.png", "cats/b.png", "dogs/c.png", "dogs/d.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (4, 4)).save(tmp_path / name)
    (tmp_path / "cats" / "loop.png").symlink_to("loop.png")        # points at itself
    (tmp_path / "dogs" / "up").symlink_to("..")                      # back to the root
    (tmp_path / "birds").symlink_to("birds")                         # a class folder loop
    d = nn.load_dataset(tmp_path, {"input": (3, 8, 8)})
    assert d.class_names == ["cats", "dogs"] and d.train_size + d.test_size == 4


def test_an_image_given_as_the_data_set_is_refused_in_one_sentence(tmp_path):
    path = tmp_path / "photo.png"
    path.write_bytes(_png_header(20_000, 20_000))
    with pytest.raises(nn.DatasetError, match=r"photo.png: unknown kind of data file"):
        nn.load_dataset(path)


def test_reading_a_small_file_never_reserves_the_whole_budget(tmp_path):
    import tracemalloc

    from nnengine.fileio import read_file_bytes

    path = tmp_path / "small.json"
    path.write_text("{}")
    tracemalloc.start()
    try:
        assert read_file_bytes(path, "graph file") == b"{}"
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100_000     # read(2 GiB + 1) reserved 2 GiB for these 2 bytes


# --- weights against the graph ---------------------------------------------------------------

@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_set_weights_refuses_non_finite_values(bad):
    model = nn.compile_model(mlp(3, [4], 2), seed=0)
    weights = model.get_weights()
    before = model.get_weights()
    key = next(iter(weights))
    weights[key].flat[1] = bad
    with pytest.raises(nn.WeightsError, match=f"'{key}' holds NaN or infinite values"):
        model.set_weights(weights)
    for k, v in model.get_weights().items():  # nothing was changed
        np.testing.assert_array_equal(v, before[k])


def test_a_standardize_graph_needs_finite_positive_statistics(tmp_path):
    graph = nn.load_graph(EXAMPLES / "mlp_iris.json")
    assert graph.training["standardize"]
    model = nn.compile_model(graph, seed=0)
    nn.save_weights(model, tmp_path / "plain.npz")
    with pytest.raises(nn.WeightsError, match="no 'input/mean'"):
        nn.apply_weights(model, tmp_path / "plain.npz")
    for std, message in ((np.zeros(4), "values of 0 or less"), (None, "no 'input/std'")):
        weights = {**model.get_weights(), "input/mean": np.zeros(4, np.float32)}
        if std is not None:
            weights["input/std"] = std.astype(np.float32)
        nn.save_weights(weights, tmp_path / "w.npz")
        with pytest.raises(nn.WeightsError, match=message):
            nn.apply_weights(nn.compile_model(graph, seed=0), tmp_path / "w.npz")


def test_evaluate_without_a_test_split_says_so():
    data = nn.load_dataset("iris")
    data.x_test, data.y_test = data.x_test[:0], data.y_test[:0]
    model = nn.compile_model(nn.load_graph(EXAMPLES / "mlp_iris.json"), seed=0)
    with pytest.raises(nn.DatasetError, match="no test samples"):
        nn.evaluate(model, data)


# --- JSON without NaN ------------------------------------------------------------------------

def test_non_finite_numbers_become_null_with_a_warning_naming_the_place():
    with pytest.warns(NonFiniteWarning, match=r"out.json: 'test.loss' and 1 more was NaN"):
        text = finite_json({"test": {"loss": float("nan"), "acc": 1.0},
                            "x": [np.float32(np.inf)]}, "out.json")
    assert json.loads(text, parse_constant=pytest.fail) == {
        "test": {"loss": None, "acc": 1.0}, "x": [None]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert finite_json({"a": 1.5}, "x") == '{"a": 1.5}'


def test_evaluate_prints_valid_json_when_the_loss_overflows(tmp_path, capsys):
    graph = nn.load_graph(EXAMPLES / "xor.json")
    model = nn.compile_model(graph, seed=0)
    weights = {k: np.full_like(v, 3e38) for k, v in model.get_weights().items()}
    nn.save_weights(weights, tmp_path / "w.npz")
    status, out, err = main(capsys, "evaluate", str(EXAMPLES / "xor.json"), "--weights",
                            str(tmp_path / "w.npz"))
    assert status == 0
    assert json.loads(out, parse_constant=pytest.fail)["loss"] is None
    assert err.count("\n") == 1 and err.startswith("nnengine: warning: the evaluation: 'loss'")


def test_predict_warns_in_one_line_about_inputs_it_cannot_represent(tmp_path, capsys):
    graph = nn.load_graph(EXAMPLES / "xor.json")
    nn.save_weights(nn.compile_model(graph, seed=0), tmp_path / "w.npz")
    np.save(tmp_path / "x.npy", np.array([[0.0, np.nan], [1e39, 0.0], [0.0, 1.0]]))
    status, _, err = main(capsys, "predict", str(EXAMPLES / "xor.json"), "--weights",
                          str(tmp_path / "w.npz"), "--input", str(tmp_path / "x.npy"),
                          "--output", str(tmp_path / "y.npy"))
    assert status == 0
    lines = err.splitlines()
    assert "'x' holds 2 values that are NaN, infinite or beyond float32's range" in lines[0]
    assert "2 of the 6 predicted values are NaN or infinite" in lines[1]  # the NaN row
    assert lines[2].startswith("wrote") and len(lines) == 3
    assert np.isfinite(np.load(tmp_path / "y.npy")[2]).all()


# --- the run card ----------------------------------------------------------------------------

def test_graph_hash_covers_the_structure_only():
    graph = nn.load_graph(EXAMPLES / "cnn_digits.json")
    base = graph_sha256(graph)
    same = graph.copy()
    same.name, same.training = "renamed", {"epochs": 1}
    same.set_position("conv1", (123.0, 4.0))
    same.set_params("conv1", {**same.params_of("conv1"), "stride": 1})  # the default, written
    assert graph_sha256(same) == base
    changed = graph.copy()
    changed.set_params("conv1", {**changed.params_of("conv1"), "filters": 31})
    assert graph_sha256(changed) != base
    add = nn.load_graph(REPO / "tests" / "engine" / "data" / "graph_v1.json")
    ports = add.copy()
    edges = [(s, t, p) for s, t, p in add.edges() if p in (0, 1) and add.type_of(t) in
             ("Add", "Concatenate", "Dot")]
    assert edges, "the fixture has a node with two ports"
    target = edges[0][1]
    feeds = [(s, p) for s, t, p in add.edges() if t == target]
    for s, _ in feeds:
        ports.remove_edge(s, target)
    for s, p in feeds:
        ports.add_edge(s, target, 1 - p)
    assert graph_sha256(ports) != graph_sha256(add)


def test_train_writes_the_run_card_and_its_settings_reproduce_the_weights(tmp_path, capsys):
    first, again = tmp_path / "first", tmp_path / "again"
    assert main(capsys, "train", str(EXAMPLES / "mlp_iris.json"), "--epochs", "4", "--seed",
                "3", "--lr", "0.02", "--out", str(first))[0] == 0
    card = json.loads((first / "run.json").read_text())
    assert list(card) == ["format", "version", "graph_sha256", "dataset", "seed", "training",
                          "started", "seconds", "epochs", "ended", "test", "versions"]
    assert card["format"] == "nnengine.run" and card["version"] == 1
    assert card["graph_sha256"] == graph_sha256(nn.load_graph(EXAMPLES / "mlp_iris.json"))
    assert card["dataset"] == {"name": "iris",
                               "sha256": dataset_content_sha256(nn.load_dataset("iris"))}
    assert card["seed"] == 3 and card["training"]["optimizer"]["learning_rate"] == 0.02
    assert card["training"]["epochs"] == 4 and card["epochs"] == 4
    assert card["ended"] == "finished" and set(card["test"]) == {"loss", "accuracy"}
    assert datetime.fromisoformat(card["started"]).tzinfo is not None
    assert set(card["versions"]) == {"nnengine", "numpy", "python"}

    status, out, _ = main(capsys, "train", str(first / "graph.json"), "--out", str(again))
    assert status == 0 and "run.json" in out
    again_card = json.loads((again / "run.json").read_text())
    assert again_card["training"] == card["training"]
    assert again_card["graph_sha256"] == card["graph_sha256"]
    a, b = nn.load_weights(first / "weights.npz"), nn.load_weights(again / "weights.npz")
    assert sorted(a) == sorted(b)
    for key in a:  # bit for bit
        assert a[key].dtype == b[key].dtype and a[key].tobytes() == b[key].tobytes()


def test_zero_epochs_still_write_every_per_epoch_list(tmp_path, capsys):
    assert main(capsys, "train", str(EXAMPLES / "mlp_iris.json"), "--epochs", "0", "--out",
                str(tmp_path / "o"))[0] == 0
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert {k: metrics[k] for k in ("loss", "accuracy", "val_loss", "val_accuracy")} == {
        "loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
    assert json.loads((tmp_path / "o" / "run.json").read_text())["epochs"] == 0


# --- the output set --------------------------------------------------------------------------

def _a_set(folder: Path, tag: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in RUN_FILES:
        (folder / name).write_text(tag)


def test_an_unwritable_out_is_found_before_training(tmp_path, capsys, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "mkdir", refuse)
    started = []
    monkeypatch.setattr(nn.Trainer, "fit", lambda self: started.append(1))
    status, _, err = main(capsys, "train", str(EXAMPLES / "xor.json"), "--out",
                          str(tmp_path / "o"))
    assert status == 1 and not started
    assert err.strip().endswith("o: cannot be written (Permission denied)")


def test_a_failed_write_keeps_the_old_set_and_no_temporaries(tmp_path):
    out = tmp_path / "run"
    _a_set(out, "old")
    output = RunOutput(out)
    output.prepare()

    def broken(f):
        f.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError, match="No space left on device"):
        output.commit({"metrics.json": b"{}", "weights.npz": broken})
    assert {p.name: p.read_text() for p in out.iterdir()} == {n: "old" for n in RUN_FILES}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_leftovers_of_killed_runs_are_cleaned_and_a_half_swap_is_repaired(tmp_path):
    out = tmp_path / "run"
    dead = 2**22 + 12345  # above pid_max's default: no such process
    _a_set(tmp_path / f".run.nnengine-{dead}.old", "old")  # killed between the renames
    _a_set(tmp_path / f".run.nnengine-{dead + 1}.tmp", "half")
    other = tmp_path / f".other.nnengine-{dead}.tmp"
    other.mkdir()
    RunOutput(out).prepare()
    assert {p.name: p.read_text() for p in out.iterdir()} == {n: "old" for n in RUN_FILES}
    (out / ".weights.npz.x1y2.tmp").write_bytes(b"a killed save of an older version")
    output = RunOutput(out)
    output.prepare()
    output.commit({name: b"new" for name in RUN_FILES})
    assert {p.name: p.read_text() for p in out.iterdir()} == {n: "new" for n in RUN_FILES}
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name, "run"]


def _wait_for(proc: subprocess.Popen, predicate, seconds: float = 120) -> None:
    end = time.monotonic() + seconds
    while not predicate() and proc.poll() is None and time.monotonic() < end:
        time.sleep(0.01)


def _loading_numpy(pid: int) -> bool:
    """Whether the process is past Python's own start-up (its `site` module, whose
    interruption Python reports itself) and loading NumPy, as importing nnengine does."""
    try:
        return "_multiarray_umath" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def _catches_sigint(pid: int) -> bool:
    """Whether the process has installed a SIGINT handler (Python has started)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = int(next(ln for ln in status.splitlines() if ln.startswith("SigCgt:")).split()[1],
                 16)
    return bool(caught & (1 << (signal.SIGINT - 1)))


def _is_one_set(folder: Path, tags: set[str]) -> str:
    """The folder holds one complete set (old or new): its tag."""
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(RUN_FILES), names
    card = json.loads((folder / "run.json").read_text())
    metrics = json.loads((folder / "metrics.json").read_text())
    assert card["seconds"] == metrics["seconds"]  # written together
    assert nn.load_weights(folder / "weights.npz")
    tag = str(card["seed"])
    assert tag in tags
    return tag


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_ctrl_c_while_the_command_starts_exits_130_in_one_line(tmp_path):
    for _ in range(3):
        proc = command("validate", str(EXAMPLES / "xor.json"), cwd=tmp_path)
        _wait_for(proc, lambda p=proc: _loading_numpy(p.pid))
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        assert "Traceback" not in err
        if proc.returncode == 0:  # it had finished: nothing to interrupt
            continue
        assert proc.returncode == 130, err
        assert err == "nnengine: interrupted\n"


def test_ctrl_c_during_training_writes_a_complete_set_and_exits_130(tmp_path):
    out = tmp_path / "run"
    proc = command("train", str(EXAMPLES / "spirals.json"), "--epochs", "100000", "--seed",
                   "7", "--out", str(out), cwd=tmp_path)
    proc.stderr.readline()  # the first epoch's line
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    said = [ln for ln in stderr.splitlines() if ln.startswith("nnengine")]
    assert said == [(f"nnengine: interrupted; writing what was learned so far (Ctrl+C again "
                     f"stops now and leaves {out} as it was)")]
    assert stdout.startswith("stopped after ")
    assert _is_one_set(out, {"7"}) == "7"
    assert json.loads((out / "run.json").read_text())["ended"] == "stopped"


def test_a_second_ctrl_c_leaves_the_old_set_or_a_complete_new_one(tmp_path):
    out = tmp_path / "run"
    for seed, gap in (("1", None), ("2", 0.0), ("3", 0.05)):
        proc = command("train", str(EXAMPLES / "spirals.json"), "--epochs", "100000", "--seed",
                       seed, "--out", str(out), cwd=tmp_path)
        if gap is None:
            proc.stderr.readline()
            proc.send_signal(signal.SIGINT)
        else:
            proc.stderr.readline()
            proc.send_signal(signal.SIGINT)
            time.sleep(gap)
            proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 130, stderr
        assert "Traceback" not in stderr
        _is_one_set(out, {"1", "2", "3"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_sigkill_at_any_moment_leaves_one_set_and_the_next_run_cleans_up(tmp_path):
    out = tmp_path / "run"
    first = command("train", str(EXAMPLES / "xor.json"), "--epochs", "1", "--seed", "1",
                    "--out", str(out), cwd=tmp_path)
    assert first.wait(timeout=120) == 0
    for delay in (0.0, 0.3, 0.6):
        proc = command("train", str(EXAMPLES / "xor.json"), "--epochs", "3", "--seed", "2",
                       "--out", str(out), cwd=tmp_path)
        _wait_for(proc, lambda p=proc: _catches_sigint(p.pid))
        time.sleep(delay)
        proc.kill()
        proc.communicate(timeout=120)
        _is_one_set(out, {"1", "2"})
    last = command("train", str(EXAMPLES / "xor.json"), "--epochs", "1", "--seed", "3",
                   "--out", str(out), cwd=tmp_path)
    assert last.wait(timeout=120) == 0
    assert _is_one_set(out, {"3"}) == "3"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


# --- exports ---------------------------------------------------------------------------------

def test_pytorch_source_of_a_name_with_triple_quotes_compiles(tmp_path):
    from nnengine.export.pytorch_export import pytorch_source

    graph = mlp(3, [4], 2)
    graph.name = 'evil """ name \\ with \'quotes\' """'
    source = pytorch_source(nn.compile_model(graph, seed=0))
    compile(source, "m.py", "exec")
    assert repr(graph.name).replace('"', '\\"') in source


def test_an_empty_onnx_file_says_it_holds_no_model(tmp_path):
    from nnengine.export import import_onnx

    (tmp_path / "m.onnx").write_bytes(b"")
    with pytest.raises(nn.FileFormatError, match="m.onnx: holds no ONNX graph"):
        import_onnx(tmp_path / "m.onnx")
