"""The controller's weights: where they come from, and exporting, loading and importing them.

`weights_source` says where the model's weights come from: None (drawn from the seed),
`TRAINED` (learned by a run), or the name of the file they were loaded from. Weights belong
to the graph structure they were made for (`structure`): after a structural edit they no
longer fit, and exports fall back to fresh weights drawn from the seed. Loaded weights are
never thrown away by a plain Train: the next run trains on from them.

`WeightsMixin` is one side of `TrainingController` (see controller.py), which provides the
attributes declared below and `graph`, `base_dir`, `is_active`, `_say` and `run_started`.
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

import nnengine
from nnengine import Graph, NNEngineError, Trainer, TrainingConfig
from nnengine.bundle import is_bundle
from nnengine.errors import WeightsError

from .metrics import MetricsStore
from .probe import Probe
from .states import TRAINED
from .worker import keep_scaling, load_run_data, prepare_run


def structure(graph: Graph) -> str:
    """The graph without positions and training settings: what the weights depend on."""
    d = graph.to_dict()
    nodes = [{k: v for k, v in n.items() if k != "position"} for n in d["nodes"]]
    return json.dumps({"nodes": nodes, "edges": d["edges"]}, sort_keys=True)


class WeightsMixin:
    """Current weights of the controller's model: query, export, load, import."""

    config: TrainingConfig | None
    model: nnengine.Model | None
    dataset: nnengine.Dataset | None
    probe: Probe | None
    metrics: MetricsStore
    test_metrics: dict | None
    weights_source: str | None
    _run_graph: str | None      # `structure` of the graph the current model was built from

    @property
    def has_weights(self) -> bool:
        """The controller holds weights that fit the current graph (trained or loaded)."""
        return self.model is not None and self._fits()

    @property
    def weights_loaded(self) -> bool:
        """The current weights were loaded or imported and no run has trained on them yet."""
        return self.has_weights and self.weights_source not in (None, TRAINED)

    def current_weights(self) -> dict[str, np.ndarray]:
        """A copy of the model's weights; while a run is alive the copy is made on the
        training thread between two batches."""
        if self.model is None:
            raise WeightsError("there are no weights yet: train the network first")
        if self._thread is None:
            return self.model.get_weights()
        box: dict[str, Any] = {}
        done = threading.Event()

        def task() -> None:
            box["w"] = self.model.get_weights()
            done.set()

        self._control.post(task)
        if not done.wait(30):
            raise WeightsError("the training thread did not answer; try again when paused")
        return box["w"]

    def export_model(self) -> tuple[nnengine.Model, bool]:
        """A model of the current graph holding the weights to export, and True when they
        are the current (trained or loaded) weights; False: nothing fits the graph yet (no
        run, or the graph changed since), so they are fresh ones drawn from its seed."""
        model = nnengine.compile_model(self.graph.copy(), seed=self._seed())
        if not self.has_weights:
            return model, False
        model.set_weights(self.current_weights(), source="the current weights")
        return model, True

    def fresh_note(self) -> str:
        """What to add to an export's message when `export_model` gave fresh weights."""
        return (f" with freshly initialised weights (seed {self._seed()}): the network has "
                "not been trained yet")

    def export_weights(self, path: str | os.PathLike) -> Path:
        """Write the weights as `.npz` keyed "node/weight" (SPEC section 4), atomically:
        the current ones, or fresh ones from the seed before any training."""
        path = Path(path)
        model, current = self.export_model()
        nnengine.save_weights(model, path)
        self._say(f"weights saved to {path}" + ("" if current else self.fresh_note()))
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
        self._say(f"model bundle saved to {path}" + ("" if current else self.fresh_note()))
        return path

    def load_weights(self, path: str | os.PathLike) -> None:
        """Load a `.npz` or a model bundle's weights into the graph's model (built from the
        graph when there is none); every key and shape is checked, mismatches raise
        WeightsError naming them."""
        if self.is_active:
            raise WeightsError("stop training before loading weights")
        path = Path(path)
        if is_bundle(path):
            weights = nnengine.load_bundle(path).weights
        else:
            weights = nnengine.load_weights(path)
        self.set_weights(weights, source=path.name)

    def set_weights(self, weights: dict[str, np.ndarray], source: str = "weights") -> None:
        """Make `weights` (keyed "node/weight") the current weights of the graph's model, e.g.
        those of an imported model: evaluate, predict and export use them, and the next run
        trains on from them. Raises WeightsError naming every mismatch (nothing changes)."""
        if self.is_active:
            raise WeightsError("stop training before loading weights")
        model = self.model if self.has_weights else \
            nnengine.compile_model(self.graph.copy(), seed=self._seed())
        model.set_weights(weights, source=source)
        if model is not self.model:
            self.model, self.probe, self.dataset = model, None, None
            self._run_graph = structure(self.graph)
        self.weights_source = source
        self._say(f"weights loaded from {source}")
        try:
            self._ready_probe()
        except (NNEngineError, OSError):
            return   # no usable data set yet: the plots wait for one
        self._publish_snapshot(self._local_snapshot(test=True))

    # --- internals ------------------------------------------------------------------------
    def _ready_probe(self) -> Probe:
        """The probe of the last run, or a fresh one around the current weights (when they
        fit the graph) or an untrained model of the current graph."""
        if self.is_active:
            raise WeightsError("stop training first")
        if self.probe is not None and self.probe.model is self.model and self._fits():
            return self.probe
        config = TrainingConfig.from_dict(self.graph.training)
        if self.has_weights:
            model = self.model
            dataset = load_run_data(model, config, self.base_dir)
        else:
            model, dataset, config = prepare_run(self.graph, config, self.base_dir)
            self.weights_source = None
        trainer = Trainer(model, dataset, keep_scaling(model, config))
        self.config, self.model, self.dataset = config, model, dataset
        self.probe = Probe(trainer)
        self._run_graph = structure(self.graph)
        self.run_started.emit()   # the plots follow this model and data set now
        return self.probe

    def _fits(self) -> bool:
        return self._run_graph is not None and structure(self.graph) == self._run_graph

    def _seed(self) -> int:
        try:
            return TrainingConfig.from_dict(self.graph.training).seed
        except NNEngineError:
            return TrainingConfig().seed
