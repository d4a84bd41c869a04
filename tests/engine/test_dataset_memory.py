"""A data set is held once: reading a .npz, checking its values and hashing it for the run
card never make a temporary as large as the data."""
from __future__ import annotations

import tracemalloc

import numpy as np

from nnengine.datasets.base import cycles, permute_rows, split_features
from nnengine.datasets.files import SEED, TEST_FRACTION, load_npz
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


def split(x, y, test_fraction, seed):
    """The split as a copy: the seeded permutation, test rows first."""
    order = np.random.default_rng(seed).permutation(len(y))
    test, train = np.split(order, [round(len(y) * test_fraction)])
    return x[train], y[train], x[test], y[test]


def test_a_npz_without_a_test_split_is_split_in_place_and_held_once(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((6000, 784), dtype=np.float32)          # 18.8 MB
    y = rng.integers(0, 10, 6000)
    path = tmp_path / "big.npz"
    np.savez(path, x=x, y=y)
    ds, peak = peak_while(lambda: load_npz(path))
    assert peak < 1.25 * x.nbytes, f"{peak:,} bytes at the peak for {x.nbytes:,} of data"
    # the same split as a copying one: the seeded permutation, test rows first
    xtr, ytr, xte, yte = split(x, y, TEST_FRACTION, SEED)
    for got, want in ((ds.x_train, xtr), (ds.y_train, ytr), (ds.x_test, xte), (ds.y_test, yte)):
        np.testing.assert_array_equal(got, want)


def test_splitting_in_place_matches_the_copying_split_for_every_kind_of_features():
    rng = np.random.default_rng(2)
    for n in (0, 1, 2, 7, 3000):
        x = rng.random((n, 3, 2)).astype(np.float32)
        y = np.arange(n)
        want = split(x, y, 0.2, 5)
        got = split_features(x.copy(), y, 0.2, 5)
        assert all(np.array_equal(a, b) for a, b in zip(got, want)), n
        several = split_features({"a": x.copy(), "b": x[:, :1].copy()}, y, 0.2, 5)
        np.testing.assert_array_equal(several[0]["a"], want[0])
        np.testing.assert_array_equal(several[2]["b"], want[2][:, :1])
        listed = split_features([x.copy()], y, 0.2, 5)
        np.testing.assert_array_equal(listed[2][0], want[2])
        frozen = x.copy()
        frozen.flags.writeable = False                       # not ours to reorder: copied
        np.testing.assert_array_equal(split_features(frozen, y, 0.2, 5)[0], want[0])
        np.testing.assert_array_equal(frozen, x)
    order = np.random.default_rng(3).permutation(5000)
    a = np.arange(5000.0)[:, None] * [1.0, -1.0]
    permute_rows(a, cycles(order), block=7)                 # many blocks per cycle
    np.testing.assert_array_equal(a[:, 0], order)


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
