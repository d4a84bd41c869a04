"""The `nnengine` command (SPEC section 5): validate, train, evaluate, predict, export.

Exit status: 0 done, 1 bad input (one line on stderr, "nnengine: FILE: message"), 2 bad
usage (argparse, also one line), 130 interrupted. Nothing a user can cause prints a Python
traceback; for an internal error set NNENGINE_DEBUG=1 to see one.

Wherever a GRAPH is expected, a model bundle (zip with graph.json and weights.npz, written
by `export --format bundle`) works too, and then `--weights` may be left out.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .catalogue import OPTIMIZERS
from .datasets import BUILTIN, Dataset, load_dataset
from .errors import GraphError, NNEngineError, Problem, TrainingDiverged
from .graph import Graph
from .model import Model, compile_model
from .serialization import (
    is_bundle,
    load_bundle,
    load_graph,
    load_weights,
    metrics_to_json,
    save_bundle,
    save_graph,
    save_weights,
    write_atomic,
)
from .trainer import Callback, Trainer, TrainingControl
from .training_config import TrainingConfig
from .validation import Analysis, analyze


class CLIError(Exception):
    """A message for the user (already naming the file) and the exit status."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


@contextmanager
def reading(path: object) -> Iterator[None]:
    """Turn every error a user's file can cause into one CLIError naming that file."""
    try:
        yield
    except CLIError:
        raise
    except NNEngineError as e:
        raise CLIError(_with_file(path, str(e))) from None
    except MemoryError:
        raise CLIError(_with_file(path, "not enough memory to load it")) from None
    except OSError as e:
        where = e.filename if e.filename is not None else path
        raise CLIError(_with_file(where, e.strerror or str(e))) from None
    except (ValueError, EOFError, zipfile.BadZipFile, zlib.error, RecursionError) as e:
        raise CLIError(_with_file(path, f"cannot be read ({e})")) from None


def _with_file(path: object, message: str) -> str:
    if path is None:
        return message
    names = {str(path), os.fspath(Path(str(path)))}
    if any(message.startswith((f"{n}:", f"{n}/")) for n in names):
        return message
    return f"{path}: {message}"


# --- loading -------------------------------------------------------------------------------

@dataclass
class Loaded:
    path: str
    graph: Graph
    analysis: Analysis
    weights: dict[str, np.ndarray] | None  # from a bundle
    config: TrainingConfig
    metrics: Any = None  # from a bundle, or the metrics.json beside --weights


def load_checked(path: str) -> Loaded:
    """A graph file (or bundle), validated; every problem is a CLIError naming the file."""
    with reading(path):
        metrics = None
        if is_bundle(path):
            graph, weights, metrics = load_bundle(path)
        else:
            graph, weights = load_graph(path), None
        analysis = analyze(graph)
        if analysis.problems:
            raise GraphError(analysis.problems, path)
        config = TrainingConfig.from_dict(graph.training, where="training")
    return Loaded(path, graph, analysis, weights, config, metrics)


def available_memory() -> int | None:
    """Bytes of memory this process could still get (MemAvailable on Linux)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(loaded: Loaded, copies: int, purpose: str) -> None:
    """Refuse a model whose weights (times `copies`: gradients, optimizer state) cannot fit."""
    params = loaded.analysis.total_params
    need = params * 4 * copies
    have = available_memory()
    if have is not None and need > have:
        raise CLIError(f"{loaded.path}: the model has {params:,} parameters; {purpose} needs "
                       f"about {size_text(need)} of memory, but this machine has "
                       f"{size_text(have)} available")


def size_text(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB", "EB"):
        if n < 1000 or unit == "EB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} bytes"


def get_dataset(loaded: Loaded, option: str | None, status_if_missing: int = 2
                ) -> tuple[str, Dataset]:
    """The --dataset option, else the file's training.dataset (a relative path there starts
    at the graph file's folder)."""
    name, base = option, None
    if name is None:
        name = loaded.config.dataset
        base = Path(loaded.path).parent
    if name is None:
        raise CLIError(f"{loaded.path}: no data set to use; give --dataset, or set \"dataset\" "
                       "in the file's training block", status_if_missing)
    shapes = {i: loaded.analysis.shapes[i] for i in loaded.analysis.input_ids}
    with reading(name):
        if base is not None and name not in BUILTIN and not Path(name).is_absolute():
            name = str(base / name) if (base / name).exists() else name
        return name, load_dataset(name, shapes)


def build_model(loaded: Loaded, weights_path: str | None, seed: int = 0,
                required: bool = True) -> Model:
    """Compile the graph and load weights from --weights, a bundle, or (training) the seed."""
    weights = loaded.weights
    if weights_path is not None:
        with reading(weights_path):
            if is_bundle(weights_path):
                bundle = load_bundle(weights_path)
                weights, loaded.metrics = bundle.weights, bundle.metrics
            else:
                weights = load_weights(weights_path)
                beside = Path(weights_path).with_name("metrics.json")
                if beside.is_file():
                    try:
                        loaded.metrics = json.loads(beside.read_text(encoding="utf-8"))
                    except (OSError, ValueError):
                        pass  # the metrics are a courtesy for bundles, not needed
    if weights is None and required:
        raise CLIError(f"{loaded.path}: give the trained weights with --weights W.npz", 2)
    dtype = np.float64 if weights and any(v.dtype == np.float64 for v in weights.values()) \
        else np.float32
    with reading(loaded.path):
        model = compile_model(loaded.graph, seed=seed, dtype=dtype)
    if weights is not None:
        with reading(weights_path or loaded.path):
            model.set_weights(weights, source="the weights")
    return model


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
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for i, row in enumerate(rows):
        if i == len(rows) - 1:
            print("  ".join("-" * w for w in widths))
        cells = [row[c].ljust(widths[c]) for c in range(3)] + [row[3].rjust(widths[3])]
        print("  ".join(cells).rstrip())
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
    if name is not None and name not in BUILTIN:
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

class ProgressBar(Callback):
    """A bar per epoch on stderr; redrawn in place on a terminal, one line per epoch else."""

    def __init__(self, stream: Any = None, width: int = 24):
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.last_draw = 0.0
        self.started = 0.0

    def on_train_begin(self, trainer: Trainer) -> None:
        self.epochs = trainer.config.epochs
        self.batches = trainer.batches_per_epoch

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        self.started = time.perf_counter()

    def on_batch_end(self, trainer: Trainer, epoch: int, batch: int, logs: dict) -> None:
        now = time.perf_counter()
        if self.tty and (now - self.last_draw > 0.1 or batch == self.batches):
            self.last_draw = now
            text = f"loss {logs['loss']:.4f}"
            if "accuracy" in logs:
                text += f"  acc {logs['accuracy']:.3f}"
            self._draw(epoch, batch, text, end="")

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict) -> None:
        parts = [f"loss {logs['loss']:.4f}"]
        for key, label in (("accuracy", "acc"), ("val_loss", "val_loss"),
                           ("val_accuracy", "val_acc")):
            if key in logs:
                parts.append(f"{label} {logs[key]:.4f}")
        parts.append(f"{time.perf_counter() - self.started:.2f}s")
        self._draw(epoch, self.batches, "  ".join(parts), end="\n")

    def _draw(self, epoch: int, batch: int, text: str, end: str) -> None:
        done = int(self.width * batch / max(self.batches, 1))
        bar = "=" * done + (">" if done < self.width else "") + " " * (self.width - done - 1)
        digits = len(str(self.epochs))
        line = (f"epoch {epoch:>{digits}}/{self.epochs} [{bar[:self.width]}] "
                f"{batch:>{len(str(self.batches))}}/{self.batches}  {text}")
        prefix = "\r\033[K" if self.tty else ""
        self.stream.write(prefix + line + end)
        self.stream.flush()


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
    if name not in BUILTIN:  # keep out/graph.json pointing at the same data file
        try:
            graph.training["dataset"] = os.path.relpath(Path(name).resolve(), out.resolve())
        except ValueError:  # another drive (Windows)
            graph.training["dataset"] = str(Path(name).resolve())
    metrics = {"dataset": name, "epochs": history.epochs, "test": test,
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
        _say(f"nnengine: interrupted after {len(history.epochs)} of {config.epochs} epochs; "
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
    # The weights already hold any standardization; do not recompute it from this data.
    config = loaded.config.replace(standardize=False, validation_split=0.0)
    with reading(name), np.errstate(all="ignore"):
        result = Trainer(model, data, config).evaluate_test()
    print(json.dumps(result))
    return 0


def read_inputs(path: str, model: Model) -> np.ndarray | dict[str, np.ndarray]:
    """A .npy array (one Input) or a .npz keyed by Input id."""
    with reading(path), open(path, "rb") as f:
        head = f.read(6)
        f.seek(0)
        if head.startswith(b"PK"):
            with np.load(f, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            if len(model.input_ids) == 1 and model.input_ids[0] not in arrays:
                if len(arrays) != 1:
                    raise CLIError(f"{path}: has arrays {', '.join(sorted(arrays))}; name the "
                                   f"array for the input '{model.input_ids[0]}' after it")
                return next(iter(arrays.values()))
            missing = [i for i in model.input_ids if i not in arrays]
            if missing:
                raise CLIError(f"{path}: has no array '{missing[0]}' for the model's input "
                               f"'{missing[0]}' (found {', '.join(sorted(arrays)) or 'none'})")
            return {i: arrays[i] for i in model.input_ids}
        if head != b"\x93NUMPY":
            raise CLIError(f"{path}: is not a .npy or .npz file")
        x = np.load(f, allow_pickle=False)
    if len(model.input_ids) != 1:
        raise CLIError(f"{path}: the model has {len(model.input_ids)} inputs "
                       f"({', '.join(model.input_ids)}); give a .npz with one array per input")
    return x


def cmd_predict(args: argparse.Namespace) -> int:
    loaded = load_checked(args.graph)
    check_memory(loaded, 1, "holding its weights")
    model = build_model(loaded, args.weights)
    x = read_inputs(args.input, model)
    for key, a in (x.items() if isinstance(x, dict) else [("x", x)]):
        if a.dtype.kind not in "biuf" or a.ndim < 1:
            raise CLIError(f"{args.input}: '{key}' must be an array of numbers, one row per "
                           f"sample; found dtype {a.dtype}, shape {list(a.shape)}")
    with reading(args.input), np.errstate(all="ignore"):
        y = model.predict(x)
    with reading(args.output):
        write_atomic(args.output, lambda f: np.save(f, y))
    print(f"wrote {args.output}: {len(y)} predictions of shape {list(y.shape[1:])}",
          file=sys.stderr)
    return 0


# --- export --------------------------------------------------------------------------------

Exporter = Callable[[Loaded, Model, Path], None]


@dataclass(frozen=True)
class ExportFormat:
    """An `export --format` choice; `write` is None while the format is not built yet."""

    name: str
    description: str
    write: Exporter | None = None


def _export_npz(loaded: Loaded, model: Model, out: Path) -> None:
    save_weights(model, out)


def _export_bundle(loaded: Loaded, model: Model, out: Path) -> None:
    save_bundle(out, loaded.graph, model, loaded.metrics)


def _export_onnx(loaded: Loaded, model: Model, out: Path) -> None:
    from .export import export_onnx  # onnx itself is imported only when used

    export_onnx(model, out)


def _export_pytorch(loaded: Loaded, model: Model, out: Path) -> None:
    """The module source, and the weights beside it for its `load_npz_weights`."""
    from .export import export_pytorch

    export_pytorch(model, out)
    weights = out.with_suffix(".npz")
    save_weights(model, weights if weights != out else out.with_name(out.name + ".npz"))


EXPORT_FORMATS: dict[str, ExportFormat] = {
    "npz": ExportFormat("npz", "the weights, checked against the graph, as a clean .npz",
                        _export_npz),
    "bundle": ExportFormat("bundle", "graph, weights and metrics in one .zip file",
                           _export_bundle),
    "onnx": ExportFormat("onnx", "a standard ONNX model for onnxruntime", _export_onnx),
    "pytorch": ExportFormat("pytorch", "a PyTorch module source (.py), its weights beside it "
                            "(.npz)", _export_pytorch),
}
"""Plug a format in by giving its entry a `write(loaded, model, output_path)` function."""


def cmd_export(args: argparse.Namespace) -> int:
    fmt = EXPORT_FORMATS[args.format]
    if fmt.write is None:
        raise CLIError(f"format '{fmt.name}' is not available yet")
    loaded = load_checked(args.graph)
    check_memory(loaded, 1, "holding its weights")
    model = build_model(loaded, args.weights)
    with reading(args.output):
        fmt.write(loaded, model, Path(args.output))
    print(f"wrote {args.output} ({fmt.name})", file=sys.stderr)
    return 0


# --- the parser ----------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit status 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _int_at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, received {text!r}")
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, received {value}")
        return value
    return parse


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, received {text!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number greater than 0, received {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nnengine", description="Validate, train, evaluate, run and export "
                     "neural network graphs (nnengine graph files, SPEC section 2).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    graph_help = "graph file (.json), or a model bundle (.zip)"
    data_help = (f"built-in data set ({', '.join(BUILTIN)}) or a .csv, .npz, IDX file or "
                 "image folder (default: the graph file's training.dataset)")

    p = sub.add_parser("validate", help="check a graph file and print its summary table")
    p.add_argument("graph", metavar="GRAPH", help=graph_help)
    p.set_defaults(run=cmd_validate)

    p = sub.add_parser("train", help="train a graph; write DIR/weights.npz, metrics.json, "
                                     "graph.json")
    p.add_argument("graph", metavar="GRAPH", help=graph_help)
    p.add_argument("--dataset", metavar="D", help=data_help)
    p.add_argument("--epochs", type=_int_at_least(0), metavar="N")
    p.add_argument("--batch-size", type=_int_at_least(1), metavar="B")
    p.add_argument("--lr", type=_positive_float, metavar="X", help="learning rate")
    p.add_argument("--optimizer", choices=OPTIMIZERS.names(), metavar="O",
                   help=f"one of {', '.join(OPTIMIZERS.names())}")
    p.add_argument("--seed", type=_int_at_least(0), metavar="S")
    p.add_argument("--no-shuffle", action="store_true", help="keep the samples in file order")
    p.add_argument("--weights", metavar="INIT.npz", help="start from these weights")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the results")
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("evaluate", help="print test loss and accuracy as JSON")
    p.add_argument("graph", metavar="GRAPH", help=graph_help)
    p.add_argument("--weights", metavar="W", help="trained weights (.npz)")
    p.add_argument("--dataset", metavar="D", help=data_help)
    p.set_defaults(run=cmd_evaluate)

    p = sub.add_parser("predict", help="run the model on inputs, in inference mode")
    p.add_argument("graph", metavar="GRAPH", help=graph_help)
    p.add_argument("--weights", metavar="W", help="trained weights (.npz)")
    p.add_argument("--input", required=True, metavar="X",
                   help=".npy array, or .npz with one array per Input id")
    p.add_argument("--output", required=True, metavar="Y.npy", help="where to write outputs")
    p.set_defaults(run=cmd_predict)

    p = sub.add_parser("export", help="export trained weights to another format")
    p.add_argument("graph", metavar="GRAPH", help=graph_help)
    p.add_argument("--weights", metavar="W", help="trained weights (.npz)")
    p.add_argument("--format", required=True, choices=list(EXPORT_FORMATS), metavar="F",
                   help="; ".join(f"{f.name}: {f.description}" +
                                  ("" if f.write else " (not available yet)")
                                  for f in EXPORT_FORMATS.values()))
    p.add_argument("--output", required=True, metavar="PATH")
    p.set_defaults(run=cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except CLIError as e:
        _say(f"nnengine: {e}")
        return e.status
    except KeyboardInterrupt:
        _say("nnengine: interrupted")
        return 130
    except BrokenPipeError:  # e.g. `nnengine validate g.json | head -1`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as e:  # a bug, not the user's fault: still no traceback by default
        if os.environ.get("NNENGINE_DEBUG"):
            raise
        _say(f"nnengine: internal error, please report it: {type(e).__name__}: {e} "
             "(set NNENGINE_DEBUG=1 to see the traceback)")
        return 1


def _say(message: str) -> None:
    sys.stderr.write(" ".join(message.split("\n")) + "\n")
    sys.stderr.flush()


__all__ = ["EXPORT_FORMATS", "CLIError", "ExportFormat", "ProgressBar", "build_parser", "main"]
