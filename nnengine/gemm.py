"""Matrix products of a training step, split over worker threads by the engine itself, and
the large memory-bound loops around them (`in_parts`).

OpenBLAS's own threads wait for each other by spinning: on a busy machine, where one of
them is descheduled, the other spins through its time slice. Measured on the 2-core
development machine at load 7: the weight-gradient product of the MNIST-size CNN's second
convolution (64x25088 by 25088x288) took 660 ms on two OpenBLAS threads and 15 ms on one.
So training runs BLAS on one thread (see threads.py) and a large product is cut here into
row or column blocks of its output, each a one-thread BLAS call on a worker thread (NumPy
releases the interpreter lock inside BLAS); a descheduled worker only delays the join.

Each output element is the same dot product, summed in the same order, whichever block it
falls in, so the result is bit-identical to the whole product on one thread: the weights a
seed gives do not depend on the number of cores or on the machine's load.

A product too narrow to cut into output blocks but long (the weight gradient of a
convolution with few filters and channels: 32x100352 by 100352x9 in the MNIST-size CNN's
first layer) is always cut into two halves of its inner dimension, the second half's
product added to the first's, on any number of cores: the same bits on one core or two, a
different rounding from one whole product.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

SPLIT_FROM = 4_000_000   # multiply-adds from which a product is worth splitting
MIN_BLOCK = 32           # rows or columns per block at least (a thin block changes kernels)
PARTS_FROM = 500_000     # elements a memory-bound loop touches from which it is split
PARTS_PER_WORKER = 4     # parts of a split loop per thread (see in_parts)
HALVE_FROM = 32_768      # inner dimension from which a narrow product is always halved

_state = threading.local()
_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def current_workers() -> int:
    """The threads large products are split over in this thread's current block."""
    return getattr(_state, "workers", 1)


@contextlib.contextmanager
def workers(count: int) -> Iterator[None]:
    """Split large products over `count` threads inside the block (this thread's calls)."""
    before = current_workers()
    _state.workers = max(1, int(count))
    try:
        yield
    finally:
        _state.workers = before


def _pool(count: int) -> ThreadPoolExecutor:
    with _pools_lock:
        pool = _pools.get(count)
        if pool is None:
            pool = _pools[count] = ThreadPoolExecutor(count, thread_name_prefix="nnengine-gemm")
        return pool


def _submit(count: int, fn: Callable, *args, **kwargs):
    """fn(*args, **kwargs) on a worker thread, in a copy of this thread's context: NumPy's
    floating-point error settings (the trainer's np.errstate) live there."""
    return _pool(count).submit(contextvars.copy_context().run, fn, *args, **kwargs)


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """`np.matmul(a, b, out=out)` for 2-D operands, split when large (see the module)."""
    count = current_workers()
    m, k = a.shape
    n = b.shape[1]
    if max(m, n) < 2 * MIN_BLOCK and k >= HALVE_FROM and m * n * k >= SPLIT_FROM:
        return _halved(a, b, out, count)
    if count < 2 or m * n * k < SPLIT_FROM or max(m, n) < 2 * MIN_BLOCK:
        return np.matmul(a, b, out=out)
    # One block a thread, each taken by whichever thread is free: a worker that another
    # program keeps from starting (a busy core) leaves its block to this thread instead of
    # holding up the product for its time slice. More, smaller blocks cost the idle machine
    # 4% of an MNIST-size CNN's epoch and bought nothing on a busy one.
    parts = min(count, max(m, n) // MIN_BLOCK)
    edges = np.linspace(0, max(m, n), parts + 1).astype(int).tolist()
    if n >= m:
        jobs = [functools.partial(np.matmul, a, b[:, s:e], out=out[:, s:e])
                for s, e in itertools.pairwise(edges)]
    else:
        jobs = [functools.partial(np.matmul, a[s:e], b, out=out[s:e])
                for s, e in itertools.pairwise(edges)]
    _share(jobs, count)
    return out


def _halved(a: np.ndarray, b: np.ndarray, out: np.ndarray, count: int) -> np.ndarray:
    """a @ b as a[:, :h] @ b[:h] + a[:, h:] @ b[h:] (h = half the inner dimension), the
    halves shared out as any split product's blocks are; the second half's small (m, n)
    result is new."""
    h = a.shape[1] // 2
    second = np.empty_like(out)
    _share([functools.partial(np.matmul, a[:, :h], b[:h], out=out),
            functools.partial(np.matmul, a[:, h:], b[h:], out=second)], count)
    return np.add(out, second, out=out)


def in_parts(job: Callable[[slice], None], size: int, elements: int) -> None:
    """job(part) for contiguous parts of range(size) (one axis of the caller's arrays), shared
    out among this thread and the workers when the job touches at least PARTS_FROM
    `elements`, else job(slice(0, size)) here.

    For element-wise work (im2col, col2im, pooling, ReLU on large feature maps): one core
    cannot keep up with the memory, and NumPy releases the interpreter lock in its loops.
    Parts must write disjoint memory; each element is computed as it would be whole.

    Each thread takes the next part when it is free (PARTS_PER_WORKER per worker), and a
    worker that has not started when this thread runs out of parts is called off: on a busy
    machine a descheduled worker costs one part's delay, never a wait for its time slice."""
    workers = current_workers()
    count = min(workers * PARTS_PER_WORKER, size)
    if workers < 2 or count < 2 or elements < PARTS_FROM:
        job(slice(0, size))
        return
    edges = np.linspace(0, size, count + 1).astype(int).tolist()
    _share([functools.partial(job, slice(s, e)) for s, e in itertools.pairwise(edges)], workers)


def _share(jobs: list[Callable[[], Any]], workers: int) -> None:
    """Run every job once, on this thread and `workers` - 1 worker threads, each taking the
    next job when it is free; a worker that has not started when the jobs run out is called
    off (on a busy machine it may wait a time slice to start: the others do its share)."""
    jobs_left = iter(jobs)
    lock = threading.Lock()

    def take_jobs() -> None:
        while True:
            with lock:
                job = next(jobs_left, None)
            if job is None:
                return
            job()

    helpers = [_submit(workers, take_jobs) for _ in range(min(workers, len(jobs)) - 1)]
    take_jobs()
    for helper in helpers:
        if not helper.cancel():
            helper.result()
