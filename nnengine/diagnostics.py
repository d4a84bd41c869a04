"""Training health in plain words: alarms a learner can act on.

From a snapshot of a probe batch (`probe_snapshot`, i.e. `Model.inspect` on ~64 samples) and
the metric history, `diagnose` finds dead ReLU units, saturated sigmoid/tanh units, vanishing
or exploding gradient norms, a loss that is flat or rising, and overfitting. Each `Alarm`
names the layer (when there is one) and suggests what to try. Pure NumPy: the GUI's worker
thread runs it and only the alarms cross threads.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITIES = (ERROR, WARNING, INFO)

PROBE_SIZE = 64
# Share of dead units in a ReLU layer. A healthy ReLU net carries a good share of dead units
# (the digits CNN: 36-48% of relu3 at 98% accuracy), so only a majority is worth a warning
# and only a layer that passes almost nothing on is an error.
DEAD_WARNING, DEAD_ERROR = 0.5, 0.9
SATURATED_WARNING, SATURATED_ERROR = 0.3, 0.7
SATURATION_MARGIN = 0.02                     # sigmoid within 0.02 of 0 or 1; tanh of ±1
VANISHING_RELATIVE = 1e-7                    # |grad| / |weights|: the layer does not learn
FADING_RELATIVE = 1e-3                       # |grad| / largest layer's |grad|
EXPLODING_NORM = 1e3
GROWTH_FACTOR = 10.0                         # over the last few snapshots
# ...growing by half or more at each of the last GROWTH_STEPS snapshots: an explosion
# multiplies the norm update after update; one jump (an LSTM's as its loss falls off its
# cliff, an optimizer's bounce) is not one.
GROWTH_STEPS, GROWTH_STEP = 4, 1.5
# A flat loss is judged over this many epochs, against its own noise: the spirals card
# plateaus for up to 20 epochs (about 8 updates each) before it finds the arms.
TREND_EPOCHS = 25
LEARNED_SHARE = 0.5     # a loss that has halved since the first epoch has learned: a plateau
                        # after that is convergence (noisy data, a regularizer), not a stall
STUCK_EPOCHS = 8        # a run this long whose loss never came 2% below its first epoch's
                        # is stuck from the start (a default XOR net at 50%), however short
RISING_EPOCHS = 6       # a rising loss rises at every step of this many epochs
OVERFIT_EPOCHS = 5      # the validation loss has not beaten its best for this many epochs
OVERFIT_RISE = 1.3      # ...and the median of the last three is this far above the best
OVERFIT_WOBBLE = 3.0    # ...and above it by this many typical epoch-to-epoch changes


@dataclass(frozen=True)
class Alarm:
    """One finding. `node_id` is None for whole-run findings (loss, overfitting)."""

    severity: str
    node_id: str | None
    message: str
    code: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


# --- collecting what a layer is -------------------------------------------------------------
def layer_kinds(model_or_analysis: Any) -> dict[str, tuple[str, str | None]]:
    """node id -> (layer type, activation function or None), in plan order.

    Accepts a `Model` or an `Analysis` (both carry `layers` with full configs)."""
    analysis = getattr(model_or_analysis, "analysis", model_or_analysis)
    kinds = {}
    for node_id in analysis.order:
        layer = analysis.layers[node_id]
        fn = layer.config.get("function") if layer.spec.type == "Activation" else None
        kinds[node_id] = (layer.spec.type, fn)
    return kinds


def probe_snapshot(model: Any, x: Any, t: np.ndarray | None = None,
                   loss: str | None = None, size: int = PROBE_SIZE) -> dict[str, dict]:
    """`Model.inspect` on the first `size` samples of `x` (and targets `t`).

    x: an array (samples, ...) or one per Input (list/dict); t: prepared targets."""
    xs = model.as_inputs(x)
    xs = [a[:size] for a in xs]
    if t is not None:
        t = t[:size]
    return model.inspect(xs, t, loss if t is not None else None)


def grad_norms(snapshot: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """node id -> Euclidean norm of all its trainable weights' gradients together."""
    out = {}
    for node_id, entry in snapshot.items():
        grads = entry.get("weight_grads") or {}
        if grads:
            out[node_id] = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads.values())))
    return out


def weight_norms(snapshot: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """node id -> norm of the weights that have gradients (the trainable ones)."""
    out = {}
    for node_id, entry in snapshot.items():
        grads = entry.get("weight_grads") or {}
        weights = entry.get("weights") or {}
        names = [n for n in grads if n in weights]
        if names:
            out[node_id] = float(np.sqrt(sum(float(np.vdot(weights[n], weights[n]))
                                             for n in names)))
    return out


def _units(a: np.ndarray) -> np.ndarray:
    """(samples, units, rest) view: features of (N, F), channels of (N, C, H, W), the last
    axis of sequences (N, T, F)."""
    if a.ndim == 3:
        a = np.moveaxis(a, -1, 1)
    return a.reshape(a.shape[0], a.shape[1] if a.ndim > 1 else 1, -1)


def dead_fraction(activation: np.ndarray) -> float:
    """Share of units that output zero for every sample (and position) of the batch."""
    u = _units(np.asarray(activation))
    if u.shape[0] == 0:
        return 0.0
    alive = np.any(u > 0, axis=(0, 2))
    return float(1.0 - alive.mean())


def saturated_fraction(activation: np.ndarray, function: str,
                       margin: float = SATURATION_MARGIN, share: float = 0.9) -> float:
    """Share of units stuck near a limit of sigmoid (0, 1) or tanh (-1, 1) for at least
    `share` of the samples (and positions) of the batch."""
    u = _units(np.asarray(activation, dtype=np.float64))
    if u.shape[0] == 0:
        return 0.0
    if function == "sigmoid":
        near = np.minimum(u, 1.0 - u) < margin
    else:
        near = np.abs(u) > 1.0 - margin
    return float((near.mean(axis=(0, 2)) >= share).mean())


def output_side(snapshot: Mapping[str, Mapping[str, Any]],
                kinds: Mapping[str, tuple[str, str | None]],
                sources: Mapping[str, str] | None) -> set[str]:
    """The model's output node and the weightless layers just before it (a sigmoid output
    behind a Reshape, say). Their confident outputs are the goal of training, not a problem.

    The output is the last node of the plan (the graph's only sink); walking back through
    first inputs stops at the first layer that has weights in the snapshot."""
    if not kinds:
        return set()
    node_id: str | None = list(kinds)[-1]
    side: set[str] = set()
    while node_id is not None and node_id not in side:
        side.add(node_id)
        if (snapshot.get(node_id) or {}).get("weights"):
            break
        node_id = (sources or {}).get(node_id)
    return side


def skip_branches(model_or_graph: Any) -> frozenset[str]:
    """Nodes on a branch that a skip connection jumps over: for an Add whose inputs include
    a node upstream of another input (the skip), the nodes between them (a residual block's
    layers). The gradient reaches the layers before such a branch through the skip, so a
    saturated unit on it costs only its own learning."""
    graph = getattr(model_or_graph, "graph", model_or_graph)
    g = graph.nx
    branches: set[str] = set()
    for node_id in graph.node_ids():
        if graph.type_of(node_id) != "Add":
            continue
        upstream = {src: nx.ancestors(g, src) | {src} for _, src in graph.inputs_of(node_id)}
        for branch_end, above in upstream.items():
            for skip_from, before_skip in upstream.items():
                if skip_from != branch_end and skip_from in above:
                    branches |= above - before_skip
    return frozenset(branches)


def _source_of(node_id: str, kinds: Mapping[str, tuple[str, str | None]],
               sources: Mapping[str, str] | None) -> str:
    src = (sources or {}).get(node_id)
    return f" (fed by {src})" if src else ""


# --- the checks -------------------------------------------------------------------------------
def unit_alarms(snapshot: Mapping[str, Mapping[str, Any]],
                kinds: Mapping[str, tuple[str, str | None]],
                sources: Mapping[str, str] | None = None,
                skipped: frozenset[str] = frozenset()) -> list[Alarm]:
    """Dead ReLU units and saturated sigmoid/tanh units, one alarm per affected hidden layer
    (an output layer near 0 and 1 is a confident classifier, see `output_side`). Saturated
    units on a branch a skip connection jumps over (`skip_branches`) are a note, not a
    problem: the gradient still reaches the earlier layers through the skip."""
    alarms = []
    outputs = output_side(snapshot, kinds, sources)
    for node_id, (type_name, fn) in kinds.items():
        entry = snapshot.get(node_id)
        if entry is None or type_name != "Activation" or entry.get("activation") is None:
            continue
        act = entry["activation"]
        where = _source_of(node_id, kinds, sources)
        if fn == "relu":
            share = dead_fraction(act)
            if share >= DEAD_WARNING:
                alarms.append(Alarm(
                    ERROR if share >= DEAD_ERROR else WARNING, node_id,
                    f"{share:.0%} of the units of {node_id}{where} are dead: they output zero "
                    "for every probe sample, so they no longer learn. Try a lower learning "
                    "rate, He initialization, leaky_relu, or BatchNorm before the ReLU.",
                    "dead_relu"))
        elif fn in ("sigmoid", "tanh") and node_id not in outputs:
            share = saturated_fraction(act, fn)
            if share >= SATURATED_WARNING and node_id in skipped:
                alarms.append(Alarm(
                    INFO, node_id,
                    f"{share:.0%} of the {fn} units of {node_id}{where} are saturated, so "
                    "they barely learn; the skip connection around them still carries the "
                    "gradient to the layers before, so the network learns on. The sums "
                    "along a skip path grow with depth; BatchNorm in each block keeps them "
                    "in range.", "saturated"))
            elif share >= SATURATED_WARNING:
                alarms.append(Alarm(
                    ERROR if share >= SATURATED_ERROR else WARNING, node_id,
                    f"{share:.0%} of the {fn} units of {node_id}{where} are saturated (stuck "
                    "near their limits), where their gradient is almost zero. Try smaller "
                    "initial weights, standardized inputs, a lower learning rate, BatchNorm, "
                    "or relu.", "saturated"))
    return alarms


def growing(past: Sequence[float], value: float) -> bool:
    """A gradient norm that grew `GROWTH_STEP` times or more at each of the last
    `GROWTH_STEPS` snapshots and is now over 1 and `GROWTH_FACTOR` times its recent low:
    sustained growth, not one spike."""
    if not past or min(past) <= 0 or value <= 1.0 or value <= GROWTH_FACTOR * min(past):
        return False
    run = np.array([*past[-GROWTH_STEPS:], value])
    return len(run) > GROWTH_STEPS and bool(np.all(run[1:] >= GROWTH_STEP * run[:-1]))


def exploding_remedy(clip_norm: float | None) -> str:
    """What to try; with clipping on, clipping already bounds each step, so not clip_norm."""
    if clip_norm:
        return (f"Gradient clipping is on (clip_norm = {clip_norm:g}): each step is already "
                "bounded, so try a lower learning rate or BatchNorm.")
    return "Try a lower learning rate, gradient clipping (clip_norm), or BatchNorm."


def gradient_alarms(snapshot: Mapping[str, Mapping[str, Any]],
                    norm_history: Mapping[str, Sequence[float]] | None = None,
                    clip_norm: float | None = None) -> list[Alarm]:
    """Vanishing gradients (tiny next to the weights, or next to the layer with the largest
    gradient) and exploding ones (huge, or growing steadily over `norm_history`).
    `clip_norm`: the run's gradient clipping, if any (changes the advice)."""
    norms = grad_norms(snapshot)
    if not norms:
        return []
    wnorms = weight_norms(snapshot)
    alarms: list[Alarm] = []
    finite = {k: v for k, v in norms.items() if np.isfinite(v)}
    largest = max(finite.values(), default=0.0)
    largest_id = max(finite, key=finite.get) if finite else None
    order = list(norms)
    remedy = exploding_remedy(clip_norm)
    # Vanishing: report the worst layer once, saying how many layers are affected.
    dead = [k for k in order if finite.get(k) is not None
            and finite[k] < VANISHING_RELATIVE * max(wnorms.get(k, 0.0), 1e-12)]
    fading = [k for k in order if k not in dead and largest > 0 and k in finite
              and finite[k] < FADING_RELATIVE * largest]
    if dead:
        worst = min(dead, key=lambda k: finite[k] / max(wnorms.get(k, 1e-12), 1e-12))
        others = f" ({len(dead)} layers in all)" if len(dead) > 1 else ""
        alarms.append(Alarm(
            ERROR, worst,
            f"The gradient of {worst} has vanished (norm {finite[worst]:.1e}, under "
            f"{VANISHING_RELATIVE:g} of its weights' norm){others}: it has stopped learning. "
            "Try relu instead of sigmoid/tanh, He initialization, BatchNorm, residual "
            "connections, or fewer layers.", "vanishing"))
    elif fading:
        worst = min(fading, key=lambda k: finite[k])
        ratio = largest / max(finite[worst], 1e-300)
        others = f" ({len(fading)} layers in all)" if len(fading) > 1 else ""
        alarms.append(Alarm(
            WARNING, worst,
            f"Gradients are vanishing: the gradient of {worst} is {ratio:,.0f} times smaller "
            f"than that of {largest_id}{others}, so the early layers learn very slowly. Try "
            "relu instead of sigmoid/tanh, He initialization, BatchNorm, or residual "
            "connections.", "vanishing"))
    for node_id in order:
        value = norms[node_id]
        if not np.isfinite(value) or value > EXPLODING_NORM:
            shown = "not finite" if not np.isfinite(value) else f"{value:.1e}"
            alarms.append(Alarm(
                ERROR, node_id,
                f"The gradient of {node_id} is exploding (norm {shown}). {remedy}",
                "exploding"))
            continue
        past = [v for v in (norm_history or {}).get(node_id, ())[-6:-1] if np.isfinite(v)]
        if growing(past, value):
            alarms.append(Alarm(
                WARNING, node_id,
                f"The gradient of {node_id} is growing fast ({min(past):.2g} to {value:.2g} "
                f"over the last updates) and may explode. {remedy}", "exploding"))
    return alarms


def flat(losses: Sequence[float], window: int = TREND_EPOCHS) -> bool:
    """The last `window` epoch losses have not come down: the fitted line's drop over them is
    under 2% of the loss or within twice its own standard error (the epochs' noise), and the
    loss has not halved since the first epoch (a network that learned and then levelled off
    has converged). A slow, steady fall through a plateau is still learning."""
    if len(losses) < window:
        return False
    recent = np.asarray(losses[-window:], dtype=np.float64)
    if not np.all(np.isfinite(recent)) or min(losses) <= LEARNED_SHARE * losses[0]:
        return False
    t = np.arange(window, dtype=np.float64) - (window - 1) / 2
    slope = float(t @ (recent - recent.mean()) / (t @ t))
    noise = float(np.std(recent - recent.mean() - slope * t, ddof=2))
    drop, error = -slope * (window - 1), 2 * noise / np.sqrt(t @ t) * (window - 1)
    return drop <= max(error, 0.02 * abs(recent.mean()))


def stuck(losses: Sequence[float]) -> bool:
    """At least STUCK_EPOCHS epochs, and the loss never came 2% below the first epoch's: the
    network has not learned anything yet (the trend test of `flat` needs a longer run)."""
    if len(losses) < STUCK_EPOCHS:
        return False
    values = np.asarray(losses, dtype=np.float64)
    return bool(np.all(np.isfinite(values)) and values.min() >= 0.98 * values[0])


def rising(losses: Sequence[float], window: int = RISING_EPOCHS) -> bool:
    """The loss rose at every one of the last `window` epochs and ends 20% above where they
    began: a sustained climb. Noise, or one bounce the optimizer recovers from, is not."""
    if len(losses) < window:
        return False
    recent = np.asarray(losses[-window:], dtype=np.float64)
    return bool(np.all(np.isfinite(recent)) and np.all(np.diff(recent) > 0)
                and recent[-1] > 1.2 * recent[0])


def history_alarms(epochs: Sequence[Mapping[str, Any]]) -> list[Alarm]:
    """A flat or rising training loss, and validation loss rising while training loss falls.

    epochs: per-epoch logs as in `History.epochs` ({'loss', 'val_loss', ...})."""
    alarms: list[Alarm] = []
    losses = [float(e["loss"]) for e in epochs if e.get("loss") is not None]
    if losses:
        last = losses[-1]
        acc = [e.get("accuracy") for e in epochs[-RISING_EPOCHS:]]
        solved = last < 1e-3 or (None not in acc and min(acc) >= 0.995)
        if not solved and rising(losses):
            first = losses[-RISING_EPOCHS]
            alarms.append(Alarm(
                ERROR, None,
                f"The training loss is rising ({first:.3g} to {last:.3g} over the last "
                f"{RISING_EPOCHS} epochs). Try a lower learning rate or gradient clipping.",
                "rising_loss"))
        elif not solved and (flat(losses) or stuck(losses)):
            alarms.append(Alarm(
                WARNING, None,
                f"The training loss is flat (about {last:.3g} for the last "
                f"{min(len(losses), TREND_EPOCHS)} epochs): the network has stopped "
                "improving. Try a higher or lower "
                "learning rate, another optimizer (adam), a larger model, or check that "
                "the labels fit the loss.", "flat_loss"))
    val = [(i, float(e["val_loss"])) for i, e in enumerate(epochs)
           if e.get("val_loss") is not None]
    if len(val) >= 4:
        idx, vals = zip(*val)
        best = int(np.argmin(vals))
        since = len(vals) - 1 - best
        # The last three epochs' median clearly above the best, for several epochs: one noisy
        # epoch or a bounce, or a wobble of a loss near zero, is not a trend to act on.
        recent = float(np.median(vals[-3:]))
        # ...and well beyond the validation loss's own epoch-to-epoch wobble.
        wobble = float(np.median(np.abs(np.diff(vals[-TREND_EPOCHS:]))))
        risen = (since >= OVERFIT_EPOCHS and recent > vals[best] * OVERFIT_RISE
                 and recent - vals[best] > max(0.01, OVERFIT_WOBBLE * wobble))
        train_then, train_now = losses[idx[best]] if idx[best] < len(losses) else None, \
            losses[-1] if losses else None
        falling = train_then is not None and train_now is not None and train_now < train_then
        # Every validation sample right: a wobble of a near-zero loss, nothing to act on.
        perfect = (epochs[-1].get("val_accuracy") or 0.0) >= 0.995
        if risen and falling and not perfect:
            alarms.append(Alarm(
                WARNING, None,
                f"Overfitting: the validation loss has risen for {since} epochs (best "
                f"{vals[best]:.3g} at epoch {idx[best] + 1}, now {vals[-1]:.3g}) while the "
                "training loss keeps falling. Try stopping earlier, L2, Dropout, a smaller "
                "model, or more data.", "overfitting"))
    return alarms


def diagnose(snapshot: Mapping[str, Mapping[str, Any]] | None,
             kinds: Mapping[str, tuple[str, str | None]],
             epochs: Sequence[Mapping[str, Any]] = (),
             norm_history: Mapping[str, Sequence[float]] | None = None,
             sources: Mapping[str, str] | None = None,
             clip_norm: float | None = None,
             skipped: frozenset[str] = frozenset()) -> list[Alarm]:
    """Every alarm, the most severe first (stable within a severity). `clip_norm`: the
    run's gradient clipping, if any; `skipped`: the graph's `skip_branches`."""
    alarms = []
    if snapshot:
        alarms += unit_alarms(snapshot, kinds, sources, skipped)
        alarms += gradient_alarms(snapshot, norm_history, clip_norm)
    alarms += history_alarms(epochs)
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(alarms, key=lambda a: rank.get(a.severity, len(rank)))


def first_sources(model_or_graph: Any) -> dict[str, str]:
    """node id -> the node feeding its first input (names the layer behind an activation)."""
    graph = getattr(model_or_graph, "graph", model_or_graph)
    out = {}
    for node_id in graph.node_ids():
        ins = graph.inputs_of(node_id)
        if ins:
            out[node_id] = ins[0][1]
    return out


def check_model(model: Any, x: Any, t: np.ndarray | None, loss: str | None,
                epochs: Sequence[Mapping[str, Any]] = ()) -> list[Alarm]:
    """`diagnose` for a model on a probe batch of x (the one-call version for scripts)."""
    snap = probe_snapshot(model, x, t, loss)
    return diagnose(snap, layer_kinds(model), epochs, sources=first_sources(model),
                    skipped=skip_branches(model))
