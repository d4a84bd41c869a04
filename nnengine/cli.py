"""The `nnengine` command (SPEC section 5): validate, train, evaluate, predict, export.

Exit status: 0 done, 1 bad input (one line on stderr, "nnengine: FILE: message"), 2 bad
usage (argparse, also one line), 130 interrupted. Nothing a user can cause prints a Python
traceback; for an internal error set NNENGINE_DEBUG=1 to see one.

This module holds the parser, `main` and the last line of error handling. The commands are
in `cli_commands` (validate, train, evaluate, predict) and `cli_export` (export and its
format registry, `EXPORT_FORMATS`); what they read and the `CLIError` they raise are in
`cli_inputs`; training's progress bar is in `cli_progress`.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .catalogue import OPTIMIZERS
from .cli_commands import cmd_evaluate, cmd_predict, cmd_train, cmd_validate
from .cli_export import EXPORT_FORMATS, ExportFormat, cmd_export
from .cli_inputs import CLIError, say
from .cli_progress import ProgressBar
from .cli_startup import interrupted_while_starting, started_as_command
from .datasets import BUILTIN

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
    parser = _Parser(prog="nnengine", description="Validate, train, evaluate, run and "
                     "export neural network graphs: graph files (.json, as the nn-designer app "
                     "saves them) and model bundles (.zip). README.md shows examples.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    graph_help = "graph file (.json), or a model bundle (.zip)"
    data_help = (f"built-in data set ({', '.join(BUILTIN)}) or a .csv, .npz, IDX file or "
                 "image folder (default: the graph file's training.dataset)")

    p = sub.add_parser("validate", help="check a graph file and print its summary table")
    p.add_argument("graph", metavar="GRAPH", help=graph_help)
    p.set_defaults(run=cmd_validate)

    p = sub.add_parser("train", help="train a graph; write DIR/weights.npz, metrics.json, "
                                     "graph.json and run.json as one set")
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
    try:
        if interrupted_while_starting():
            raise KeyboardInterrupt
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            return _run(argv)
    except KeyboardInterrupt:  # also one that came while an error was being reported
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a further Ctrl+C changes nothing
        say("nnengine: interrupted")
        return 130
    finally:
        if started_as_command():  # the work is done: a Ctrl+C during the interpreter's exit
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # must not end it by the signal


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str,
                      lineno: int, file: Any = None, line: str | None = None) -> None:
    """Warnings (NumPy's overflow in a cast, a NaN written as null) as one line each."""
    say(f"nnengine: warning: {message}")


def _run(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except CLIError as e:
        say(f"nnengine: {e}")
        return e.status
    except BrokenPipeError:  # e.g. `nnengine validate g.json | head -1`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as e:  # a bug, not the user's fault: still no traceback by default
        if os.environ.get("NNENGINE_DEBUG"):
            raise
        say(f"nnengine: internal error, please report it: {type(e).__name__}: {e} "
            "(set NNENGINE_DEBUG=1 to see the traceback)")
        return 1


__all__ = ["EXPORT_FORMATS", "CLIError", "ExportFormat", "ProgressBar", "build_parser", "main"]
