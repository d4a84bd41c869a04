"""TrainingController: the GUI thread's side of training.

It starts a `TrainingWorker` on a QThread, and a QTimer (11 Hz) drains the mailbox and
turns what arrived into Qt signals for the plots and the panel: so the plots refresh at a
bounded rate however fast training runs, and the GUI never waits on the trainer. The plots
may redraw a little faster than the timer ticks (plots.base.MAX_FPS), so each tick's data is
drawn and painted within that tick: every separate wake-up of the GUI thread takes the
interpreter lock from the training thread once more. It also offers what comes after
training: evaluate on the test split, export and load weights, export the bundle, predict
one sample.

States (states.py): idle → starting → running ⇄ paused → finished | stopped; diverged (a
pause after NaN/inf: resume continues from the last good weights, e.g. with a lower learning
rate); failed. While a run is active the document is locked against structural edits.

A run starts from fresh weights drawn from the seed, or (`start(keep_weights=True)`) trains
on from the current ones: those of the last run, or weights loaded from a file or imported
with a model. Loaded weights are never thrown away by a plain Train: the next run trains on
from them.

This module owns the run's life cycle (commands, thread, state); two mixins hold the rest:
`WeightsMixin` (weights.py: where the weights come from, export, load, import) and
`DispatchMixin` (dispatch.py: draining the mailbox into state and signals).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, QThread, QTimer, Signal, Slot

import nnengine
from nnengine import Graph, NNEngineError, TrainingConfig, TrainingControl, analyze

from .dispatch import PROGRESS_INTERVAL, DispatchMixin
from .mailbox import EpochHistory, Mailbox
from .metrics import MetricsStore, Progress, SpeedMeter, Timeline
from .probe import Probe
from .states import (
    ACTIVE,
    DIVERGED,
    FAILED,
    FINISHED,
    IDLE,
    PAUSED,
    RUNNING,
    STARTING,
    STOPPED,
    STOPPING,
    TRAINED,
)
from .summary import Snapshot
from .turns import Turns
from ..runs.showing import ShowRunMixin
from .weights import WeightsMixin, structure
from .worker import RatePolicy, TrainingWorker

# Re-exported: callers compare states as `controller.FINISHED` etc.
__all__ = ["ACTIVE", "DIVERGED", "FAILED", "FINISHED", "IDLE", "PAUSED", "PROGRESS_INTERVAL",
           "RUNNING", "STARTING", "STOPPED", "STOPPING", "TRAINED", "TrainingController"]


class TrainingController(WeightsMixin, DispatchMixin, ShowRunMixin, QObject):
    state_changed = Signal(str)
    progress_changed = Signal(object)      # Progress
    metrics_changed = Signal(object)       # MetricsStore
    snapshot_changed = Signal(object)      # Snapshot (the newest, or a chosen sample's)
    epoch_recorded = Signal(object)        # mailbox.EpochRecord
    alarms_changed = Signal(list)          # list[nnengine.diagnostics.Alarm]
    sample_changed = Signal(str, int)      # split, index
    run_started = Signal()                 # model, dataset and probe are now set
    diverged = Signal(str, str)            # message, node id
    finished = Signal(dict)                # {"stopped", "test": {...} | None, "step"}
    failed = Signal(str)
    message = Signal(str)                  # one line for the status bar
    _run_ended = Signal()                  # the current run's thread has ended

    def __init__(self, document: Any = None, graph: Graph | None = None,
                 parent: QObject | None = None, refresh_hz: float = 11.0,
                 snapshot_hz: float = 4.0, snapshot_share: float = 0.03):
        super().__init__(parent)
        self.document = document
        self._graph = graph
        self.snapshot_hz = snapshot_hz
        self.snapshot_share = snapshot_share
        self.state = IDLE
        self.config: TrainingConfig | None = None
        self.model: nnengine.Model | None = None
        self.dataset: nnengine.Dataset | None = None
        self.probe: Probe | None = None
        self.snapshot: Snapshot | None = None
        self.alarms: list = []
        self.test_metrics: dict | None = None
        self.last_message = ""
        self.sample: tuple[str, int] | None = None
        # Where the model's weights come from: None (drawn from the seed), TRAINED, or the
        # name of the file they were loaded from.
        self.weights_source: str | None = None
        self.metrics = MetricsStore()
        self.epoch_history = EpochHistory()
        self.timeline = Timeline()
        self.progress = Progress()
        self.speed = SpeedMeter()
        self._mailbox = Mailbox()
        self._control = TrainingControl()
        self._worker: TrainingWorker | None = None
        self._thread: QThread | None = None     # the current run's thread
        self._threads: dict[QThread, TrainingWorker] = {}   # every thread not yet ended
        self._run_graph: str | None = None
        self._step = 0
        self._started_at = 0.0
        self._progress_at = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, int(1000 / refresh_hz)))
        self._timer.timeout.connect(self.poll)

    # --- what is trained --------------------------------------------------------------------
    @property
    def graph(self) -> Graph:
        if self.document is not None:
            return self.document.graph
        return self._graph if self._graph is not None else Graph()

    def set_graph(self, graph: Graph) -> None:
        """Without a document: the graph the next run trains."""
        self._graph = graph

    @property
    def base_dir(self) -> Path | None:
        path = getattr(self.document, "path", None)
        return Path(path).parent if path else None

    @property
    def turns(self) -> Turns:
        """The current run's turn-taking with the training thread (see turns.py): a plot
        drawing on its own timer takes a turn too."""
        return self._mailbox.turns

    @property
    def is_active(self) -> bool:
        """A run exists (its thread is alive): structure is locked."""
        return self.state in ACTIVE

    def training_settings(self) -> dict[str, Any]:
        return dict(self.graph.training)

    # --- commands ---------------------------------------------------------------------------
    def start(self, training: dict[str, Any] | None = None, paused: bool = False,
              keep_weights: bool | None = None) -> bool:
        """Start a run. `training` overrides the graph's `training` block. `keep_weights`:
        True trains on from the current weights (see `has_weights`), False starts from fresh
        weights drawn from the seed, None (a plain Train) keeps them only when they were
        loaded or imported and not trained on yet. Returns False, with the reason in
        `last_message`, when refused."""
        if self.is_active:
            return self._say("training is already running")
        problems = analyze(self.graph).problems
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            return self._fail(f"fix the graph first: {problems[0]}{more}")
        try:
            config = TrainingConfig.from_dict(
                training if training is not None else self.graph.training)
        except NNEngineError as e:
            return self._fail(str(e))
        if keep_weights is None:
            keep_weights = self.weights_loaded
        model = self.model if keep_weights and self.has_weights else None
        if keep_weights and model is None:
            return self._fail("there are no weights to train on from yet: press Train to "
                              "start from fresh ones")
        dataset = self.dataset if model is not None and self.config is not None and \
            self.config.dataset == config.dataset else None
        source = self.weights_source
        self._reset_run()
        self.config = config
        if model is not None:
            self._say(f"training on from the {'learned' if source == TRAINED else 'loaded'} "
                      "weights")
        # A new control: the last run's may have been stopped (its stop must not end this one).
        self._mailbox, self._control = Mailbox(), TrainingControl()
        self._launch(TrainingWorker(self.graph.copy(), config, self._mailbox, self._control,
                                    self.base_dir, self.sample, self._policy(), model,
                                    dataset), paused)
        return True

    def train_on(self, training: dict[str, Any] | None = None, paused: bool = False) -> bool:
        """Start a run from the current weights (trained or loaded), not fresh ones."""
        return self.start(training, paused, keep_weights=True)

    def pause(self) -> None:
        if self.state in (STARTING, RUNNING):
            self._control.pause()
            self._set_state(PAUSED)

    def resume(self) -> None:
        if self.state == PAUSED:
            self._control.resume()
            self._set_state(RUNNING)
        elif self.state == DIVERGED:
            self._continue()

    def step(self) -> None:
        """Run exactly one batch, then pause (starting a paused run if none is active)."""
        if self.state == DIVERGED:
            self._continue(paused=True)
        elif not self.is_active and not self.start(paused=True):
            return
        self._control.step(1)
        if self.state != STARTING:
            self._set_state(PAUSED)

    def stop(self) -> None:
        """Stop after the current batch; the weights learned so far are kept."""
        if self.is_active:
            self._control.stop()
            self._set_state(STOPPING)
        elif self.state == DIVERGED:
            self._set_state(STOPPED)

    def wait(self, timeout_ms: int = 60_000) -> bool:
        """Run the event loop until the current run has ended (for scripts and tests);
        False on timeout."""
        if self._thread is None and not self.is_active:
            return True
        loop = QEventLoop()
        self._run_ended.connect(loop.quit)
        QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()
        self._run_ended.disconnect(loop.quit)
        return self._thread is None and not self.is_active

    def shutdown(self) -> None:
        """Stop and join every training thread (call before the window closes)."""
        self._control.stop()
        for thread, worker in list(self._threads.items()):
            worker.control.stop()
            thread.quit()
            thread.wait()
            self._thread_ended(thread)

    def set_sample(self, index: int, split: str | None = None) -> None:
        """Make a sample the one under inspection; the plots follow at once, also after
        training (the snapshot is taken on the training thread while a run is alive)."""
        split = split or (self.probe.default_split() if self.probe else
                          (self.sample[0] if self.sample else "test"))
        self.sample = (split, int(index))
        self.sample_changed.emit(split, int(index))
        if self._worker is not None and self._thread is not None:
            self._worker.request_snapshot(self.sample)
        elif self.probe is not None:
            self._publish_snapshot(self._local_snapshot(test=False))

    # --- after training -----------------------------------------------------------------
    def evaluate(self) -> dict[str, float] | None:
        """Loss and accuracy on the data set's test split (None when it has none)."""
        probe = self._ready_probe()
        self.test_metrics = probe.evaluate_test()
        return self.test_metrics

    def predict(self, index: int, split: str = "test") -> dict[str, Any]:
        """{"output", "target", and for classification "predicted", "label"}."""
        return self._ready_probe().predict(split, index)

    # --- internals ------------------------------------------------------------------------
    def _policy(self) -> RatePolicy:
        return RatePolicy(self.snapshot_hz, self.snapshot_share)

    def _reset_run(self) -> None:
        self.metrics.clear()
        self.epoch_history.clear()
        self.timeline.clear()
        self.speed.clear()
        self.progress = Progress()
        self.snapshot = None
        self.alarms = []
        self.test_metrics = None
        self.model = self.dataset = self.probe = None
        self.weights_source = None
        self.sample = None

    def _launch(self, worker: TrainingWorker, paused: bool) -> None:
        self._mailbox = worker.mailbox
        self._control = worker.control
        if paused:
            self._control.pause()
        self._worker = worker
        thread = QThread()
        thread.setObjectName("nn-designer training")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.done.connect(thread.quit)
        # A method of this GUI-thread object: queued, so it runs on the GUI thread.
        thread.finished.connect(self._on_thread_finished)
        self._thread = thread
        self._threads[thread] = worker
        self._run_graph = structure(self.graph)
        self.weights_source = TRAINED
        self._started_at = time.monotonic()
        self._set_state(STARTING)
        if self.document is not None:
            self.document.locked = True
        self._timer.start()
        self._thread.start()

    def _continue(self, paused: bool = False) -> None:
        """After a divergence: train the remaining epochs from the last good weights, with
        the graph's current training settings (e.g. a lower learning rate)."""
        if self.model is None or self.dataset is None or self.config is None:
            self.start(paused=paused)
            return
        if structure(self.graph) != self._run_graph:
            self._say("the graph changed since this run; starting a new run")
            self.start(paused=paused)
            return
        try:
            config = TrainingConfig.from_dict(self.graph.training)
        except NNEngineError as e:
            self._fail(str(e))
            return
        done = self.metrics.epochs[-1]["epoch"] if self.metrics.epochs else 0
        config = config.replace(epochs=max(1, config.epochs - done))
        self.config = config
        self._mailbox, self._control = Mailbox(), TrainingControl()
        worker = TrainingWorker(self.graph.copy(), config, self._mailbox, self._control,
                                self.base_dir, self.sample, self._policy(), self.model,
                                self.dataset, self._step, done, list(self.metrics.epochs))
        self._launch(worker, paused)

    @Slot()
    def _on_thread_finished(self) -> None:
        thread = self.sender()
        if isinstance(thread, QThread):
            self._thread_ended(thread)

    def _thread_ended(self, thread: QThread) -> None:
        """Clean up one run's thread; only the current run's end changes the state (an
        older run may end after a new one started, e.g. right after a divergence)."""
        worker = self._threads.pop(thread, None)
        if worker is None:
            return
        worker.deleteLater()
        thread.deleteLater()
        if thread is not self._thread:
            return
        self.poll()   # the final events
        self._worker = None
        self._thread = None
        self._timer.stop()
        if self.state in ACTIVE:   # ended without an event (should not happen)
            self._set_state(STOPPED)
        if self.document is not None:
            self.document.locked = False
        self._run_ended.emit()

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)

    def _say(self, text: str) -> bool:
        self.last_message = text
        self.message.emit(text)
        return False

    def _fail(self, text: str) -> bool:
        self._say(text)
        if self.state in ACTIVE or self.state == IDLE or self.state == FAILED:
            self._set_state(FAILED)
        self.failed.emit(text)
        return False

