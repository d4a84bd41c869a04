"""Data sets: built-in synthetic and shipped sets, and loaders for users' own files.

    load_dataset("digits")                      # built in, fixed test split
    load_dataset("data/train.csv")              # label in the last column
    load_dataset("pets/", {"image": (3, 32, 32)})  # one sub-folder per class
    load_dataset("skipgram(window=3, negatives=5, text=notes.txt)")  # with settings
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import DatasetError
from .base import Dataset, check_classes_fit
from .files import load_csv, load_file, load_npz
from .images import load_idx, load_image_folder
from .settings import call_with_settings, parse_settings
from .shipped import SHIPPED
from .synthetic import BUILTIN as SYNTHETIC
from .words import BUILTIN as WORDS

BUILTIN = {**SYNTHETIC, **WORDS, **SHIPPED}
"""Every built-in data set: name -> function returning a Dataset."""


def builtin_names() -> list[str]:
    return list(BUILTIN)


def is_builtin(name: str) -> bool:
    """A built-in data set's name, with or without settings (`cbow(window=3)`)."""
    if name in BUILTIN:
        return True
    try:
        parsed = parse_settings(name)
    except DatasetError:
        return False
    return parsed is not None and parsed[0] in BUILTIN


def load_dataset(name_or_path: str | Path, input_shapes: dict[str, Sequence[int]] | None = None,
                 base_dir: str | Path | None = None,
                 classes: tuple[str, int] | None = None) -> Dataset:
    """A built-in data set by name, or a data file or folder by path.

    `input_shapes` maps Input node ids to their shapes (image folders are resized to it,
    `.npz` files give `x_<input id>` per input); `base_dir` is where relative paths start
    (the graph file's folder for a path written in its `training` block). A built-in name
    may carry settings, `cbow(window=3)`; a `text=` file there also starts at `base_dir`.
    `classes`: (output id, units) of the graph that learns the labels as classes
    (`label_classes`): a file whose largest label does not fit those units is refused."""
    dataset = _load(name_or_path, input_shapes, base_dir)
    if classes is not None:
        check_classes_fit(dataset, classes[1], classes[0])
    return dataset


def _load(name_or_path: str | Path, input_shapes: dict[str, Sequence[int]] | None,
          base_dir: str | Path | None) -> Dataset:
    name = str(name_or_path)
    if name in BUILTIN and not isinstance(name_or_path, Path):
        return BUILTIN[name]()
    with_settings = None if isinstance(name_or_path, Path) else parse_settings(name)
    if with_settings is not None and with_settings[0] in BUILTIN:
        builtin, settings = with_settings
        return call_with_settings(builtin, BUILTIN[builtin], settings, base_dir)
    path = Path(name_or_path)
    if base_dir is not None and not path.is_absolute():
        path = Path(base_dir) / path
    if not path.exists():
        looks_like_path = any(c in name for c in "/\\.")
        if looks_like_path:
            raise DatasetError(f"{name}: no such file or folder")
        raise DatasetError(f"unknown data set '{name}' (built in: {', '.join(BUILTIN)}; or "
                           "give the path of a .csv, .npz, IDX file or image folder)")
    if path.suffix.lower() == ".txt":
        raise DatasetError(f"{name}: a text file becomes word pairs or contexts: give "
                           f"skipgram(text={name}) or cbow(text={name})")
    return load_file(path, input_shapes)


__all__ = ["BUILTIN", "Dataset", "builtin_names", "is_builtin", "load_csv", "load_dataset", "load_file",
           "load_idx", "load_image_folder", "load_npz"]
