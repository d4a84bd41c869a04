"""Tools that look inside a model rather than train it: follow one sample through the
graph and back (`trace`, `sgd_step`), check backprop against finite differences
(`gradient_check`), sweep the learning rate (`lr_find`) and report what a fresh
initialisation does to activations and gradients (`init_report`).

Each works on a copy or restores what it changes: the model handed in keeps its weights.
"""
from __future__ import annotations

from .batches import Batch, probe_batch
from .gradcheck import GradientCheck, WeightCheck, gradient_check
from .init_stats import LayerInit, init_report
from .lr_range import LRFinderResult, lr_find
from .stepping import BackwardEvent, ForwardEvent, LossEvent, SGDStep, sgd_step, trace

__all__ = [
    "BackwardEvent", "Batch", "ForwardEvent", "GradientCheck", "LRFinderResult", "LayerInit",
    "LossEvent", "SGDStep", "WeightCheck", "gradient_check", "init_report", "lr_find",
    "probe_batch", "sgd_step", "trace",
]
