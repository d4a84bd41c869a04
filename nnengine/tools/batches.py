"""Copies of a model and small batches prepared exactly as the trainer prepares them.

The tools never touch the model they are given: they work on `clone_model`'s copy, which
also receives the input standardisation the trainer would compute (a fresh model has
none yet; a trained one already carries it, and recomputing it from the same split gives
the same numbers).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..datasets.base import Dataset
from ..model import Model, compile_model
from ..trainer import Trainer
from ..training_config import TrainingConfig


@dataclass(frozen=True)
class Batch:
    """Inputs (one array per Input node, batch first) and targets ready for the loss."""

    xs: list[np.ndarray]
    targets: np.ndarray
    loss: str

    def __len__(self) -> int:
        return len(self.targets)


def clone_model(model: Model, dtype: str | np.dtype | None = None) -> Model:
    """An independent model of the same graph holding a copy of `model`'s weights
    (cast to `dtype` when given), standardisation statistics included."""
    copy = compile_model(model.graph, seed=0, dtype=dtype or model.dtype)
    copy.set_weights({k: v.astype(copy.dtype) for k, v in model.weights.items()},
                     source="the model's weights")
    return copy


def training_setup(model: Model, dataset: Dataset, config: TrainingConfig,
                   dtype: str | np.dtype | None = None) -> tuple[Model, Trainer]:
    """A clone of `model` and a Trainer over it with the data split and standardised as a
    real run would (same seed, same validation split)."""
    copy = clone_model(model, dtype)
    return copy, Trainer(copy, dataset, config.replace())


def probe_batch(model: Model, dataset: Dataset, config: TrainingConfig, size: int = 64,
                dtype: str | np.dtype | None = None) -> tuple[Model, Batch]:
    """(clone, the first `size` training samples of the run's split)."""
    copy, trainer = training_setup(model, dataset, config, dtype)
    n = min(size, len(trainer.y_train))
    return copy, Batch([a[:n] for a in trainer.x_train], trainer.y_train[:n], config.loss)
