"""`Model.inspect(..., reuse=True)`: the window's snapshots run in the training workspaces;
the numbers are the same as a fresh inspection, and a repeated call allocates little."""
from __future__ import annotations

import tracemalloc

import numpy as np

import nnengine as nn


def test_a_reusing_inspection_equals_a_fresh_one_and_allocates_little():
    graph = nn.load_graph("resources/templates/digits_cnn.json")
    model = nn.compile_model(graph, seed=0)
    x = np.random.default_rng(0).random((64, 1, 8, 8), dtype=np.float32)
    t = np.arange(64) % 10
    fresh = model.inspect(x, t, "cross_entropy")
    model.inspect(x, t, "cross_entropy", reuse=True)           # buffers made once
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    reused = model.inspect(x, t, "cross_entropy", reuse=True)
    peak = tracemalloc.get_traced_memory()[1] - start
    tracemalloc.stop()
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    model.inspect(x, t, "cross_entropy")
    fresh_peak = tracemalloc.get_traced_memory()[1] - start
    tracemalloc.stop()
    for node, entry in fresh.items():
        np.testing.assert_array_equal(entry["activation"], reused[node]["activation"], node)
        if entry["gradient"] is not None:
            np.testing.assert_array_equal(entry["gradient"], reused[node]["gradient"], node)
        for name, g in entry["weight_grads"].items():
            np.testing.assert_array_equal(g, reused[node]["weight_grads"][name], node)
    assert peak < fresh_peak / 4, f"{peak:,} bytes reusing, {fresh_peak:,} fresh"
