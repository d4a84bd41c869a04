"""A data set is held once: the trainer's splits are rows of the very arrays the data set
holds, and standardisation statistics are computed without copying them."""
from __future__ import annotations

import numpy as np
import pytest

import nnengine as nn
from nnengine.datasets.rows import Rows
from tests.engine.builders import mlp


def test_rows_read_only_what_is_asked_for():
    base = np.arange(40.0).reshape(10, 4)
    rows = Rows(base, np.array([7, 2, 5]))
    assert len(rows) == 3 and rows.shape == (3, 4) and rows.dtype == base.dtype
    np.testing.assert_array_equal(rows[1], base[2])
    np.testing.assert_array_equal(rows[1:], base[[2, 5]])
    np.testing.assert_array_equal(rows[[2, 0]], base[[5, 7]])
    np.testing.assert_array_equal(rows[:, 0], base[[7, 2, 5], 0])
    np.testing.assert_array_equal(np.asarray(rows), base[[7, 2, 5]])
    index_buf, out = np.empty(2, np.intp), np.empty((2, 4))
    assert rows.gather(np.array([2, 0]), index_buf, out) is out
    np.testing.assert_array_equal(out, base[[5, 7]])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_feature_stats_in_chunks_equal_numpy_on_the_gathered_rows(seed):
    rng = np.random.default_rng(seed)
    base = rng.normal(3.0, 2.0, size=(50, 2, 3)).astype(np.float32)
    rows = Rows(base, rng.permutation(50)[:37])
    mean, std = rows.feature_stats(chunk=8)
    gathered = np.asarray(rows).astype(np.float64)
    np.testing.assert_allclose(mean, gathered.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(std, gathered.std(axis=0), rtol=1e-10)


def test_the_trainer_holds_the_data_set_once():
    data = nn.load_dataset("digits")
    x = np.ascontiguousarray(np.asarray(data.x_train, np.float32))
    data = nn.Dataset("digits", x, data.y_train, x[:5], data.y_train[:5], num_classes=10)
    model = nn.compile_model(mlp(64, [16], 10), seed=0)
    trainer = nn.Trainer(model, data, nn.TrainingConfig(validation_split=0.25,
                                                        standardize=True, epochs=1))
    assert trainer.x_train[0].base is x and trainer.x_val[0].base is x
    train, val = trainer.x_train[0].index, trainer.x_val[0].index
    assert len(train) + len(val) == len(x) and not set(train) & set(val)
    trainer.fit()
    assert trainer.x_train[0].base is x
