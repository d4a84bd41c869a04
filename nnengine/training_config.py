"""The `training` block of a graph file: every key has a default, unknown keys are errors."""
from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .catalogue import LOSSES, OPTIMIZERS
from .errors import ConfigError

SUGGESTED: dict[str, dict[str, Any]] = {
    "xor": {"optimizer": {"type": "adam", "learning_rate": 0.05}, "epochs": 100},
    "circles": {"optimizer": {"type": "adam", "learning_rate": 0.01}, "epochs": 100},
    "moons": {"optimizer": {"type": "adam", "learning_rate": 0.01}, "epochs": 100},
    "blobs": {"optimizer": {"type": "adam", "learning_rate": 0.01}, "epochs": 50},
    "separable": {"optimizer": {"type": "adam", "learning_rate": 0.01}, "epochs": 50},
    "spirals": {"optimizer": {"type": "adam", "learning_rate": 0.01}, "epochs": 400},
    "iris": {"optimizer": {"type": "adam", "learning_rate": 0.01}, "epochs": 100,
             "batch_size": 16, "standardize": True},
    "digits": {"optimizer": {"type": "adam", "learning_rate": 0.002}, "epochs": 20,
               "standardize": True},
    "sine": {"optimizer": {"type": "adam", "learning_rate": 0.01}, "epochs": 200},
    "sequences": {"optimizer": {"type": "adam", "learning_rate": 0.01}, "epochs": 15},
    "recall": {"optimizer": {"type": "adam", "learning_rate": 0.01}, "epochs": 20},
    "skipgram": {"optimizer": {"type": "adam", "learning_rate": 0.01}, "epochs": 10,
                 "batch_size": 64},
}
"""Settings per built-in data set, used for the keys a training block leaves out, so that
the network a learner builds first learns with only a data set and a loss chosen. Adam's
usual 0.001 for 10 epochs is far too little for the small 2-D sets: a 2-4-1 tanh net on xor
stays at 50% (measured by tests/engine/test_first_networks.py, which trains those networks
at several seeds, and by bench/lessons.py)."""


def suggested_settings(dataset: Any) -> dict[str, Any]:
    """The suggested settings for a built-in data set's name ({} for others)."""
    return copy.deepcopy(SUGGESTED.get(dataset, {})) if isinstance(dataset, str) else {}


@dataclass
class TrainingConfig:
    dataset: str | None = None
    loss: str = "cross_entropy"
    optimizer: dict[str, Any] = field(default_factory=lambda: {"type": "adam",
                                                               "learning_rate": 0.001})
    batch_size: int = 32
    epochs: int = 10
    validation_split: float = 0.2
    shuffle: bool = True
    seed: int = 0
    standardize: bool = False
    l2: float = 0.0
    clip_norm: float | None = None
    target: str = "labels"  # "one_hot": labels as one-hot vectors; "inputs": autoencoders

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, where: str = "training") -> TrainingConfig:
        """Check every key and value; raise ConfigError naming the first bad one. Keys left
        out take the data set's suggested settings (`SUGGESTED`), then the defaults."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise ConfigError(f"{where}: unknown key '{key}' (allowed: "
                                  f"{', '.join(sorted(known))})")
        config = cls(**{**suggested_settings(data.get("dataset")), **data})
        config.check(where)
        return config

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def replace(self, **changes: Any) -> TrainingConfig:
        data = self.to_dict()
        data.update({k: v for k, v in changes.items() if v is not None})
        return TrainingConfig.from_dict(data)

    def check(self, where: str = "training") -> None:
        def bad(key: str, why: str) -> ConfigError:
            return ConfigError(f"{where}: '{key}' {why}, received {getattr(self, key)!r}")

        def is_int(v: Any) -> bool:
            return isinstance(v, int) and not isinstance(v, bool)

        def is_num(v: Any) -> bool:
            return isinstance(v, (int, float)) and not isinstance(v, bool)

        if self.dataset is not None and not isinstance(self.dataset, str):
            raise bad("dataset", "must be a data set name or a file path")
        if self.loss not in LOSSES:
            raise bad("loss", f"must be one of {', '.join(LOSSES.names())}")
        if not isinstance(self.optimizer, dict):
            raise bad("optimizer", "must be an object like {\"type\": \"adam\"}")
        if self.optimizer.get("type", "adam") not in OPTIMIZERS:
            raise ConfigError(f"{where}: optimizer type must be one of "
                              f"{', '.join(OPTIMIZERS.names())}, received "
                              f"{self.optimizer.get('type')!r}")
        from .optimizers import make_optimizer

        try:
            make_optimizer(self.optimizer)
        except ConfigError as e:
            raise ConfigError(f"{where}: {e}") from None
        if not is_int(self.batch_size) or self.batch_size < 1:
            raise bad("batch_size", "must be a whole number >= 1")
        if not is_int(self.epochs) or self.epochs < 0:
            raise bad("epochs", "must be a whole number >= 0")
        if not is_num(self.validation_split) or not 0 <= self.validation_split < 1:
            raise bad("validation_split", "must be a number from 0 up to (not including) 1")
        if not isinstance(self.shuffle, bool):
            raise bad("shuffle", "must be true or false")
        if not isinstance(self.standardize, bool):
            raise bad("standardize", "must be true or false")
        if not is_int(self.seed) or self.seed < 0:
            raise bad("seed", "must be a whole number >= 0")
        if not is_num(self.l2) or self.l2 < 0:
            raise bad("l2", "must be a number >= 0")
        if self.target not in ("labels", "one_hot", "inputs"):
            raise bad("target", "must be \"labels\", \"one_hot\" (labels as one-hot vectors, "
                                "for mse on classes) or \"inputs\" (for autoencoders)")
        if self.clip_norm is not None and (not is_num(self.clip_norm) or self.clip_norm <= 0):
            raise bad("clip_norm", "must be a number > 0, or null for no clipping")


LABEL_LOSSES = ("cross_entropy", "hinge")   # losses of class labels: one output unit a class


def label_classes(config: TrainingConfig, output_id: str | None,
                  output_shape: Sequence[int] | None) -> tuple[str, int] | None:
    """(output id, classes) when `config` trains that output on class labels (a label
    loss, or one-hot targets): a data set's labels must then lie below its unit count;
    None when the targets are not classes or the output's shape is unknown."""
    if output_id is None or output_shape is None:
        return None
    if config.target == "one_hot":
        return output_id, math.prod(output_shape)
    if config.loss in LABEL_LOSSES and len(output_shape) == 1:
        return output_id, int(output_shape[0])
    return None
