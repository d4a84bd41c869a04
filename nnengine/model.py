"""A compiled, executable model: the topological plan, weights keyed `node/weight`, and
forward and backward passes over the plan (micrograd's rule: the order is the plan).

Steps hold references to the weight arrays; optimizers update them in place, so a forward
pass does no per-call bookkeeping beyond gathering each step's inputs. Each step owns a
Workspace that training steps reuse (see layers/base.py), and knows whether anything needs
the gradient of its inputs (not when they all come straight from Input nodes).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import gemm
from .catalogue import LOSSES
from .errors import ConfigError, DatasetError, GraphError, WeightsError
from .graph import Graph
from .layers.base import FRESH, Layer, Shape, Workspace
from .losses import fused_sigmoid_binary_cross_entropy, fused_softmax_cross_entropy
from .packed import PackedWeights
from .validation import Analysis, analyze

Inputs = np.ndarray | Sequence[np.ndarray] | dict[str, np.ndarray]


@dataclass
class Step:
    node_id: str
    layer: Layer
    sources: list[int]  # indices into the step list of this step's inputs, by port
    weights: dict[str, np.ndarray]  # name -> array, shared with Model.weights
    keys: dict[str, str]  # weight name -> "node/name"
    input_index: int = -1  # for Input steps: which model input feeds it
    need_dx: bool = True  # False when every input comes straight from an Input node
    workspace: Workspace = field(default_factory=Workspace)


@dataclass
class Tape:
    """What backward needs from one forward pass: every step's output and context."""

    values: list[np.ndarray]
    contexts: list[Any]
    reused: bool = False  # the arrays belong to the steps' workspaces


class Model:
    def __init__(self, graph: Graph, analysis: Analysis, weights: dict[str, np.ndarray],
                 dtype: np.dtype):
        self.graph = graph
        self.analysis = analysis
        self.dtype = np.dtype(dtype)
        self.weights = weights
        self.input_ids = list(analysis.input_ids)
        self.output_id = analysis.output_id
        self.shapes: dict[str, Shape] = dict(analysis.shapes)
        self.steps: list[Step] = []
        index: dict[str, int] = {}
        for node_id in analysis.order:
            layer = analysis.layers[node_id]
            keys = {n: f"{node_id}/{n}" for n in layer.spec.weight_names}
            sources = [index[s] for _, s in graph.inputs_of(node_id)]
            step = Step(node_id, layer, sources,
                        {n: weights[k] for n, k in keys.items() if k in weights}, keys)
            if layer.spec.is_input:
                step.input_index = self.input_ids.index(node_id)
            step.need_dx = not all(self.steps[i].input_index >= 0 for i in sources)
            index[node_id] = len(self.steps)
            self.steps.append(step)
        self.step_index = index
        self.trainable_keys = self._keys_where(lambda d: d.trainable)
        self.packed = PackedWeights(weights, self.trainable_keys, self.dtype) \
            if self.trainable_keys else None
        for step in self.steps:   # the steps see the packed views
            step.weights.update({n: weights[k] for n, k in step.keys.items() if k in weights})
        self.regularized_keys = self._keys_where(lambda d: d.regularized)
        self._loss_steps = [i for i, s in enumerate(self.steps) if s.layer.adds_loss]
        self.last_loss_terms: dict[str, float] = {}  # the last training step's added terms
        self._grad_sums = Workspace()  # for nodes whose output feeds several others
        self._loss_ws = Workspace()

    def _keys_where(self, wanted) -> list[str]:
        """Keys of the weights present whose declaration passes `wanted`, in plan order."""
        return [s.keys[d.name] for s in self.steps for d in s.layer.declared_weights()
                if wanted(d) and s.keys[d.name] in self.weights]

    # --- running -------------------------------------------------------------------------
    @property
    def output_shape(self) -> Shape:
        return self.shapes[self.output_id]

    def input_dtype(self, input_id: str) -> np.dtype:
        layer = self.steps[self.step_index[input_id]].layer
        return np.dtype(np.int64) if layer.config.get("dtype") == "int64" else self.dtype

    def as_inputs(self, x: Inputs) -> list[np.ndarray]:
        """Normalise an array, a list, or a dict keyed by Input id into one array per Input,
        cast to the model's dtype and checked against the Input shapes."""
        if isinstance(x, dict):
            missing = [i for i in self.input_ids if i not in x]
            if missing:
                raise DatasetError(f"no data for input '{missing[0]}'")
            arrays = [x[i] for i in self.input_ids]
        elif isinstance(x, np.ndarray):
            arrays = [x]
        else:
            arrays = list(x)
        if len(arrays) != len(self.input_ids):
            raise DatasetError(f"the model has {len(self.input_ids)} inputs "
                               f"({', '.join(self.input_ids)}), received {len(arrays)} arrays")
        out = []
        for input_id, a in zip(self.input_ids, arrays):
            a = np.asarray(a)
            want = self.shapes[input_id]
            if a.shape[1:] != want:
                if a.ndim >= 1 and int(np.prod(a.shape[1:])) == int(np.prod(want)):
                    a = a.reshape((a.shape[0], *want))
                else:
                    raise DatasetError(
                        f"input '{input_id}' expects samples of shape {list(want)}, received "
                        f"samples of shape {list(a.shape[1:])}")
            out.append(a.astype(self.input_dtype(input_id), copy=False))
        return out

    def forward(self, x: Inputs, training: bool = False,
                rng: np.random.Generator | None = None, prepared: bool = False,
                reuse: bool = False) -> tuple[np.ndarray, Tape]:
        """Run the plan. `prepared`: `x` is already the list `as_inputs` returns (the
        trainer's hot path skips re-checking every batch). `reuse`: take arrays from the
        steps' workspaces, so the outputs and the tape live only until the next reusing
        call (training steps); otherwise every array is new."""
        xs = x if prepared else self.as_inputs(x)
        values: list[np.ndarray] = []
        contexts: list[Any] = []
        for step in self.steps:
            ws = step.workspace if reuse else FRESH
            ins = [xs[step.input_index]] if step.input_index >= 0 else \
                [values[i] for i in step.sources]
            y, ctx = step.layer.forward(step.weights, ins, training, rng, ws)
            values.append(y)
            contexts.append(ctx)
        return values[-1], Tape(values, contexts, reuse)

    @property
    def adds_loss(self) -> bool:
        """Whether some layer adds a term of its own to the loss (Sampling's KL, ...)."""
        return bool(self._loss_steps)

    def loss_terms(self, tape: Tape) -> dict[str, float]:
        """The terms layers add themselves for the batch of `tape`, summed by term name
        ("kl", "activity"). Their gradients are already in those layers' backward."""
        terms: dict[str, float] = {}
        for i in self._loss_steps:
            layer = self.steps[i].layer
            terms[layer.loss_term] = terms.get(layer.loss_term, 0.0) + float(
                layer.added_loss(tape.contexts[i]))
        return terms

    def added_loss(self, tape: Tape) -> float:
        """The loss terms layers add themselves, summed."""
        return sum(self.loss_terms(tape).values())

    def mean_loss_terms(self, x: Inputs, batch_size: int = 512) -> dict[str, float]:
        """`loss_terms` in inference mode, averaged over the samples of `x` (validation and
        test loss include them, as Keras's do)."""
        if not self._loss_steps:
            return {}
        xs = self.as_inputs(x)
        n = xs[0].shape[0]
        totals: dict[str, float] = {}
        for i in range(0, n, batch_size):
            part = [a[i:i + batch_size] for a in xs]
            _, tape = self.forward(part, prepared=True)
            for term, value in self.loss_terms(tape).items():
                totals[term] = totals.get(term, 0.0) + value * len(part[0])
        return {term: total / max(n, 1) for term, total in totals.items()}

    def backward(self, tape: Tape, dy: np.ndarray, skip_output: bool = False,
                 keep_node_grads: bool = False) -> tuple[dict[str, np.ndarray], dict]:
        """Gradients of every trainable weight, given dL/d(output).

        With `skip_output`, `dy` is the gradient w.r.t. the output step's *input* (fused
        softmax + cross entropy). Returns (weight grads, node-output grads if kept). The
        arrays come from the workspaces when the tape does."""
        n = len(self.steps)
        grads_of: list[np.ndarray | None] = [None] * n
        last = n - 1
        if skip_output:
            grads_of[self.steps[last].sources[0]] = dy
            last -= 1
        else:
            grads_of[last] = dy
        weight_grads: dict[str, np.ndarray] = {}
        node_grads: dict[str, np.ndarray] = {}
        for i in range(last, -1, -1):
            step, g = self.steps[i], grads_of[i]
            if g is None or step.input_index >= 0:
                if keep_node_grads and g is not None:
                    node_grads[step.node_id] = g
                continue
            if keep_node_grads:
                node_grads[step.node_id] = g
            ws = step.workspace if tape.reused else FRESH
            dxs, dws = step.layer.backward(step.weights, tape.contexts[i], g, ws,
                                           step.need_dx)
            for name, dw in dws.items():
                weight_grads[step.keys[name]] = dw
            for src, dx in zip(step.sources, dxs):
                if dx is None or self.steps[src].input_index >= 0:
                    continue
                prev = grads_of[src]
                if prev is None:
                    grads_of[src] = dx
                else:  # a fan-out: sum into a buffer of its own, never into a layer's
                    sums = self._grad_sums if tape.reused else FRESH
                    grads_of[src] = np.add(prev, dx, out=sums.like(str(src), dx))
        return weight_grads, node_grads

    def fused_loss(self, loss_name: str) -> bool:
        """Whether the output activation and the loss combine into one stable gradient."""
        out = self.steps[-1].layer
        fn = out.config.get("function") if out.spec.type == "Activation" else None
        return (loss_name, fn) in (("cross_entropy", "softmax"),
                                   ("binary_cross_entropy", "sigmoid"))

    def loss_and_grad(self, y: np.ndarray, t: np.ndarray, loss_name: str,
                      reuse: bool = False) -> tuple[float, np.ndarray, bool]:
        """(loss, dL/dy or dL/d(pre-activation), whether the gradient skips the output).
        `reuse`: the gradient goes into a buffer of the model's (training steps)."""
        if loss_name not in LOSSES:
            raise ConfigError(f"unknown loss '{loss_name}' (known: {', '.join(LOSSES.names())})")
        ws = self._loss_ws if reuse else FRESH
        if self.fused_loss(loss_name):
            fused = (fused_softmax_cross_entropy if loss_name == "cross_entropy"
                     else fused_sigmoid_binary_cross_entropy)
            loss, g = fused(y, t, ws.like("fused_grad", y) if reuse else None, ws)
            return loss, g, True
        loss, g = LOSSES.get(loss_name).fn(y, t, ws)
        return loss, g, False

    def train_step_grads(self, x: Inputs, t: np.ndarray, loss_name: str, l2: float = 0.0,
                         rng: np.random.Generator | None = None, prepared: bool = False,
                         reuse: bool = False
                         ) -> tuple[float, np.ndarray, dict[str, np.ndarray]]:
        """Forward in training mode, loss, backward: (loss incl. l2, output, weight grads).

        `reuse` (the trainer's steps): the output and gradients are the workspaces' arrays,
        valid until the next reusing step; otherwise they are new arrays."""
        y, tape = self.forward(x, training=True, rng=rng, prepared=prepared, reuse=reuse)
        loss, g, skip = self.loss_and_grad(y, t, loss_name, reuse)
        if self._loss_steps:
            self.last_loss_terms = self.loss_terms(tape)
            loss += sum(self.last_loss_terms.values())
        grads, _ = self.backward(tape, g, skip_output=skip)
        if l2:
            for key in self.regularized_keys:
                w = self.weights[key]
                loss += l2 * float(np.vdot(w, w))
                scaled = np.multiply(w, 2.0 * l2, out=self._loss_ws.like(key, w))
                grads[key] += scaled
        return loss, y, grads

    def predict(self, x: Inputs, batch_size: int = 512) -> np.ndarray:
        """Inference-mode outputs for many samples, in batches to bound memory."""
        return self.predict_prepared(self.as_inputs(x), batch_size)

    def predict_prepared(self, xs: Sequence, batch_size: int = 512, reuse: bool = False
                         ) -> np.ndarray:
        """predict() on what `as_inputs` returns, or on anything sliced like it (the
        trainer's rows of a data set). `reuse`: run each batch in the training workspaces
        (the trainer's validation, in its training batch size)."""
        n = len(xs[0])
        out = np.zeros((0, *self.output_shape), dtype=self.dtype)
        for i in range(0, n, batch_size):
            y, _ = self.forward([a[i:i + batch_size] for a in xs], prepared=True, reuse=reuse)
            if i == 0:
                out = np.empty((n, *y.shape[1:]), dtype=y.dtype)
            out[i:i + batch_size] = y
        return out

    def inspect(self, x: Inputs, t: np.ndarray | None = None, loss_name: str | None = None,
                nodes: Sequence[str] | None = None, reuse: bool = False
                ) -> dict[str, dict[str, Any]]:
        """Per node (every node, or those in `nodes`): its output ('activation'), and when a
        target is given the loss gradient w.r.t. that output ('gradient') and its weights
        ('weight_grads'); also 'weights'. For a few samples, in inference mode (what the GUI
        shows for the chosen sample).

        `reuse`: the arrays come from the steps' workspaces, as a training step's do, and
        are valid only until the next training step or reusing call: for a caller that
        copies what it keeps (the window's snapshots, taken between training steps, would
        otherwise allocate and fault in a whole batch's activations every time).

        On this thread alone: a few samples' products and loops are too small to pay for
        handing parts to the engine's workers (measured on an MNIST-size CNN's 16-row probe:
        the same time, 15% less CPU, and the other cores left to other work)."""
        with gemm.workers(1):
            return self._inspect(x, t, loss_name, nodes, reuse)

    def _inspect(self, x: Inputs, t: np.ndarray | None, loss_name: str | None,
                 nodes: Sequence[str] | None, reuse: bool) -> dict[str, dict[str, Any]]:
        if nodes is not None:
            unknown = [n for n in nodes if n not in self.step_index]
            if unknown:
                raise ConfigError(f"no node '{unknown[0]}' in the model")
        wanted = set(self.step_index if nodes is None else nodes)
        y, tape = self.forward(x, reuse=reuse)
        node_grads: dict[str, np.ndarray] = {}
        weight_grads: dict[str, np.ndarray] = {}
        if t is not None and loss_name is not None:
            _, g, skip = self.loss_and_grad(y, t, loss_name, reuse)
            weight_grads, node_grads = self.backward(tape, g, skip_output=skip,
                                                     keep_node_grads=True)
        out = {}
        for step, value in zip(self.steps, tape.values):
            if step.node_id not in wanted:
                continue
            out[step.node_id] = {
                "activation": value,
                "gradient": node_grads.get(step.node_id),
                "weights": dict(step.weights),
                "weight_grads": {n: weight_grads[k] for n, k in step.keys.items()
                                 if k in weight_grads},
            }
        return out

    def trace(self, x: Inputs, t: np.ndarray, loss_name: str) -> list:
        """Forward, loss and backward events node by node (see `nnengine.tools.stepping`)."""
        from .tools.stepping import trace

        return trace(self, x, t, loss_name)

    def first_nonfinite_node(self, x: Inputs) -> str | None:
        """The first node, in plan order, whose weights or output are NaN or infinite."""
        xs = self.as_inputs(x)
        values: list[np.ndarray] = []
        for step in self.steps:
            if any(not np.all(np.isfinite(w)) for w in step.weights.values()):
                return step.node_id
            ins = [xs[step.input_index]] if step.input_index >= 0 else \
                [values[i] for i in step.sources]
            with np.errstate(all="ignore"):
                y, _ = step.layer.forward(step.weights, ins, False, None)
            if np.issubdtype(y.dtype, np.floating) and not np.all(np.isfinite(y)):
                return step.node_id
            values.append(y)
        return None

    # --- weights -------------------------------------------------------------------------
    def get_weights(self) -> dict[str, np.ndarray]:
        """A copy of every weight, keyed `node/weight` (the weight file's keys)."""
        return {k: v.copy() for k, v in self.weights.items()}

    def set_weights(self, new: dict[str, np.ndarray], source: str = "weights") -> None:
        """Replace weights in place after checking every key and shape; all mismatches are
        named in one WeightsError. Input nodes may carry 'mean'/'std' (standardization)."""
        problems = []
        declared = self.declared_shapes()
        for key, (_, optional) in declared.items():
            if key not in new and (key in self.weights or not optional):
                problems.append(f"missing '{key}'")
        for key, value in new.items():
            problems += _value_problems(key, value, key.endswith("/std")
                                        and key.split("/")[0] in self.input_ids)
            if key not in declared:
                problems.append(f"unexpected '{key}' (no such node or weight in the graph)")
            elif tuple(np.shape(value)) != declared[key][0]:
                problems.append(f"'{key}' has shape {list(np.shape(value))}, the graph "
                                f"needs {list(declared[key][0])}")
        if problems:
            shown = "; ".join(problems[:6])
            more = f"; and {len(problems) - 6} more" if len(problems) > 6 else ""
            raise WeightsError(f"{source} do not match the graph: {shown}{more}")
        for key, value in new.items():
            if key in self.weights:
                self.weights[key][...] = value
            else:
                self.set_input_scaling(key.split("/")[0], **{key.split("/")[1]: value})

    def declared_shapes(self) -> dict[str, tuple[Shape, bool]]:
        """key -> (shape, optional) of every weight the graph declares, present or not."""
        out: dict[str, tuple[Shape, bool]] = {}
        for step in self.steps:
            ins = [self.shapes[self.steps[i].node_id] for i in step.sources]
            shapes = step.layer.weight_shapes(ins, optional=True)
            for d in step.layer.declared_weights():
                out[step.keys[d.name]] = (shapes[d.name], d.optional)
        return out

    def set_input_scaling(self, input_id: str, mean: np.ndarray | None = None,
                          std: np.ndarray | None = None) -> None:
        """Store standardization statistics on an Input node (saved with the weights)."""
        step = self.steps[self.step_index[input_id]]
        for name, value in (("mean", mean), ("std", std)):
            if value is None:
                continue
            key = f"{input_id}/{name}"
            if key in self.weights:
                self.weights[key][...] = value
            else:
                self.weights[key] = np.asarray(value, dtype=self.dtype).reshape(
                    self.shapes[input_id]).copy()
                step.weights[name] = self.weights[key]

    @property
    def param_count(self) -> int:
        return int(sum(v.size for k, v in self.weights.items()))


def _value_problems(key: str, value: Any, is_std: bool) -> list[str]:
    """What is wrong with one weight's values: not real numbers, NaN or infinite, or (a
    standardisation `std`) not positive."""
    a = np.asarray(value)
    if a.dtype.kind not in "biuf":
        return [f"'{key}' must hold real numbers, found dtype {a.dtype}"]
    if not np.all(np.isfinite(a)):
        return [f"'{key}' holds NaN or infinite values"]
    if is_std and np.any(a <= 0):
        return [f"'{key}' holds values of 0 or less (a standard deviation divides the input)"]
    return []


def compile_model(graph: Graph, seed: int = 0, dtype: str | np.dtype = "float32") -> Model:
    """Validate `graph` and build an executable model with weights drawn from `seed`.

    Raises GraphError listing every problem if the graph is not valid."""
    analysis = analyze(graph)
    if analysis.problems:
        raise GraphError(analysis.problems)
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ConfigError(f"dtype must be float32 or float64, received {dtype}")
    rng = np.random.default_rng(seed)
    weights: dict[str, np.ndarray] = {}
    for node_id in analysis.order:
        layer = analysis.layers[node_id]
        in_shapes = [analysis.shapes[s] for _, s in graph.inputs_of(node_id)]
        for name, w in layer.init_weights(in_shapes, rng, dtype).items():
            weights[f"{node_id}/{name}"] = np.ascontiguousarray(w, dtype=dtype)
    return Model(graph, analysis, weights, dtype)
