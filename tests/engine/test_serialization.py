"""Graph files, weight files and bundles: round trips (property-based over random valid
graphs), versions and migrations, atomic saves, and the golden version-1 file."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nnengine as nn
from nnengine import limits
from nnengine import serialization as ser
from nnengine.bundle import is_bundle
from nnengine.fileio import write_atomic
from nnengine.json_text import NonFiniteWarning
from tests.engine.builders import mlp

GOLDEN = Path(__file__).parent / "data" / "graph_v1.json"
EXAMPLES = Path(__file__).parents[2] / "resources" / "examples"

# --- random valid graphs -----------------------------------------------------------------

node_ids = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
coords = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)
positions = st.one_of(st.none(), st.tuples(coords, coords))
trainings = st.fixed_dictionaries({}, optional={
    "dataset": st.sampled_from(["xor", "digits", "data/train.csv"]),
    "loss": st.sampled_from(["cross_entropy", "mse", "hinge"]),
    "optimizer": st.sampled_from([{"type": "adam", "learning_rate": 0.01},
                                  {"type": "sgd", "momentum": 0.9, "nesterov": True}]),
    "batch_size": st.integers(1, 512),
    "epochs": st.integers(0, 1000),
    "validation_split": st.floats(0, 0.9),
    "shuffle": st.booleans(),
    "seed": st.integers(0, 2**31),
    "l2": st.floats(0, 1),
})


@st.composite
def graphs(draw) -> nn.Graph:
    """A valid graph: 1-2 Inputs, then Dense/Activation/Dropout/Add/Concatenate nodes fed
    by earlier nodes, with every loose end joined by a final Concatenate."""
    n_inputs = draw(st.integers(1, 2))
    n_layers = draw(st.integers(0, 7))
    ids = draw(st.lists(node_ids, min_size=n_inputs + n_layers + 1,
                        max_size=n_inputs + n_layers + 1, unique_by=str.lower))
    g = nn.Graph(draw(st.text(max_size=12)), draw(trainings))
    shapes: dict[str, int] = {}
    for node_id in ids[:n_inputs]:
        width = draw(st.integers(1, 6))
        g.add_node(node_id, "Input", {"shape": [width]}, draw(positions))
        shapes[node_id] = width
    for node_id in ids[n_inputs:-1]:
        existing = list(shapes)
        kind = draw(st.sampled_from(["Dense", "Activation", "Dropout", "Add", "Concatenate"]))
        pairs = [(a, b) for a in existing for b in existing if a < b and shapes[a] == shapes[b]]
        if kind == "Add" and pairs:
            a, b = draw(st.sampled_from(pairs))
            g.add_node(node_id, "Add", {}, draw(positions))
            g.add_edge(a, node_id, 0)
            g.add_edge(b, node_id, 1)
            shapes[node_id] = shapes[a]
        elif kind == "Concatenate" and len(existing) > 1:
            a, b = draw(st.lists(st.sampled_from(existing), min_size=2, max_size=2, unique=True))
            g.add_node(node_id, "Concatenate", {}, draw(positions))
            g.add_edge(a, node_id, 0)
            g.add_edge(b, node_id, 1)
            shapes[node_id] = shapes[a] + shapes[b]
        else:
            src = draw(st.sampled_from(existing))
            if kind == "Activation":
                params = draw(st.sampled_from([{"function": "relu"}, {"function": "tanh"},
                                               {"function": "leaky_relu", "alpha": 0.2}, {}]))
                width = shapes[src]
            elif kind == "Dropout":
                params, width = {"rate": draw(st.floats(0, 0.9))}, shapes[src]
            else:
                width = draw(st.integers(1, 6))
                params = {"units": width, "use_bias": draw(st.booleans())}
                kind = "Dense"
            g.add_node(node_id, kind, params, draw(positions))
            g.add_edge(src, node_id)
            shapes[node_id] = width
    sinks = g.sinks()
    if len(sinks) > 1:
        g.add_node(ids[-1], "Concatenate", {}, draw(positions))
        for port, s in enumerate(sinks):
            g.add_edge(s, ids[-1], port)
    return g


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_graph_json_round_trip_keeps_everything(graph):
    assert nn.analyze(graph).ok, nn.analyze(graph).problems
    text = nn.graph_to_json(graph)
    again = nn.graph_from_json(text, "mem.json")
    assert again == graph
    assert [again.node(n)["position"] for n in again.node_ids()] == \
        [graph.node(n)["position"] for n in graph.node_ids()]
    assert nn.graph_to_json(again) == text  # stable text: saving twice changes nothing
    assert json.loads(text)["format"] == "nnengine.graph" and json.loads(text)["version"] == 1


def test_save_and_load_graph_file(tmp_path):
    g = mlp(4, [8], 3)
    g.set_position("input", (12.5, -3.0))
    g.training = {"dataset": "iris", "epochs": 3}
    path = tmp_path / "g.json"
    nn.save_graph(g, path)
    again = nn.load_graph(path)
    assert again == g and again.node("input")["position"] == (12.5, -3.0)
    assert again.node("n0")["position"] is None


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_examples_load_validate_and_round_trip(path):
    g = nn.load_graph(path)
    assert nn.analyze(g).ok
    assert nn.graph_from_json(nn.graph_to_json(g)) == g


def test_golden_version_1_file_loads_forever():
    g = nn.load_graph(GOLDEN)
    assert g.name == "golden v1"
    assert g.node_ids() == ["a", "b", "dense", "add", "out"]
    assert g.node("a")["position"] == (0.0, 10.0) and g.node("out")["position"] is None
    assert g.params_of("dense") == {"units": 3}
    assert g.inputs_of("add") == [(0, "dense"), (1, "b")]
    assert g.training["optimizer"] == {"type": "sgd", "learning_rate": 0.1, "momentum": 0.9}
    assert nn.analyze(g).ok


# --- versions and migrations -------------------------------------------------------------

def _file(**changes):
    data = {"format": "nnengine.graph", "version": 1, "name": "t",
            "nodes": [{"id": "x", "type": "Input", "params": {"shape": [2]}}], "edges": []}
    data.update(changes)
    return json.dumps(data)


def test_newer_version_is_refused_saying_so():
    with pytest.raises(nn.FileFormatError, match=r"new\.json: .*newer.*version 7.*update"):
        nn.graph_from_json(_file(version=7), "new.json")


def test_registered_migration_upgrades_an_old_file(monkeypatch):
    def from_v0(data):  # version 0 called the node list "layers"
        data["nodes"] = data.pop("layers")
        return data

    monkeypatch.setitem(ser.MIGRATIONS, 0, from_v0)
    old = json.loads(_file(version=0))
    old["layers"] = old.pop("nodes")
    g = nn.graph_from_json(json.dumps(old), "old.json")
    assert g.node_ids() == ["x"]
    assert json.loads(nn.graph_to_json(g))["version"] == 1


def test_version_without_migration_is_refused():
    with pytest.raises(nn.FileFormatError, match="version 0 is too old"):
        nn.graph_from_json(_file(version=0), "old.json")


@pytest.mark.parametrize("text, match", [
    (_file(extra=1), r"f\.json: unknown key 'extra'"),
    (_file(nodes=[{"id": "x", "type": "Input", "parms": {}}]),
     r"f\.json: node 'x': unknown key 'parms'"),
    (_file(edges=[{"source": "x", "target": "x", "port": 1}]), r"node 'x': .*unknown key 'port'"),
    (_file(training={"epoch": 3}), r"f\.json: training: unknown key 'epoch'"),
    (_file(training={"optimizer": {"type": "adam", "lr": 1}}), r"training: .*'lr'"),
    (_file(nodes=[{"id": "x", "type": "Input", "position": [1]}]), r"node 'x': \"position\""),
    (_file(nodes=[{"id": "x", "type": 3}]), r"node 'x': \"type\" must be"),
    (_file(nodes=[{"id": "9x", "type": "Input"}]), r"invalid id '9x'"),
    (_file(nodes="x"), r"\"nodes\" must be a list"),
    (_file(format="keras"), r"not an nnengine graph file"),
    (_file(version="1"), r"\"version\" must be a whole number"),
    ('{"format": "nnengine.graph", "format": "x"}', r"key 'format' appears twice"),
    ('{"format": "nnengine.graph", "version": NaN}', r"NaN"),
    ("[" * 10000 + "]" * 10000, r"nests lists and objects 10000 levels deep"),
    ("", r"is empty"),
    ("{", r"not valid JSON: .*line 1, column 2"),
    ("3", r"holds the number 3"),
])
def test_malformed_graph_text_gives_one_sentence_naming_file(text, match):
    with pytest.raises(nn.NNEngineError, match=match) as info:
        nn.graph_from_json(text, "f.json")
    message = str(info.value)
    assert message.startswith("f.json") and "\n" not in message


def test_non_utf8_and_oversized_files_are_refused(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"name": "\xff\xfe"}')
    with pytest.raises(nn.FileFormatError, match="not UTF-8"):
        nn.load_graph(bad)
    big = tmp_path / "big.json"
    big.write_text(_file())
    with limits.override(graph_bytes=10), pytest.raises(nn.FileFormatError, match="too big"):
        nn.load_graph(big)
    with pytest.raises(nn.FileFormatError, match="is a folder"):
        nn.load_graph(tmp_path)
    with pytest.raises(nn.FileFormatError, match="no such file"):
        nn.load_graph(tmp_path / "missing.json")


# --- atomic saves ----------------------------------------------------------------------------

def test_failed_rename_leaves_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "g.json"
    nn.save_graph(mlp(2, [3], 2), path)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError) as info:
        nn.save_graph(mlp(5, [7], 2), path)
    assert info.value.filename == str(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.json"]


def test_crash_mid_write_leaves_old_file(tmp_path):
    path = tmp_path / "w.npz"
    write_atomic(path, b"old contents")

    def half_then_crash(f):
        f.write(b"half a fi")
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        write_atomic(path, half_then_crash)
    assert path.read_bytes() == b"old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]


def test_save_keeps_permissions_of_existing_file(tmp_path):
    path = tmp_path / "g.json"
    nn.save_graph(mlp(2, [3], 2), path)
    os.chmod(path, 0o640)
    nn.save_graph(mlp(2, [3], 2), path)
    assert path.stat().st_mode & 0o777 == 0o640


# --- weights and bundles -------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_weights_round_trip(tmp_path, dtype):
    model = nn.compile_model(mlp(4, [5], 3), seed=1, dtype=dtype)
    nn.save_weights(model, tmp_path / "w.npz")
    loaded = nn.load_weights(tmp_path / "w.npz")
    assert sorted(loaded) == sorted(model.weights) == ["n0/W", "n0/b", "n2/W", "n2/b"]
    for key, value in model.weights.items():
        assert loaded[key].dtype == np.dtype(dtype)
        np.testing.assert_array_equal(loaded[key], value)
    other = nn.compile_model(mlp(4, [5], 3), seed=2, dtype=dtype)
    nn.apply_weights(other, tmp_path / "w.npz")
    for key in model.weights:
        np.testing.assert_array_equal(other.weights[key], model.weights[key])


def test_weights_mismatch_names_key_and_shapes(tmp_path):
    model = nn.compile_model(mlp(4, [5], 3), seed=1)
    weights = model.get_weights()
    weights["n0/W"] = np.zeros((5, 4), np.float32)
    nn.save_weights(weights, tmp_path / "w.npz")
    with pytest.raises(nn.WeightsError, match=r"w\.npz: .*'n0/W' has shape \[5, 4\], the graph "
                                              r"needs \[4, 5\]"):
        nn.apply_weights(model, tmp_path / "w.npz")


def test_weight_files_that_are_not_weights(tmp_path):
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(nn.FileFormatError, match="is not a weight file"):
        nn.load_weights(tmp_path / "text.npz")
    np.savez(tmp_path / "obj.npz", **{"n0/W": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(nn.FileFormatError, match="Python objects"):
        nn.load_weights(tmp_path / "obj.npz")
    np.savez(tmp_path / "nan.npz", **{"n0/W": np.array([np.nan], np.float32)})
    with pytest.raises(nn.FileFormatError, match="'n0/W' contains NaN"):
        nn.load_weights(tmp_path / "nan.npz")


def test_bundle_round_trip(tmp_path):
    graph = mlp(4, [5], 3)
    graph.set_position("n0", (100.0, 50.0))
    model = nn.compile_model(graph, seed=3)
    metrics = {"epochs": [{"epoch": 1, "loss": 0.5, "val_loss": float("nan")}]}
    with pytest.warns(NonFiniteWarning, match=r"epochs\[0\]\.val_loss"):
        nn.save_bundle(tmp_path / "m.zip", graph, model, metrics)
    bundle = nn.load_bundle(tmp_path / "m.zip")
    assert bundle.graph == graph
    assert bundle.metrics == {"epochs": [{"epoch": 1, "loss": 0.5, "val_loss": None}]}
    for key, value in model.weights.items():
        np.testing.assert_array_equal(bundle.weights[key], value)
    assert is_bundle(tmp_path / "m.zip")
    nn.save_weights(model, tmp_path / "w.npz")
    assert not is_bundle(tmp_path / "w.npz")


def test_bundle_with_a_bad_graph_names_the_member(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "m.zip", "w") as z:
        z.writestr("graph.json", "{")
        z.writestr("weights.npz", b"")
    with pytest.raises(nn.FileFormatError, match=r"m\.zip/graph\.json: is not valid JSON"):
        nn.load_bundle(tmp_path / "m.zip")
