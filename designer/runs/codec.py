"""What the epoch scrubber shows, as .npz bytes for a project file, and back: no pickle.

A run's epoch records (logs and snapshot) become one JSON skeleton, in which every NumPy
array is replaced by a reference to an array stored beside it and every dataclass by
{"__type__": its name, fields...}; only the dataclasses in `TYPES` are rebuilt on reading,
so a damaged or hostile file can name nothing else.

Size budget (`nnengine.project.SNAPSHOT_BUDGET`, 16 MiB per run, uncompressed): when a run's
records do not fit, every other epoch is dropped (the first and the last stay) until they do.
"""
from __future__ import annotations

import dataclasses
import io
import json
from typing import Any

import numpy as np

from nnengine.diagnostics import Alarm
from nnengine.project import SNAPSHOT_BUDGET

from ..training.mailbox import EpochRecord
from ..training.summary import Boundary, Hist, LayerSummary, Snapshot

TYPES = {cls.__name__: cls for cls in (Snapshot, LayerSummary, Hist, Boundary, Alarm,
                                         EpochRecord)}
SKELETON = "__skeleton__"


class CodecError(ValueError):
    """The snapshots of a project file cannot be read back."""


def encode(records: list[EpochRecord], final: Snapshot | None,
           budget: int = SNAPSHOT_BUDGET) -> bytes:
    """The records (thinned evenly until they fit `budget` bytes) and the final snapshot."""
    records = list(records)
    while True:
        data = _encode_tree({"records": records, "final": final})
        if len(data) <= budget or len(records) <= 2:
            return data
        records = records[:-1:2] + [records[-1]]


def decode(data: bytes) -> tuple[list[EpochRecord], Snapshot | None]:
    """(records, final snapshot) from `encode`'s bytes; CodecError when they are damaged."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        skeleton = json.loads(bytes(arrays.pop(SKELETON)).decode("utf-8"))
        tree = _decode(skeleton, arrays)
    except (ValueError, KeyError, TypeError, OSError, EOFError, RecursionError) as e:
        raise CodecError(f"the saved snapshots cannot be read ({e})") from None
    records = tree.get("records") if isinstance(tree, dict) else None
    final = tree.get("final") if isinstance(tree, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, EpochRecord) for r in records) \
            or not (final is None or isinstance(final, Snapshot)):
        raise CodecError("the saved snapshots are not a run's epoch records")
    return records, final


def _encode_tree(tree: Any) -> bytes:
    arrays: dict[str, np.ndarray] = {}

    def walk(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            key = f"a{len(arrays)}"
            arrays[key] = np.ascontiguousarray(value)
            return {"__array__": key}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            out = {"__type__": type(value).__name__}
            out.update({f.name: walk(getattr(value, f.name)) for f in dataclasses.fields(value)})
            return out
        if isinstance(value, dict):
            return {"__dict__": [[walk(k), walk(v)] for k, v in value.items()]}
        if isinstance(value, tuple):
            return {"__tuple__": [walk(v) for v in value]}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, float) and not np.isfinite(value):
            return {"__float__": repr(value)}
        return value

    skeleton = json.dumps(walk(tree)).encode("utf-8")
    arrays[SKELETON] = np.frombuffer(skeleton, dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _decode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    if not isinstance(value, dict):
        return value
    if "__array__" in value:
        return arrays[value["__array__"]]
    if "__tuple__" in value:
        return tuple(_decode(v, arrays) for v in value["__tuple__"])
    if "__dict__" in value:
        return {_decode(k, arrays): _decode(v, arrays) for k, v in value["__dict__"]}
    if "__float__" in value:
        return float(value["__float__"])
    if "__type__" in value:
        cls = TYPES.get(value["__type__"])
        if cls is None:
            raise ValueError(f"unknown record type {value['__type__']!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: _decode(v, arrays) for k, v in value.items() if k in names})
    raise ValueError("a plain object where a record was expected")
