"""Typed errors with messages a user understands: what is wrong, where, what was received."""
from __future__ import annotations

from dataclasses import dataclass


class NNEngineError(Exception):
    """Base of every error a user can cause; the CLI and GUI show its message, never a traceback."""


@dataclass(frozen=True)
class Problem:
    """One validation problem, tied to the node that causes it (None for graph-wide ones).

    `code` lets the GUI offer a repair (e.g. "needs_flatten"); `message` is for people.
    """

    node_id: str | None
    message: str
    code: str = "invalid"

    def __str__(self) -> str:
        return f"node '{self.node_id}': {self.message}" if self.node_id else self.message


class ConfigError(NNEngineError):
    """A layer, loss, optimizer or training parameter has a bad value."""


class ShapeError(NNEngineError):
    """A layer cannot accept the shapes it is given; `code` names a known repair, if any."""

    def __init__(self, message: str, code: str = "shape"):
        super().__init__(message)
        self.code = code


class GraphError(NNEngineError):
    """A graph has one or more problems; all are collected in `problems`."""

    def __init__(self, problems: list[Problem], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        where = f"{source}: " if source else ""
        first = str(self.problems[0]) if self.problems else "invalid graph"
        more = f" (and {len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
        super().__init__(f"{where}{first}{more}")


class FileFormatError(NNEngineError):
    """A graph, weight or bundle file cannot be read as what it claims to be."""


class DatasetError(NNEngineError):
    """A data set is missing, malformed, or does not fit the model's inputs."""


class WeightsError(NNEngineError):
    """Weights do not match the graph: missing or extra keys, or wrong shapes."""


class ExportError(NNEngineError):
    """A model cannot be written to, or read from, another framework's format (ONNX,
    PyTorch): a layer or operator without a converter, or the optional package missing."""


class TrainingDiverged(NNEngineError):
    """The loss or a weight became NaN or infinite; `node_id` names the first node affected."""

    def __init__(self, message: str, node_id: str | None = None, epoch: int = 0, batch: int = 0):
        super().__init__(message)
        self.node_id = node_id
        self.epoch = epoch
        self.batch = batch
