"""Takes snapshots of a model for the plots: `Model.inspect` on one probe batch whose row 0
is the sample under inspection and whose other rows are a fixed sample of training data,
summarized (`summary.summarize`) and diagnosed (`nnengine.diagnostics`).

It runs in the training process between batches (and in the window, around weights it
holds once training has ended). It only reads the model, in inference mode: no random generator is drawn from and
no weight or running statistic changes, so watching never changes what is learned. No Qt.
"""
from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from nnengine import NNEngineError, Trainer
from nnengine.catalogue import LOSSES
from nnengine.diagnostics import PROBE_SIZE, diagnose, first_sources, layer_kinds, skip_branches
from nnengine.layer_table import layer_table
from nnengine.run_card import dataset_content_sha256

from .lesson_views import LessonViews
from .run_description import MAX_POINTS, WATCHED_TEST, RunDescription
from .summary import Snapshot, boundary, plane_extent, predicted_classes, summarize

PROBE_SEED = 7919   # the probe rows' own generator; the trainer's are never touched
PREDICT_BATCH = 128  # small enough to stay in cache; faster than larger batches here
EVALUATE_BATCH = 512  # the test metrics' batch, as `nnengine train` evaluates
# Multiply-adds a snapshot may spend on its probe rows (forward), and the live confusion
# matrix on its test predictions: a snapshot of the digits CNN keeps 25 rows and 633 test
# samples, one of an MNIST-size CNN (a million per sample) 16 rows and 193 samples, so
# watching stays within its share of the time (see reporter.SnapshotBudget) and still comes
# several times a second. (A digits CNN snapshot: 3.4 ms with 50 rows, 2.4 ms with 25; the
# CNN templates' health alarms, at every epoch of seeds 0-3, are the same with either.)
PROBE_WORK = 8_000_000
WATCHED_WORK = 200_000_000


def within_work(count: int, per_sample: int, work: int, least: int) -> int:
    """At most `count` samples, fewer when they would take more than `work` multiply-adds,
    never fewer than `least` (unless `count` is)."""
    return max(min(least, count), min(count, work // max(per_sample, 1)))


def denoising_noise(trainer: Trainer) -> float | None:
    """The training noise's stddev for a denoising autoencoder (one Input, a GaussianNoise
    node, the input as target), else None."""
    m = trainer.model
    if trainer.config.target != "inputs" or len(m.input_ids) != 1:
        return None
    layers = m.analysis.layers
    noise = [layers[n].config["stddev"] for n in m.analysis.order
             if layers[n].spec.type == "GaussianNoise"]
    return float(noise[0]) if noise else None


def class_labels(t: np.ndarray) -> np.ndarray:
    """Class labels (N,) from prepared targets: labels, or one-hot rows (the one_hot target)."""
    return t.argmax(axis=1) if t.ndim == 2 else t


class Probe:
    """Snapshot maker for one trainer. `sample` is (split, index), split "test" or "train"."""

    def __init__(self, trainer: Trainer, probe_size: int = PROBE_SIZE,
                 boundary_resolution: int = 72):
        self.trainer = trainer
        self.model = model = trainer.model
        self.dataset = ds = trainer.dataset
        self.loss = trainer.config.loss
        self.kinds = layer_kinds(model)
        self.sources = first_sources(model)
        self.skipped = skip_branches(model)
        self.order = list(self.kinds)
        self.resolution = boundary_resolution
        self.norm_history: dict[str, deque[float]] = {}
        per_sample = layer_table(model.graph, model.analysis).total("multiply_adds")
        probe_size = within_work(probe_size, per_sample, PROBE_WORK, least=16)
        self.watched_test = within_work(WATCHED_TEST, per_sample, WATCHED_WORK, least=100)
        n = len(trainer.y_train)
        rows = np.sort(np.random.default_rng(PROBE_SEED).choice(
            n, min(probe_size - 1, n), replace=False))
        self.probe_x = [a[rows] for a in trainer.x_train]
        self.probe_t = trainer.y_train[rows]
        self.test_x: list[np.ndarray] | None = None
        self.test_t: np.ndarray | None = None
        if ds.test_size:
            try:
                self.test_x = model.as_inputs(ds.x_test)
                self.test_t = trainer.prepare_targets(trainer.targets(ds.x_test, ds.y_test),
                                                      "test")
            except NNEngineError:
                self.test_x = self.test_t = None
        cfg = trainer.config
        self.classification = (LOSSES.get(cfg.loss).classification or cfg.target == "one_hot"
                               or (cfg.loss == "binary_cross_entropy"
                                   and model.output_shape == (1,))) \
            and cfg.target != "inputs" and ds.is_classification \
            and len(model.output_shape) == 1
        self.noise = denoising_noise(trainer)
        self.extent = None
        if ds.is_2d and self.classification and len(model.input_ids) == 1 \
                and model.shapes[model.input_ids[0]] == (2,):
            self.extent = plane_extent(np.asarray(ds.x_train, dtype=np.float64))
        self.lesson_views = LessonViews(model, trainer.x_train, trainer.y_train,
                                        ds.vocabulary, not ds.is_classification)

    # --- samples ---------------------------------------------------------------------------
    def split_size(self, split: str) -> int:
        if split == "test" and self.test_t is not None:
            return len(self.test_t)
        return len(self.trainer.y_train)

    def default_split(self) -> str:
        return "test" if self.test_t is not None else "train"

    def sample(self, split: str, index: int) -> tuple[list[np.ndarray], np.ndarray]:
        """One sample as a batch of one: (inputs, prepared target)."""
        if split == "test" and self.test_t is not None:
            xs, ts = self.test_x, self.test_t
        else:
            xs, ts = self.trainer.x_train, self.trainer.y_train
        i = int(index) % len(ts)
        return [a[i:i + 1] for a in xs], ts[i:i + 1]

    # --- snapshots -------------------------------------------------------------------------
    def snapshot(self, sample: tuple[str, int], step: int = 0, epoch: int = 0, batch: int = 0,
                 x: float = 0.0, epochs: list[dict] | None = None, test: int = 0,
                 with_boundary: bool = True) -> Snapshot:
        """A copied, downsampled snapshot; `test` adds predictions on the first `test` samples
        of the test split (all of them when it is at least the split's size)."""
        m = self.model
        sx, st = self.sample(*sample)
        if self.noise:  # a denoising autoencoder is shown cleaning a noisy copy of the sample
            rng = np.random.default_rng([PROBE_SEED, int(sample[1])])
            sx = [sx[0] + rng.normal(0, self.noise, sx[0].shape).astype(sx[0].dtype)]
        xs = [np.concatenate([a, p]) for a, p in zip(sx, self.probe_x)]
        ts = np.concatenate([st, self.probe_t.astype(st.dtype, copy=False)])
        with np.errstate(all="ignore"):
            inspected = m.inspect(xs, ts, self.loss, reuse=True)   # copied below
        layers = summarize(inspected, self.kinds, row=0)
        for node_id, s in layers.items():
            if s.grad_norm is not None:
                self.norm_history.setdefault(node_id, deque(maxlen=8)).append(s.grad_norm)
        alarms = diagnose(inspected, self.kinds, epochs or (),
                          {k: list(v) for k, v in self.norm_history.items()}, self.sources,
                          self.trainer.config.clip_norm, self.skipped)
        out = inspected[m.output_id]["activation"]
        snap = Snapshot(step, epoch, batch, x, (sample[0], int(sample[1])), layers,
                        output=np.array(out[0], dtype=np.float32),
                        sample_input=np.array(sx[0][0]), target=np.array(st[0]),
                        alarms=alarms, order=self.order, extras=self.lesson_views.extras())
        with np.errstate(all="ignore"):
            if with_boundary and self.extent is not None:
                snap.boundary = boundary(
                    lambda p: m.predict_prepared(m.as_inputs(p), PREDICT_BATCH, reuse=True),
                    self.extent, self.resolution)
        snap.test_predictions = self.test_predictions(test) if test else None
        return snap

    def test_predictions(self, count: int) -> np.ndarray | None:
        """The predicted class of the first `count` test samples (all of them when it is at
        least the split's size); None where there are no classes to predict."""
        if not self.classification or self.test_x is None:
            return None
        rows = [a[:count] for a in self.test_x]
        with np.errstate(all="ignore"):
            return predicted_classes(self.model.predict_prepared(rows, PREDICT_BATCH, reuse=True))

    def describe(self, epochs: int, grad_nodes: list[str]) -> RunDescription:
        """The run as plain data for the window; `epochs`: of the whole run."""
        model, ds, trainer = self.model, self.dataset, self.trainer
        out = model.output_shape
        k = (2 if out == (1,) else int(out[0])) if self.classification else 0
        names = [str(n) for n in (ds.class_names or [])]
        trained = {key.split("/")[0] for key in model.trainable_keys}
        points = labels = None
        if self.extent is not None:
            step = max(1, len(ds.x_train) // MAX_POINTS)
            points = np.asarray(ds.x_train, dtype=np.float32)[::step]
            labels = np.asarray(ds.y_train)[::step]
        test_labels = class_labels(np.asarray(self.test_t)).astype(int) \
            if self.classification and self.test_t is not None else None
        return RunDescription(
            config=trainer.config.to_dict(), epochs=epochs,
            batches_per_epoch=max(trainer.batches_per_epoch, 1),
            train_size=len(trainer.y_train), order=list(self.order), kinds=dict(self.kinds),
            shapes=dict(model.shapes), input_ids=list(model.input_ids),
            output_id=model.output_id, output_shape=tuple(out),
            weighted=[n for n in self.order if n in trained], grad_nodes=list(grad_nodes),
            classification=self.classification, num_classes=k,
            class_names=names if len(names) >= k else [str(i) for i in range(k)],
            autoencoder=trainer.config.target == "inputs",
            split_sizes={s: self.split_size(s) for s in ("train", "test")},
            default_split=self.default_split(), extent=self.extent, points=points,
            point_labels=labels, test_labels=test_labels,
            test_inputs=self.test_x[0] if self.test_x is not None else None,
            watched_test=self.watched_test, dataset_sha256=dataset_content_sha256(ds),
            **self.lesson_views.describe())

    def evaluate_test(self) -> dict[str, float] | None:
        return self.final_test()[0]

    def final_test(self) -> tuple[dict[str, float] | None, np.ndarray | None]:
        """The test metrics (as `nnengine train` computes them) and, for classification, the
        predicted class of every test sample, from one pass over the test split."""
        if self.test_t is None:
            return None, None
        outputs = self.model.predict_prepared(self.test_x, EVALUATE_BATCH)
        metrics = self.trainer.scores(outputs, np.asarray(self.test_t), self.test_x,
                                      EVALUATE_BATCH)
        return metrics, predicted_classes(outputs) if self.classification else None

    def predict(self, split: str, index: int) -> dict[str, Any]:
        """The model's output for one sample, with its class and true label where they apply."""
        sx, st = self.sample(split, index)
        out = self.model.predict(sx)[0]
        result: dict[str, Any] = {"output": out, "target": st[0], "input": sx[0][0]}
        if self.classification:
            result["predicted"] = int(predicted_classes(out[None])[0])
            result["label"] = int(class_labels(st)[0])
        return result
