"""Model, data and config of a run, built exactly as `nnengine train` builds them.

The training process builds its run with these (`compile_model(graph, seed=seed)`, data
reshaped to the Input nodes), so the window and the command line give the same weights for
the same graph and seed; the window uses them too when it evaluates or predicts after a run.
No Qt.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import nnengine as nn
from nnengine import TrainingConfig
from nnengine.errors import DatasetError


def prepare_run(graph: nn.Graph, training: dict[str, Any] | TrainingConfig,
                base_dir: str | Path | None = None
                ) -> tuple[nn.Model, nn.Dataset, TrainingConfig]:
    """Model, data set and config for a training run, built as the command line builds
    them: weights drawn from the config's seed, data reshaped to the Input nodes."""
    config = training if isinstance(training, TrainingConfig) else \
        TrainingConfig.from_dict(training)
    if not config.dataset:
        raise DatasetError("no data set chosen: pick one in the training panel")
    model = nn.compile_model(graph, seed=config.seed)
    return model, load_run_data(model, config, base_dir), config


def load_run_data(model: nn.Model, config: TrainingConfig,
                  base_dir: str | Path | None = None) -> nn.Dataset:
    """The config's data set, reshaped to the model's Input nodes."""
    if not config.dataset:
        raise DatasetError("no data set chosen: pick one in the training panel")
    shapes = {i: model.shapes[i] for i in model.input_ids}
    classes = nn.label_classes(config, model.output_id, model.output_shape)
    return nn.load_dataset(config.dataset, shapes, base_dir, classes)


def build_run(job: Any) -> tuple[nn.Model, nn.Dataset, TrainingConfig]:
    """Model, data and config of a `protocol.Job`, as `nnengine train` builds them (with
    `--weights` when the job starts from given weights); the training process and the
    watcher build the same."""
    if job.weights is None:
        return prepare_run(job.graph, job.config, job.base_dir)
    model = nn.compile_model(job.graph, seed=job.config.seed)
    model.set_weights(job.weights, source="the current weights")
    dataset = load_run_data(model, job.config, job.base_dir)
    return model, dataset, keep_scaling(model, job.config)


def keep_scaling(model: nn.Model, config: TrainingConfig) -> TrainingConfig:
    """The config a Trainer of a model that already holds weights gets: its standardization
    statistics (learned with its weights, or loaded with them) are kept, not recomputed."""
    if config.standardize and model.input_ids and \
            all(f"{i}/mean" in model.weights for i in model.input_ids):
        return config.replace(standardize=False)
    return config
