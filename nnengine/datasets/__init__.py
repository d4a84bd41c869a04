"""Data sets: built-in synthetic and shipped sets, and loaders for users' own files.

    load_dataset("digits")                      # built in, fixed test split
    load_dataset("data/train.csv")              # label in the last column
    load_dataset("pets/", {"image": (3, 32, 32)})  # one sub-folder per class
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import DatasetError
from .base import Dataset
from .files import load_csv, load_file, load_npz
from .images import load_idx, load_image_folder
from .shipped import SHIPPED
from .synthetic import BUILTIN as SYNTHETIC

BUILTIN = {**SYNTHETIC, **SHIPPED}
"""Every built-in data set: name -> function returning a Dataset."""


def builtin_names() -> list[str]:
    return list(BUILTIN)


def load_dataset(name_or_path: str | Path, input_shapes: dict[str, Sequence[int]] | None = None,
                 base_dir: str | Path | None = None) -> Dataset:
    """A built-in data set by name, or a data file or folder by path.

    `input_shapes` maps Input node ids to their shapes (image folders are resized to it,
    `.npz` files give `x_<input id>` per input); `base_dir` is where relative paths start
    (the graph file's folder for a path written in its `training` block)."""
    name = str(name_or_path)
    if name in BUILTIN and not isinstance(name_or_path, Path):
        return BUILTIN[name]()
    path = Path(name_or_path)
    if base_dir is not None and not path.is_absolute():
        path = Path(base_dir) / path
    if not path.exists():
        looks_like_path = any(c in name for c in "/\\.")
        if looks_like_path:
            raise DatasetError(f"{name}: no such file or folder")
        raise DatasetError(f"unknown data set '{name}' (built in: {', '.join(BUILTIN)}; or "
                           "give the path of a .csv, .npz, IDX file or image folder)")
    return load_file(path, input_shapes)


__all__ = ["BUILTIN", "Dataset", "builtin_names", "load_csv", "load_dataset", "load_file",
           "load_idx", "load_image_folder", "load_npz"]
