"""A compiled, executable model: the topological plan, weights keyed `node/weight`, and
forward and backward passes over the plan (micrograd's rule: the order is the plan).

Steps hold references to the weight arrays; optimizers update them in place, so a forward
pass does no per-call bookkeeping beyond gathering each step's inputs.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .catalogue import LOSSES
from .errors import ConfigError, DatasetError, GraphError, WeightsError
from .graph import Graph
from .layers.base import Layer, Shape
from .layers.loss_terms import AddsLoss
from .losses import fused_sigmoid_binary_cross_entropy, fused_softmax_cross_entropy
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


@dataclass
class Tape:
    """What backward needs from one forward pass: every step's output and context."""

    values: list[np.ndarray]
    contexts: list[Any]


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
            names = [ws.name for ws in layer.spec.weights]
            keys = {n: f"{node_id}/{n}" for n in names}
            step = Step(node_id, layer, [index[s] for _, s in graph.inputs_of(node_id)],
                        {n: weights[k] for n, k in keys.items() if k in weights},
                        {n: k for n, k in keys.items()})
            if layer.spec.is_input:
                step.input_index = self.input_ids.index(node_id)
            index[node_id] = len(self.steps)
            self.steps.append(step)
        self.step_index = index
        self.trainable_keys = [
            f"{s.node_id}/{ws.name}" for s in self.steps for ws in s.layer.spec.weights
            if ws.trainable and f"{s.node_id}/{ws.name}" in weights]
        self.regularized_keys = [
            f"{s.node_id}/{ws.name}" for s in self.steps for ws in s.layer.spec.weights
            if ws.regularized and f"{s.node_id}/{ws.name}" in weights]
        self.loss_steps = [i for i, s in enumerate(self.steps) if isinstance(s.layer, AddsLoss)]
        self.last_loss_terms: dict[str, float] = {}  # the last training step's added terms

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
                rng: np.random.Generator | None = None, prepared: bool = False
                ) -> tuple[np.ndarray, Tape]:
        """Run the plan. `prepared`: `x` is already the list `as_inputs` returns (the
        trainer's hot path skips re-checking every batch)."""
        xs = x if prepared else self.as_inputs(x)
        values: list[np.ndarray] = []
        contexts: list[Any] = []
        for step in self.steps:
            if step.input_index >= 0:
                y, ctx = step.layer.forward(step.weights, [xs[step.input_index]], training, rng)
            else:
                y, ctx = step.layer.forward(step.weights, [values[i] for i in step.sources],
                                            training, rng)
            values.append(y)
            contexts.append(ctx)
        return values[-1], Tape(values, contexts)

    def backward(self, tape: Tape, dy: np.ndarray, skip_output: bool = False,
                 keep_node_grads: bool = False) -> tuple[dict[str, np.ndarray], dict]:
        """Gradients of every trainable weight, given dL/d(output).

        With `skip_output`, `dy` is the gradient w.r.t. the output step's *input* (fused
        softmax + cross entropy). Returns (weight grads, node-output grads if kept)."""
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
            dxs, dws = step.layer.backward(step.weights, tape.contexts[i], g)
            for name, dw in dws.items():
                weight_grads[step.keys[name]] = dw
            for src, dx in zip(step.sources, dxs):
                if dx is None:
                    continue
                prev = grads_of[src]
                grads_of[src] = dx if prev is None else prev + dx
        return weight_grads, node_grads

    def fused_loss(self, loss_name: str) -> bool:
        """Whether the output activation and the loss combine into one stable gradient."""
        out = self.steps[-1].layer
        fn = out.config.get("function") if out.spec.type == "Activation" else None
        return (loss_name, fn) in (("cross_entropy", "softmax"),
                                   ("binary_cross_entropy", "sigmoid"))

    def loss_and_grad(self, y: np.ndarray, t: np.ndarray, loss_name: str
                      ) -> tuple[float, np.ndarray, bool]:
        """(loss, dL/dy or dL/d(pre-activation), whether the gradient skips the output)."""
        if loss_name not in LOSSES:
            raise ConfigError(f"unknown loss '{loss_name}' (known: {', '.join(LOSSES.names())})")
        if self.fused_loss(loss_name):
            fused = (fused_softmax_cross_entropy if loss_name == "cross_entropy"
                     else fused_sigmoid_binary_cross_entropy)
            loss, g = fused(y, t)
            return loss, g, True
        loss, g = LOSSES.get(loss_name).fn(y, t)
        return loss, g, False

    def train_step_grads(self, x: Inputs, t: np.ndarray, loss_name: str, l2: float = 0.0,
                         rng: np.random.Generator | None = None, prepared: bool = False
                         ) -> tuple[float, np.ndarray, dict[str, np.ndarray]]:
        """Forward in training mode, loss, backward: (loss incl. l2, output, weight grads)."""
        y, tape = self.forward(x, training=True, rng=rng, prepared=prepared)
        loss, g, skip = self.loss_and_grad(y, t, loss_name)
        grads, _ = self.backward(tape, g, skip_output=skip)
        if self.loss_steps:
            self.last_loss_terms = self.loss_terms(tape)
            loss += sum(self.last_loss_terms.values())
        if l2:
            for key in self.regularized_keys:
                w = self.weights[key]
                loss += l2 * float(np.vdot(w, w))
                grads[key] = grads[key] + (2.0 * l2) * w
        return loss, y, grads

    def loss_terms(self, tape: Tape) -> dict[str, float]:
        """The terms loss-adding layers (Sampling, ActivityRegularization) add for the batch
        of `tape`, summed by term name ("kl", "activity"). Their gradients are already in
        those layers' backward."""
        terms: dict[str, float] = {}
        for i in self.loss_steps:
            layer = self.steps[i].layer
            terms[layer.term] = terms.get(layer.term, 0.0) + layer.added_loss(tape.contexts[i])
        return terms

    def mean_loss_terms(self, x: Inputs, batch_size: int = 512) -> dict[str, float]:
        """`loss_terms` in inference mode, averaged over the samples of `x` (validation and
        test loss include them, as Keras's do)."""
        if not self.loss_steps:
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

    def predict(self, x: Inputs, batch_size: int = 512) -> np.ndarray:
        """Inference-mode outputs for many samples, in batches to bound memory."""
        xs = self.as_inputs(x)
        n = xs[0].shape[0]
        if n == 0:
            return np.zeros((0, *self.output_shape), dtype=self.dtype)
        outs = [self.forward([a[i:i + batch_size] for a in xs], prepared=True)[0]
                for i in range(0, n, batch_size)]
        return np.concatenate(outs)

    def inspect(self, x: Inputs, t: np.ndarray | None = None, loss_name: str | None = None,
                nodes: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        """Per node (every node, or those in `nodes`): its output ('activation'), and when a
        target is given the loss gradient w.r.t. that output ('gradient') and its weights
        ('weight_grads'); also 'weights'. For a few samples, in inference mode (what the GUI
        shows for the chosen sample)."""
        if nodes is not None:
            unknown = [n for n in nodes if n not in self.step_index]
            if unknown:
                raise ConfigError(f"no node '{unknown[0]}' in the model")
        wanted = set(self.step_index if nodes is None else nodes)
        y, tape = self.forward(x)
        node_grads: dict[str, np.ndarray] = {}
        weight_grads: dict[str, np.ndarray] = {}
        if t is not None and loss_name is not None:
            _, g, skip = self.loss_and_grad(y, t, loss_name)
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
        extra_ok = {f"{i}/{n}" for i in self.input_ids for n in ("mean", "std")}
        for key in self.weights:
            if key not in new:
                problems.append(f"missing '{key}'")
        for key, value in new.items():
            if key in self.weights:
                if tuple(np.shape(value)) != self.weights[key].shape:
                    problems.append(f"'{key}' has shape {list(np.shape(value))}, the graph "
                                    f"needs {list(self.weights[key].shape)}")
            elif key in extra_ok:
                node = key.split("/")[0]
                if tuple(np.shape(value)) != self.shapes[node]:
                    problems.append(f"'{key}' has shape {list(np.shape(value))}, the input "
                                    f"needs {list(self.shapes[node])}")
            else:
                problems.append(f"unexpected '{key}' (no such node or weight in the graph)")
        if problems:
            shown = "; ".join(problems[:6])
            more = f"; and {len(problems) - 6} more" if len(problems) > 6 else ""
            raise WeightsError(f"{source} do not match the graph: {shown}{more}")
        for key, value in new.items():
            if key in self.weights:
                self.weights[key][...] = value
            else:
                self.set_input_scaling(key.split("/")[0], **{key.split("/")[1]: value})

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
