"""The `nnengine` commands validate, train, evaluate and predict (SPEC section 5); export
and its formats are in `cli_export`. Each `cmd_*` takes the parsed arguments and returns
the exit status; a user's mistake is a `CLIError`."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .bundle import metrics_to_json
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
from .layer_table import aligned
from .serialization import save_graph
from .trainer import Trainer, TrainingControl, evaluate
from .weights_io import save_weights

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
    changes = training_overrides(loaded, args)
    with reading(args.graph):
        config = loaded.config.replace(**changes)
    check_memory(loaded, 4, "training it (weights, gradients, optimizer state)")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CLIError(f"{out}: is a file; --out needs a folder for the results")
    name, data = get_dataset(loaded, args.dataset)
    model = build_model(loaded, args.weights, seed=config.seed, required=False)
    control = TrainingControl()
    previous = signal.getsignal(signal.SIGINT)

    def stop_softly(signum: int, frame: Any) -> None:
        control.stop()  # finish the batch, write what was learned so far
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.stderr.write("\nnnengine: stopping after this batch (Ctrl+C again to abort)\n")

    started = time.perf_counter()
    with reading(name):
        trainer = Trainer(model, data, config, [ProgressBar()], control)
    with reading(out):  # before training, so a bad folder does not cost a whole run
        out.mkdir(parents=True, exist_ok=True)
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
    graph = loaded.graph.copy()
    graph.training = {**graph.training, **changes}
    if not is_builtin(name):  # keep out/graph.json pointing at the same data file
        try:
            graph.training["dataset"] = os.path.relpath(Path(name).resolve(), out.resolve())
        except ValueError:  # another drive (Windows)
            graph.training["dataset"] = str(Path(name).resolve())
    metrics = {**history.columns(), "dataset": name, "epochs": history.epochs, "test": test,
               "batches_per_epoch": trainer.batches_per_epoch,
               "stopped_early": history.stopped_early, "seconds": round(seconds, 3)}
    with reading(out):
        save_weights(model, out / "weights.npz")
        write_atomic(out / "metrics.json", metrics_to_json(metrics).encode("utf-8"))
        save_graph(graph, out / "graph.json")
    summary = [f"{len(history.epochs)} epochs in {seconds:.1f}s"]
    if test:
        summary.append(", ".join(f"test {k} {v:.4f}" for k, v in test.items()))
    print(f"{'; '.join(summary)}; wrote {out / 'weights.npz'}, {out / 'metrics.json'}, "
          f"{out / 'graph.json'}")
    if history.stopped_early:
        say(f"nnengine: interrupted after {len(history.epochs)} of {config.epochs} epochs; "
            "the files hold the weights learned so far")
        return 130
    return 0


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
    print(json.dumps(result))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    loaded = load_checked(args.graph)
    check_memory(loaded, 1, "holding its weights")
    model = build_model(loaded, args.weights)
    x = read_inputs(args.input, model)
    with reading(args.input):
        for key, a in (x.items() if isinstance(x, dict) else [("x", x)]):
            check_sample_array(args.input, key, a)
    with reading(args.input), np.errstate(all="ignore"):
        y = model.predict(x)
    with reading(args.output):
        write_atomic(args.output, lambda f: np.save(f, y))
    print(f"wrote {args.output}: {len(y)} predictions of shape {list(y.shape[1:])}",
          file=sys.stderr)
    return 0


__all__ = ["cmd_evaluate", "cmd_predict", "cmd_train", "cmd_validate", "training_overrides"]
