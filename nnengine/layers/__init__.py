"""Layer modules; importing this package registers every layer in the catalogue.

Adding a layer type = one new module here and its name in this list.
"""
from __future__ import annotations

from importlib import import_module

LAYER_MODULES = (
    "core",
    "activations",
    "conv",
    "pooling",
    "normalization",
    "recurrent",
    "embedding",
    "merge",
    "rbf",
    "sequence_pooling",
    "activity_regularization",
    "sampling",
)

for _name in LAYER_MODULES:
    import_module(f"{__name__}.{_name}")
