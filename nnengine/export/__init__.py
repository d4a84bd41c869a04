"""Take a model elsewhere: ONNX export and import, PyTorch source export.

onnx and torch are optional extras: nothing here imports them until a function runs, and
each function says what to install when its package is missing.
"""
from __future__ import annotations

from .onnx_export import export_onnx
from .onnx_import import import_onnx
from .pytorch_export import export_pytorch

EXPORT_FORMATS = {"onnx": export_onnx, "pytorch": export_pytorch}
"""Format name -> `export(model, path)`, for the command line and the GUI."""

__all__ = ["EXPORT_FORMATS", "export_onnx", "export_pytorch", "import_onnx"]
