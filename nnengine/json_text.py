"""JSON that other tools can read (SPEC section 4): a NaN or infinite number, which
`json.dumps` would write as the non-standard `NaN` / `Infinity`, is written as `null`, and
a `NonFiniteWarning` says where (metrics of a diverged run, an evaluation gone NaN)."""
from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numpy as np


class NonFiniteWarning(UserWarning):
    """Numbers that were NaN or infinite were written to JSON as null."""


def finite_json(value: Any, source: str, indent: int | None = None) -> str:
    """`value` as JSON text with every non-finite number as null; warns once, naming
    `source` (the file or output) and the first place, e.g. "test.loss"."""
    found: list[str] = []
    text = json.dumps(_finite(value, "", found), indent=indent, allow_nan=False)
    if found:
        more = f" and {len(found) - 1} more" if len(found) > 1 else ""
        warnings.warn(NonFiniteWarning(f"{source}: '{found[0]}'{more} was NaN or infinite and "
                                       "is written as null"), stacklevel=2)
    return text


def _finite(value: Any, where: str, found: list[str]) -> Any:
    if isinstance(value, dict):
        return {str(k): _finite(v, f"{where}.{k}" if where else str(k), found)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v, f"{where}[{i}]", found) for i, v in enumerate(value)]
    if isinstance(value, np.ndarray):
        return _finite(value.tolist(), where, found)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        found.append(where or "the value")
        return None
    return value


__all__ = ["NonFiniteWarning", "finite_json"]
