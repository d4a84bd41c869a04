"""What the backprop tools work on, and how they run off the GUI thread.

`ToolContext` is plain data: a model of the graph on the canvas (the selected run's
weights when they fit the graph, a fresh initialisation otherwise), its data set and its
training settings. The tools change only their own copies, never a run's weights.

`ToolJob` runs one engine call on a QThread with progress and cancel; its result comes
back as a signal, so nothing on the GUI thread ever waits for it.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

import nnengine
from nnengine.tools.batches import clone_model

from ..worker_garbage import collect_before_worker

WeightsSource = Callable[[], tuple[dict, str] | None]


@dataclass(frozen=True)
class ToolContext:
    model: nnengine.Model
    dataset: nnengine.Dataset
    config: nnengine.TrainingConfig
    weights_note: str  # "fresh initialisation (seed 0)" or the run the weights came from


class ContextError(Exception):
    """The graph on the canvas cannot be used yet; the message says why, in a sentence."""


def build_context(graph: nnengine.Graph, weights_source: WeightsSource | None = None
                  ) -> ToolContext:
    """Compile `graph`, load its data set, and take the source's weights if they fit."""
    try:
        config = nnengine.TrainingConfig.from_dict(graph.training)
    except nnengine.NNEngineError as e:
        raise ContextError(str(e)) from None
    if not config.dataset:
        raise ContextError("choose a data set in the training panel first")
    try:
        model = nnengine.compile_model(graph, seed=config.seed)
        dataset = nnengine.load_dataset(config.dataset)
    except nnengine.GraphError:
        raise ContextError("the graph has problems (red badges); fix them first") from None
    except nnengine.NNEngineError as e:
        raise ContextError(str(e)) from None
    note = f"fresh initialisation (seed {config.seed})"
    source = weights_source() if weights_source is not None else None
    if source is not None:
        weights, name = source
        try:
            model.set_weights(weights, source=name)
            note = name
        except nnengine.NNEngineError:
            note = f"fresh initialisation (seed {config.seed}); {name} no longer fits the graph"
    return ToolContext(model, dataset, config, note)


def working_copy(context: ToolContext) -> nnengine.Model:
    """A copy of the context's model that a tool may change freely."""
    return clone_model(context.model)


class _Body(QThread):
    def __init__(self, body: Callable[[], None]):
        super().__init__()
        self._body = body

    def run(self) -> None:
        self._body()


class ToolJob(QObject):
    """One engine call on its own thread. `work(progress, cancelled)` returns the result."""

    progressed = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, work: Callable[[Callable[[int, int], None], Callable[[], bool]], Any],
                 parent: QObject | None = None):
        super().__init__(parent)
        self._work = work
        self._cancel = threading.Event()
        self._thread = _Body(self._run)  # signals emitted there reach the GUI queued

    def start(self) -> None:
        collect_before_worker()
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def wait(self, ms: int = 5000) -> bool:
        """For tests and shutdown only: the GUI never blocks on a job."""
        return self._thread.wait(ms)

    def _run(self) -> None:
        try:
            result = self._work(lambda d, n: self.progressed.emit(d, n), self._cancel.is_set)
        except (nnengine.NNEngineError, ContextError) as e:
            self.failed.emit(str(e))
        except (ValueError, FloatingPointError, MemoryError) as e:
            self.failed.emit(f"the computation failed: {e}")
        else:
            self.finished.emit(result)
