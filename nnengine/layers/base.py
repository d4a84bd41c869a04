"""The layer contract every catalogue entry implements.

A layer object holds only its validated config. `forward` returns the output and a context
holding what `backward` needs; nothing is cached on the layer between calls (thinc's rule),
so one layer object can serve several batches and threads.

Shapes never include the batch dimension; arrays always do (batch first, images NCHW).
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..catalogue import LayerSpec

Shape = tuple[int, ...]
Weights = dict[str, np.ndarray]


class Layer:
    spec: ClassVar[LayerSpec]
    takes_ids: ClassVar[bool] = False  # True: the input is integer token ids (Embedding)

    def __init__(self, config: dict[str, Any]):
        self.config = config

    def check_config(self) -> list[str]:
        """Problems that involve several parameters together (single values are checked
        by the catalogue's ParamSpecs before the layer is built)."""
        return []

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        """Shape of the output for these input shapes; raises ShapeError with a reason."""
        raise NotImplementedError

    def weight_shapes(self, input_shapes: list[Shape]) -> dict[str, Shape]:
        """Name -> shape of every weight (trainable or not), in the catalogue's order."""
        return {}

    def multiply_adds(self, input_shapes: list[Shape]) -> int:
        """Multiply-adds of one sample's forward pass. Only products with weight matrices
        (and Dot's) count, as in Keras' and MATLAB's summaries: element-wise work is free."""
        return 0

    def init_weights(
        self, input_shapes: list[Shape], rng: np.random.Generator, dtype: np.dtype
    ) -> Weights:
        """Fresh weights drawn from `rng` (the same rng state gives the same weights)."""
        return {}

    def forward(
        self, w: Weights, xs: list[np.ndarray], training: bool, rng: np.random.Generator | None
    ) -> tuple[np.ndarray, Any]:
        """Return (output, context). Non-trainable weights (running statistics) may be
        updated in place when `training` is true."""
        raise NotImplementedError

    def backward(
        self, w: Weights, ctx: Any, dy: np.ndarray
    ) -> tuple[list[np.ndarray | None], Weights]:
        """Given dL/dy, return (dL/dx for each input, dL/dw for each trainable weight).

        An input that carries integer ids (Embedding) gets None as its gradient."""
        raise NotImplementedError
