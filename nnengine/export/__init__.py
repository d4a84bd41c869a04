"""Take a model elsewhere: ONNX export and import, PyTorch source and training folders, a
NumPy-only predictor.

onnx and torch are optional extras: nothing here imports them until a function runs, and
each function says what to install when its package is missing.
"""
from __future__ import annotations

from .numpy_export import export_numpy
from .onnx_export import export_onnx
from .onnx_import import import_onnx
from .pytorch_export import export_pytorch
from .pytorch_train import export_pytorch_train

EXPORT_FORMATS = {"onnx": export_onnx, "pytorch": export_pytorch,
                  "pytorch-train": export_pytorch_train, "numpy": export_numpy}
"""Format name -> `export(model, path)`, for the command line and the GUI."""

__all__ = ["EXPORT_FORMATS", "export_numpy", "export_onnx", "export_pytorch",
           "export_pytorch_train", "import_onnx"]
