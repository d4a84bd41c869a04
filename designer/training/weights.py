"""The controller's weights: where they come from; exporting, loading and importing them;
and what uses them in this window once a run is over (evaluate, predict, snapshots).

`weights` holds the weights the training process last sent (at every epoch's end, when it
pauses, and at the end of the run), or weights loaded from a file: plain arrays, never a
model another process is changing. So an export during a run answers at once, with the
weights of the last completed epoch, and one right after it with the final weights; it
never waits for the trainer. `weights_source` says where they come from: None (drawn from
the seed), `TRAINED` (learned by a run), or the name of the file they were loaded from.
Weights belong to the graph structure they were made for (`structure`): after a structural
edit they no longer fit, and exports fall back to fresh weights drawn from the seed.

`WeightsMixin` is one side of `TrainingController` (see controller.py), which provides the
attributes declared below and `graph`, `base_dir`, `is_active`, `_say` and `run_started`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

import nnengine
from nnengine import Graph, NNEngineError, Trainer, TrainingConfig
from nnengine.bundle import is_bundle
from nnengine.errors import WeightsError
from nnengine.run_card import graph_sha256

from .mailbox import SentWeights
from .metrics import MetricsStore, Progress
from .probe import Probe
from .run_description import RunDescription
from .run_setup import keep_scaling, load_run_data, prepare_run
from .states import TRAINED, TrainingState


def read_weights(path: Path) -> dict[str, np.ndarray]:
    """The weights of a `.npz` file or of a model bundle (keyed "node/weight"), within the
    reading budgets; needs no Qt, so the window runs it off the GUI thread."""
    return nnengine.load_bundle(path).weights if is_bundle(path) else \
        nnengine.load_weights(path)


def structure(graph: Graph) -> str:
    """What the weights depend on: the structure hash of the run card (positions, the name
    and the training settings left out), so the window and the Runs panel agree on when
    weights fit a graph."""
    return graph_sha256(graph)


class WeightsMixin:
    """The controller's current weights: query, export, load, import, and use."""

    config: TrainingConfig | None
    run: RunDescription | None
    weights: SentWeights | None
    model: nnengine.Model | None
    dataset: nnengine.Dataset | None
    probe: Probe | None
    metrics: MetricsStore
    progress: Progress
    test_metrics: dict | None
    weights_source: str | None
    _run_graph: str | None      # `structure` of the graph the weights were made for
    _probe_made_for: tuple | None = None   # (weights, structure) of `probe`

    @property
    def has_weights(self) -> bool:
        """The controller holds weights that fit the current graph (trained or loaded)."""
        return self.weights is not None and self._fits()

    @property
    def weights_loaded(self) -> bool:
        """The current weights were loaded or imported and no run has trained on them yet."""
        return self.has_weights and self.weights_source not in (None, TRAINED)

    def current_weights(self) -> dict[str, np.ndarray]:
        """The weights this window holds (keyed "node/weight"); during a run, those of the
        last completed epoch (or of the pause). Never waits for the training process."""
        if self.weights is None:
            raise WeightsError(self._no_weights_text())
        return dict(self.weights.weights)

    def export_model(self) -> tuple[nnengine.Model, bool]:
        """A model of the current graph holding the weights to export, and True when they
        are the current (trained or loaded) weights; False: nothing fits the graph yet (no
        run, or the graph changed since), so they are fresh ones drawn from its seed. During
        a run before its first epoch has ended there is nothing to export yet: WeightsError
        says so at once."""
        model = nnengine.compile_model(self.graph.copy(), seed=self._seed())
        if not self.has_weights:
            if self.is_active:
                raise WeightsError(self._no_weights_text())
            return model, False
        model.set_weights(self.weights.weights, source="the current weights")
        return model, True

    def fresh_note(self) -> str:
        """What to add to an export's message when `export_model` gave fresh weights."""
        return (f" with freshly initialised weights (seed {self._seed()}): the network has "
                "not been trained yet")

    def current_note(self) -> str:
        """What to add to an export's message when `export_model` gave the current weights:
        during a run, which of them they are."""
        w = self.weights
        if not self.is_active or w is None:
            return ""
        return f" (the weights after {w.step} steps, epoch {w.epoch}: training goes on)"

    def export_weights(self, path: str | os.PathLike) -> Path:
        """Write the weights as `.npz` keyed "node/weight" (SPEC section 4), atomically:
        the current ones, or fresh ones from the seed before any training."""
        path = Path(path)
        model, current = self.export_model()
        nnengine.save_weights(model, path)
        self._say(f"weights saved to {path}" +
                  (self.current_note() if current else self.fresh_note()))
        return path

    def export_bundle(self, path: str | os.PathLike) -> Path:
        """The model bundle (`nnengine.save_bundle`): one zip with the graph (its training
        block as this run used it), the weights and the metrics; `nnengine evaluate` and
        `predict` take it as --weights."""
        path = Path(path)
        model, current = self.export_model()
        trained = current and self.weights_source == TRAINED
        graph = self.graph.copy()
        if self.config is not None and trained:
            graph.training = {k: v for k, v in self.config.to_dict().items()
                              if k in graph.training or v != getattr(TrainingConfig(), k)}
        metrics: dict[str, Any] = {"epochs": self.metrics.epochs if trained else []}
        if self.test_metrics and trained:
            metrics["test"] = self.test_metrics
        nnengine.save_bundle(path, graph, model.get_weights(), metrics)
        self._say(f"model bundle saved to {path}" +
                  (self.current_note() if current else self.fresh_note()))
        return path

    def load_weights(self, path: str | os.PathLike) -> None:
        """Load a `.npz` or a model bundle's weights into the graph's model (built from the
        graph when there is none); every key and shape is checked, mismatches raise
        WeightsError naming them."""
        if self.is_active:
            raise WeightsError("stop training before loading weights")
        path = Path(path)
        self.set_weights(read_weights(path), source=path.name)

    def set_weights(self, weights: dict[str, np.ndarray], source: str = "weights") -> None:
        """Make `weights` (keyed "node/weight") the current weights of the graph, e.g. those
        of an imported model: evaluate, predict and export use them, and the next run trains
        on from them. Raises WeightsError naming every mismatch (nothing changes)."""
        if self.is_active:
            raise WeightsError("stop training before loading weights")
        model = nnengine.compile_model(self.graph.copy(), seed=self._seed())
        model.set_weights(weights, source=source)
        self.weights = SentWeights(model.get_weights(), 0, 0)
        self.model = self.probe = self.dataset = self.run = None
        self._run_graph = structure(self.graph)
        self.weights_source = source
        self._say(f"weights loaded from {source}")
        try:
            self._ready_probe()
        except (NNEngineError, OSError):
            return   # no usable data set yet: the plots wait for one
        self._publish_snapshot(self._local_snapshot(test=True))

    def reset_weights(self) -> None:
        """Forget the learned or loaded weights and the run's curves: the network is again
        as drawn from the graph's seed, the plots show it so, and the next Train starts
        from there. Refused (WeightsError) while a run is active."""
        if self.is_active:
            raise WeightsError("stop training before resetting the weights")
        self._reset_run()
        self._run_graph = self._probe_made_for = None
        self._set_state(TrainingState.IDLE)   # no longer "Trained · epoch 60/60"
        self.progress_changed.emit(self.progress)
        self.metrics_changed.emit(self.metrics)
        self._say(f"weights reset: freshly initialised from seed {self._seed()}")
        try:
            self._ready_probe()
        except (NNEngineError, OSError):
            return   # no usable data set yet: the plots wait for one
        self._publish_snapshot(self._local_snapshot(test=True))

    # --- after training: this window's own model around the weights -----------------------
    def evaluate(self) -> dict[str, float] | None:
        """Loss and accuracy on the data set's test split (None when it has none)."""
        probe = self._ready_probe()
        self.test_metrics = probe.evaluate_test()
        return self.test_metrics

    def predict(self, index: int, split: str = "test") -> dict[str, Any]:
        """{"output", "target", and for classification "predicted", "label"}."""
        return self._ready_probe().predict(split, index)

    def _ready_probe(self) -> Probe:
        """A probe in this window around the current weights (when they fit the graph) or an
        untrained model of the current graph; made once per set of weights."""
        if self.is_active:
            raise WeightsError("stop training first: the window evaluates and predicts with "
                               "the weights of a finished run")
        fits = self._fits()
        made_for = (self.weights if self.has_weights else None, structure(self.graph))
        old = self._probe_made_for
        if self.probe is not None and old is not None and old[0] is made_for[0] and \
                old[1] == made_for[1]:
            return self.probe
        config = TrainingConfig.from_dict(self.graph.training)
        if self.has_weights:
            model = nnengine.compile_model(self.graph.copy(), seed=config.seed)
            model.set_weights(self.weights.weights, source="the current weights")
            dataset = load_run_data(model, config, self.base_dir)
        else:
            model, dataset, config = prepare_run(self.graph, config, self.base_dir)
            self.weights_source = None
        trainer = Trainer(model, dataset, keep_scaling(model, config))
        self.model, self.dataset = model, dataset
        self.probe = Probe(trainer)
        self._probe_made_for = made_for
        if self.run is None or not fits:
            self.config = config
            self._run_graph = structure(self.graph)
            self.run = self.probe.describe(self.progress.epochs, [])
            self.run_started.emit()   # the plots follow this model and data set now
        return self.probe

    def _no_weights_text(self) -> str:
        if self.is_active:
            return ("no weights yet: the training process sends them at the end of each "
                    "epoch; try again after the first one")
        return "there are no weights yet: train the network first"

    def _fits(self) -> bool:
        return self._run_graph is not None and structure(self.graph) == self._run_graph

    def _seed(self) -> int:
        try:
            return TrainingConfig.from_dict(self.graph.training).seed
        except NNEngineError:
            return TrainingConfig().seed
