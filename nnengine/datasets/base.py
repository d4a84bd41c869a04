"""The data set record every loader returns, with a fixed train/test split."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Features = np.ndarray | list[np.ndarray] | dict[str, np.ndarray]


@dataclass
class Dataset:
    """x: (samples, ...); with several inputs a list in Input order, or a dict keyed by
    Input id;
    y: integer labels (samples,) for classification, or float targets (samples, ...)."""

    name: str
    x_train: Features
    y_train: np.ndarray
    x_test: Features
    y_test: np.ndarray
    task: str = "classification"  # or "regression"
    num_classes: int | None = None
    class_names: list[str] | None = None

    @property
    def is_classification(self) -> bool:
        return self.task == "classification"

    def sample_shape(self) -> tuple[int, ...]:
        x = self.x_train
        if isinstance(x, dict):
            x = next(iter(x.values()))
        elif isinstance(x, list):
            x = x[0]
        return tuple(x.shape[1:])

    @property
    def is_2d(self) -> bool:
        """True for points in the plane (decision boundaries can be drawn)."""
        return isinstance(self.x_train, np.ndarray) and self.x_train.ndim == 2 \
            and self.x_train.shape[1] == 2


def split(x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A fixed, seeded shuffle-and-split into train and test parts."""
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(len(x) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]
