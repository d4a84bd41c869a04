"""Project files and the structure hash: what ties a run to its graph, and what keeps it."""
from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import nnengine as nn
from nnengine.errors import FileFormatError
from nnengine.project import (
    SNAPSHOT_BUDGET,
    Project,
    ProjectRun,
    is_project,
    load_project,
    save_project,
)
from nnengine.run_card import graph_sha256, run_card


def mlp(name: str = "MLP") -> nn.Graph:
    g = nn.Graph(name, {"dataset": "xor", "epochs": 3, "seed": 1})
    g.add_node("input", "Input", {"shape": [2]}, position=(0, 0))
    g.add_node("dense1", "Dense", {"units": 4}, position=(200, 0))
    g.add_node("act", "Activation", {"function": "tanh"})
    g.add_node("dense2", "Dense", {"units": 1})
    g.add_node("out", "Activation", {"function": "sigmoid"})
    for a, b in [("input", "dense1"), ("dense1", "act"), ("act", "dense2"), ("dense2", "out")]:
        g.add_edge(a, b)
    return g


# --- the structure hash ---------------------------------------------------------------------
def test_hash_ignores_positions_name_and_training():
    g = mlp()
    h = graph_sha256(g)
    moved = g.copy()
    moved.set_position("dense1", (999, -40))
    moved.set_position("out", (5, 5))
    moved.name = "another name"
    moved.training = {"dataset": "circles", "epochs": 99}
    assert graph_sha256(moved) == h


def test_hash_sees_defaults_as_the_same_params():
    g = mlp()
    explicit = g.copy()
    explicit.set_params("dense1", {"units": 4, "use_bias": True})   # the catalogue default
    assert graph_sha256(explicit) == graph_sha256(g)


@pytest.mark.parametrize("change", [
    lambda g: g.set_params("dense1", {"units": 5}),
    lambda g: g.set_params("dense1", {"units": 4, "use_bias": False}),
    lambda g: g.set_params("act", {"function": "relu"}),
    lambda g: g.remove_edge("act", "dense2"),
    lambda g: (g.remove_edge("act", "dense2"), g.add_edge("dense1", "dense2")),
    lambda g: g.rename_node("dense2", "dense9"),
    lambda g: g.add_node("extra", "Dropout", {}),
])
def test_hash_changes_with_any_param_node_or_edge(change):
    g = mlp()
    h = graph_sha256(g)
    changed = g.copy()
    change(changed)
    assert graph_sha256(changed) != h


def test_hash_sees_the_port_of_an_edge():
    g = nn.Graph("merge")
    g.add_node("a", "Input", {"shape": [3]})
    g.add_node("b", "Input", {"shape": [3]})
    g.add_node("cat", "Concatenate", {})
    g.add_edge("a", "cat", 0)
    g.add_edge("b", "cat", 1)
    swapped = nn.Graph("merge")
    for n in ("a", "b", "cat"):
        swapped.add_node(n, g.type_of(n), g.params_of(n))
    swapped.add_edge("a", "cat", 1)
    swapped.add_edge("b", "cat", 0)
    assert graph_sha256(swapped) != graph_sha256(g)


# --- project files --------------------------------------------------------------------------
def trained_run(run_id: str, graph: nn.Graph, seed: int) -> ProjectRun:
    model = nn.compile_model(graph, seed=seed)
    history = nn.fit(model, nn.load_dataset("xor"), epochs=2, batch_size=4, seed=seed,
                     loss="binary_cross_entropy")
    test = nn.evaluate(model, nn.load_dataset("xor"), loss="binary_cross_entropy")
    card = run_card(graph, {"dataset": "xor", "seed": seed, "epochs": 2}, {"name": "xor",
                    "sha256": "ab" * 32}, "2026-01-01T10:00:00+00:00", 1.5, 2, "finished",
                    test)
    curves = {"x": np.linspace(0, 2, 7), "loss": np.arange(7, dtype=np.float32)}
    return ProjectRun(run_id, f"run {seed}", card, graph.copy(), model.get_weights(),
                      {"epochs": history.epochs, "test": test}, curves,
                      snapshots=bytes(range(256)) * 4)


def test_three_runs_round_trip(tmp_path):
    g = mlp()
    other = g.copy()
    other.set_params("dense1", {"units": 6})   # a run of an earlier version of the graph
    runs = [trained_run("run-1", other, 1), trained_run("run-2", g, 2),
            trained_run("run-3", g, 3)]
    path = tmp_path / "p.zip"
    save_project(path, Project(g, runs, "run-2"))
    assert is_project(path)
    back = load_project(path)
    assert back.graph == g and back.selected == "run-2" and not back.is_bundle
    assert [r.id for r in back.runs] == ["run-1", "run-2", "run-3"]
    for a, b in zip(runs, back.runs):
        assert b.name == a.name and b.graph == a.graph
        assert json.loads(json.dumps(a.card)) == b.card
        assert b.metrics == json.loads(json.dumps(a.metrics))
        assert sorted(b.weights) == sorted(a.weights)
        for k in a.weights:
            np.testing.assert_array_equal(b.weights[k], a.weights[k])
            assert b.weights[k].dtype == a.weights[k].dtype
        for k in a.curves:
            np.testing.assert_array_equal(b.curves[k], a.curves[k])
        assert b.snapshots == a.snapshots
    assert back.runs[0].card["graph_sha256"] != graph_sha256(g)


def test_a_project_is_still_a_bundle_for_the_selected_run(tmp_path):
    g = mlp()
    run = trained_run("run-1", g, 4)
    path = tmp_path / "p.zip"
    save_project(path, Project(g, [run], "run-1"))
    bundle = nn.load_bundle(path)
    assert bundle.graph == g
    for k in run.weights:
        np.testing.assert_array_equal(bundle.weights[k], run.weights[k])


def test_no_top_level_weights_when_the_selected_run_does_not_fit(tmp_path):
    g = mlp()
    old = g.copy()
    old.set_params("dense1", {"units": 6})
    path = tmp_path / "p.zip"
    save_project(path, Project(g, [trained_run("run-1", old, 1)], "run-1"))
    with zipfile.ZipFile(path) as z:
        assert "weights.npz" not in z.namelist()
    assert len(load_project(path).runs) == 1


def test_an_old_bundle_opens_as_a_project_with_one_imported_run(tmp_path):
    g = mlp()
    model = nn.compile_model(g, seed=0)
    history = nn.fit(model, nn.load_dataset("xor"), epochs=2, batch_size=4,
                     loss="binary_cross_entropy")
    path = tmp_path / "old.zip"
    nn.save_bundle(path, g, model, history)
    assert not is_project(path)
    p = load_project(path)
    assert p.is_bundle and p.graph == g and len(p.runs) == 1 and p.selected == "run-1"
    run = p.runs[0]
    assert run.card["graph_sha256"] == graph_sha256(g)
    assert run.card["ended"] is None and run.card["epochs"] == 2
    assert run.card["dataset"]["name"] == "xor"
    for k, v in model.get_weights().items():
        np.testing.assert_array_equal(run.weights[k], v)


def test_snapshots_over_the_budget_are_refused_before_reading(tmp_path):
    g = mlp()
    path = tmp_path / "p.zip"
    save_project(path, Project(g, [trained_run("run-1", g, 1)], "run-1"))
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            data = src.read(name)
            if name.endswith("snapshots.npz"):
                data = bytes(SNAPSHOT_BUDGET + 1)
            dst.writestr(name, data)
    with pytest.raises(FileFormatError, match="snapshots.npz: inflates to .* over the limit"):
        load_project(big)


@pytest.mark.parametrize("damage, message", [
    ({"project.json": b'{"format": "nnengine.project", "version": 99, "runs": []}'},
     "newer than this program reads"),
    ({"project.json": b"[1, 2"}, "project.json: is not valid JSON"),
    ({"project.json": b'{"format": "other"}'}, "is not a project index"),
    ({"project.json": b'{"format": "nnengine.project", "version": 1, "runs": [{"id": "../x"}]}'},
     "needs a plain \"id\""),
    ({"project.json": b'{"format": "nnengine.project", "version": 1, "runs": [{"id": "r"}]}'},
     "run 'r' has no run.json"),
])
def test_damaged_projects_get_one_clear_message(tmp_path, damage, message):
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("graph.json", nn.graph_to_json(mlp()))
        for name, data in damage.items():
            z.writestr(name, data)
    with pytest.raises(FileFormatError, match=message):
        load_project(path)


def test_not_a_zip_is_refused(tmp_path):
    path = tmp_path / "graph.zip"
    path.write_text("{}")
    with pytest.raises(FileFormatError, match="is not a project or model bundle"):
        load_project(path)
