"""What the `nnengine` commands read, checked: the graph file (or bundle), its weights, its
data set and predict's input arrays; and how a problem reaches the user: a `CLIError`
whose message already names the file, raised by the `reading` guard.

Wherever a GRAPH is expected, a model bundle (zip with graph.json and weights.npz, written
by `export --format bundle`) works too, and then `--weights` may be left out.
"""
from __future__ import annotations

import json
import os
import sys
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .arrays_io import read_arrays
from .bundle import is_bundle, load_bundle
from .datasets import BUILTIN, Dataset, load_dataset
from .errors import DatasetError, GraphError, NNEngineError
from .fileio import read_file_bytes, size_text
from .graph import Graph
from .model import Model, compile_model
from .serialization import load_graph
from .training_config import TrainingConfig, label_classes
from .validation import Analysis, analyze
from .weights_io import check_standardization, load_weights


class CLIError(Exception):
    """A message for the user (already naming the file) and the exit status."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


@contextmanager
def reading(path: object) -> Iterator[None]:
    """Turn every error a user's file can cause into one CLIError naming that file."""
    try:
        yield
    except CLIError:
        raise
    except NNEngineError as e:
        raise CLIError(_with_file(path, str(e))) from None
    except MemoryError:
        raise CLIError(_with_file(path, "not enough memory to load it")) from None
    except OSError as e:
        where = e.filename if e.filename is not None else path
        raise CLIError(_with_file(where, e.strerror or str(e))) from None
    except (ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error, RecursionError) as e:
        raise CLIError(_with_file(path, f"cannot be read ({e})")) from None


def _with_file(path: object, message: str) -> str:
    if path is None:
        return message
    names = {str(path), os.fspath(Path(str(path)))}
    if any(message.startswith((f"{n}:", f"{n}/")) for n in names):
        return message
    return f"{path}: {message}"


def say(message: str) -> None:
    """One line on stderr (a message's line breaks become spaces)."""
    sys.stderr.write(" ".join(message.split("\n")) + "\n")
    sys.stderr.flush()


# --- the graph and its weights -------------------------------------------------------------

@dataclass
class Loaded:
    path: str
    graph: Graph
    analysis: Analysis
    weights: dict[str, np.ndarray] | None  # from a bundle
    config: TrainingConfig
    metrics: Any = None  # from a bundle, or the metrics.json beside --weights


def load_checked(path: str) -> Loaded:
    """A graph file (or bundle), validated; every problem is a CLIError naming the file."""
    with reading(path):
        metrics = None
        if is_bundle(path):
            graph, weights, metrics = load_bundle(path)
        else:
            graph, weights = load_graph(path), None
        analysis = analyze(graph)
        if analysis.problems:
            raise GraphError(analysis.problems, path)
        config = TrainingConfig.from_dict(graph.training, where="training")
    return Loaded(path, graph, analysis, weights, config, metrics)


def available_memory() -> int | None:
    """Bytes of memory this process could still get (MemAvailable on Linux)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(loaded: Loaded, copies: int, purpose: str) -> None:
    """Refuse a model whose weights (times `copies`: gradients, optimizer state) cannot fit."""
    params = loaded.analysis.total_params
    need = params * 4 * copies
    have = available_memory()
    if have is not None and need > have:
        raise CLIError(f"{loaded.path}: the model has {params:,} parameters; {purpose} needs "
                       f"about {size_text(need)} of memory, but this machine has "
                       f"{size_text(have)} available")


def build_model(loaded: Loaded, weights_path: str | None, seed: int = 0,
                required: bool = True) -> Model:
    """Compile the graph and load weights from --weights, a bundle, or (training) the seed."""
    weights = loaded.weights
    if weights_path is not None:
        with reading(weights_path):
            if is_bundle(weights_path):
                bundle = load_bundle(weights_path)
                weights, loaded.metrics = bundle.weights, bundle.metrics
            else:
                weights = load_weights(weights_path)
                beside = Path(weights_path).with_name("metrics.json")
                if beside.is_file():
                    try:
                        loaded.metrics = json.loads(beside.read_text(encoding="utf-8"))
                    except (OSError, ValueError):
                        pass  # the metrics are a courtesy for bundles, not needed
    if weights is None and required:
        raise CLIError(f"{loaded.path}: give the trained weights with --weights W.npz", 2)
    dtype = np.float64 if weights and any(v.dtype == np.float64 for v in weights.values()) \
        else np.float32
    with reading(loaded.path):
        model = compile_model(loaded.graph, seed=seed, dtype=dtype)
    if weights is not None:
        with reading(weights_path or loaded.path):
            if required:  # trained weights; a start for training gets its statistics anew
                check_standardization(model, weights, "the weights")
            model.set_weights(weights, source="the weights")
    return model


# --- data ----------------------------------------------------------------------------------

def get_dataset(loaded: Loaded, option: str | None, status_if_missing: int = 2
                ) -> tuple[str, Dataset]:
    """The --dataset option, else the file's training.dataset (a relative path there starts
    at the graph file's folder)."""
    name, base = option, None
    if name is None:
        name = loaded.config.dataset
        base = Path(loaded.path).parent
    if name is None:
        raise CLIError(f"{loaded.path}: no data set to use; give --dataset, or set \"dataset\" "
                       "in the file's training block", status_if_missing)
    a = loaded.analysis
    shapes = {i: a.shapes[i] for i in a.input_ids}
    classes = label_classes(loaded.config, a.output_id, a.shapes.get(a.output_id or ""))
    with reading(name):
        if base is not None and name not in BUILTIN and not Path(name).is_absolute() \
                and (base / name).exists():
            name, base = str(base / name), None
        return name, load_dataset(name, shapes, base, classes)


def read_inputs(path: str, model: Model) -> np.ndarray | dict[str, np.ndarray]:
    """A .npy array (one Input) or a .npz keyed by Input id."""
    with reading(path):
        found = read_arrays(read_file_bytes(path, "input file", error=DatasetError), path,
                            DatasetError)
    if isinstance(found, dict):
        arrays = found
        if len(model.input_ids) == 1 and model.input_ids[0] not in arrays:
            if len(arrays) != 1:
                raise CLIError(f"{path}: has arrays {', '.join(sorted(arrays))}; name the "
                               f"array for the input '{model.input_ids[0]}' after it")
            return next(iter(arrays.values()))
        missing = [i for i in model.input_ids if i not in arrays]
        if missing:
            raise CLIError(f"{path}: has no array '{missing[0]}' for the model's input "
                           f"'{missing[0]}' (found {', '.join(sorted(arrays)) or 'none'})")
        return {i: arrays[i] for i in model.input_ids}
    x = found
    if len(model.input_ids) != 1:
        raise CLIError(f"{path}: the model has {len(model.input_ids)} inputs "
                       f"({', '.join(model.input_ids)}); give a .npz with one array per input")
    return x


__all__ = ["CLIError", "Loaded", "available_memory", "build_model", "check_memory",
           "get_dataset", "load_checked", "read_inputs", "reading", "say"]
