"""The real data sets shipped in `resources/datasets/`: `digits` and `iris`.

digits: UCI "Optical Recognition of Handwritten Digits" (E. Alpaydin, C. Kaynak, 1998),
1797 grey 8x8 images, pixel values 0..16 scaled to 0..1; x: (1797, 64), which fits an Input
of shape [64] or [1, 8, 8]. iris: UCI "Iris" (R. A. Fisher, 1936), 150 flowers, 4
measurements in cm, 3 classes. Both CC BY 4.0. Each has a fixed, stratified test split.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from .base import Dataset, stratified_split

RESOURCES = Path(__file__).resolve().parents[2] / "resources" / "datasets"
SEED = 1234
TEST_FRACTION = 0.2


def _read_text(name: str) -> str:
    path = RESOURCES / name
    try:
        raw = path.read_bytes()
        return (gzip.decompress(raw) if name.endswith(".gz") else raw).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise DatasetError(f"the shipped data file {path} cannot be read ({e}); "
                           "reinstall nnengine from a full checkout") from None


def digits() -> Dataset:
    """Handwritten digits 0-9 as 8x8 grey images. x: (N, 64) float32 in [0, 1]."""
    rows = np.loadtxt(_read_text("digits.csv.gz").splitlines(), delimiter=",", ndmin=2)
    x = (rows[:, :-1] / 16.0).astype(np.float32)
    y = rows[:, -1].astype(np.int64)
    xtr, ytr, xte, yte = stratified_split(x, y, TEST_FRACTION, SEED)
    return Dataset("digits", xtr, ytr, xte, yte, "classification", 10,
                   [str(i) for i in range(10)])


def iris() -> Dataset:
    """Iris flowers: sepal length and width, petal length and width (cm). x: (N, 4)."""
    lines = _read_text("iris.csv").splitlines()
    header = lines[0].split(",")  # "150,4,setosa,versicolor,virginica"
    rows = np.loadtxt(lines[1:], delimiter=",", ndmin=2)
    x = rows[:, :-1].astype(np.float32)
    y = rows[:, -1].astype(np.int64)
    xtr, ytr, xte, yte = stratified_split(x, y, TEST_FRACTION, SEED)
    return Dataset("iris", xtr, ytr, xte, yte, "classification", 3, header[2:])


SHIPPED = {"digits": digits, "iris": iris}
