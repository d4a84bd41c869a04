"""Follow samples through the graph and back, one node at a time (the stepper's engine).

`trace` returns the events a learner steps through: one `ForwardEvent` per node in the
plan's order (what flows in on each edge, what comes out), one `LossEvent`, then one
`BackwardEvent` per node in reverse order (the gradient arriving on each outgoing edge,
their sum when the node fans out, the gradient sent back along each incoming edge, and the
weight gradients). It runs in inference mode, like `Model.inspect`: Dropout and noise are
off and BatchNorm uses its running statistics, so the numbers are the ones the plots show
for the chosen sample. `sgd_step` applies plain SGD with exactly those gradients.

A cross entropy on a final softmax (or binary cross entropy on a final sigmoid) is fused,
as in training: the loss event carries dL/dz for the activation's *input* z, and the
output node's backward event says so (`fused`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..model import Inputs, Model


@dataclass(frozen=True)
class ForwardEvent:
    """Node `node_id` computed `output` from `inputs` (source node id, value) by port."""

    node_id: str
    layer_type: str
    inputs: list[tuple[str, np.ndarray]]
    output: np.ndarray
    weights: dict[str, np.ndarray]


@dataclass(frozen=True)
class LossEvent:
    """The loss of the output for the targets, and the gradient that starts backprop:
    dL/d(output), or dL/d(input of the output activation) when `fused`. `value` includes
    the `terms` layers add themselves (a VAE's KL, an activity penalty), whose gradients
    those layers' backward adds where they sit."""

    loss_name: str
    value: float
    output: np.ndarray
    targets: np.ndarray
    gradient: np.ndarray
    fused: bool
    terms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class BackwardEvent:
    """Backprop through node `node_id`.

    `arriving`: (consumer id, dL/d(this output) sent by that consumer), one per outgoing
    edge; `gradient` is their sum (the chain rule over a fan-out). `input_gradients`:
    (source id, dL/d(that input) or None for integer ids) by port. `weight_gradients`:
    dL/dw per trainable weight. `fused`: this is the output activation whose gradient came
    straight from the fused loss."""

    node_id: str
    layer_type: str
    arriving: list[tuple[str, np.ndarray]]
    gradient: np.ndarray | None
    input_gradients: list[tuple[str, np.ndarray | None]]
    weight_gradients: dict[str, np.ndarray] = field(default_factory=dict)
    fused: bool = False


Event = ForwardEvent | LossEvent | BackwardEvent


def trace(model: Model, x: Inputs, targets: np.ndarray, loss_name: str) -> list[Event]:
    """Forward events in plan order, the loss event, backward events in reverse order.
    x: (batch, ...) per Input; targets: prepared as the trainer prepares them."""
    xs = model.as_inputs(x)
    steps = model.steps
    values: list[np.ndarray] = []
    contexts = []
    events: list[Event] = []
    for step in steps:
        if step.input_index >= 0:
            inputs = [xs[step.input_index]]
            named = [("(data)", inputs[0].copy())]
        else:
            inputs = [values[i] for i in step.sources]
            named = [(steps[i].node_id, values[i].copy()) for i in step.sources]
        y, ctx = step.layer.forward(step.weights, inputs, False, None)
        values.append(y.copy())
        contexts.append(ctx)
        events.append(ForwardEvent(step.node_id, step.layer.spec.type, named, values[-1],
                                   {n: w.copy() for n, w in step.weights.items()}))
    loss, g, fused = model.loss_and_grad(values[-1], targets, loss_name)
    terms = {}
    for step, ctx in zip(steps, contexts):
        if step.layer.adds_loss:
            name = getattr(step.layer, "loss_term", step.node_id)
            terms[name] = terms.get(name, 0.0) + float(step.layer.added_loss(ctx))
    events.append(LossEvent(loss_name, float(loss) + sum(terms.values()), values[-1],
                            np.asarray(targets), np.array(g, copy=True), fused, terms))
    events.extend(_backward_events(model, contexts, np.asarray(g), fused))
    return events


def _backward_events(model: Model, contexts: list, g: np.ndarray, fused: bool
                     ) -> list[BackwardEvent]:
    steps = model.steps
    arriving: list[list[tuple[str, np.ndarray]]] = [[] for _ in steps]
    last = len(steps) - 1
    events = []
    if fused:
        out = steps[last]
        source = out.sources[0]
        arriving[source].append((out.node_id, g))
        events.append(BackwardEvent(out.node_id, out.layer.spec.type, [], None,
                                    [(steps[source].node_id, g)], fused=True))
        last -= 1
    else:
        arriving[last].append(("(loss)", g))
    for i in range(last, -1, -1):
        step = steps[i]
        parts = arriving[i]
        total = None
        for _, part in parts:
            total = part.copy() if total is None else total + part
        if step.input_index >= 0 or total is None:
            events.append(BackwardEvent(step.node_id, step.layer.spec.type, parts, total, []))
            continue
        dxs, dws = step.layer.backward(step.weights, contexts[i], total)
        sent = []
        for src, dx in zip(step.sources, dxs):
            sent.append((steps[src].node_id, None if dx is None else np.array(dx, copy=True)))
            if dx is not None:
                arriving[src].append((step.node_id, sent[-1][1]))
        events.append(BackwardEvent(step.node_id, step.layer.spec.type, parts, total, sent,
                                    {n: np.array(dw, copy=True) for n, dw in dws.items()}))
    return events


@dataclass(frozen=True)
class SGDStep:
    """One plain SGD step: w ← w − lr·dL/dw. `changes`: key -> (new − old) per weight."""

    learning_rate: float
    loss_before: float
    loss_after: float
    changes: dict[str, np.ndarray]


def sgd_step(model: Model, x: Inputs, targets: np.ndarray, loss_name: str,
             learning_rate: float) -> SGDStep:
    """Apply one SGD step to `model` in place with the gradients `trace` shows, and report
    every weight's change and the loss before and after for these samples."""
    events = trace(model, x, targets, loss_name)
    loss_event = next(e for e in events if isinstance(e, LossEvent))
    changes: dict[str, np.ndarray] = {}
    for event in events:
        if not isinstance(event, BackwardEvent):
            continue
        step = model.steps[model.step_index[event.node_id]]
        for name, grad in event.weight_gradients.items():
            w = step.weights[name]
            before = w.copy()
            w -= learning_rate * grad.astype(w.dtype, copy=False)
            changes[step.keys[name]] = w - before
    after, tape = model.forward(x)
    loss_after, _, _ = model.loss_and_grad(after, targets, loss_name)
    return SGDStep(learning_rate, loss_event.value, float(loss_after) + model.added_loss(tape),
                   changes)
