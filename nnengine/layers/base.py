"""The layer contract (version 2) every catalogue entry implements.

Writing a layer means three things, and nothing else:

1. **Declare its weights** in its `LayerSpec(weights=...)`, each once, as a
   `catalogue.Weight`: name, shape (numbers and names such as `("in", "units")`), initialiser,
   whether it is trainable and whether `l2` regularises it. Names in a shape come from the
   layer's config or from `dims(input_shapes)`, which the layer overrides when a shape
   depends on its input (Dense: `{"in": input_shapes[0][0]}`). Shapes, initial values,
   parameter counts, the catalogue's docs, weight-file checks and export's weight lists are
   all derived from these declarations.

   Validation: `check_config` (problems between several parameters; single values are
   checked by the ParamSpecs) and `output_shape` (raises ShapeError with a reason).

2. **forward(w, xs, training, rng, ws)** returns `(y, ctx)`: the output and a *named* context
   (a NamedTuple, or a single array) holding what backward needs. Nothing is cached on the
   layer between calls (thinc's rule), so one layer object serves any number of batches.
   Non-trainable weights (running statistics) may be updated in place in training.

3. **backward(w, ctx, dy, ws, need_dx)** returns `(dxs, dws)`: dL/dx for each input (None
   for an input of integer ids, and allowed to be None for every input when `need_dx` is
   false: the layer reads straight from an Input, nobody needs that gradient) and dL/dw for
   each trainable weight present.

Buffers: a layer takes the arrays it returns and its temporaries from its workspace `ws`
(`ws.empty(name, shape, dtype)`, `ws.zeros(...)`, `ws.like(name, ref)`: ref's shape and memory
layout). Element-wise work keeps every operand in one dtype and one memory layout: NumPy
allocates iteration buffers for float·bool products and for operands of different layouts.
In a training step the compiled model passes the step's own `Workspace`, which hands back
the same buffer for the same name and shape at every step, so a steady-state step allocates
nothing that grows with the batch.
Everywhere else (inference, tests) `ws` is FRESH, which allocates new arrays. So a layer
never writes into `xs`, `dy` or anything it did not take from `ws`, and a buffer's name is
used once per forward or backward. Outputs of a training step live until the next step.

A layer whose forward adds a term to the loss (activity regularisers) sets `adds_loss` and
returns the term from `added_loss(ctx)`; its backward adds that term's gradient to dx.

Shapes never include the batch dimension; arrays always do (batch first, images NCHW).
"""
from __future__ import annotations

import functools
from typing import Any, ClassVar

import numpy as np

from ..catalogue import LayerSpec, Weight

Shape = tuple[int, ...]
Weights = dict[str, np.ndarray]


class Workspace:
    """Buffers that one compiled step reuses from batch to batch, keyed by name and shape.

    A few shapes are kept per name (the full batch, the last partial batch, ...); older ones
    are dropped so a stream of odd batch sizes cannot grow it without bound."""

    KEEP = 3

    def __init__(self) -> None:
        self._buffers: dict[str, dict[tuple, np.ndarray]] = {}

    def empty(self, name: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        """A buffer of this shape and dtype; its contents are whatever was left in it."""
        shapes = self._buffers.get(name)
        if shapes is None:
            shapes = self._buffers[name] = {}
        # Keyed by the dtype as given (np.float32, a dtype, bool): converting it would cost
        # more than the lookup, and one name always asks in the same spelling.
        key = (tuple(shape), dtype)
        buf = shapes.get(key)
        if buf is None:
            if len(shapes) >= self.KEEP:
                del shapes[next(iter(shapes))]
            buf = shapes[key] = np.empty(shape, dtype)
        return buf

    def zeros(self, name: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        buf = self.empty(name, shape, dtype)
        buf.fill(0)
        return buf

    def full(self, name: str, shape: tuple[int, ...], dtype: Any, value: float) -> np.ndarray:
        buf = self.empty(name, shape, dtype)
        buf.fill(value)
        return buf

    def like(self, name: str, ref: np.ndarray, shape: tuple[int, ...] | None = None,
             dtype: Any = None) -> np.ndarray:
        """A buffer shaped like `ref` (or `shape`, same ndim) whose memory runs in ref's axis
        order: element-wise NumPy is many times slower on operands of mixed layouts, and
        images are kept channel-major (see conv.py). Kept by name, shape, dtype and ref's
        strides: a step asks the same every batch, and one lookup is all it costs."""
        shape = ref.shape if shape is None else tuple(shape)
        dtype = ref.dtype if dtype is None else dtype
        shapes = self._buffers.get(name)
        if shapes is None:
            shapes = self._buffers[name] = {}
        key = (shape, dtype, ref.strides)
        buf = shapes.get(key)
        if buf is None:
            if len(shapes) >= self.KEEP:
                del shapes[next(iter(shapes))]
            buf = shapes[key] = new_like(ref, shape, dtype)
        return buf


def new_like(ref: np.ndarray, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """A new array of `shape` and `dtype` whose memory runs in ref's axis order."""
    if ref.flags.c_contiguous:
        return np.empty(shape, dtype)
    order = axis_order(ref.strides)
    return np.empty(tuple(shape[i] for i in order), dtype).transpose(inverse_order(order))


@functools.lru_cache(maxsize=256)
def axis_order(strides: tuple[int, ...]) -> tuple[int, ...]:
    """The axes from the one whose steps in memory are largest to the smallest (an array's
    layout); cached, as a step asks for the same few layouts every batch."""
    return tuple(sorted(range(len(strides)), key=lambda i: -abs(strides[i])))


@functools.lru_cache(maxsize=256)
def inverse_order(order: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(np.argsort(order).tolist())


class _Fresh(Workspace):
    """A workspace that keeps nothing: every request is a new array."""

    def empty(self, name, shape, dtype):
        return np.empty(shape, dtype)

    def like(self, name, ref, shape=None, dtype=None):
        return new_like(ref, ref.shape if shape is None else tuple(shape),
                        ref.dtype if dtype is None else dtype)


FRESH: Workspace = _Fresh()
"""The workspace outside training steps: new arrays every time."""


class Layer:
    spec: ClassVar[LayerSpec]
    takes_ids: ClassVar[bool] = False  # True: the input is integer token ids (Embedding)
    adds_loss: ClassVar[bool] = False  # True: added_loss(ctx) is part of the training loss
    loss_term: ClassVar[str] = "added"  # that term's name in training logs and curves

    def __init__(self, config: dict[str, Any]):
        self.config = config

    # --- what a layer writes -------------------------------------------------------------
    def check_config(self) -> list[str]:
        """Problems that involve several parameters together (single values are checked
        by the catalogue's ParamSpecs before the layer is built)."""
        return []

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        """Shape of the output for these input shapes; raises ShapeError with a reason."""
        raise NotImplementedError

    def dims(self, input_shapes: list[Shape]) -> dict[str, Any]:
        """Names the weight shapes use beyond the config (called after output_shape)."""
        return {}

    def multiply_adds(self, input_shapes: list[Shape]) -> int:
        """Multiply-adds of one sample's forward pass. Only products with weight matrices
        (and Dot's) count, as in Keras' and MATLAB's summaries: element-wise work is free."""
        return 0

    def forward(self, w: Weights, xs: list[np.ndarray], training: bool,
                rng: np.random.Generator | None, ws: Workspace = FRESH
                ) -> tuple[np.ndarray, Any]:
        """Return (output, context)."""
        raise NotImplementedError

    def backward(self, w: Weights, ctx: Any, dy: np.ndarray, ws: Workspace = FRESH,
                 need_dx: bool = True) -> tuple[list[np.ndarray | None], Weights]:
        """Given dL/dy, return (dL/dx for each input, dL/dw for each trainable weight)."""
        raise NotImplementedError

    def added_loss(self, ctx: Any) -> float:
        """The term this layer adds to the training loss (only if `adds_loss`)."""
        return 0.0

    # --- derived from the weight declarations ----------------------------------------------
    def declared_weights(self) -> list[Weight]:
        """The declarations that apply to this config, in order."""
        return [d for d in self.spec.weights if d.applies(self.config)]

    def weight_shapes(self, input_shapes: list[Shape], optional: bool = False
                      ) -> dict[str, Shape]:
        """Name -> shape of every weight (trainable or not); `optional` ones too if asked."""
        dims = {**self.config, **self.dims(input_shapes)}
        return {d.name: d.resolve(dims) for d in self.declared_weights()
                if optional or not d.optional}

    def init_weights(self, input_shapes: list[Shape], rng: np.random.Generator,
                     dtype: Any) -> Weights:
        """Fresh weights drawn from `rng` in declaration order (same rng state, same
        weights), C-contiguous in `dtype`."""
        shapes = self.weight_shapes(input_shapes)
        dims = {**self.config, **self.dims(input_shapes)}  # fan-in aware initialisers
        return {d.name: np.ascontiguousarray(d.init(rng, shapes[d.name], dims), dtype=dtype)
                for d in self.declared_weights() if not d.optional}
