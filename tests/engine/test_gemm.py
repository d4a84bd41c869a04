"""Large products split over the engine's own threads (nnengine/gemm.py) give the same bits
as one BLAS thread, so a seed's weights do not depend on the cores or the machine's load."""
from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import nnengine as nn
from nnengine import gemm, trainer
from tests.engine.builders import sequential


@pytest.mark.parametrize("m, k, n", [(64, 2000, 288), (288, 64, 3000), (300, 784, 128),
                                     (33, 1000, 2000), (128, 128, 10)])
@pytest.mark.parametrize("order", ["CCC", "FCC", "CFC", "CFF"])
def test_a_split_product_is_bit_identical_to_one_thread(m, k, n, order):
    """order: a's, b's and the output's (Conv2D's dW goes to a column-major buffer)."""
    rng = np.random.default_rng(0)
    a = np.asarray(rng.standard_normal((m, k)), np.float32, order=order[0])
    b = np.asarray(rng.standard_normal((k, n)), np.float32, order=order[1])
    with threadpool_limits(1):
        whole = np.matmul(a, b)
        for count in (2, 3, 4):
            out = np.full((m, n), np.nan, np.float32, order=order[2])
            with gemm.workers(count):
                gemm.matmul(a, b, out)
            np.testing.assert_array_equal(out, whole)


@pytest.mark.parametrize("m, k, n", [(32, 100352, 9), (9, 40000, 63)])
def test_a_narrow_long_product_is_halved_the_same_on_any_number_of_threads(m, k, n):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    with threadpool_limits(1):
        results = []
        for count in (1, 2, 3):
            out = np.full((m, n), np.nan, np.float32)
            with gemm.workers(count):
                results.append(gemm.matmul(a, b, out).copy())
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])
    exact = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(results[0], exact, rtol=0, atol=1e-4 * np.abs(exact).max())


def test_a_large_model_trains_to_the_same_weights_on_one_core_or_two(monkeypatch):
    graph = sequential([1, 12, 12], [
        ("Conv2D", {"filters": 32, "padding": "same"}), ("Activation", {"function": "relu"}),
        ("MaxPool2D", {}), ("Flatten", {}), ("Dense", {"units": 64}),
        ("Activation", {"function": "relu"}), ("Dense", {"units": 3}),
        ("Activation", {"function": "softmax"})])
    rng = np.random.default_rng(0)
    x = rng.random((512, 1, 12, 12), dtype=np.float32)
    y = rng.integers(0, 3, 512)
    data = nn.Dataset("d", x, y, x[:64], y[:64], num_classes=3)
    seen: list[set] = []

    class Threads(nn.Callback):
        def on_batch_end(self, trainer, epoch, batch, logs):
            seen.append({lib["num_threads"] for lib in threadpool_info()
                         if lib["user_api"] == "blas"})

    results = {}
    for count in (1, 2):
        monkeypatch.setattr(trainer, "training_threads", lambda model, bs, c=count: c)
        monkeypatch.setattr(gemm, "_pools", {})
        model = nn.compile_model(graph, seed=4)
        nn.fit(model, data, callbacks=[Threads()], epochs=2, batch_size=256)
        results[count] = model.get_weights()
        assert (count in gemm._pools) == (count > 1)   # the products were split    assert all(s == {1} for s in seen)            # BLAS itself stays on one thread
    for key, value in results[1].items():
        np.testing.assert_array_equal(value, results[2][key], err_msg=key)
