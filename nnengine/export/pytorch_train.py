"""`--format pytorch-train`: a folder that trains the design with PyTorch, on one CPU or with
`torchrun` on many processes and GPUs: model.py (the module), train.py (the loop, with the
graph's training block as its defaults), weights.npz (where it starts), README.md, and a
built-in data set written beside it as .npz.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ExportError
from ..training_config import TrainingConfig
from .pytorch_export import module_class_name, pytorch_source, torch_weights
from .train_script import train_script

SUPPORTED = {"loss": ("cross_entropy", "binary_cross_entropy", "mse", "mae", "hinge"),
             "optimizer": ("sgd", "adam", "rmsprop"), "target": ("labels", "one_hot", "inputs")}
"""What train.py reproduces; anything else is refused at export, by name."""


def export_pytorch_train(model, out_dir: str | os.PathLike,
                         base_dir: str | os.PathLike | None = None) -> None:
    """Write the training folder for `model` into `out_dir` (created if missing).

    `base_dir`: where a data file named by a relative path in the training block is found
    (the graph file's folder)."""
    from ..fileio import write_atomic
    from ..weights_io import save_weights

    config = TrainingConfig.from_dict(model.graph.training)
    _check_supported(config)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = _with_input_scaling(model) if config.standardize else model
    training = config.to_dict()
    training["dataset"] = _data_file(config.dataset, model, out, base_dir)
    settings = _settings(model, training)
    write_atomic(out / "model.py", pytorch_source(model).encode("utf-8"))
    write_atomic(out / "train.py", train_script(model.graph.name, module_class_name(model),
                                                settings).encode("utf-8"))
    write_atomic(out / "README.md", _readme(model, training).encode("utf-8"))
    save_weights(model, out / "weights.npz")


def _check_supported(config: TrainingConfig) -> None:
    chosen = {"loss": config.loss, "optimizer": config.optimizer.get("type", "adam"),
              "target": config.target}
    for what, value in chosen.items():
        if value not in SUPPORTED[what]:
            raise ExportError(f"the {what} '{value}' has no PyTorch training counterpart in "
                              f"train.py (it supports {', '.join(SUPPORTED[what])})")


def _with_input_scaling(model):
    """A copy of `model` whose float Inputs hold standardization statistics (zeros and ones
    until train.py computes them), so model.py gets the module that applies them."""
    from ..model import compile_model

    copy = compile_model(model.graph, dtype=model.dtype)
    copy.set_weights(model.get_weights())
    for input_id in copy.input_ids:
        if copy.input_dtype(input_id) != np.int64 and f"{input_id}/mean" not in copy.weights:
            shape = copy.shapes[input_id]
            copy.set_input_scaling(input_id, np.zeros(shape), np.ones(shape))
    return copy


def _data_file(dataset: str | None, model, out: Path, base_dir) -> str | None:
    """The data train.py reads by default: a built-in set is written beside it as .npz;
    a file keeps its path (absolute, so the folder can move)."""
    from ..datasets import BUILTIN, load_dataset

    if dataset is None:
        return None
    if dataset not in BUILTIN:
        path = Path(dataset)
        if base_dir is not None and not path.is_absolute():
            path = Path(base_dir) / path
        return str(path.resolve())
    data = load_dataset(dataset)
    arrays: dict[str, np.ndarray] = {"y": data.y_train, "y_test": data.y_test}
    for split, x in (("x", data.x_train), ("x_test", data.x_test)):
        if isinstance(x, np.ndarray):
            arrays[split] = x
            continue
        values = x.values() if isinstance(x, dict) else x
        for input_id, a in zip(model.input_ids, values):
            arrays[f"{split}_{input_id}"] = a
    from ..fileio import write_atomic

    write_atomic(out / f"{dataset}.npz", lambda f: np.savez(f, **arrays))
    return f"{dataset}.npz"


def _settings(model, training: dict[str, Any]) -> dict[str, Any]:
    out = model.steps[-1].layer
    activation = out.config.get("function") if out.spec.type == "Activation" else None
    weights = torch_weights(model)
    by_key = {w.key: w for w in weights}
    return {
        "TRAINING": training,
        "INPUTS": [{"id": i, "shape": list(model.shapes[i]),
                    "dtype": "int64" if model.input_dtype(i) == np.int64 else "float"}
                   for i in model.input_ids],
        "OUTPUT": {"id": model.output_id, "shape": list(model.output_shape),
                   "activation": activation if activation in ("softmax", "sigmoid") else None},
        "DTYPE": str(model.dtype),
        "TRAINABLE": [by_key[k].tensor for k in model.trainable_keys if k in by_key],
        "REGULARIZED": [by_key[k].tensor for k in model.regularized_keys if k in by_key],
        "STANDARDIZED": {i: [by_key[f"{i}/mean"].tensor, by_key[f"{i}/std"].tensor]
                         for i in model.input_ids if f"{i}/mean" in by_key},
    }


def _readme(model, training: dict[str, Any]) -> str:
    data = training["dataset"] or "your data (--data FILE)"
    return f"""# {model.graph.name}: training with PyTorch

Written by nnengine. `model.py` is the network (layers named after the node ids),
`train.py` trains it with the graph's training settings as defaults, starting from
`weights.npz`, on {data}.

    pip install torch numpy
    python train.py                                # one process (a GPU when there is one)
    torchrun --nproc_per_node=4 train.py           # DistributedDataParallel, 4 processes
    python train.py --help                         # every setting as a flag
    python train.py --resume                       # carry on from checkpoint.pt

`--batch-size` counts the samples of one step over all processes. After every epoch the
loss and accuracy are printed and `checkpoint.pt` is saved; at the end the test split is
evaluated and the weights are written as `trained.npz` (nnengine's format), which nnengine
and the app open as weights of this graph:

    nnengine evaluate GRAPH --weights trained.npz --dataset {training["dataset"] or "D"}
"""
