"""nnengine: a pure-NumPy engine that compiles a networkx graph into a trainable model.

    import nnengine as nn
    graph = nn.load_graph("resources/examples/xor.json")
    model = nn.compile_model(graph, seed=0)
    history = nn.fit(model, nn.load_dataset("xor"), epochs=200)
"""
from __future__ import annotations

from .catalogue import layer_spec, layer_specs
from .datasets import Dataset, load_dataset
from .errors import (ConfigError, DatasetError, FileFormatError, GraphError, NNEngineError,
                     Problem, ShapeError, TrainingDiverged, WeightsError)
from .graph import Graph
from .model import Model, compile_model
from .trainer import Callback, History, Trainer, TrainingControl, fit
from .training_config import TrainingConfig
from .validation import Analysis, analyze

__all__ = [
    "Analysis", "Callback", "ConfigError", "Dataset", "DatasetError", "FileFormatError",
    "Graph", "GraphError", "History", "Model", "NNEngineError", "Problem", "ShapeError",
    "Trainer", "TrainingConfig", "TrainingControl", "TrainingDiverged", "WeightsError",
    "analyze", "compile_model", "fit", "layer_spec", "layer_specs", "load_dataset",
]
