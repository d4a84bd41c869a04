"""`target: one_hot`: class labels become one-hot rows so `mse` trains a classifier, as the
course trains its first ones; accuracy is reported as for cross-entropy."""
from __future__ import annotations

import numpy as np
import pytest

import nnengine as nn
from nnengine.errors import ConfigError, DatasetError
from tests.engine.builders import mlp


def test_labels_become_one_hot_rows_in_the_model_dtype():
    model = nn.compile_model(mlp(2, [4], 3), seed=0, dtype="float64")
    cfg = nn.TrainingConfig(loss="mse", target="one_hot", validation_split=0.0)
    trainer = nn.Trainer(model, nn.load_dataset("blobs"), cfg)
    t = trainer.prepare_targets(np.array([2, 0, 1]), "test")
    np.testing.assert_array_equal(t, [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    assert t.dtype == np.float64
    loss, grad = nn.losses.mse(np.full((3, 3), 0.5), t)
    assert loss == pytest.approx(0.25) and grad.shape == (3, 3)


@pytest.mark.parametrize("seed", [0, 1])
def test_mse_on_one_hot_targets_learns_to_classify(seed):
    model = nn.compile_model(mlp(2, [16], 3, out="sigmoid"), seed=seed)
    history = nn.fit(model, nn.load_dataset("blobs"), loss="mse", target="one_hot",
                     epochs=30, seed=seed, optimizer={"type": "adam", "learning_rate": 0.02})
    assert history.last("val_accuracy") > 0.9
    result = nn.evaluate(model, nn.load_dataset("blobs"), loss="mse", target="one_hot")
    assert result["accuracy"] > 0.9 and result["loss"] < 0.1


def test_one_hot_on_a_regression_set_says_why():
    model = nn.compile_model(mlp(1, [4], 1, out="tanh"), seed=0)
    with pytest.raises(DatasetError, match="the one_hot target needs integer class labels"):
        nn.Trainer(model, nn.load_dataset("sine"),
                   nn.TrainingConfig(loss="mse", target="one_hot"))


def test_one_hot_labels_beyond_the_output_units_say_so():
    model = nn.compile_model(mlp(2, [4], 2), seed=0)
    with pytest.raises(DatasetError, match="go from 0 to 2, but the output 'n3' has 2 units"):
        nn.Trainer(model, nn.load_dataset("blobs"),
                   nn.TrainingConfig(loss="mse", target="one_hot"))


def test_the_target_round_trips_and_a_typo_is_refused():
    cfg = nn.TrainingConfig.from_dict({"loss": "mse", "target": "one_hot"})
    assert nn.TrainingConfig.from_dict(cfg.to_dict()).target == "one_hot"
    with pytest.raises(ConfigError, match="'target' must be .*one_hot.*received 'onehot'"):
        nn.TrainingConfig.from_dict({"target": "onehot"})
