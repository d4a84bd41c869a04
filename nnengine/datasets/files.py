"""Loaders for users' own data: `.csv`, `.npz`, MNIST-style IDX files, image folders.

Every loader returns a `Dataset` with a test split: the file's own (`x_test`/`y_test`,
`t10k-*` IDX files, `test/` image folder) or else a fixed, seeded 20% of the samples. Every
error is a `DatasetError` whose message starts with the file and says what was found, e.g.
"data.csv: line 7, column 3: 'abc' is not a number".
"""
from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import arrays_io, limits
from ..errors import DatasetError
from ..fileio import over_budget, size_text
from .base import (
    Dataset,
    Features,
    check_classes,
    check_sample_array,
    read_bytes,
    split_features,
)
from .images import is_idx_file, load_idx, load_image_folder

SEED = 1234
TEST_FRACTION = 0.2
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
FLOAT32_MAX = float(np.finfo(np.float32).max)


def load_file(path: str | Path, input_shapes: dict[str, Sequence[int]] | None = None
              ) -> Dataset:
    """Load a data file or folder, choosing the loader by what `path` is.

    `input_shapes` maps each Input node id to its shape (without the batch); image folders
    need it to know the size and colour mode, `.npz` files to match `x_<input id>` arrays."""
    path = Path(path)
    if path.is_dir():
        idx = _idx_in_folder(path)
        return load_idx(idx) if idx else load_image_folder(path, input_shapes)
    if not path.exists():
        raise DatasetError(f"{path}: no such file or folder")
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(CSV_SUFFIXES):
        return load_csv(path)
    if name.endswith(".npz"):
        return load_npz(path, list(input_shapes) if input_shapes else None)
    if "idx" in name or is_idx_file(path):
        return load_idx(path)
    raise DatasetError(f"{path}: unknown kind of data file; use a .csv file (label in the last "
                       "column), a .npz file, MNIST-style IDX files or a folder of images")


def _idx_in_folder(folder: Path) -> Path | None:
    """A folder holding MNIST's files is read as IDX (train-images-idx3-ubyte first)."""
    found = sorted(p for p in folder.iterdir() if p.is_file() and "images" in p.name
                   and "idx3" in p.name)
    found.sort(key=lambda p: not p.name.startswith("train"))
    return found[0] if found else None


def _labels(path: Path, y: np.ndarray, what: str = "y") -> tuple[np.ndarray, str, int | None]:
    """Integral labels mean classification (int64), anything else regression (float32)."""
    if y.dtype.kind not in "biuf":
        raise DatasetError(f"{path}: '{what}' must hold numbers, found dtype {y.dtype}")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)):
            raise DatasetError(f"{path}: '{what}' contains NaN or infinite values")
        if not np.all(np.mod(y, 1) == 0):
            if y.size and np.abs(y).max() > FLOAT32_MAX:
                raise DatasetError(f"{path}: '{what}' holds values beyond the range of float32 "
                                   f"numbers (±{FLOAT32_MAX:.4g})")
            return y.astype(np.float32), "regression", None
    k = check_classes(path, y.max()) if y.size else 0
    return y.astype(np.int64), "classification", k


# --- CSV ---------------------------------------------------------------------------------

def load_csv(path: str | Path) -> Dataset:
    """Rows of numbers, the label in the last column. A first row with text in a feature
    column is a header and skipped; a label column made only of words (setosa, ...) becomes
    class names in sorted order. Text anywhere else is an error naming line and column."""
    path = Path(path)
    try:
        text = read_bytes(path).decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DatasetError(f"{path}: is not UTF-8 text (byte {e.start})") from None
    lines = [(i + 1, line) for i, line in enumerate(text.splitlines())
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise DatasetError(f"{path}: has no data rows")
    delimiter = next((d for d in (",", ";", "\t") if d in lines[0][1]), None)
    if delimiter is None:
        raise DatasetError(f"{path}: line {lines[0][0]} has one column; a data file needs at "
                           "least one feature column and the label in the last column")
    first = next(csv.reader([lines[0][1]], delimiter=delimiter))
    if len(first) < 2 or any(not _is_number(f) for f in first[:-1]) or \
            not any(_is_number(f) for f in first):
        lines = lines[1:]  # a header row
    if not lines:
        raise DatasetError(f"{path}: has a header row but no data rows")
    try:
        data = np.loadtxt([line for _, line in lines], delimiter=delimiter, ndmin=2,
                          quotechar='"', dtype=np.float64)
        x, y, class_names = data[:, :-1], data[:, -1], None
    except ValueError:
        x, y, class_names = _parse_rows(path, lines, delimiter)
    if x.shape[1] < 1:
        raise DatasetError(f"{path}: needs at least one feature column before the label")
    bad = np.argwhere(~np.isfinite(x))
    if len(bad):
        r, c = bad[0]
        raise DatasetError(f"{path}: line {lines[r][0]}, column {c + 1}: {x[r, c]} is not a "
                           "finite number")
    bad = np.argwhere(np.abs(x) > FLOAT32_MAX)
    if len(bad):
        r, c = bad[0]
        raise DatasetError(f"{path}: line {lines[r][0]}, column {c + 1}: {x[r, c]:g} is beyond "
                           f"the range of float32 numbers (±{FLOAT32_MAX:.4g})")
    x = x.astype(np.float32)
    if class_names is None:
        bad = np.flatnonzero(~np.isfinite(y))
        if len(bad):
            raise DatasetError(f"{path}: line {lines[bad[0]][0]}, column {x.shape[1] + 1}: "
                               f"the label {y[bad[0]]} is not a finite number")
        y, task, k = _labels(path, y)
        names = None   # the labels name the classes: no list as long as the largest label
    else:
        task, k, names = "classification", len(class_names), class_names
    xtr, ytr, xte, yte = split_features(x, y, TEST_FRACTION, SEED)
    return Dataset(path.stem, xtr, ytr, xte, yte, task, k, names, source=str(path))


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _parse_rows(path: Path, lines: list[tuple[int, str]], delimiter: str
                ) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """The slow path: find the first bad value (line and column), or read word labels."""
    rows = list(csv.reader([line for _, line in lines], delimiter=delimiter))
    width = len(rows[0])
    x = np.empty((len(rows), width - 1))
    labels: list[str] = []
    for r, ((lineno, _), fields) in enumerate(zip(lines, rows)):
        if len(fields) != width:
            raise DatasetError(f"{path}: line {lineno} has {len(fields)} columns, but line "
                               f"{lines[0][0]} has {width}")
        for c, field in enumerate(fields[:-1]):
            try:
                x[r, c] = float(field)
            except ValueError:
                raise DatasetError(f"{path}: line {lineno}, column {c + 1}: {field.strip()!r} "
                                   "is not a number") from None
        labels.append(fields[-1].strip())
    numeric = [_is_number(s) for s in labels]
    if all(numeric):
        return x, np.array([float(s) for s in labels]), None
    if any(numeric):
        r = numeric.index(False) if numeric[0] else numeric.index(True)
        raise DatasetError(f"{path}: line {lines[r][0]}, column {width}: labels must be all "
                           f"numbers or all words, found {labels[r]!r} and {labels[0]!r}")
    names = sorted(set(labels))
    index = {n: i for i, n in enumerate(names)}
    return x, np.array([index[s] for s in labels], dtype=np.int64), names


# --- NPZ ---------------------------------------------------------------------------------

def value_range(a: np.ndarray) -> tuple[float, float]:
    """(smallest, largest) value of a float array, NaN when it holds a NaN: two reductions,
    where `isfinite` and `abs` would each make a temporary as large as the data set."""
    if a.dtype.kind != "f" or not a.size:
        return 0.0, 0.0
    return float(a.min()), float(a.max())


def load_npz(path: str | Path, input_ids: list[str] | None = None) -> Dataset:
    """Arrays `x`, `y`, optional `x_test`, `y_test`; with several inputs `x_<input id>` and
    `x_test_<input id>` instead of `x`, `x_test`; optional `class_names` (strings)."""
    path = Path(path)
    arrays = read_npz(path, "data file")
    if "y" not in arrays:
        raise DatasetError(f"{path}: has no array 'y' (the labels or targets); found "
                           f"{', '.join(sorted(arrays)) or 'no arrays'}")
    singles = "x" in arrays or "x_test" in arrays
    if input_ids and len(input_ids) > 1 or not singles:
        ids = input_ids or sorted(k[2:] for k in arrays
                                  if k.startswith("x_") and not k.startswith("x_test"))
        if not ids:
            raise DatasetError(f"{path}: has no array 'x' (the samples); found "
                               f"{', '.join(sorted(arrays))}")
        train_keys = {i: f"x_{i}" for i in ids}
        test_keys = {i: f"x_test_{i}" for i in ids}
    else:
        ids = input_ids or ["x"]
        train_keys, test_keys = {ids[0]: "x"}, {ids[0]: "x_test"}
    known = {"y", "y_test", "class_names", *train_keys.values(), *test_keys.values()}
    unknown = sorted(set(arrays) - known)
    if unknown:
        raise DatasetError(f"{path}: unexpected array '{unknown[0]}' (expected "
                           f"{', '.join(sorted(known))})")
    has_test = [k for k in (*test_keys.values(), "y_test") if k in arrays]
    if has_test and len(has_test) != len(test_keys) + 1:
        missing = [k for k in (*test_keys.values(), "y_test") if k not in arrays]
        raise DatasetError(f"{path}: has '{has_test[0]}' but no '{missing[0]}'")

    def features(keys: dict[str, str], y_key: str) -> tuple[Features, np.ndarray]:
        y = arrays[y_key]
        xs = {}
        for input_id, key in keys.items():
            if key not in arrays:
                raise DatasetError(f"{path}: has no array '{key}' for input '{input_id}'")
            a = arrays[key]
            check_sample_array(path, key, a)
            lo, hi = value_range(a)
            if not (np.isfinite(lo) and np.isfinite(hi)):
                raise DatasetError(f"{path}: '{key}' contains NaN or infinite values")
            if max(-lo, hi) > FLOAT32_MAX:
                raise DatasetError(f"{path}: '{key}' holds values beyond the range of float32 "
                                   f"numbers (±{FLOAT32_MAX:.4g}), such as {max(-lo, hi):g}")
            if len(a) != len(y):
                raise DatasetError(f"{path}: '{key}' has {len(a)} samples but '{y_key}' has "
                                   f"{len(y)}")
            xs[input_id] = a
        return (xs if len(xs) > 1 or input_ids and len(input_ids) > 1 else
                next(iter(xs.values()))), y

    if arrays["y"].ndim < 1:
        raise DatasetError(f"{path}: 'y' must be an array with one label per sample")
    x, y = features(train_keys, "y")
    y, task, k = _labels(path, y)
    if has_test:
        xte, yte = features(test_keys, "y_test")
        yte, _, k_test = _labels(path, yte, "y_test")
        if task == "classification" and yte.dtype.kind == "f":
            task, k, y = "regression", None, y.astype(np.float32)
        if task == "classification":
            k = max(k or 0, k_test or 0)
        xtr, ytr = x, y
    else:
        xtr, ytr, xte, yte = split_features(x, y, TEST_FRACTION, SEED)
    names = None   # without class_names in the file, the labels name the classes
    if "class_names" in arrays:
        names = [str(s) for s in np.asarray(arrays["class_names"]).ravel()]
    return Dataset(path.stem, xtr, ytr, xte, yte, task, k, names, source=str(path))


def read_npz(path: Path, what: str) -> dict[str, np.ndarray]:
    """Every array of a .npz file, within the reading budgets, with errors that name the
    file (never a pickle)."""
    if path.is_file() and not path.name.lower().endswith(".gz"):
        # A regular file is inflated member by member from disk (its size within the
        # budget): a large data set is never held twice, as bytes and as arrays.
        limit = limits.limit("file_bytes")
        size = path.stat().st_size
        if size > limit:
            raise DatasetError(over_budget(path, f"is {size_text(size, binary=True)}", limit,
                                           "file_bytes", "data file"))
        return arrays_io.read_npz(path, str(path), DatasetError, f".npz {what}")
    return arrays_io.read_npz(read_bytes(path), str(path), DatasetError, f".npz {what}")
