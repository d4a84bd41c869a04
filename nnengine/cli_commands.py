"""The `nnengine` commands validate, train, evaluate and predict (SPEC section 5); export
and its formats are in `cli_export`. Each `cmd_*` takes the parsed arguments and returns
the exit status; a user's mistake is a `CLIError`."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .bundle import metrics_to_json
from .catalogue import LOSSES
from .cli_inputs import (
    CLIError,
    Loaded,
    build_model,
    check_memory,
    get_dataset,
    load_checked,
    read_inputs,
    reading,
    say,
)
from .cli_progress import ProgressBar
from .datasets import BUILTIN, is_builtin
from .datasets.base import check_sample_array
from .errors import GraphError, Problem, TrainingDiverged
from .fileio import size_text, write_atomic
from .json_text import finite_json
from .layer_table import aligned
from .run_card import dataset_content_sha256, run_card
from .run_output import RUN_FILES, RunOutput
from .serialization import graph_to_json
from .trainer import Callback, History, Trainer, TrainingControl, evaluate
from .training_config import TrainingConfig
from .weights_io import weight_arrays

# --- validate ------------------------------------------------------------------------------

def cmd_validate(args: argparse.Namespace) -> int:
    loaded = load_checked(args.graph)
    check_memory(loaded, 1, "holding its weights")
    with reading(args.graph):
        _check_training_block(loaded)
    a, graph = loaded.analysis, loaded.graph
    rows = [("node", "type", "output shape", "params")]
    for node_id in graph.node_ids():
        rows.append((node_id, graph.type_of(node_id), str(list(a.shapes[node_id])),
                     f"{a.param_count(node_id):,}"))
    rows.append(("total", "", "", f"{a.total_params:,}"))
    print(aligned(rows, numeric_from=3))
    cfg = loaded.config
    opt = dict(cfg.optimizer)
    opt_text = opt.pop("type", "adam")
    if opt:
        opt_text += f" ({', '.join(f'{k} {v}' for k, v in opt.items())})"
    print(f"{args.graph}: valid, {len(graph)} nodes, {a.total_params:,} parameters "
          f"({size_text(a.total_params * 4)} as float32); training: data set "
          f"{cfg.dataset or '(none, give --dataset)'}, loss {cfg.loss}, optimizer {opt_text}, "
          f"batch size {cfg.batch_size}, {cfg.epochs} epochs")
    return 0


def _check_training_block(loaded: Loaded) -> None:
    """What the training block promises must be possible: its data set exists, and a
    classification loss gets a flat output."""
    cfg, a = loaded.config, loaded.analysis
    name = cfg.dataset
    if name is not None and not is_builtin(name):
        here = Path(loaded.path).parent / name
        if not here.exists() and not Path(name).exists():
            raise CLIError(f"{loaded.path}: training: dataset '{name}' is not a built-in data "
                           f"set ({', '.join(BUILTIN)}) and no such file exists")
    if cfg.target == "labels" and cfg.loss in ("cross_entropy", "hinge"):
        shape = a.shapes[a.output_id]
        if len(shape) != 1:
            raise GraphError([Problem(a.output_id, f"the loss {cfg.loss} needs a flat output "
                                      f"(classes,), but the output has shape {list(shape)}")],
                             loaded.path)


# --- train ---------------------------------------------------------------------------------

def training_overrides(loaded: Loaded, args: argparse.Namespace) -> dict[str, Any]:
    """The command-line options as changes to the file's training block."""
    changes: dict[str, Any] = {}
    for key in ("epochs", "batch_size", "seed", "dataset"):
        value = getattr(args, key)
        if value is not None:
            changes[key] = value
    if args.no_shuffle:
        changes["shuffle"] = False
    opt = dict(loaded.config.optimizer)
    if args.optimizer is not None and args.optimizer != opt.get("type", "adam"):
        opt = {"type": args.optimizer}  # the old options belong to the old optimizer
    if args.lr is not None:
        opt["learning_rate"] = args.lr
    if opt != loaded.config.optimizer:
        changes["optimizer"] = opt
    return changes


def cmd_train(args: argparse.Namespace) -> int:
    loaded = load_checked(args.graph)
    with reading(args.graph):
        if args.dataset is not None:  # the keys the file leaves out follow the new data set
            loaded.config = TrainingConfig.from_dict({**loaded.graph.training,
                                                      "dataset": args.dataset})
        changes = training_overrides(loaded, args)
        config = loaded.config.replace(**changes)
    # weights; gradients, gathered and squared (packed.py); Adam's two moments and scratch
    check_memory(loaded, 7, "training it (weights, gradients, optimizer state)")
    output = RunOutput(args.out)
    with reading(args.out):  # before training, so a bad folder does not cost a whole run
        output.prepare()
    try:
        return _train_into(output, loaded, changes, config, args)
    finally:
        output.discard()  # after a crash or an abort: DIR keeps the old set


def _train_into(output: RunOutput, loaded: Loaded, changes: dict[str, Any],
                config: TrainingConfig, args: argparse.Namespace) -> int:
    name, data = get_dataset(loaded, args.dataset)
    model = build_model(loaded, args.weights, seed=config.seed, required=False)
    stopper = _StopWhenAsked()
    previous = signal.getsignal(signal.SIGINT)

    def stop_softly(signum: int, frame: Any) -> None:
        stopper.asked = True  # finish the batch, write what was learned so far
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if sys.stderr.isatty():
            sys.stderr.write("\n")  # off the progress bar's line
        say("nnengine: interrupted; writing what was learned so far (Ctrl+C again stops now "
            f"and leaves {args.out} as it was)")

    started_at = time.time()
    started = time.perf_counter()
    with reading(name):
        trainer = Trainer(model, data, config, [ProgressBar(), stopper], stopper.control)
    try:
        signal.signal(signal.SIGINT, stop_softly)
        history = trainer.fit()
    except TrainingDiverged as e:
        raise CLIError(f"{args.graph}: {e}") from None
    finally:
        signal.signal(signal.SIGINT, previous)
    seconds = time.perf_counter() - started
    with reading(name), np.errstate(all="ignore"):
        test = trainer.evaluate_test() if len(data.y_test) else None
    ended = "stopped" if history.stopped_early or stopper.asked else "finished"
    graph = loaded.graph.copy()
    graph.training = {**graph.training, **changes}
    if not is_builtin(name):  # keep out/graph.json pointing at the same data file
        try:
            graph.training["dataset"] = os.path.relpath(Path(name).resolve(), output.path)
        except ValueError:  # another drive (Windows)
            graph.training["dataset"] = str(Path(name).resolve())
    metrics = {**_metric_columns(trainer, history), "dataset": name, "epochs": history.epochs,
               "test": test, "batches_per_epoch": trainer.batches_per_epoch,
               "stopped_early": history.stopped_early, "seconds": round(seconds, 3)}
    card = run_card(loaded.graph, config.to_dict(),
                    {"name": name, "sha256": dataset_content_sha256(data)},
                    datetime.fromtimestamp(started_at, UTC), round(seconds, 3),
                    len(history.epochs), ended, test)
    out = Path(args.out)
    weights = weight_arrays(model)
    with reading(out):
        output.commit({
            "weights.npz": lambda f: np.savez(f, **weights),
            "metrics.json": metrics_to_json(metrics, str(out / "metrics.json")).encode(),
            "graph.json": graph_to_json(graph).encode("utf-8"),
            "run.json": metrics_to_json(card, str(out / "run.json")).encode("utf-8")})
    done = len(history.epochs)
    summary = [f"{done} epochs in {seconds:.1f}s" if ended == "finished" else
               f"stopped after {done} of {config.epochs} epochs in {seconds:.1f}s"]
    if test:
        summary.append(", ".join(f"test {k} {v:.4f}" for k, v in test.items()))
    written = ", ".join(str(out / f) for f in RUN_FILES)
    print(f"{'; '.join(summary)}; wrote {written}")
    return 130 if ended == "stopped" else 0


class _StopWhenAsked(Callback):
    """Stops training after the batch in which Ctrl+C was pressed. The signal handler only
    sets `asked`: it runs between two bytecodes of the training thread, which may be
    holding the control's lock, so it must take no lock itself."""

    def __init__(self) -> None:
        self.control = TrainingControl()
        self.asked = False

    def on_batch_end(self, trainer: Trainer, epoch: int, batch: int, logs: dict) -> None:
        if self.asked:
            self.control.stop()


def _metric_columns(trainer: Trainer, history: History) -> dict[str, list]:
    """Keras' per-epoch lists, one for each metric this run measures, even when it ran no
    epoch (`--epochs 0`): loss, accuracy where it applies, and the validation ones."""
    keys = ["loss"]
    if LOSSES.get(trainer.config.loss).classification:
        keys.append("accuracy")
    if len(trainer.y_val):
        keys += ["val_" + k for k in keys]
    return {k: [e.get(k) for e in history.epochs] for k in keys}


# --- evaluate, predict ---------------------------------------------------------------------

def cmd_evaluate(args: argparse.Namespace) -> int:
    loaded = load_checked(args.graph)
    check_memory(loaded, 1, "holding its weights")
    model = build_model(loaded, args.weights)
    name, data = get_dataset(loaded, args.dataset)
    if not len(data.y_test):
        raise CLIError(f"{name}: the data set has no test samples")
    with reading(name), np.errstate(all="ignore"):
        result = evaluate(model, data, loaded.config)  # keeps the weights' standardization
    print(finite_json(result, "the evaluation"))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    loaded = load_checked(args.graph)
    for kind, path in (("input", args.input), ("graph", args.graph), ("weights", args.weights)):
        if path is not None and _same_file(args.output, path):
            raise CLIError(f"{args.output}: is also the {kind} file; give --output another "
                           "file (writing it would destroy what is read)", 2)
    check_memory(loaded, 1, "holding its weights")
    model = build_model(loaded, args.weights)
    x = read_inputs(args.input, model)
    with reading(args.input):
        for key, a in (x.items() if isinstance(x, dict) else [("x", x)]):
            check_sample_array(args.input, key, a)
            _warn_unrepresentable(args.input, key, a, model.dtype)
    with reading(args.input), np.errstate(all="ignore"):
        y = model.predict(x)
    bad = int(y.size - np.count_nonzero(np.isfinite(y)))
    if bad:
        warnings.warn(f"{args.output}: {bad:,} of the {y.size:,} predicted values are NaN or "
                      "infinite", stacklevel=1)
    with reading(args.output):
        write_atomic(args.output, lambda f: np.save(f, y))
    print(f"wrote {args.output}: {len(y)} predictions of shape {list(y.shape[1:])}",
          file=sys.stderr)
    return 0


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one file (through links, or spelled differently)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _warn_unrepresentable(source: str, key: str, a: np.ndarray, dtype: np.dtype) -> None:
    """Inputs that are NaN, infinite or beyond the model's float range give NaN or infinite
    predictions: say so, once, instead of NumPy's multi-line overflow warnings."""
    if a.dtype.kind != "f":
        return
    with np.errstate(all="ignore"):
        bad = int(np.count_nonzero(~np.isfinite(a.astype(dtype, copy=False))))
    if bad:
        limit = np.finfo(dtype).max
        warnings.warn(f"{source}: '{key}' holds {bad:,} values that are NaN, infinite or "
                      f"beyond {np.dtype(dtype).name}'s range (±{limit:.3g}); their "
                      "predictions will not be finite", stacklevel=1)


__all__ = ["cmd_evaluate", "cmd_predict", "cmd_train", "cmd_validate", "training_overrides"]
