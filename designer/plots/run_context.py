"""`RunContext`: what the plots know about the run they show, fixed when it starts (made
from the controller's plain `RunDescription` by `run_context`), and `trained_for`, how far
training was when a snapshot was taken. No widgets."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .images import as_images, image_shape_for

if TYPE_CHECKING:
    from ..training.controller import TrainingController


@dataclass
class RunContext:
    """What the plots need to know about the run, fixed when it starts.

    points/point_labels: up to 1000 training points of a 2-D data set; test_images:
    (test samples, h, w) or (n, h, w, 3) for image data, else None."""

    order: list[str] = field(default_factory=list)
    kinds: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    input_id: str | None = None
    output_id: str | None = None
    classification: bool = False
    num_classes: int = 0
    class_names: list[str] = field(default_factory=list)
    autoencoder: bool = False
    points: np.ndarray | None = None
    point_labels: np.ndarray | None = None
    test_labels: np.ndarray | None = None
    test_images: np.ndarray | None = None
    watched_test: int = 0      # test samples predicted while training runs (the first ones)
    image_shape: tuple[int, ...] | None = None
    timeline: Any = None
    metrics: Any = None
    epochs: int = 0
    extent: tuple[float, float, float, float] | None = None
    weighted: list[str] = field(default_factory=list)   # nodes with trainable weights
    loss_terms: list[str] = field(default_factory=list)
    vocabulary: list[str] | None = None
    embeddings: list[str] = field(default_factory=list)
    fit_points: np.ndarray | None = None
    code_node: str | None = None
    grid_span: float = 0.0

    def is_image_node(self, node_id: str) -> bool:
        return len(self.shapes.get(node_id, ())) == 3


def run_context(controller: TrainingController) -> RunContext:
    """What the plots need about the run that just started (or the last one)."""
    run = controller.run
    ctx = RunContext(timeline=controller.timeline, metrics=controller.metrics)
    if run is None:
        return ctx
    ctx.epochs = run.epochs
    ctx.order = list(run.order)
    ctx.kinds = dict(run.kinds)
    ctx.weighted = list(run.weighted)
    ctx.shapes = dict(run.shapes)
    ctx.input_id = run.input_ids[0] if run.input_ids else None
    ctx.output_id = run.output_id
    ctx.classification = run.classification
    ctx.num_classes = run.num_classes
    ctx.class_names = list(run.class_names)
    ctx.autoencoder = run.autoencoder
    ctx.points, ctx.point_labels, ctx.extent = run.points, run.point_labels, run.extent
    ctx.test_labels = run.test_labels
    ctx.watched_test = run.watched_test
    ctx.loss_terms, ctx.vocabulary, ctx.embeddings = run.loss_terms, run.vocabulary, \
        run.embeddings
    ctx.fit_points = run.fit_points
    ctx.code_node, ctx.grid_span = run.code_node, run.grid_span
    ctx.image_shape = image_shape_for(run.shapes[ctx.input_id]) if ctx.input_id else None
    if run.test_inputs is not None and ctx.image_shape is not None:
        ctx.test_images = as_images(run.test_inputs, ctx.image_shape)
    return ctx


def trained_for(snap: Any) -> str:
    """How far training was when `snap` was taken, counted as the epoch scrubber counts
    (completed epochs): "after 151 epochs", "after 151 epochs + 3 batches"; "" before
    any batch (e.g. weights just loaded)."""
    x = float(getattr(snap, "x", 0.0) or 0.0)
    if getattr(snap, "epoch", 0) <= 0 or x <= 0:
        return ""
    done = math.floor(x + 1e-9)
    text = f"after {done} epoch{'s' * (done != 1)}"
    batches = int(getattr(snap, "batch", 0)) if x - done > 1e-9 else 0
    return text + (f" + {batches} batch{'es' * (batches != 1)}" if batches else "")
