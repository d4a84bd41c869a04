"""The budgets every reader keeps, so that a hostile or broken file costs no more than its
size: checked before the work, from sizes a file declares (a zip member's inflated size, an
array's header, an IDX header, an image's dimensions), never after the memory is spent.

| budget | default | what it bounds |
| --- | --- | --- |
| `file_bytes` | 2 GiB | bytes read from any one file or device (`/dev/zero` included) |
| `graph_bytes` | 64 MiB | bytes of a graph file, or of a JSON member of a bundle |
| `inflated_bytes` | 2 GiB | bytes inflated from a zip member (and all members together), or from a `.gz` file |
| `array_elements` | 2**29 | elements of one array (from its header, before loading) |
| `classes` | 100,000 | classes of a data set (the largest label + 1) |
| `image_pixels` | 2**26 | pixels of one image (from its header, before decoding) |

With a graph whose output learns classes, a data set's labels must also fit that output's
units (`load_dataset(..., classes=label_classes(...))`): the classes a file asks for are
bounded by the graph, not by a value written in the file. Names are never made up for
unnamed classes, so no allocation follows a label's value.

Each budget can be changed for a process by an environment variable,
`NNENGINE_MAX_<NAME>` (e.g. `NNENGINE_MAX_CLASSES=1000`), or within a block of Python code
by `limits.override(classes=1000)` (tests use small values, never gigabytes).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

DEFAULTS: dict[str, int] = {
    "file_bytes": 2 * 2**30,
    "graph_bytes": 64 * 2**20,
    "inflated_bytes": 2 * 2**30,
    "array_elements": 2**29,
    "classes": 100_000,
    "image_pixels": 2**26,
}

_overrides: dict[str, int] = {}


def limit(name: str) -> int:
    """The budget `name` now: an `override` in force, else $NNENGINE_MAX_<NAME>, else the
    default."""
    if name in _overrides:
        return _overrides[name]
    text = os.environ.get(f"NNENGINE_MAX_{name.upper()}")
    if text:
        try:
            return max(0, int(text))
        except ValueError:
            pass  # a malformed setting falls back to the default, like an unset one
    return DEFAULTS[name]


@contextmanager
def override(**budgets: int) -> Iterator[None]:
    """Set budgets for the duration of a `with` block: `with override(classes=10): ...`."""
    unknown = set(budgets) - set(DEFAULTS)
    if unknown:
        raise KeyError(f"unknown budget {min(unknown)!r} (known: {', '.join(DEFAULTS)})")
    saved = dict(_overrides)
    _overrides.update(budgets)
    try:
        yield
    finally:
        _overrides.clear()
        _overrides.update(saved)


__all__ = ["DEFAULTS", "limit", "override"]
