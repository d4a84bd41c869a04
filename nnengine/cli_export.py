"""`nnengine export` and the registry of its formats, `EXPORT_FORMATS`.

Plug a format in by adding an `ExportFormat` whose `write(loaded, model, output_path)`
writes the file; `--format`'s choices and help are made from this table.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .bundle import save_bundle
from .cli_inputs import CLIError, Loaded, build_model, check_memory, load_checked, reading
from .model import Model
from .weights_io import save_weights

Exporter = Callable[[Loaded, Model, Path], None]


@dataclass(frozen=True)
class ExportFormat:
    """An `export --format` choice; `write` is None while the format is not built yet."""

    name: str
    description: str
    write: Exporter | None = None


def _export_npz(loaded: Loaded, model: Model, out: Path) -> None:
    save_weights(model, out)


def _export_bundle(loaded: Loaded, model: Model, out: Path) -> None:
    save_bundle(out, loaded.graph, model, loaded.metrics)


def _export_onnx(loaded: Loaded, model: Model, out: Path) -> None:
    from .export import export_onnx  # onnx itself is imported only when used

    export_onnx(model, out)


def _export_pytorch(loaded: Loaded, model: Model, out: Path) -> None:
    """The module source, and the weights beside it for its `load_npz_weights`."""
    from .export import export_pytorch

    export_pytorch(model, out)
    weights = out.with_suffix(".npz")
    save_weights(model, weights if weights != out else out.with_name(out.name + ".npz"))


def _export_pytorch_train(loaded: Loaded, model: Model, out: Path) -> None:
    """A folder: model.py, train.py (torchrun-ready), README.md, the starting weights."""
    from .export import export_pytorch_train

    export_pytorch_train(model, out, base_dir=Path(loaded.path).parent)


def _export_numpy(loaded: Loaded, model: Model, out: Path) -> None:
    """A folder: predict.py (NumPy only) and weights.npz."""
    from .export import export_numpy

    export_numpy(model, out)


EXPORT_FORMATS: dict[str, ExportFormat] = {
    "npz": ExportFormat("npz", "the weights, checked against the graph, as a clean .npz",
                        _export_npz),
    "bundle": ExportFormat("bundle", "graph, weights and metrics in one .zip file",
                           _export_bundle),
    "onnx": ExportFormat("onnx", "a standard ONNX model for onnxruntime", _export_onnx),
    "pytorch": ExportFormat("pytorch", "a PyTorch module source (.py), its weights beside it "
                            "(.npz)", _export_pytorch),
    "pytorch-train": ExportFormat("pytorch-train", "a folder: model.py and train.py that trains "
                                  "it with PyTorch, also under torchrun (DDP)",
                                  _export_pytorch_train),
    "numpy": ExportFormat("numpy", "a folder: predict.py that needs only NumPy, and "
                          "weights.npz", _export_numpy),
}
"""Plug a format in by giving its entry a `write(loaded, model, output_path)` function."""


def cmd_export(args: argparse.Namespace) -> int:
    fmt = EXPORT_FORMATS[args.format]
    if fmt.write is None:
        raise CLIError(f"format '{fmt.name}' is not available yet")
    loaded = load_checked(args.graph)
    check_memory(loaded, 1, "holding its weights")
    model = build_model(loaded, args.weights)
    with reading(args.output):
        fmt.write(loaded, model, Path(args.output))
    print(f"wrote {args.output} ({fmt.name})", file=sys.stderr)
    return 0


__all__ = ["EXPORT_FORMATS", "ExportFormat", "Exporter", "cmd_export"]
