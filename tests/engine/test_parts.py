"""Large element-wise loops (im2col, col2im, pooling, ReLU) are split over the engine's worker
threads by `gemm.in_parts`: every part is computed as it would be whole, so the outputs and
gradients keep their bits, tied maxima included, whatever the number of threads."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from nnengine import gemm
from nnengine.catalogue import layer_spec
from nnengine.layers.base import Workspace


def test_in_parts_runs_every_index_once_and_small_jobs_whole(monkeypatch):
    seen: list[slice] = []
    with gemm.workers(3):
        gemm.in_parts(seen.append, 10, gemm.PARTS_FROM)
    assert sorted(i for s in seen for i in range(10)[s]) == list(range(10))
    assert len(seen) > 1
    seen.clear()
    with gemm.workers(3):
        gemm.in_parts(seen.append, 10, gemm.PARTS_FROM - 1)   # small: whole, here
    with gemm.workers(1):
        gemm.in_parts(seen.append, 10, gemm.PARTS_FROM)       # one worker: whole
    assert seen == [slice(0, 10), slice(0, 10)]


def layer(type_name: str, **params):
    config, problems = layer_spec(type_name).resolve(params)
    assert not problems, problems
    return layer_spec(type_name).layer_class(config)


CASES = [
    # (type, params, input (N, C, H, W)), each with weights if it has some
    ("Conv2D", {"filters": 5, "kernel_size": [3, 2], "stride": [2, 1], "padding": [1, 2]},
     (6, 4, 9, 7)),
    ("Conv2D", {"filters": 3, "padding": "same"}, (5, 2, 6, 6)),
    ("MaxPool2D", {}, (6, 4, 9, 7)),            # ties, and an odd row and column left over
    ("MaxPool2D", {"pool_size": [2, 3]}, (4, 3, 6, 9)),
    ("Activation", {"function": "relu"}, (6, 4, 5, 5)),
]


def forward_backward(lay, weights, x, dy, workers):
    ws = Workspace()
    with gemm.workers(workers):
        y, ctx = lay.forward(weights, [x], True, None, ws)
        y = y.copy()
        (dx,), grads = lay.backward(weights, ctx, dy, ws)
    return y, dx.copy(), {k: v.copy() for k, v in grads.items()}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("type_name, params, shape", CASES)
def test_a_split_layer_keeps_every_bit(monkeypatch, type_name, params, shape, seed):
    rng = np.random.default_rng(seed)
    lay = layer(type_name, **params)
    n, c, h, w = shape
    in_shapes = [(c, h, w)]
    weights = lay.init_weights(in_shapes, rng, np.float32)
    if "b" in weights:
        weights["b"] = rng.standard_normal(weights["b"].shape).astype(np.float32)
    # channel-major inputs (as a conv's output is), with many ties and zeros
    x = rng.integers(-2, 3, (c, h, w, n)).astype(np.float32).transpose(3, 0, 1, 2)
    out_shape = (n, *lay.output_shape(in_shapes))
    dy = rng.standard_normal(out_shape[1:] + (n,)).astype(np.float32).transpose(3, 0, 1, 2)
    whole = forward_backward(lay, weights, x, dy, 1)
    monkeypatch.setattr(gemm, "PARTS_FROM", 0)
    monkeypatch.setattr(gemm, "_pools", {})
    split = forward_backward(lay, weights, x, dy, 2)
    assert 2 in gemm._pools   # the loops were shared out with a worker
    np.testing.assert_array_equal(split[0], whole[0])
    np.testing.assert_array_equal(split[1], whole[1])
    assert split[2].keys() == whole[2].keys()
    for name in whole[2]:
        np.testing.assert_array_equal(split[2][name], whole[2][name], err_msg=name)


def test_the_workers_keep_the_callers_floating_point_settings():
    """The trainer silences NaN warnings for a step (np.errstate); the parts on worker
    threads must too, or a diverging run would print (or raise) from them."""
    both = threading.Barrier(2, timeout=10)   # each of the two parts on its own thread
    seen: list[tuple[str, str]] = []

    def job(part: slice) -> None:
        both.wait()
        seen.append((threading.current_thread().name, np.geterr()["invalid"]))

    with gemm.workers(2), np.errstate(invalid="ignore"):
        gemm.in_parts(job, 2, gemm.PARTS_FROM)
    assert len({name for name, _ in seen}) == 2
    assert [setting for _, setting in seen] == ["ignore", "ignore"]
