"""NumPy-only predictor (`--format numpy`): for every layer case and every example and template
graph, in float32 and float64, `python predict.py X Y` run where `import nnengine` fails gives
what `nnengine predict` gives (1e-6 in float64, 1e-5 relative in float32)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import nnengine as nn
from nnengine.catalogue import layer_specs
from nnengine.cli import main
from nnengine.errors import ExportError
from nnengine.export import export_numpy
from nnengine.export.numpy_export import CONVERTERS, numpy_source
from nnengine.serialization import load_graph, save_graph
from nnengine.weights_io import load_weights, save_weights
from tests.engine.builders import mlp
from tests.engine.export_cases import (
    assert_close,
    case_graph,
    graph_files,
    layer_cases,
    perturbed_model,
    sample_inputs,
)

RTOL32, ATOL64 = 1e-5, 1e-6

RUN_ALL = textwrap.dedent("""
    import json, runpy, sys
    from pathlib import Path
    try:
        import nnengine
        sys.exit("nnengine is importable here")
    except ImportError:
        pass
    for folder in sys.argv[1:]:
        folder = Path(folder)
        module = runpy.run_path(str(folder / "predict.py"))
        module["main"]([str(folder / "x.npz"), str(folder / "y.npy")])
    print(json.dumps("ok"))
""")


def test_every_layer_type_has_a_converter():
    missing = [s.type for s in layer_specs() if not s.is_input and s.type not in CONVERTERS]
    assert not missing, f"no NumPy converter for {missing}"


def _models() -> list[tuple[str, nn.Model]]:
    models = []
    for dtype in ("float32", "float64"):
        for case in layer_cases():
            models.append((f"{case.id}-{dtype}", _as(perturbed_model(case_graph(case)), dtype)))
        for path in graph_files():
            models.append((f"{path.parent.name}-{path.stem}-{dtype}",
                           _as(perturbed_model(load_graph(path)), dtype)))
    return models


def _as(model: nn.Model, dtype: str) -> nn.Model:
    if model.dtype == np.dtype(dtype):
        return model
    copy = nn.compile_model(model.graph, dtype=dtype)
    copy.set_weights({k: v.astype(dtype) for k, v in model.weights.items()})
    return copy


def test_predict_py_matches_nnengine_without_nnengine(tmp_path):
    folders, expected = [], {}
    for k, (name, model) in enumerate(_models()):
        folder = tmp_path / f"m{k}"
        export_numpy(model, folder)
        xs = sample_inputs(model)
        np.savez(folder / "x.npz", **xs)
        expected[folder] = (name, model.dtype, model.predict(xs))
        folders.append(str(folder))
    blocker = tmp_path / "blocked" / "nnengine"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text('raise ImportError("nnengine is not installed here")\n')
    env = {**os.environ, "PYTHONPATH": str(blocker.parent)}
    done = subprocess.run([sys.executable, "-c", RUN_ALL, *folders], env=env,
                          capture_output=True, text=True, cwd=tmp_path, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == "ok"
    for folder, (name, dtype, want) in expected.items():
        got = np.load(folder / "y.npy")
        assert got.dtype == dtype, name
        if dtype == np.float64:
            np.testing.assert_allclose(got, want, rtol=0, atol=ATOL64, err_msg=name)
        else:
            assert_close(got, want, RTOL32)


def test_source_names_nodes_and_standardizes(tmp_path):
    g = nn.Graph('say """hi"""')
    g.add_node("np", "Input", {"shape": [3]})
    g.add_node("predict", "Dense", {"units": 2})
    g.add_edge("np", "predict")
    model = perturbed_model(g)
    model.set_input_scaling("np", mean=np.array([1.0, 0.0, -1.0]), std=np.array([0.5, 2, 1]))
    source = numpy_source(model)
    compile(source, "predict.py", "exec")
    assert 'np_ = (inputs["np"] - w["np/mean"]) / w["np/std"]' in source
    assert 'predict_ = dense(np_, w["predict/W"], w["predict/b"])' in source
    export_numpy(model, tmp_path)
    x = sample_inputs(model)["np"]
    np.save(tmp_path / "x.npy", x)
    subprocess.run([sys.executable, "predict.py", "x.npy", "y.npy"], cwd=tmp_path, check=True)
    assert_close(np.load(tmp_path / "y.npy"), model.predict(x), RTOL32)


def test_wrong_input_shape_is_one_clear_line(tmp_path):
    g = nn.Graph("tiny")
    g.add_node("x", "Input", {"shape": [3]})
    g.add_node("d", "Dense", {"units": 1})
    g.add_edge("x", "d")
    export_numpy(nn.compile_model(g), tmp_path)
    np.save(tmp_path / "x.npy", np.zeros((2, 4), np.float32))
    done = subprocess.run([sys.executable, "predict.py", "x.npy", "y.npy"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert done.stderr.strip() == ("x.npy: input 'x' expects samples of shape [3], "
                                   "received [4]")


def test_command_line_writes_the_folder(tmp_path):
    model = perturbed_model(mlp(4, [5], 3))
    save_graph(model.graph, tmp_path / "g.json")
    save_weights(model, tmp_path / "w.npz")
    status = main(["export", str(tmp_path / "g.json"), "--weights", str(tmp_path / "w.npz"),
                   "--format", "numpy", "--output", str(tmp_path / "out")])
    assert status == 0
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"predict.py", "weights.npz"}
    saved = load_weights(tmp_path / "out" / "weights.npz")
    assert all(np.array_equal(saved[k], w) for k, w in model.weights.items())


def test_layer_without_converter_is_named(monkeypatch):
    monkeypatch.delitem(CONVERTERS, "Dense")
    g = nn.Graph("tiny")
    g.add_node("x", "Input", {"shape": [2]})
    g.add_node("d", "Dense", {"units": 1})
    g.add_edge("x", "d")
    with pytest.raises(ExportError, match="node 'd': layer type Dense cannot be exported"):
        numpy_source(nn.compile_model(g))
