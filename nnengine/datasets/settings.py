"""Settings written after a built-in data set's name, `skipgram(window=3, negatives=5)`:
one string works alike in a graph file's training block, on the command line and in the app.
"""
from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path

from ..errors import DatasetError
from .base import Dataset

_CALL = re.compile(r"\s*([A-Za-z_]\w*)\s*\((.*)\)\s*", re.DOTALL)


def parse_settings(spec: str) -> tuple[str, dict[str, int | float | str]] | None:
    """('name', {setting: value}) for 'name(k=v, ...)', None when `spec` has no brackets.
    Whole numbers become int, other numbers float, anything else stays text (a path)."""
    m = _CALL.fullmatch(spec)
    if m is None:
        return None
    name, body = m.group(1), m.group(2).strip()
    settings: dict[str, int | float | str] = {}
    for part in filter(None, (p.strip() for p in body.split(","))):
        key, eq, value = (s.strip() for s in part.partition("="))
        if not eq or not key.isidentifier() or not value:
            raise DatasetError(f"data set '{spec}': setting '{part}' is not of the form "
                               "name=value")
        settings[key] = _value(value)
    return name, settings


def _value(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text.strip("\"'")


def call_with_settings(name: str, make: Callable[..., Dataset],
                       settings: dict[str, int | float | str],
                       base_dir: str | Path | None) -> Dataset:
    """`make(**settings)`, after checking each setting is one `make` takes; a data set that
    reads a text file gets `base_dir` for a relative path."""
    params = inspect.signature(make).parameters
    allowed = [p for p in params if p != "base_dir"]
    for key in settings:
        if key not in allowed:
            shown = ", ".join(allowed) or "none"
            raise DatasetError(f"data set '{name}' has no setting '{key}' (its settings: "
                               f"{shown})")
    extra = {"base_dir": base_dir} if "base_dir" in params else {}
    try:
        return make(**settings, **extra)
    except TypeError as e:  # a value of the wrong kind reached NumPy
        raise DatasetError(f"data set '{name}': a setting has the wrong kind of value "
                           f"({e})") from None
