"""`RunDescription`: what the window knows about a run, as plain data, fixed when it starts.

The training process sends one when its model and data are ready (the "ready" event); the
window makes one itself around weights it loaded. The plots read it (through
`plots.run_context`), never a live model or data set. No Qt.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

WATCHED_TEST = 1000   # test samples predicted while training runs (the first ones)
MAX_POINTS = 1000     # training points drawn under a decision boundary


@dataclass(frozen=True)
class RunDescription:
    """points/point_labels: up to MAX_POINTS training points of 2-D data; test_labels: the
    test split's classes (classification only); test_inputs: the first Input's test samples;
    watched_test: how many of the first test samples the live confusion matrix predicts while
    training runs (all of them at the end)."""

    config: dict = field(default_factory=dict)        # resolved training settings
    epochs: int = 0                                   # of the whole run, earlier parts too
    batches_per_epoch: int = 0
    train_size: int = 0
    order: list[str] = field(default_factory=list)    # nodes in plan order
    kinds: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    input_ids: list[str] = field(default_factory=list)
    output_id: str | None = None
    output_shape: tuple[int, ...] = ()
    weighted: list[str] = field(default_factory=list)  # nodes with trainable weights
    grad_nodes: list[str] = field(default_factory=list)   # order of BatchTable.grad_norms
    classification: bool = False
    num_classes: int = 0
    class_names: list[str] = field(default_factory=list)
    autoencoder: bool = False
    split_sizes: dict[str, int] = field(default_factory=dict)
    default_split: str = "train"
    extent: tuple[float, float, float, float] | None = None
    points: np.ndarray | None = None
    point_labels: np.ndarray | None = None
    test_labels: np.ndarray | None = None
    test_inputs: np.ndarray | None = None
    watched_test: int = 0
    dataset_sha256: str = ""                          # nnengine.run_card.dataset_content_sha256
    loss_terms: list[str] = field(default_factory=list)   # names of terms layers add
    vocabulary: list[str] | None = None     # word of each token id (word-vector data sets)
    embeddings: list[str] = field(default_factory=list)   # Embedding nodes (with vocabulary)
    fit_points: np.ndarray | None = None    # (n, 2) x, y of 1-D regression data
    code_node: str | None = None            # a VAE's Sampling node
    grid_span: float = 0.0                  # its decoded grid spans ±grid_span
