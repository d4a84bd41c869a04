"""What a network does at initialisation, before any training: per layer, how spread its
activations are, how many units are dead or saturated, and how large the gradients that
reach its weights are. A deep sigmoid stack shows its vanishing gradient here: the norms
shrink layer by layer towards the input.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..diagnostics import dead_fraction, grad_norms, layer_kinds, saturated_fraction
from ..model import Inputs, Model

RELU_LIKE = ("relu",)
SATURATING = ("sigmoid", "tanh")


@dataclass(frozen=True)
class LayerInit:
    """One node at initialisation. `dead_share` only for ReLU activations, `saturated_share`
    only for sigmoid and tanh; `weight_grad_norm` only for nodes with trainable weights;
    `output_grad_norm` is the norm of dL/d(this node's output) over the batch."""

    node_id: str
    layer_type: str
    function: str | None
    activation_std: float
    dead_share: float | None
    saturated_share: float | None
    weight_grad_norm: float | None
    output_grad_norm: float | None


def init_report(model: Model, x: Inputs, targets: np.ndarray, loss_name: str
                ) -> list[LayerInit]:
    """One `LayerInit` per node in plan order (Input nodes left out), from one forward and
    backward pass over the batch `x` in inference mode. The model is not changed."""
    snapshot = model.inspect(x, targets, loss_name)
    norms = grad_norms(snapshot)
    report = []
    for node_id, (layer_type, fn) in layer_kinds(model).items():
        if layer_type == "Input":
            continue
        entry = snapshot[node_id]
        act = np.asarray(entry["activation"])
        floating = np.issubdtype(act.dtype, np.floating)
        grad = entry.get("gradient")
        report.append(LayerInit(
            node_id, layer_type, fn,
            float(act.std()) if floating and act.size else 0.0,
            dead_fraction(act) if fn in RELU_LIKE else None,
            saturated_fraction(act, fn) if fn in SATURATING else None,
            norms.get(node_id),
            float(np.linalg.norm(grad)) if grad is not None else None))
    return report
