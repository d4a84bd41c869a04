"""nnengine: a pure-NumPy engine that compiles a networkx graph into a trainable model.

    import nnengine as nn
    graph = nn.load_graph("resources/examples/xor.json")
    model = nn.compile_model(graph, seed=0)
    config = nn.TrainingConfig.from_dict(graph.training)  # the file's training block
    history = nn.fit(model, nn.load_dataset(config.dataset), config)
    nn.save_weights(model, "xor_weights.npz")
"""
from __future__ import annotations

from . import cli_startup  # noqa: F401  (first: a Ctrl+C while `nnengine` starts exits 130)
from .bundle import Bundle, load_bundle, save_bundle
from .catalogue import layer_spec, layer_specs
from .datasets import Dataset, load_dataset
from .errors import (
                     ConfigError,
                     DatasetError,
                     FileFormatError,
                     GraphError,
                     NNEngineError,
                     Problem,
                     ShapeError,
                     TrainingDiverged,
                     WeightsError,
)
from .graph import Graph
from .model import Model, compile_model
from .serialization import graph_from_json, graph_to_json, load_graph, save_graph
from .tools import gradient_check, init_report, lr_find, probe_batch
from .trainer import Callback, History, Trainer, TrainingControl, evaluate, fit
from .training_config import TrainingConfig, label_classes
from .validation import Analysis, analyze
from .weights_io import apply_weights, load_weights, save_weights

__all__ = [
                     "Analysis",
                     "Bundle",
                     "Callback",
                     "ConfigError",
                     "Dataset",
                     "DatasetError",
                     "FileFormatError",
                     "Graph",
                     "GraphError",
                     "History",
                     "Model",
                     "NNEngineError",
                     "Problem",
                     "ShapeError",
                     "Trainer",
                     "TrainingConfig",
                     "TrainingControl",
                     "TrainingDiverged",
                     "WeightsError",
                     "analyze",
                     "apply_weights",
                     "compile_model",
                     "evaluate",
                     "fit",
                     "gradient_check",
                     "graph_from_json",
                     "graph_to_json",
                     "init_report",
                     "label_classes",
                     "layer_spec",
                     "layer_specs",
                     "load_bundle",
                     "load_dataset",
                     "load_graph",
                     "load_weights",
                     "lr_find",
                     "probe_batch",
                     "save_bundle",
                     "save_graph",
                     "save_weights",
]
