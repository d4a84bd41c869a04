"""A run as a record of its own: what was trained, how, on what, and what came of it.

A `Run` holds the run card (`nnengine.run_card`: structure hash, resolved settings, data
set name and hash, seed, start, duration, epochs, how it ended, test metrics), the graph it
was trained on, its final weights, its curves (per batch and per epoch), the epoch records
the scrubber shows (with their snapshots) and the last snapshot. It is plain data: it
outlives the controller's next run, an edit of the graph and the document's next save, and
converts to and from a project file's run (`to_project` / `from_project`).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nnengine import Graph
from nnengine.project import ProjectRun
from nnengine.run_card import graph_sha256

from ..training.mailbox import BatchTable, EpochHistory, EpochRecord
from ..training.metrics import MetricsStore, SnapshotTimeline, format_duration
from ..training.run_description import RunDescription
from ..training.summary import Snapshot
from . import codec


@dataclass
class Run:
    id: str
    name: str
    card: dict[str, Any]
    graph: Graph                       # as trained: its training block is the one used
    weights: dict[str, np.ndarray]
    metrics: MetricsStore = field(default_factory=MetricsStore)
    history: EpochHistory = field(default_factory=EpochHistory)
    timeline: SnapshotTimeline = field(default_factory=SnapshotTimeline)
    snapshot: Snapshot | None = None
    note: str = ""                     # e.g. the node where it diverged
    saved: bool = False                # kept in the document's project file as it is now
    description: RunDescription | None = None   # what the plots need (made when shown)

    # --- what the Runs panel shows ----------------------------------------------------------
    @property
    def sha(self) -> str:
        return self.card.get("graph_sha256") or graph_sha256(self.graph)

    @property
    def ended(self) -> str | None:
        return self.card.get("ended")

    @property
    def test(self) -> dict[str, Any]:
        return self.card.get("test") or {}

    @property
    def epochs(self) -> int:
        return int(self.card.get("epochs") or len(self.metrics.epochs))

    @property
    def dataset(self) -> str:
        return str((self.card.get("dataset") or {}).get("name") or "—")

    @property
    def started(self) -> datetime.datetime | None:
        try:
            return datetime.datetime.fromisoformat(self.card.get("started") or "")
        except ValueError:
            return None

    def date_text(self) -> str:
        when = self.started
        return when.astimezone().strftime("%d %b %H:%M") if when else "—"

    def ended_text(self) -> str:
        ended = self.ended
        if ended is None:
            return "imported"
        if ended == "diverged" and self.note:
            return f"diverged at {self.note}"
        return ended

    def best_validation(self) -> tuple[str, float] | None:
        """("val_accuracy", best) or ("val_loss", lowest), from the epoch logs."""
        for key, pick in (("val_accuracy", max), ("val_loss", min)):
            values = [e[key] for e in self.metrics.epochs
                      if isinstance(e.get(key), (int, float)) and np.isfinite(e[key])]
            if values:
                return key, float(pick(values))
        return None

    def best_validation_text(self) -> str:
        best = self.best_validation()
        if best is None:
            return "—"
        key, value = best
        return f"{value:.1%}" if key == "val_accuracy" else f"loss {value:.4g}"

    def test_text(self) -> str:
        test = self.test
        if test.get("accuracy") is not None:
            return f"{test['accuracy']:.1%}"
        if test.get("loss") is not None:
            return f"loss {test['loss']:.4g}"
        return "—"

    def summary(self) -> str:
        """One line for tooltips and messages."""
        seconds = self.card.get("seconds")
        took = f" in {format_duration(seconds)}" if isinstance(seconds, (int, float)) else ""
        return (f"{self.name}: {self.dataset}, {self.epochs} epochs{took}, seed "
                f"{self.card.get('seed')}, {self.ended_text()}, best validation "
                f"{self.best_validation_text()}, test {self.test_text()}")

    # --- project files ----------------------------------------------------------------------
    def to_project(self) -> ProjectRun:
        m = self.metrics
        metrics: dict[str, Any] = {"epochs": list(m.epochs), "test": self.test or None,
                                   "grad_nodes": list(m.grad_nodes)}
        if self.note:
            metrics["note"] = self.note
        curves = {"x": m.batch_x, "loss": m.batch_loss, "accuracy": m.batch_accuracy}
        if m.grad_nodes:
            curves["grad_norms"] = np.stack([m.grad_norms(n)[1] for n in m.grad_nodes], 1)
        return ProjectRun(self.id, self.name, self.card, self.graph, self.weights, metrics,
                          curves, codec.encode(self.history.records, self.snapshot))

    @classmethod
    def from_project(cls, p: ProjectRun) -> Run:
        """A stored run; snapshots that cannot be read leave the curves and weights shown
        (codec.CodecError is not raised: the scrubber then has nothing to show)."""
        metrics = MetricsStore()
        metrics.set_grad_nodes([str(n) for n in p.metrics.get("grad_nodes") or []])
        metrics.add_batches(batch_records(p.curves, len(metrics.grad_nodes)))
        for logs in p.metrics.get("epochs") or []:
            if isinstance(logs, dict):
                metrics.add_epoch(logs)
        history, timeline, final = EpochHistory(), SnapshotTimeline(), None
        if p.snapshots is not None:
            try:
                records, final = codec.decode(p.snapshots)
            except codec.CodecError:
                records = []
            for record in records:
                history.add(record)
                if record.snapshot is not None:
                    timeline.add(record.snapshot)
        return cls(p.id, p.name, p.card, p.graph, p.weights, metrics, history, timeline, final,
                   str(p.metrics.get("note") or ""), saved=True)


def batch_records(curves: dict[str, np.ndarray], width: int) -> BatchTable:
    """Per-batch points of stored curves as the table a MetricsStore is fed with."""
    x = np.asarray(curves.get("x", []), dtype=float).ravel()
    n = len(x)
    norms = np.asarray(curves.get("grad_norms", np.full((n, width), np.nan)), dtype=float)
    if norms.shape != (n, width):
        norms = np.full((n, width), np.nan)
    return BatchTable.of(x, _column(curves.get("loss"), n), _column(curves.get("accuracy"), n),
                         norms, step=np.arange(1, n + 1))


def _column(values: Any, n: int) -> np.ndarray:
    a = np.asarray(values if values is not None else [], dtype=float).ravel()
    return a if len(a) == n else np.full(n, np.nan)


def weights_fit(run: Run, graph: Graph) -> bool:
    """Whether `run`'s weights were made for `graph`'s structure."""
    return run.sha == graph_sha256(graph)


__all__ = ["EpochRecord", "Run", "batch_records", "weights_fit"]
