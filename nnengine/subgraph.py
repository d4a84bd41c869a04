"""Running the part of a model after one node: a VAE's decoder fed codes of your choosing
(the app's generated-digits view), in inference mode."""
from __future__ import annotations

import numpy as np

from .errors import ConfigError
from .layers.base import FRESH
from .model import Model


def run_from(model: Model, node_id: str, value: np.ndarray) -> np.ndarray:
    """The model's output when node `node_id` outputs `value` (batch, *its shape) and
    everything after it runs in inference mode. Every node between it and the output must
    depend on it alone (a decoder after a code), else ConfigError says which does not."""
    if node_id not in model.step_index:
        raise ConfigError(f"no node '{node_id}' in the model")
    start = model.step_index[node_id]
    value = np.asarray(value, dtype=model.dtype)
    if value.shape[1:] != model.shapes[node_id]:
        raise ConfigError(f"node '{node_id}' outputs samples of shape "
                          f"{list(model.shapes[node_id])}, received {list(value.shape[1:])}")
    values: dict[int, np.ndarray] = {start: value}
    for i in range(start + 1, len(model.steps)):
        step = model.steps[i]
        if not any(s in values for s in step.sources):
            continue
        missing = [model.steps[s].node_id for s in step.sources if s not in values]
        if missing:
            raise ConfigError(f"node '{step.node_id}' also reads '{missing[0]}', which does "
                              f"not come after '{node_id}'")
        values[i], _ = step.layer.forward(step.weights, [values[s] for s in step.sources],
                                          False, None, FRESH)
    last = len(model.steps) - 1
    if last not in values:
        raise ConfigError(f"the output '{model.output_id}' does not come after '{node_id}'")
    return values[last]
