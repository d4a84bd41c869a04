"""What the inspector's explain section adds for a node, with the node's own numbers: for an
activation, its formula, derivative and range; for a convolution or pooling node, its
output-size formula and its receptive field (how much of the input image one output value
sees). Qt-free: plain HTML fragments built from the document's analysis.
"""
from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from nnengine import Analysis, Graph

WINDOW_TYPES = {"Conv2D": "kernel_size", "MaxPool2D": "pool_size", "AvgPool2D": "pool_size"}
PASS_THROUGH = {"Activation", "PReLU", "BatchNorm", "Dropout", "GaussianNoise", "Add",
                "Concatenate", "ActivityRegularization"}
"""Layers that keep each value's position in the image (the receptive field passes through)."""


class ActivationNote(NamedTuple):
    formula: str
    derivative: str
    range: str


def activation_note(config: Mapping[str, Any]) -> ActivationNote:
    """The function's formula, derivative and range, with this node's parameters."""
    fn = config.get("function")
    if fn == "identity":
        return ActivationNote("y = x", "y′ = 1", "(−∞, ∞)")
    if fn == "linear":
        a, b = _num(config.get("slope", 1.0)), _num(config.get("intercept", 0.0))
        return ActivationNote(f"y = {a}·x + {b}", f"y′ = {a}",
                              "(−∞, ∞)" if float(a) != 0 else f"{{{b}}}")
    if fn == "step":
        t = _num(config.get("threshold", 0.0))
        return ActivationNote(f"y = 1 if x ≥ {t}, else 0",
                              f"y′ = 0 everywhere except x = {t}, where it is undefined: "
                              "no gradient passes back", "{0, 1}")
    if fn == "stair":
        n = int(config.get("levels", 5))
        return ActivationNote(f"y = floor({n}·x) / {n}, clipped to [0, 1]",
                              "y′ = 0 almost everywhere: no gradient passes back",
                              f"{{0, 1/{n}, 2/{n}, …, 1}} ({n + 1} values)")
    if fn == "relu":
        return ActivationNote("y = max(0, x)", "y′ = 1 if x > 0, else 0", "[0, ∞)")
    alpha = config.get("alpha")
    if fn == "leaky_relu":
        a = _num(0.01 if alpha is None else alpha)
        return ActivationNote(f"y = x if x > 0, else {a}·x", f"y′ = 1 if x > 0, else {a}",
                              "(−∞, ∞)")
    if fn == "elu":
        a = _num(1.0 if alpha is None else alpha)
        return ActivationNote(f"y = x if x > 0, else {a}·(eˣ − 1)",
                              f"y′ = 1 if x > 0, else y + {a}", f"(−{a}, ∞)")
    if fn == "softplus":
        return ActivationNote("y = ln(1 + eˣ)", "y′ = σ(x) = 1 / (1 + e⁻ˣ)", "(0, ∞)")
    if fn == "sigmoid":
        return ActivationNote("y = σ(x) = 1 / (1 + e⁻ˣ)", "y′ = y·(1 − y), at most 0.25",
                              "(0, 1)")
    if fn == "tanh":
        return ActivationNote("y = tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)",
                              "y′ = 1 − y², at most 1", "(−1, 1)")
    if fn == "softmax":
        return ActivationNote("yᵢ = e^xᵢ / Σⱼ e^xⱼ over the last axis",
                              "∂yᵢ/∂xⱼ = yᵢ·(δᵢⱼ − yⱼ)", "each yᵢ in (0, 1), Σᵢ yᵢ = 1")
    return ActivationNote(f"y = {fn}(x)", "", "")


def _num(v: Any) -> str:
    return f"{float(v):g}"


def _pair(v: Any) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


# --- convolution and pooling -----------------------------------------------------------------
class Field(NamedTuple):
    """Receptive field (rows, cols) in input pixels, and the jump: input pixels between two
    neighbouring values of this node's output."""

    size: tuple[int, int]
    jump: tuple[int, int]


def _window(config: Mapping[str, Any], type_name: str) -> tuple[tuple[int, int], tuple[int, int]]:
    k = _pair(config[WINDOW_TYPES[type_name]])
    stride = config.get("stride")
    return k, (k if stride is None else _pair(stride))


def receptive_field(graph: Graph, analysis: Analysis, node_id: str,
                    memo: dict[str, Field | None] | None = None) -> Field | None:
    """The node's receptive field on the image Input it comes from, or None where a layer
    on the way mixes every position (Dense, Flatten, global pooling) or is not connected.
    r_out = r_in + (k − 1)·j_in, j_out = j_in·stride, per axis; merges take the largest."""
    memo = {} if memo is None else memo
    if node_id in memo:
        return memo[node_id]
    memo[node_id] = None  # guards a cycle in an invalid graph
    type_name = graph.type_of(node_id)
    sources = [s for _, s in graph.inputs_of(node_id)]
    field: Field | None = None
    if type_name == "Input":
        field = Field((1, 1), (1, 1))
    elif sources and (type_name in WINDOW_TYPES or type_name in PASS_THROUGH):
        ins = [receptive_field(graph, analysis, s, memo) for s in sources]
        if all(f is not None for f in ins):
            size = tuple(max(f.size[a] for f in ins) for a in (0, 1))
            jump = tuple(max(f.jump[a] for f in ins) for a in (0, 1))
            layer = analysis.layers.get(node_id)
            if type_name in WINDOW_TYPES and layer is not None:
                k, s = _window(layer.config, type_name)
                size = tuple(size[a] + (k[a] - 1) * jump[a] for a in (0, 1))
                jump = tuple(jump[a] * s[a] for a in (0, 1))
            field = Field(size, jump)  # type: ignore[arg-type]
    memo[node_id] = field
    return field


def output_size_lines(config: Mapping[str, Any], type_name: str,
                      in_size: tuple[int, int], out_size: tuple[int, int]) -> list[str]:
    """The output-size formula with the node's numbers, per axis (once when both agree)."""
    k, s = _window(config, type_name)
    padding = config.get("padding", "valid")
    pads = (0, 0) if padding in ("valid", "same") else _pair(padding)
    lines = []
    axes = [("height and width", 0)] if k[0] == k[1] and s[0] == s[1] and \
        in_size[0] == in_size[1] and pads[0] == pads[1] else [("height", 0), ("width", 1)]
    for name, a in axes:
        if padding == "same":
            lines.append(f"{name}: out = ⌈in / stride⌉ = ⌈{in_size[a]} / {s[a]}⌉ = "
                         f"{out_size[a]} (\"same\" pads "
                         f"{max((math.ceil(in_size[a] / s[a]) - 1) * s[a] + k[a] - in_size[a], 0)}"
                         " zeros in all)")
        else:
            p = pads[a]
            lines.append(f"{name}: out = ⌊(in + 2·pad − k) / stride⌋ + 1 = "
                         f"⌊({in_size[a]} + 2·{p} − {k[a]}) / {s[a]}⌋ + 1 = {out_size[a]}")
    return lines


def formula(analysis: Analysis, node_id: str) -> str | None:
    """This node's own formula where the catalogue's is generic (activations), else None."""
    layer = analysis.layers.get(node_id)
    if layer is None or layer.spec.type != "Activation":
        return None
    return activation_note(layer.config).formula


def notes_html(graph: Graph, analysis: Analysis, node_id: str, muted: str) -> str:
    """The node's extra explain rows as HTML ('' for layers without any)."""
    esc = html.escape
    type_name = graph.type_of(node_id)
    layer = analysis.layers.get(node_id)
    if layer is None:
        return ""
    rows: list[tuple[str, str]] = []
    if type_name == "Activation":
        note = activation_note(layer.config)
        rows = [("Derivative", note.derivative), ("Range", note.range)]
    elif type_name in WINDOW_TYPES:
        sources = [s for _, s in graph.inputs_of(node_id)]
        shape_in = analysis.shapes.get(sources[0]) if sources else None
        shape_out = analysis.shapes.get(node_id)
        if shape_in is not None and shape_out is not None and len(shape_in) == 3:
            for line in output_size_lines(layer.config, type_name, tuple(shape_in[1:]),
                                          tuple(shape_out[1:])):
                rows.append(("Output size", line))
        field = receptive_field(graph, analysis, node_id)
        if field is not None:
            (h, w), (jh, jw) = field.size, field.jump
            rows.append(("Receptive field",
                         (f"{h}×{w} input pixels: each value here depends on a {h}×{w} patch "
                          f"of the image; neighbouring values here are {jh}×{jw} pixels apart "
                          "there")))
    if not rows:
        return ""
    return "<table cellspacing='0' cellpadding='1'>" + "".join(
        f"<tr><td style='color:{muted}; padding-right:10px; vertical-align:top'>{esc(k)}</td>"
        f"<td>{esc(v)}</td></tr>" for k, v in rows) + "</table>"
