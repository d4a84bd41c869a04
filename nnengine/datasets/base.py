"""The data set record every loader returns, with a fixed train/test split, and the helpers
the loaders share (seeded splits, reading a possibly gzipped file)."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import limits
from ..errors import DatasetError
from ..fileio import gunzip_limited, over_budget, read_file_bytes

Features = np.ndarray | list[np.ndarray] | dict[str, np.ndarray]


@dataclass
class Dataset:
    """x: (samples, ...); with several inputs a list in Input order, or a dict keyed by
    Input id;
    y: integer labels (samples,) for classification, or float targets (samples, ...).
    `vocabulary`: for text sets, the word of each token id (id i is vocabulary[i]).
    `source`: where the data came from (a file path, or "built in")."""

    name: str
    x_train: Features
    y_train: np.ndarray
    x_test: Features
    y_test: np.ndarray
    task: str = "classification"  # or "regression"
    num_classes: int | None = None
    class_names: list[str] | None = None   # None: the labels 0 .. num_classes-1 name them
    vocabulary: list[str] | None = None
    source: str = "built in"

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
    def train_size(self) -> int:
        return len(self.y_train)

    @property
    def test_size(self) -> int:
        return len(self.y_test)

    @property
    def is_2d(self) -> bool:
        """True for points in the plane (decision boundaries can be drawn)."""
        return isinstance(self.x_train, np.ndarray) and self.x_train.ndim == 2 \
            and self.x_train.shape[1] == 2


def split_features(x: Features, y: np.ndarray, test_fraction: float, seed: int
                   ) -> tuple[Features, np.ndarray, Features, np.ndarray]:
    """A fixed, seeded shuffle-and-split into train and test parts, of one array, a list of
    arrays or a dict of arrays (several inputs), all cut by the same permutation (test rows
    first). The loaders hand over arrays they have just read or made, so the rows are put
    in split order in place and train and test are two views of the one buffer: a data set
    read from a file is held once, never twice (a read-only array is copied)."""
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = round(len(y) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    moves = cycles(order)

    def arranged(a: np.ndarray) -> np.ndarray:
        if not a.flags.writeable:
            return a[order]
        permute_rows(a, moves)
        return a

    whole = each(x, arranged)
    return (each(whole, lambda a: a[n_test:]), y[train],
            each(whole, lambda a: a[:n_test]), y[test])


def each(x: Features, fn: Callable[[np.ndarray], np.ndarray]) -> Features:
    """fn applied to every input's array of `x` (one array, a list or a dict of them)."""
    if isinstance(x, dict):
        return {k: fn(v) for k, v in x.items()}
    if isinstance(x, list):
        return [fn(v) for v in x]
    return fn(x)


def cycles(order: np.ndarray) -> list[np.ndarray]:
    """The cycles of a permutation, each as positions c0, c1, ... with order[c_t] = c_t+1
    (fixed points left out)."""
    following = order.tolist()
    seen = bytearray(len(following))
    out = []
    for start in range(len(following)):
        if seen[start]:
            continue
        cycle, p = [], start
        while not seen[p]:
            seen[p] = 1
            cycle.append(p)
            p = following[p]
        if len(cycle) > 1:
            out.append(np.array(cycle))
    return out


def permute_rows(a: np.ndarray, moves: list[np.ndarray], block: int = 1024) -> None:
    """a[:] = a[order] in place, `moves` being `cycles(order)`, with at most `block` rows set
    aside at a time. Along a cycle every row takes the next one's place: a block of rows is
    gathered before it is written, so moving a block one place along is safe."""
    for cycle in moves:
        first = a[cycle[0]].copy()
        last = len(cycle) - 1
        for start in range(0, last, block):
            stop = min(start + block, last)
            a[cycle[start:stop]] = a[cycle[start + 1:stop + 1]]
        a[cycle[last]] = first


def stratified_split(x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A seeded split that keeps each class's share the same in train and test (small sets
    such as iris would otherwise get lopsided test splits)."""
    rng = np.random.default_rng(seed)
    test_parts = []
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        test_parts.append(idx[:round(len(idx) * test_fraction)])
    test = np.sort(np.concatenate(test_parts))
    train = np.setdiff1d(np.arange(len(y)), test)
    train = train[rng.permutation(len(train))]
    test = test[rng.permutation(len(test))]
    return x[train], y[train], x[test], y[test]


def check_sample_array(source: object, key: str, a: np.ndarray) -> None:
    """Samples must be numbers, one row per sample: a: (samples, ...). A DatasetError names
    `source` (the file) and `key` (the array in it)."""
    if a.dtype.kind not in "biuf" or a.ndim < 1:
        raise DatasetError(f"{source}: '{key}' must be an array of numbers, one row per "
                           f"sample; found dtype {a.dtype}, shape {list(a.shape)}")


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it ends in .gz, both within the reading budgets
    (`limits`); errors name the file."""
    raw = read_file_bytes(path, "data file", error=DatasetError)
    if not path.name.lower().endswith(".gz"):
        return raw
    return gunzip_limited(raw, path, DatasetError)


def check_classes(source: object, largest_label: float) -> int:
    """The number of classes labels up to `largest_label` need (it + 1), refused before any
    per-class work when it passes the `classes` budget."""
    budget = limits.limit("classes")
    if largest_label + 1 > budget:
        label = int(largest_label) if np.isfinite(largest_label) else largest_label
        raise DatasetError(over_budget(source, f"the largest label is {label:,}, which means "
                                       f"{label + 1:,} classes", budget, "classes",
                                       "data set", "classes"))
    return int(largest_label) + 1


def check_classes_fit(dataset: Dataset, classes: int, output: str) -> None:
    """Refuse a classification set whose largest label needs more classes than `classes`,
    the units of the graph's `output`: the classes a file may ask for are bounded by the
    graph it trains, not by the values written in it."""
    if not dataset.is_classification or not dataset.num_classes or \
            dataset.num_classes <= classes:
        return
    raise DatasetError(f"{dataset.source}: the largest label is {dataset.num_classes - 1:,}, "
                       f"but the graph's output '{output}' has {classes:,} unit"
                       f"{'s' * (classes != 1)}, one per class (labels 0 to {classes - 1:,})")


def check_elements(source: object, what: str, shape: Sequence[int]) -> None:
    """Refuse an array of `shape` past the `array_elements` budget before it is built."""
    count = math.prod(shape)
    budget = limits.limit("array_elements")
    if count > budget:
        raise DatasetError(over_budget(source, f"{what} of shape {list(shape)} would hold "
                                       f"{count:,} elements", budget, "array_elements",
                                       "data set", "elements"))
