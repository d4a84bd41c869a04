"""Models shared by the export tests: one small graph per layer contract case, and every
example and template graph, with random weights perturbed so that biases and BatchNorm
statistics are not trivial."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import nnengine as nn
from tests.engine.layer_cases import Case, all_cases

ROOT = Path(__file__).resolve().parents[2]


def layer_cases() -> list[Case]:
    """One case per distinct layer configuration (training-mode duplicates dropped)."""
    seen, cases = set(), []
    for case in all_cases():
        key = (case.type, repr(sorted(case.params.items())), repr(case.input_shapes))
        if case.input_shapes and key not in seen:
            seen.add(key)
            cases.append(case)
    return cases


def case_graph(case: Case) -> nn.Graph:
    """Inputs x0, x1, ... (int64 where the case feeds ids) -> the layer 'layer'."""
    g = nn.Graph(f"{case.type} case")
    for k, shape in enumerate(case.input_shapes):
        params = {"shape": list(shape)}
        if k in case.int_inputs:
            params["dtype"] = "int64"
        g.add_node(f"x{k}", "Input", params)
    g.add_node("layer", case.type, dict(case.params))
    for k in range(len(case.input_shapes)):
        g.add_edge(f"x{k}", "layer", k)
    return g


def graph_files() -> list[Path]:
    """Every example and template graph that exists now."""
    return sorted((ROOT / "resources" / "examples").glob("*.json")) + \
        sorted((ROOT / "resources" / "templates").glob("*.json"))


def perturbed_model(graph: nn.Graph, seed: int = 0) -> nn.Model:
    model = nn.compile_model(graph, seed=seed)
    rng = np.random.default_rng(seed + 1)
    for key, w in model.weights.items():
        w += rng.normal(0.0, 0.2, w.shape).astype(w.dtype)
        if key.endswith("running_var"):
            w[...] = np.abs(w) + 0.5
    return model


def sample_inputs(model: nn.Model, batch: int = 5, seed: int = 2) -> dict[str, np.ndarray]:
    """Random inputs keyed by Input id; id inputs draw below the smallest vocabulary fed."""
    rng = np.random.default_rng(seed)
    xs = {}
    for input_id in model.input_ids:
        shape = (batch, *model.shapes[input_id])
        if model.input_dtype(input_id) == np.int64:
            high = min([model.steps[model.step_index[s]].layer.config["vocab_size"]
                        for s in model.graph.successors(input_id)] or [2])
            xs[input_id] = rng.integers(0, high, size=shape)
        else:
            xs[input_id] = rng.normal(size=shape).astype(model.dtype)
    return xs


def assert_close(actual: np.ndarray, expected: np.ndarray, rtol: float) -> None:
    """Equal within `rtol`, relative to each value and to the output's largest magnitude
    (so values near zero are judged on the output's scale)."""
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * max(scale, 1e-6))
