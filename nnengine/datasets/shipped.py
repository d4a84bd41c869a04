"""The real data sets shipped in `resources/datasets/`: `digits` and `iris`.

digits: UCI "Optical Recognition of Handwritten Digits" (E. Alpaydin, C. Kaynak, 1998),
1797 grey 8x8 images, pixel values 0..16 scaled to 0..1; x: (1797, 64), which fits an Input
of shape [64] or [1, 8, 8]; `digits(shift=s)` places each image at a random spot of a larger
frame (see `shifted`). iris: UCI "Iris" (R. A. Fisher, 1936), 150 flowers, 4
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


def digits(shift: int = 0) -> Dataset:
    """Handwritten digits 0-9 as 8x8 grey images. x: (N, 64) float32 in [0, 1]; with
    `shift` s > 0, (N, (8 + 2s)²): each digit moved by up to s pixels (`shifted`)."""
    rows = np.loadtxt(_read_text("digits.csv.gz").splitlines(), delimiter=",", ndmin=2)
    x = (rows[:, :-1] / 16.0).astype(np.float32)
    y = rows[:, -1].astype(np.int64)
    if shift != int(shift) or not 0 <= shift <= 8:
        raise DatasetError(f"digits: shift must be a whole number of pixels from 0 to 8, "
                           f"received {shift}")
    if shift:
        x = shifted(x, int(shift))
    xtr, ytr, xte, yte = stratified_split(x, y, TEST_FRACTION, SEED)
    return Dataset("digits", xtr, ytr, xte, yte, "classification", 10,
                   [str(i) for i in range(10)])


def shifted(x: np.ndarray, shift: int) -> np.ndarray:
    """Each 8x8 image of x (N, 64) pasted into a blank (8 + 2·shift)² frame at a random
    offset from 0 to 2·shift pixels along each axis (a fixed draw per image, so train and
    test split keep their offsets): the same digit at different places, where a
    convolution's shared filters help and a Dense layer must learn every place anew."""
    n, side = len(x), 8 + 2 * shift
    rng = np.random.default_rng([SEED, shift])
    top, left = rng.integers(0, 2 * shift + 1, (2, n))
    rows = (top[:, None] + np.arange(8))[:, :, None]    # (N, 8, 1)
    cols = (left[:, None] + np.arange(8))[:, None, :]   # (N, 1, 8)
    out = np.zeros((n, side, side), dtype=x.dtype)
    out[np.arange(n)[:, None, None], rows, cols] = x.reshape(n, 8, 8)
    return out.reshape(n, side * side)


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
