"""BLAS threads are chosen per training run from the model and batch size: one thread for
small products, every core for large ones, the same on every run (results depend on it)."""
from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_info

import nnengine as nn
from nnengine import threads
from tests.engine.builders import sequential

MNIST_CNN = sequential([1, 28, 28], [
    ("Conv2D", {"filters": 32, "padding": "same"}), ("Activation", {"function": "relu"}),
    ("MaxPool2D", {}), ("Conv2D", {"filters": 64, "padding": "same"}),
    ("Activation", {"function": "relu"}), ("MaxPool2D", {}), ("Flatten", {}),
    ("Dense", {"units": 128}), ("Dense", {"units": 10})])


def test_largest_gemm_counts_multiply_adds_per_step():
    mlp = nn.compile_model(sequential([784], [("Dense", {"units": 256}),
                                              ("Dense", {"units": 10})]))
    assert threads.largest_gemm(mlp, 128) == 784 * 256 * 128
    cnn = nn.compile_model(MNIST_CNN)
    assert threads.largest_gemm(cnn, 128) == 64 * 32 * 9 * 14 * 14 * 128


def test_small_models_use_one_thread_and_large_ones_every_core(monkeypatch):
    monkeypatch.setattr(threads, "cores", lambda: 2)
    digits_cnn = nn.compile_model(nn.load_graph("resources/templates/digits_cnn.json"))
    assert threads.training_threads(digits_cnn, 64) == 1
    assert threads.training_threads(nn.compile_model(MNIST_CNN), 128) == 2
    assert threads.training_threads(nn.compile_model(MNIST_CNN), 1) == 1


class BlasThreads(nn.Callback):
    def __init__(self):
        self.seen = set()

    def on_batch_end(self, trainer, epoch, batch, logs):
        self.seen |= {lib["num_threads"] for lib in threadpool_info()
                      if lib["user_api"] == "blas"}


def test_training_runs_on_the_chosen_count_and_restores_the_default(monkeypatch):
    before = {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}
    seen = BlasThreads()
    data = nn.load_dataset("digits")
    x = np.asarray(data.x_train, np.float32).reshape(-1, 1, 8, 8)
    small = nn.Dataset("digits", x[:64], data.y_train[:64], x[:8], data.y_test[:8],
                       num_classes=10)
    model = nn.compile_model(nn.load_graph("resources/templates/digits_cnn.json"))
    nn.fit(model, small, callbacks=[seen], epochs=1, batch_size=32)
    assert seen.seen == {1}
    after = {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}
    assert after == before
