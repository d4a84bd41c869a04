"""What a snapshot sends from the training process to the window: small, copied,
downsampled records.

The training process turns `Model.inspect` output on a probe batch (row 0 = the sample under
inspection) into a `Snapshot`: histograms instead of raw values, the chosen sample's unit
values capped at `MAX_UNITS`, its feature maps capped at `MAX_CHANNELS`, gradient norms as
floats. Small, so a message carries it quickly; fresh copies, so a snapshot taken in the
window never shares an array with a model. Pure NumPy (no Qt), so it is cheap to test.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

BINS = 40
MAX_UNITS = 1024          # values of the chosen sample shown per layer
MAX_CHANNELS = 64         # feature maps per conv/pool layer
MAX_FILTERS = 64          # first-conv filters shown as images
MAX_HIST_VALUES = 4096    # values sampled (evenly strided) for one histogram
# A part of a snapshot that only one view shows and that costs as much as the rest of the
# snapshot: while training runs, the training process makes it only while that view is in
# front (the window says so, see `TrainingController.watch`).
TEST_PREDICTIONS = "test_predictions"
OPTIONAL_PARTS = frozenset({TEST_PREDICTIONS})


@dataclass
class Hist:
    """counts: (bins,) over [lo, hi] in equal bins; `total` values were counted."""

    counts: np.ndarray
    lo: float
    hi: float

    @property
    def edges(self) -> np.ndarray:
        return np.linspace(self.lo, self.hi, len(self.counts) + 1)

    @property
    def total(self) -> float:
        return float(self.counts.sum())


def histogram(values: np.ndarray | list[np.ndarray], bins: int = BINS) -> Hist | None:
    """Histogram of the finite values (a strided sample of at most MAX_HIST_VALUES).

    Snapshots make a few dozen of these between two training batches, so each pass counts:
    values are sampled in memory order (a workspace's transposed activations are not copied
    whole) into one small contiguous copy in their own precision, and checked for NaN and
    infinity through their minimum and maximum (a filtering copy only when one is not
    finite)."""
    if isinstance(values, list):
        if not values:
            return None
        values = np.concatenate([np.ravel(v, order="K") for v in values])
    v = np.ravel(values, order="K")
    if v.size > MAX_HIST_VALUES:
        # one gather; the passes below then read 16 KiB, not a cache line per value
        v = v[:: -(-v.size // MAX_HIST_VALUES)].copy()
    if v.size == 0:
        return None
    lo, hi = float(v.min()), float(v.max())
    if not (np.isfinite(lo) and np.isfinite(hi)):
        v = v[np.isfinite(v)]
        if v.size == 0:
            return None
        lo, hi = float(v.min()), float(v.max())
    counts = _counts(v, lo, hi, bins, within=True) if hi - lo >= 1e-12 else None
    if counts is not None and v.size > 200 and not _spread_enough(counts, v.size):
        # A few extreme values would squash the rest into one bin: clip them into the end
        # bins of the 0.5–99.5 percentile range instead. (Order statistics by one
        # partition, and only when the counts leave it in doubt: np.percentile's overhead
        # was half the cost of a snapshot.)
        plo, phi = np.partition(v, _tails(v.size))[list(_tails(v.size))]
        if phi > plo and (phi - plo) < 0.5 * (hi - lo):
            lo, hi, counts = float(plo), float(phi), None
    if hi - lo < 1e-12:
        pad = max(abs(lo) * 0.05, 1e-3)
        lo, hi, counts = lo - pad, hi + pad, None
    if counts is None:
        counts = _counts(v, lo, hi, bins)
    return Hist(counts.astype(np.float32), lo, hi)


def _tails(n: int) -> tuple[int, int]:
    """Positions of the 0.5 and 99.5 percentiles among `n` sorted values."""
    return int(0.005 * (n - 1)), int(np.ceil(0.995 * (n - 1)))


def _counts(v: np.ndarray, lo: float, hi: float, bins: int, within: bool = False
            ) -> np.ndarray:
    """Counts in `bins` equal bins over [lo, hi], values beyond in the end bins: index
    arithmetic, several times faster than np.histogram. `within`: every value lies in
    [lo, hi] (only `hi` itself needs folding into the last bin)."""
    scaled = v - lo
    scaled *= bins / (hi - lo)
    idx = scaled.astype(np.intp)
    if within:
        counts = np.bincount(idx, minlength=bins + 1)
        counts[bins - 1] += counts[bins:].sum()
        return counts[:bins]
    np.maximum(idx, 0, out=idx)
    np.minimum(idx, bins - 1, out=idx)
    return np.bincount(idx, minlength=bins)


def _spread_enough(counts: np.ndarray, n: int) -> bool:
    """Whether counts over the full range already show the 0.5–99.5 percentile range
    spanning at least half of it (so no clipping is due, and no partition needed). The
    percentiles lie in the bins where the running count passes them; one bin of slack on
    each side allows for values rounded into a neighbouring bin."""
    cum = np.cumsum(counts)
    k0, k1 = _tails(n)
    b0, b1 = np.searchsorted(cum, (k0 + 1, k1 + 1))
    return int(b1) - int(b0) - 3 >= len(counts) / 2


def resample(hist: Hist, lo: float, hi: float, bins: int) -> np.ndarray:
    """The counts of `hist` re-binned onto `bins` equal bins over [lo, hi] (assuming values
    are spread evenly inside each source bin); used to draw histograms over time on one
    common value axis. Returns (bins,)."""
    cum = np.concatenate([[0.0], np.cumsum(hist.counts, dtype=np.float64)])
    at = np.interp(np.linspace(lo, hi, bins + 1), hist.edges, cum, left=0.0, right=cum[-1])
    return np.diff(at)


@dataclass
class LayerSummary:
    """One node's view at one moment.

    unit_values: the chosen sample's output, flattened, at most MAX_UNITS values;
    feature_maps: (channels, height, width) of the chosen sample for image-shaped outputs;
    filters: (filters, in_channels, kh, kw), only for the first Conv2D."""

    node_id: str
    type_name: str
    function: str | None
    shape: tuple[int, ...]
    unit_values: np.ndarray | None = None
    feature_maps: np.ndarray | None = None
    act_hist: Hist | None = None
    grad_hist: Hist | None = None
    grad_norm: float | None = None
    weight_hists: dict[str, Hist] = field(default_factory=dict)
    weight_norm: float | None = None
    filters: np.ndarray | None = None


@dataclass
class Boundary:
    """Predicted class over a grid of the input plane.

    classes: (rows, cols) int16 (row 0 is the bottom, y = y0); confidence: (rows, cols)
    float32 in [0, 1]; extent: (x0, x1, y0, y1)."""

    classes: np.ndarray
    confidence: np.ndarray
    extent: tuple[float, float, float, float]


@dataclass
class Snapshot:
    """Everything the plots show for one moment of training. `x` is the position on the
    curves' axis in epochs (epoch - 1 + batch / batches per epoch)."""

    step: int
    epoch: int
    batch: int
    x: float
    sample: tuple[str, int]
    layers: dict[str, LayerSummary]
    output: np.ndarray | None = None          # chosen sample's model output
    sample_input: np.ndarray | None = None    # its raw input, shaped like the Input node
    target: np.ndarray | None = None          # its label or target
    alarms: list = field(default_factory=list)
    boundary: Boundary | None = None
    test_predictions: np.ndarray | None = None   # (test samples,) predicted class
    order: list[str] = field(default_factory=list)
    extras: dict = field(default_factory=dict)   # lesson views' arrays (see lesson_views)
    number: int = 0     # the run's count of snapshots so far (0: taken in the window)

    def without_sample_detail(self) -> Snapshot:
        """A lighter copy for the epoch history: no unit values or feature maps. Made once
        per snapshot: several epochs of a fast run often share the newest snapshot."""
        light = self.__dict__.get("_light")
        if light is None:
            layers = {k: replace(v, unit_values=None, feature_maps=None)
                      for k, v in self.layers.items()}
            light = replace(self, layers=layers)
            light.__dict__["_light"] = light
            self.__dict__["_light"] = light
        return light


def predicted_classes(outputs: np.ndarray) -> np.ndarray:
    """Class per row: argmax, or (one sigmoid unit) output > 0.5. outputs: (N, classes)."""
    out = np.asarray(outputs).reshape(len(outputs), -1)
    if out.shape[1] == 1:
        return (out[:, 0] > 0.5).astype(np.int16)
    return np.argmax(out, axis=1).astype(np.int16)


def confidence(outputs: np.ndarray) -> np.ndarray:
    out = np.asarray(outputs, dtype=np.float32).reshape(len(outputs), -1)
    if out.shape[1] == 1:
        return np.abs(out[:, 0] - 0.5) * 2.0
    return out.max(axis=1)


def _norm(arrays: list[np.ndarray]) -> float:
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.sqrt(sum(float(np.vdot(a, a)) for a in arrays)))


def summarize_layer(node_id: str, entry: Mapping[str, Any], kind: tuple[str, str | None],
                    row: int = 0, with_filters: bool = False) -> LayerSummary:
    """entry: one node of `Model.inspect` output; the activation is (batch, ...)."""
    act = entry.get("activation")
    type_name, fn = kind
    shape = tuple(act.shape[1:]) if act is not None else ()
    s = LayerSummary(node_id, type_name, fn, shape)
    if act is not None and len(act) > row:
        a = np.asarray(act[row])
        if np.issubdtype(a.dtype, np.floating):
            s.unit_values = np.array(a.ravel()[:MAX_UNITS], dtype=np.float32)
            if a.ndim == 3:
                s.feature_maps = np.array(a[:MAX_CHANNELS], dtype=np.float32)
            s.act_hist = histogram(act)
    grads = entry.get("weight_grads") or {}
    if grads:
        s.grad_norm = _norm(list(grads.values()))
        s.grad_hist = histogram(list(grads.values()))
    weights = entry.get("weights") or {}
    for name, w in weights.items():
        if name in ("mean", "std"):   # an Input's standardization statistics
            continue
        h = histogram(w)
        if h is not None:
            s.weight_hists[name] = h
    trainable = [weights[n] for n in grads if n in weights]
    if trainable:
        s.weight_norm = _norm(trainable)
    if with_filters and "W" in weights and np.ndim(weights["W"]) == 4:
        s.filters = np.array(weights["W"][:MAX_FILTERS], dtype=np.float32)
    return s


def summarize(inspected: Mapping[str, Mapping[str, Any]],
              kinds: Mapping[str, tuple[str, str | None]], row: int = 0
              ) -> dict[str, LayerSummary]:
    """Every node, in plan order; filters only for the first Conv2D."""
    out = {}
    first_conv = next((k for k, (t, _) in kinds.items() if t == "Conv2D"), None)
    for node_id, entry in inspected.items():
        kind = kinds.get(node_id, ("?", None))
        out[node_id] = summarize_layer(node_id, entry, kind, row, node_id == first_conv)
    return out


def plane_extent(points: np.ndarray, margin: float = 0.1) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) around 2-D points, padded by `margin` of the span."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = (hi - lo) * margin + 1e-6
    return (float(lo[0] - pad[0]), float(hi[0] + pad[0]),
            float(lo[1] - pad[1]), float(hi[1] + pad[1]))


def grid_points(extent: tuple[float, float, float, float], resolution: int) -> np.ndarray:
    """(resolution², 2) points, row-major with row 0 at y0 (the image's bottom row)."""
    x0, x1, y0, y1 = extent
    xs = np.linspace(x0, x1, resolution)
    ys = np.linspace(y0, y1, resolution)
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def boundary(predict: Any, extent: tuple[float, float, float, float],
             resolution: int = 72) -> Boundary:
    """The decision boundary of `predict` ((N, 2) -> (N, classes)) over `extent`."""
    pts = grid_points(extent, resolution).astype(np.float32)
    out = predict(pts)
    shape = (resolution, resolution)
    return Boundary(predicted_classes(out).reshape(shape),
                    confidence(out).reshape(shape).astype(np.float32), extent)
