"""What the stepper's side panel says about one event, with the event's own numbers.

Plain text (HTML-free, no Qt) so it can be tested directly: a forward event writes the
node's computation (for a small Dense layer every z_j = Σ x_i·W_ij + b_j written out), the
loss event its formula and value, a backward event the chain rule for that node: what
arrives, how it is combined over a fan-out, what goes back to each input and to each
weight. Arrays above `SMALL` values are summarised (shape, mean, range) rather than listed.
"""
from __future__ import annotations

import numpy as np

from nnengine.tools import BackwardEvent, ForwardEvent, LossEvent

SMALL = 16          # at most this many values are written out
DENSE_UNITS = 4     # a Dense layer this small gets every sum written out...
DENSE_INPUTS = 6    # ...when it also has at most this many inputs

ACTIVATION_RULES = {
    "relu": ("y = max(0, x)", "f'(x) = 1 where x > 0, else 0"),
    "leaky_relu": ("y = x where x > 0, else α·x", "f'(x) = 1 where x > 0, else α"),
    "elu": ("y = x where x > 0, else α·(eˣ − 1)", "f'(x) = 1 where x > 0, else y + α"),
    "sigmoid": ("y = 1 / (1 + e⁻ˣ)", "f'(x) = y·(1 − y)"),
    "tanh": ("y = tanh(x)", "f'(x) = 1 − y²"),
    "softplus": ("y = ln(1 + eˣ)", "f'(x) = σ(x)"),
    "softmax": ("y_j = e^{x_j} / Σ_k e^{x_k}", "dL/dx = y ⊙ (dL/dy − Σ_k y_k·dL/dy_k)"),
    "identity": ("y = x", "f'(x) = 1"),
    "linear": ("y = slope·x + intercept", "f'(x) = slope"),
    "step": ("y = 1 where x ≥ threshold, else 0", "f'(x) = 0 almost everywhere"),
    "stair": ("y = floor(n·x)/n on [0, 1], clipped", "f'(x) = 0 almost everywhere"),
}


def fmt(v: float) -> str:
    return f"{float(v):.4g}"


def values(a: np.ndarray | None) -> str:
    """The values of one sample: listed when few, summarised when many."""
    if a is None:
        return "none (integer ids carry no gradient)"
    a = np.asarray(a)
    sample = a[0] if a.ndim > 1 else a
    if sample.size <= SMALL:
        return "[" + ", ".join(fmt(v) for v in np.ravel(sample)) + "]"
    flat = np.ravel(sample).astype(np.float64)
    return (f"{list(sample.shape)}: mean {fmt(flat.mean())}, range {fmt(flat.min())} … "
            f"{fmt(flat.max())}, ‖·‖ {fmt(np.linalg.norm(flat))}")


def describe(event: ForwardEvent | LossEvent | BackwardEvent, config: dict | None = None
             ) -> str:
    """The panel's text for `event`; `config` is the node's resolved parameters."""
    if isinstance(event, ForwardEvent):
        return forward_text(event, config or {})
    if isinstance(event, LossEvent):
        return loss_text(event)
    return backward_text(event, config or {})


def forward_text(e: ForwardEvent, config: dict) -> str:
    head = f"Forward: {e.node_id} ({e.layer_type})"
    if e.layer_type == "Input":
        return f"{head}\nThe sample enters the network.\nx = {values(e.output)}"
    lines = [head]
    for source, value in e.inputs:
        lines.append(f"in from {source}: {values(value)}")
    if e.layer_type == "Dense":
        lines += dense_forward(e)
    elif e.layer_type == "Activation":
        rule = ACTIVATION_RULES.get(config.get("function", ""), ("y = f(x)", ""))[0]
        lines.append(f"{config.get('function', '')}: {rule}")
        x = e.inputs[0][1]
        if x[0].size <= SMALL:
            lines += [f"  {fmt(a)} → {fmt(b)}" for a, b in zip(np.ravel(x[0]),
                                                                np.ravel(e.output[0]))]
    elif len(e.inputs) > 1:
        lines.append(f"{e.layer_type} combines {len(e.inputs)} inputs "
                     f"({', '.join(s for s, _ in e.inputs)})")
    lines.append(f"out: {values(e.output)}")
    return "\n".join(lines)


def dense_forward(e: ForwardEvent) -> list[str]:
    x, W = e.inputs[0][1][0], e.weights["W"]
    b = e.weights.get("b")
    if W.shape[1] > DENSE_UNITS or W.shape[0] > DENSE_INPUTS:
        shape = f"(1×{W.shape[0]})·({W.shape[0]}×{W.shape[1]})"
        return [f"z = x·W{' + b' if b is not None else ''}: {shape} → {W.shape[1]} values"]
    lines = [f"z = x·W{' + b' if b is not None else ''}, unit by unit:"]
    for j in range(W.shape[1]):
        terms = " + ".join(f"{fmt(x[i])}·{fmt(W[i, j])}" for i in range(W.shape[0]))
        bias = f" + {fmt(b[j])}" if b is not None else ""
        lines.append(f"  z{j + 1} = {terms}{bias} = {fmt(e.output[0][j])}")
    return lines


def loss_text(e: LossEvent) -> str:
    data_loss = e.value - sum(e.terms.values())
    head = f"Loss: {e.loss_name} = {fmt(data_loss)}" + "".join(
        f" + {name} {fmt(v)}" for name, v in e.terms.items())
    if e.terms:
        head += f" = {fmt(e.value)} (the layers that add a term add its gradient themselves)"
    lines = [head,
             f"output y = {values(e.output)}", f"target t = {values(e.targets)}"]
    if e.fused:
        lines.append("The output activation and this loss are taken together (as in training): "
                     "dL/dz = y − t (one-hot t for classes), for the activation's input z.")
        lines.append(f"dL/dz = {values(e.gradient)}")
    else:
        lines.append(f"dL/dy = {values(e.gradient)}")
    return "\n".join(lines)


def backward_text(e: BackwardEvent, config: dict) -> str:
    lines = [f"Backward: {e.node_id} ({e.layer_type})"]
    if e.fused:
        lines.append("Nothing to compute here: the fused loss already gave dL/dz for "
                     f"{e.input_gradients[0][0]}, which it passes on unchanged.")
        return "\n".join(lines)
    if not e.arriving:
        lines.append("No gradient reaches this node: nothing after it depends on it.")
        return "\n".join(lines)
    if len(e.arriving) > 1:
        names = ", ".join(c for c, _ in e.arriving)
        lines.append(f"This output feeds {len(e.arriving)} nodes ({names}); the chain rule "
                     "adds the gradients arriving from each:")
        for consumer, g in e.arriving:
            lines.append(f"  from {consumer}: {values(g)}")
        lines.append(f"  sum dL/dy = {values(e.gradient)}")
    else:
        lines.append(f"dL/dy arriving from {e.arriving[0][0]}: {values(e.gradient)}")
    if e.layer_type == "Input":
        lines.append("The input is data, not a weight: backprop stops here.")
        return "\n".join(lines)
    if e.layer_type == "Dense":
        lines += ["dL/dW = xᵀ·dL/dy   (each W_ij gets x_i·dL/dy_j)",
                  "dL/db = dL/dy summed over the batch", "dL/dx = dL/dy·Wᵀ"]
    elif e.layer_type == "Activation":
        rule = ACTIVATION_RULES.get(config.get("function", ""), ("", "f'(x)"))[1]
        lines.append(f"dL/dx = dL/dy ⊙ f'(x), with {rule}")
    else:
        lines.append("dL/dx = dL/dy · ∂y/∂x (the layer's own derivative)")
    for name, g in e.weight_gradients.items():
        lines.append(f"dL/d{name} = {values(g)}")
    for source, g in e.input_gradients:
        lines.append(f"back to {source}: {values(g)}")
    return "\n".join(lines)
