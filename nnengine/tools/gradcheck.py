"""Backprop checked against central differences, in float64, weight by weight.

For each trainable weight a seeded sample of its elements is nudged by ±eps and the loss's
change compared with the analytic gradient. The error of a weight is the relative distance
of the two gradient vectors over the checked elements, ‖a − n‖ / (‖a‖ + ‖n‖), which stays
meaningful where single elements are near zero (dead units, max-pool losers). Verdicts:
pass below 1e-6, warn below 1e-4, fail above; float64 central differences with eps = 1e-6
leave an error near 1e-9 on a correct layer, so a pass is not luck and a fail is a bug
(or a kink of ReLU or max pooling hit by the nudge, which the warn band absorbs).
A gradient that is zero by construction (a bias just before BatchNorm) passes when both
vectors are below the finite differences' rounding noise, about 1e-16·|loss|/eps.

Random layers (Dropout, noise) draw from a generator reseeded before every evaluation, so
the function being differentiated is the same each time. Step-like activations (step,
stair) are reported separately: their gradient is zero almost everywhere, so backprop
passes no signal through them and every weight before them gets a zero gradient.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..model import Inputs, Model
from .batches import clone_model

PASS, WARN, FAIL = "pass", "warn", "fail"
PASS_BELOW, WARN_BELOW = 1e-6, 1e-4
STEP_LIKE = ("step", "stair")
ZERO_LEVEL = 1e-8  # per element and unit of loss: well above the rounding noise, ~1e-10


@dataclass(frozen=True)
class WeightCheck:
    """One weight: relative error over `checked` of its `size` elements, and the verdict."""

    key: str
    relative_error: float
    checked: int
    size: int
    verdict: str


@dataclass(frozen=True)
class GradientCheck:
    weights: list[WeightCheck]
    flat_nodes: dict[str, str]  # node id -> why backprop carries no useful gradient there
    complete: bool  # False when cancelled before every weight was checked

    @property
    def verdict(self) -> str:
        verdicts = {w.verdict for w in self.weights}
        return FAIL if FAIL in verdicts else WARN if WARN in verdicts else PASS


def verdict_for(error: float) -> str:
    if not np.isfinite(error):
        return FAIL
    return PASS if error < PASS_BELOW else WARN if error < WARN_BELOW else FAIL


def relative_error(analytic: np.ndarray, numeric: np.ndarray, zero_level: float) -> float:
    """‖a − n‖ / (‖a‖ + ‖n‖); 0 when both are zero up to `zero_level` (rounding noise)."""
    norm_a, norm_n = float(np.linalg.norm(analytic)), float(np.linalg.norm(numeric))
    if max(norm_a, norm_n) < zero_level:
        return 0.0
    return float(np.linalg.norm(analytic - numeric)) / (norm_a + norm_n)


def flat_gradient_nodes(model: Model) -> dict[str, str]:
    """Step-like activation nodes, each with a sentence saying why it blocks backprop."""
    out = {}
    for step in model.steps:
        fn = step.layer.config.get("function") if step.layer.spec.type == "Activation" else None
        if fn in STEP_LIKE:
            out[step.node_id] = (
                f"{fn} is flat on both sides of each jump, so its derivative is 0 almost "
                "everywhere: backprop sends no signal through it and the weights before it "
                "get zero gradients")
    return out


def gradient_check(model: Model, x: Inputs, targets: np.ndarray, loss_name: str,
                   nodes: Sequence[str] | None = None, per_weight: int = 24,
                   eps: float = 1e-6, seed: int = 0,
                   progress: Callable[[int, int], None] | None = None,
                   cancelled: Callable[[], bool] | None = None) -> GradientCheck:
    """Check the trainable weights of `nodes` (default: all) on the samples `x`.

    x: a small batch (a few samples keep it quick); targets: prepared for `loss_name`.
    `progress(done, total)` is called after each element; `cancelled()` ends early."""
    m = clone_model(model, "float64")
    xs = m.as_inputs(x)
    t = np.asarray(targets)
    if np.issubdtype(t.dtype, np.floating):
        t = t.astype(np.float64)
    keys = [k for k in m.trainable_keys if nodes is None or k.split("/")[0] in nodes]
    picks = _pick_elements(m, keys, per_weight, seed)
    total = sum(len(p) for p in picks.values())

    def loss_and_grads() -> tuple[float, dict[str, np.ndarray]]:
        loss, _, grads = m.train_step_grads(xs, t, loss_name, rng=np.random.default_rng(seed),
                                            prepared=True)
        return loss, grads

    def loss_only() -> float:
        y, tape = m.forward(xs, training=True, rng=np.random.default_rng(seed), prepared=True)
        return float(m.loss_and_grad(y, t, loss_name)[0]) + m.added_loss(tape)

    loss, analytic = loss_and_grads()
    zero_level = ZERO_LEVEL * max(1.0, abs(loss))
    checks, done = [], 0
    for key in keys:
        w = m.weights[key].reshape(-1)
        a = analytic[key].reshape(-1)[picks[key]]
        n = np.empty_like(a)
        for j, index in enumerate(picks[key]):
            if cancelled is not None and cancelled():
                return GradientCheck(checks, flat_gradient_nodes(m), complete=False)
            old = w[index]
            w[index] = old + eps
            up = loss_only()
            w[index] = old - eps
            down = loss_only()
            w[index] = old
            n[j] = (up - down) / (2 * eps)
            done += 1
            if progress is not None:
                progress(done, total)
        error = relative_error(a, n, zero_level * np.sqrt(len(a)))
        checks.append(WeightCheck(key, error, len(a), w.size, verdict_for(error)))
    return GradientCheck(checks, flat_gradient_nodes(m), complete=True)


def _pick_elements(m: Model, keys: list[str], per_weight: int, seed: int
                   ) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, 7])
    picks = {}
    for key in keys:
        size = m.weights[key].size
        picks[key] = (np.arange(size) if size <= per_weight
                      else np.sort(rng.choice(size, per_weight, replace=False)))
    return picks
