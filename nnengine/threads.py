"""How many threads a training run's matrix products use, chosen on purpose.

OpenBLAS splits every matrix product over all cores by default. For the small products of a
typical teaching model that costs more than it gains (measured on the 2-core development
machine: the digits CNN trained 2.4x slower with two threads than with one), and on a busy
machine its threads spin waiting for each other (one product 44x slower). So inside a run
BLAS itself always runs on one thread (threadpoolctl), and when the run's largest product is
large, `gemm.matmul` splits the big products over every core with threads of its own.

The count depends only on the model, the batch size and the cores this process may use,
never on the machine's load; and since a split product is bit-identical to the whole one
(see gemm.py), a seed gives the same weights however many cores there are.
"""
from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator

from threadpoolctl import ThreadpoolController

from . import gemm
from .model import Model

LARGE_GEMM = 24_000_000
"""Multiply-adds in one matrix product from which a second thread pays off: above the digits
CNN's largest (19 M at batch 64, faster on one thread), below an MNIST-size MLP's (784-256 at
batch 128: 26 M) and conv's (3x3x32 -> 64 on 14x14 at batch 128: 462 M)."""


def largest_gemm(model: Model, batch_size: int) -> int:
    """Multiply-adds of the largest matrix product in one training step (forward or
    backward) of `model` at `batch_size`."""
    largest = 0
    for step in model.steps:
        if step.layer.spec.is_input or not step.sources:
            continue
        in_shape = model.shapes[model.steps[step.sources[0]].node_id]
        out_shape = model.shapes[step.node_id]
        weights = [w.size for w in step.weights.values() if w.ndim >= 2]
        if not weights:
            continue
        # A weighted layer's products each touch every weight once per output position.
        positions = batch_size * _positions(in_shape, out_shape)
        largest = max(largest, max(weights) * positions)
    return largest


def _positions(in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> int:
    """Output positions one weight is used at, per sample: pixels of a feature map, time
    steps of a sequence, 1 for a flat layer."""
    if len(out_shape) == 3:  # (C, H, W)
        return out_shape[1] * out_shape[2]
    if len(in_shape) == 2:  # (T, F): a recurrent or per-step layer
        return in_shape[0]
    return 1


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def training_threads(model: Model, batch_size: int) -> int:
    """1, or every core this process may use when the products are large (the threads
    `gemm.matmul` splits them over)."""
    return cores() if largest_gemm(model, batch_size) >= LARGE_GEMM else 1


@functools.cache
def _blas() -> ThreadpoolController:
    """The process's thread pools, found once: finding them walks every loaded library
    (0.2 ms), and a run enters `blas_threads` for each fit, evaluation and snapshot. NumPy's
    BLAS is loaded with NumPy, before nnengine."""
    return ThreadpoolController()


@contextlib.contextmanager
def blas_threads(count: int) -> Iterator[None]:
    """Inside the block: BLAS on one thread, and large products split over `count` threads
    by `gemm.matmul`."""
    with _blas().limit(limits=1, user_api="blas"), gemm.workers(count):
        yield
