"""A data set is held once: reading a .npz, checking its values and hashing it for the run
card never make a temporary as large as the data."""
from __future__ import annotations

import tracemalloc

import numpy as np

from nnengine.datasets.files import load_npz
from nnengine.datasets.rows import Rows
from nnengine.run_card import dataset_sha256


def peak_while(fn):
    """(result, bytes allocated at the peak of fn beyond what was held before)."""
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    result = fn()
    peak = tracemalloc.get_traced_memory()[1] - start
    tracemalloc.stop()
    return result, peak


def test_loading_a_npz_with_a_test_split_holds_the_data_once(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((6000, 784), dtype=np.float32)          # 18.8 MB
    path = tmp_path / "big.npz"
    np.savez(path, x=x, y=rng.integers(0, 10, 6000), x_test=x[:500],
             y_test=rng.integers(0, 10, 500))
    data_bytes = x.nbytes + x[:500].nbytes
    ds, peak = peak_while(lambda: load_npz(path))
    np.testing.assert_array_equal(ds.x_train, x)
    assert peak < 1.25 * data_bytes, f"{peak:,} bytes at the peak for {data_bytes:,} of data"


def test_hashing_needs_no_copy_and_matches_whatever_the_layout():
    rng = np.random.default_rng(1)
    x = rng.random((20000, 100), dtype=np.float32)
    y = rng.integers(0, 3, 20000)
    digest, peak = peak_while(lambda: dataset_sha256([x], y))
    assert peak < x.nbytes / 10
    index = np.arange(20000)
    assert dataset_sha256([Rows(x, index)], y) == digest                    # gathered in pieces
    assert dataset_sha256([np.asfortranarray(x)], y) == digest              # strided
    assert dataset_sha256([x.copy()], y[::-1].copy()) != digest             # labels count
