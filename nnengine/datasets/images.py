"""Image data: MNIST-style IDX files and folders of images with one sub-folder per class.

IDX (http://yann.lecun.com/exdb/mnist/): a big-endian header `0 0 <type> <ndim>`, ndim
int32 sizes, then the values. Give the images file; its labels are found beside it by the
usual naming (train-images-idx3-ubyte -> train-labels-idx1-ubyte), and the test split from
the t10k-* files when they are there. Byte images are scaled to 0..1.

Image folders: root/<class>/*.png (or root/train/<class>, root/test/<class>). Images are
read with Pillow, converted to grey (1 channel) or RGB (3 channels) and resized to the
Input node's (channels, height, width); x: (N, C, H, W) float32 in 0..1.
"""
from __future__ import annotations

import math
import re
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import limits
from ..errors import DatasetError
from ..fileio import over_budget
from .base import Dataset, check_classes, check_elements, read_bytes, split_features

SEED = 1234
TEST_FRACTION = 0.2
IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.int16, 0x0C: np.int32,
             0x0D: np.float32, 0x0E: np.float64}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm",
                  ".ppm")


# --- IDX ---------------------------------------------------------------------------------

def is_idx_file(path: Path) -> bool:
    """Whether the file starts like an IDX file (for names without 'idx' in them)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return len(head) == 4 and head[:2] == b"\0\0" and head[2] in IDX_TYPES and 0 < head[3] < 8


def read_idx(path: Path) -> np.ndarray:
    """One IDX file as an array of its declared type and shape; errors name the file."""
    raw = read_bytes(path)
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in IDX_TYPES or raw[3] == 0:
        raise DatasetError(f"{path}: is not an IDX file (it does not start with the IDX "
                           "magic number 0, 0, type, dimensions)")
    ndim = raw[3]
    start = 4 + 4 * ndim
    if len(raw) < start:
        raise DatasetError(f"{path}: is cut short inside its IDX header")
    dims = struct.unpack(f">{ndim}I", raw[4:start])
    check_elements(path, "its header declares an array", dims)
    dtype = np.dtype(IDX_TYPES[raw[2]]).newbyteorder(">")
    need = math.prod(dims) * dtype.itemsize
    if len(raw) - start != need:
        raise DatasetError(f"{path}: its header says shape {list(dims)} ({need} bytes of "
                           f"data), but the file holds {len(raw) - start} bytes of data")
    values = np.frombuffer(raw, dtype=dtype, offset=start).reshape(dims)
    return values.astype(dtype.newbyteorder("="))  # native byte order, writable


def labels_path(images: Path) -> Path:
    """train-images-idx3-ubyte -> train-labels-idx1-ubyte (also with '.' or '.gz')."""
    name = re.sub(r"idx\d", "idx1", images.name.replace("images", "labels"))
    candidates = [images.with_name(name)]
    candidates.append(images.with_name(name[:-3] if name.endswith(".gz") else name + ".gz"))
    return next((p for p in candidates if p.exists()), candidates[0])


def load_idx(path: str | Path) -> Dataset:
    """An IDX images file and its labels beside it; the t10k-* pair is the test split."""
    path = Path(path)
    if "labels" in path.name and "images" not in path.name:
        path = path.with_name(re.sub(r"idx1", "idx3", path.name.replace("labels", "images")))
    x, y = _idx_pair(path)
    test = path.with_name(path.name.replace("train", "t10k", 1))
    if path.name.startswith("train") and test.exists():
        xte, yte = _idx_pair(test)
        if xte.shape[1:] != x.shape[1:]:
            raise DatasetError(f"{test}: its images have shape {list(xte.shape[1:])}, the "
                               f"training images {list(x.shape[1:])}")
        xtr, ytr = x, y
    else:
        xtr, ytr, xte, yte = split_features(x, y, TEST_FRACTION, SEED)
    k = check_classes(path, max(ytr.max(initial=0), yte.max(initial=0)))
    name = re.sub(r"[-_.]?(train|t10k)[-_.]?|[-_.]?images.*$", "", path.name) or "idx"
    return Dataset(name, xtr, ytr, xte, yte, "classification", k, source=str(path))


def _idx_pair(images_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(images_path)
    lpath = labels_path(images_path)
    if not lpath.exists():
        raise DatasetError(f"{images_path}: found no labels file beside it (looked for "
                           f"{lpath.name})")
    labels = read_idx(lpath)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise DatasetError(f"{lpath}: labels must be one integer per sample, found shape "
                           f"{list(labels.shape)} of {labels.dtype}")
    if len(labels) != len(images):
        raise DatasetError(f"{lpath}: has {len(labels)} labels for the {len(images)} images "
                           f"in {images_path.name}")
    if images.ndim < 2:
        raise DatasetError(f"{images_path}: holds shape {list(images.shape)}, not images")
    x = images.astype(np.float32)
    if images.dtype == np.uint8:
        x /= 255.0
    return x, labels.astype(np.int64)


# --- image folders -----------------------------------------------------------------------

def load_image_folder(path: str | Path, input_shapes: dict[str, Sequence[int]] | None
                      ) -> Dataset:
    """Images in one sub-folder per class, resized to the (single) Input's shape."""
    path = Path(path)
    channels, height, width, keep_channel_axis = _target_shape(path, input_shapes)
    subdirs = {p.name.lower(): p for p in _subfolders(path)}
    if set(subdirs) == {"train", "test"}:
        classes = [p.name for p in _subfolders(subdirs["train"])]
        xtr, ytr = _read_classes(subdirs["train"], classes, channels, height, width)
        test_classes = [p.name for p in _subfolders(subdirs["test"])]
        extra = sorted(set(test_classes) - set(classes))
        if extra:
            raise DatasetError(f"{subdirs['test']}: has a class folder '{extra[0]}' that "
                               "train/ does not have")
        xte, yte = _read_classes(subdirs["test"], classes, channels, height, width,
                                 allow_missing=True)
    else:
        classes = [p.name for p in _subfolders(path)]
        x, y = _read_classes(path, classes, channels, height, width)
        xtr, ytr, xte, yte = split_features(x, y, TEST_FRACTION, SEED)
    if not keep_channel_axis:
        xtr, xte = xtr[:, 0], xte[:, 0]
    return Dataset(path.name or "images", xtr, ytr, xte, yte, "classification", len(classes),
                   classes, source=str(path))


def _subfolders(path: Path) -> list[Path]:
    return sorted((p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.name)


def _target_shape(path: Path, input_shapes: dict[str, Sequence[int]] | None
                  ) -> tuple[int, int, int, bool]:
    if not input_shapes:
        raise DatasetError(f"{path}: a folder of images needs the graph's Input shape "
                           "[channels, height, width] to resize the images to")
    if len(input_shapes) != 1:
        raise DatasetError(f"{path}: a folder of images feeds one Input, the graph has "
                           f"{len(input_shapes)} ({', '.join(input_shapes)})")
    input_id, shape = next(iter(input_shapes.items()))
    shape = list(shape)
    if len(shape) == 3 and shape[0] in (1, 3):
        return shape[0], shape[1], shape[2], True
    if len(shape) == 2:
        return 1, shape[0], shape[1], False
    raise DatasetError(f"{path}: images need an Input of shape [channels, height, width] with "
                       f"1 (grey) or 3 (RGB) channels, or [height, width]; the Input "
                       f"'{input_id}' has shape {shape}")


def _read_classes(root: Path, classes: list[str], channels: int, height: int, width: int,
                  allow_missing: bool = False) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image, UnidentifiedImageError

    if not classes:
        raise DatasetError(f"{root}: has no class sub-folders; put the images of each class "
                           "in a folder of its own (for example cats/ and dogs/)")
    check_classes(root, len(classes) - 1)
    mode = "L" if channels == 1 else "RGB"
    found = []
    for label, name in enumerate(classes):
        folder = root / name
        files = sorted(p for p in folder.iterdir() if p.is_file()
                       and p.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else []
        if not files and not allow_missing:
            raise DatasetError(f"{folder}: class folder '{name}' has no images "
                               f"({', '.join(IMAGE_SUFFIXES[:4])}, ...)")
        found += [(file, label) for file in files]
    check_elements(root, "its images, resized to the Input, make an array",
                   (len(found), channels, height, width))
    x = np.zeros((len(found), channels, height, width), np.float32)
    pixels = limits.limit("image_pixels")
    for i, (file, _) in enumerate(found):
        try:
            with Image.open(file) as im:
                if im.width * im.height > pixels:
                    raise DatasetError(over_budget(
                        file, f"is {im.width} x {im.height} pixels", pixels, "image_pixels",
                        "image", "pixels"))
                im = im.convert(mode).resize((width, height), Image.Resampling.BILINEAR)
                a = np.asarray(im, dtype=np.float32) / 255.0
        except Image.DecompressionBombError as e:
            # Pillow refuses far larger images (twice its own limit) before we see their
            # size: the same sentence as our budget's, with the count Pillow read.
            count = re.search(r"\((\d+) pixels\)", str(e))
            what = f"declares {int(count[1]):,} pixels" if count else "declares too many pixels"
            raise DatasetError(over_budget(file, what, pixels, "image_pixels", "image",
                                           "pixels")) from None
        except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as e:
            raise DatasetError(f"{file}: cannot be read as an image ({e})") from None
        x[i] = a[None] if channels == 1 else a.transpose(2, 0, 1)
    return x, np.array([label for _, label in found], dtype=np.int64)
