"""Data sets: built-in synthetic and shipped sets, and loaders for users' own files."""
from __future__ import annotations

from ..errors import DatasetError
from .base import Dataset
from .synthetic import BUILTIN


def load_dataset(name: str) -> Dataset:
    """A built-in data set by name."""
    if name in BUILTIN:
        return BUILTIN[name]()
    raise DatasetError(f"unknown data set '{name}' (built in: {', '.join(BUILTIN)})")


__all__ = ["Dataset", "load_dataset"]
