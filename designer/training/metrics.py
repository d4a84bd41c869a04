"""The window's stores fed from the training process's reports: the metric curves, a bounded
timeline of snapshot summaries (histograms and gradient norms over time) and the progress
figures. No Qt."""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from .mailbox import BatchTable
from .summary import Snapshot


class MetricsStore:
    """Per-batch loss, accuracy and per-layer gradient norms (growing arrays, x in epochs)
    and per-epoch logs."""

    def __init__(self) -> None:
        self.clear()

    def clear(self, grad_nodes: list[str] | None = None) -> None:
        self._n = 0
        self._x = np.zeros(1024)
        self._loss = np.zeros(1024)
        self._acc = np.full(1024, np.nan)
        self.grad_nodes: list[str] = list(grad_nodes or [])
        self._gn = np.full((1024, len(self.grad_nodes)), np.nan)
        self.epochs: list[dict] = []
        # key -> (epochs seen, x, y): the curves ask for the same series on every frame
        self._series: dict[str, tuple[int, np.ndarray, np.ndarray]] = {}
        self.version = 0   # bumps on every change, so plots can skip redundant redraws

    def set_grad_nodes(self, nodes: list[str]) -> None:
        """The layers whose gradient norms the batch records carry (in that order)."""
        if list(nodes) != self.grad_nodes:
            self.grad_nodes = list(nodes)
            self._gn = np.full((len(self._x), len(nodes)), np.nan)

    def __len__(self) -> int:
        return self._n

    def add_batches(self, table: BatchTable) -> None:
        if not len(table):
            return
        need = self._n + len(table)
        if need > len(self._x):
            size = max(need, 2 * len(self._x))
            for name in ("_x", "_loss", "_acc", "_gn"):
                old = getattr(self, name)
                new = np.full((size, *old.shape[1:]), np.nan)
                new[:self._n] = old[:self._n]
                setattr(self, name, new)
        sl = slice(self._n, need)
        self._x[sl] = table.x
        self._loss[sl] = table.loss
        self._acc[sl] = table.accuracy
        norms = table.grad_norms
        self._gn[sl] = norms if norms.shape[1] == self._gn.shape[1] else np.nan
        self._n = need
        self.version += 1

    def add_epoch(self, logs: dict) -> None:
        self.epochs.append(dict(logs))
        self.version += 1

    @property
    def batch_x(self) -> np.ndarray:
        return self._x[:self._n]

    @property
    def batch_loss(self) -> np.ndarray:
        return self._loss[:self._n]

    @property
    def batch_accuracy(self) -> np.ndarray:
        return self._acc[:self._n]

    def grad_norms(self, node_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(x in epochs, gradient norm per batch) of one layer's weights."""
        if node_id not in self.grad_nodes:
            return np.zeros(0), np.zeros(0)
        return self.batch_x, self._gn[:self._n, self.grad_nodes.index(node_id)]

    @property
    def has_accuracy(self) -> bool:
        return self.epoch_series("accuracy")[0].size > 0 or \
            bool(self._n and np.isfinite(self._acc[:self._n]).any())

    def epoch_series(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(epoch numbers, values) of one per-epoch metric, skipping epochs without it; built
        once per new epoch (read-only arrays, shared by every caller until the next)."""
        cached = self._series.get(key)
        if cached is not None and cached[0] == len(self.epochs):
            return cached[1], cached[2]
        x, y = self._build_series(key)
        x.flags.writeable = y.flags.writeable = False
        self._series[key] = (len(self.epochs), x, y)
        return x, y

    def _build_series(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        pairs = [(e["epoch"], e[key]) for e in self.epochs if e.get(key) is not None]
        if not pairs:
            return np.zeros(0), np.zeros(0)
        x, y = zip(*pairs)
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


class SnapshotTimeline:
    """Snapshot summaries over time (without per-sample detail), at most `capacity`; when
    full every other older entry is dropped, keeping an even spread over the run."""

    def __init__(self, capacity: int = 600):
        self.capacity = capacity
        self.entries: list[Snapshot] = []
        self.version = 0

    def clear(self) -> None:
        self.entries.clear()
        self.version += 1

    def add(self, snap: Snapshot) -> None:
        if self.entries and self.entries[-1].step == snap.step and \
                self.entries[-1].sample == snap.sample:
            self.entries[-1] = snap.without_sample_detail()
        else:
            self.entries.append(snap.without_sample_detail())
        if len(self.entries) > self.capacity:
            self.entries = self.entries[:-1:2] + [self.entries[-1]]
        self.version += 1

    def grad_norms(self, node_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(x in epochs, gradient norm) of one node's weight gradients over time."""
        pts = [(s.x, s.layers[node_id].grad_norm) for s in self.entries
               if node_id in s.layers and s.layers[node_id].grad_norm is not None]
        if not pts:
            return np.zeros(0), np.zeros(0)
        x, y = zip(*pts)
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def hists(self, node_id: str, kind: str = "act_hist") -> list[tuple[float, object]]:
        """(x, Hist) pairs of one node over time; kind: act_hist or grad_hist."""
        out = []
        for s in self.entries:
            layer = s.layers.get(node_id)
            h = getattr(layer, kind, None) if layer is not None else None
            if h is not None:
                out.append((s.x, h))
        return out


@dataclass
class Progress:
    epoch: int = 0
    epochs: int = 0
    batch: int = 0
    batches: int = 0
    step: int = 0
    samples_per_second: float = 0.0
    seconds_left: float | None = None
    elapsed: float = 0.0

    @property
    def fraction(self) -> float:
        total = self.epochs * self.batches
        if not total:
            return 0.0
        return min(1.0, ((self.epoch - 1) * self.batches + self.batch) / total) \
            if self.epoch else 0.0

    def position(self) -> str:
        """"epoch 3/10 · batch 12/45"."""
        if not self.epochs:
            return ""
        return f"epoch {max(self.epoch, 1)}/{self.epochs} · batch {self.batch}/{self.batches}"

    def speed(self) -> str:
        """"1,234 samples/s · 0:12 left"."""
        parts = []
        if self.samples_per_second > 0:
            parts.append(f"{self.samples_per_second:,.0f} samples/s")
        if self.seconds_left is not None and math.isfinite(self.seconds_left):
            parts.append(f"{format_duration(self.seconds_left)} left")
        return " · ".join(parts)

    def text(self) -> str:
        """"epoch 3/10 · batch 12/45 · 1,234 samples/s · 0:12 left"."""
        return " · ".join(p for p in (self.position(), self.speed()) if p)


def format_duration(seconds: float) -> str:
    s = max(0, round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class SpeedMeter:
    """Samples per second over the last `window` seconds of batch records."""

    def __init__(self, window: float = 3.0):
        self.window = window
        self._points: deque[tuple[float, int]] = deque()
        self._samples = 0   # sum of the sizes in _points

    def clear(self) -> None:
        self._points.clear()
        self._samples = 0

    def add(self, table: BatchTable) -> None:
        sizes = table.size.tolist()
        self._points.extend(zip(table.seconds.tolist(), sizes))
        self._samples += sum(sizes)
        if self._points:
            newest = self._points[-1][0]
            while len(self._points) > 2 and newest - self._points[0][0] > self.window:
                self._samples -= self._points.popleft()[1]

    def rate(self) -> float:
        """Samples per second between the oldest and the newest batch kept."""
        if len(self._points) < 2:
            return 0.0
        span = self._points[-1][0] - self._points[0][0]
        if span <= 0:
            return 0.0
        return (self._samples - self._points[0][1]) / span
