"""TrainingController: the window's side of training.

Training runs in a process of its own (process.py, child.py); everything between the two is
a message. The controller sends the run as a `Job` and commands (pause, resume, stop, step,
snapshot another sample); a QTimer (30 Hz) reads whatever reports have arrived, without ever
waiting, and turns them into Qt signals for the plots and the panel (dispatch.py). So the
plots refresh at a bounded rate however fast training runs, and the window never waits on
the trainer. The window holds plain data only: a `RunDescription`, the metrics, snapshots,
and the weights the child last sent (at every epoch's end, when it pauses, and at the end).

States (states.py): idle → starting → running ⇄ paused → finished | stopped; diverged (the
child ended after NaN/inf, sending the last finite weights: resume trains on from them in a
new process, e.g. with a lower learning rate); failed (an error, or the child died or
stopped answering: the weights it last sent are kept). While a run is active the document is
locked against structural edits.

A run starts from fresh weights drawn from the seed, or (`start(keep_weights=True)`) trains
on from the current ones: those of the last run, or weights loaded from a file or imported
with a model. Loaded weights are never thrown away by a plain Train: the next run trains on
from them.

This module owns the run's life cycle (commands, process, state); mixins hold the rest:
`WeightsMixin` (weights.py: the weights, export, load, evaluate and predict after a run),
`DispatchMixin` (dispatch.py: reports into state and signals) and `ShowRunMixin`
(runs/showing.py: showing a run kept by the Runs panel, or none).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, QSocketNotifier, QTimer, Signal

import nnengine
from nnengine import Graph, NNEngineError, TrainingConfig, analyze

from ..runs.showing import ShowRunMixin
from .dispatch import DispatchMixin
from .mailbox import AwaitedSnapshots, EpochHistory, SentWeights
from .metrics import MetricsStore, Progress, SnapshotTimeline, SpeedMeter
from .probe import Probe
from .process import TrainingProcess
from .protocol import SNAPSHOT_HZ, SNAPSHOT_SHARE, Command, FrameReader, Job
from .run_description import RunDescription
from .states import ACTIVE, TRAINED, TrainingState
from .summary import OPTIONAL_PARTS, Snapshot
from .weights import WeightsMixin, structure

STUCK_AFTER = 20.0   # seconds without a word from a working child before it is ended


class TrainingController(WeightsMixin, DispatchMixin, ShowRunMixin, QObject):
    state_changed = Signal(str)            # a TrainingState
    progress_changed = Signal(object)      # Progress
    metrics_changed = Signal(object)       # MetricsStore
    snapshot_changed = Signal(object)      # Snapshot (the newest, or a chosen sample's)
    epoch_recorded = Signal(object)        # mailbox.EpochRecord
    alarms_changed = Signal(list)          # list[nnengine.diagnostics.Alarm]
    sample_changed = Signal(str, int)      # split, index
    run_started = Signal()                 # `run` (a RunDescription) is now set
    diverged = Signal(str, str)            # message, node id
    finished = Signal(dict)                # {"stopped", "test": {...} | None, "step"}
    failed = Signal(str)
    message = Signal(str)                  # one line for the status bar
    run_ended = Signal()                   # the current run is over (any outcome)

    def __init__(self, document: Any = None, graph: Graph | None = None,
                 parent: QObject | None = None, refresh_hz: float = 30.0,
                 snapshot_hz: float = SNAPSHOT_HZ, snapshot_share: float = SNAPSHOT_SHARE,
                 stuck_after: float = STUCK_AFTER):
        super().__init__(parent)
        self.document = document
        self._graph = graph
        self.snapshot_hz = snapshot_hz
        self.snapshot_share = snapshot_share
        self.stuck_after = stuck_after
        self.state = TrainingState.IDLE
        self.config: TrainingConfig | None = None
        self.run: RunDescription | None = None
        self.weights: SentWeights | None = None
        # Built in this process only after a run, around `weights` (evaluate, predict, a
        # chosen sample's snapshot); never shared with a training process.
        self.model: nnengine.Model | None = None
        self.dataset: nnengine.Dataset | None = None
        self.probe: Probe | None = None
        self.snapshot: Snapshot | None = None
        self.alarms: list = []
        self.test_metrics: dict | None = None
        self.last_message = ""
        self.sample: tuple[str, int] | None = None
        # Where the weights come from: None (drawn from the seed), TRAINED, or the name of
        # the file they were loaded from.
        self.weights_source: str | None = None
        self.keep_warm = False
        self.pace: float | None = None   # batches per second (None: as fast as possible)
        self.watched = OPTIONAL_PARTS    # optional snapshot parts a view shows (see `watch`)
        self.metrics = MetricsStore()
        self.epoch_history = EpochHistory()
        self.timeline = SnapshotTimeline()
        self.progress = Progress()
        self.speed = SpeedMeter()
        self._process: TrainingProcess | None = None     # the current run's
        self._received: Snapshot | None = None           # the last snapshot it sent
        self._awaited = AwaitedSnapshots()               # pairs records with the watcher's
        self._shown = 0                                  # the number of the one shown
        self._early: list[Snapshot] = []                 # the watcher's, before "ready"
        self._spare: TrainingProcess | None = None       # a warm one for the next run
        self._retired: list[TrainingProcess] = []        # done, not yet exited
        self._start_paused = False
        self._run_graph: str | None = None
        self._step = 0
        self._started_at = 0.0
        self._progress_at = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, int(1000 / refresh_hz)))
        self._timer.timeout.connect(self.poll)
        self._notifiers: list[tuple[FrameReader, QSocketNotifier]] = []

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
    def is_active(self) -> bool:
        """A training process is working on a run: structure is locked."""
        return self.state in ACTIVE

    @property
    def child_pid(self) -> int | None:
        """The process id of the current run's training process (None between runs)."""
        return self._process.pid if self._process is not None else None

    @property
    def process_ids(self) -> list[int]:
        """Every training process this controller has started and not yet seen end."""
        return [pid for p in (self._process, self._spare, *self._retired) if p is not None
                for pid in p.pids]

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
        if keep_weights and not self.has_weights:
            return self._fail("there are no weights to train on from yet: press Train to "
                              "start from fresh ones")
        weights = self.current_weights() if keep_weights else None
        source = self.weights_source
        self._reset_run()
        if weights is not None:
            self._say(f"training on from the {'learned' if source == TRAINED else 'loaded'} "
                      "weights")
        self._launch(config, paused, weights)
        return True

    def train_on(self, training: dict[str, Any] | None = None, paused: bool = False) -> bool:
        """Start a run from the current weights (trained or loaded), not fresh ones."""
        return self.start(training, paused, keep_weights=True)

    def pause(self) -> None:
        if self.state in (TrainingState.STARTING, TrainingState.RUNNING):
            self._command(Command.PAUSE)
            self._start_paused = True
            self._set_state(TrainingState.PAUSED)
            self._update_progress()
            self.progress_changed.emit(self.progress)

    def resume(self) -> None:
        if self.state == TrainingState.PAUSED:
            self._command(Command.RESUME)
            self._start_paused = False
            self.speed.clear()   # the pause is no part of the training's speed
            self._set_state(TrainingState.RUNNING)
        elif self.state == TrainingState.DIVERGED:
            self._continue()

    def step(self) -> None:
        """Run exactly one batch, then pause (starting a paused run if none is active)."""
        if self.state == TrainingState.DIVERGED:
            self._continue(paused=True)
        elif not self.is_active and not self.start(paused=True):
            return
        self._command(Command.STEP, 1)
        self._start_paused = True
        if self.state != TrainingState.STARTING:
            self._set_state(TrainingState.PAUSED)

    def stop(self) -> None:
        """Stop after the current batch; the weights learned so far are kept."""
        if self.is_active:
            self._command(Command.STOP)
            self._set_state(TrainingState.STOPPING)
        elif self.state == TrainingState.DIVERGED:
            self._set_state(TrainingState.STOPPED)

    def set_pace(self, pace: float | None) -> None:
        """Batches per second for this and later runs (None: as fast as possible)."""
        self.pace = pace
        self.speed.clear()
        self._command(Command.PACE, pace)

    def watch(self, parts: frozenset[str]) -> None:
        """The optional snapshot parts (summary.OPTIONAL_PARTS) the window shows now, for
        this and later runs: the training process spends nothing on the others."""
        parts = frozenset(parts)
        if parts != self.watched:
            self.watched = parts
            self._command(Command.WATCH, parts)

    def wait(self, timeout_ms: int = 60_000) -> bool:
        """Run the event loop until the current run has ended (for scripts and tests);
        False on timeout."""
        if not self.is_active:
            return True
        loop = QEventLoop()
        self.run_ended.connect(loop.quit)
        QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()
        self.run_ended.disconnect(loop.quit)
        return not self.is_active

    def warm_up(self) -> None:
        """Start a training process now, to wait for the next Train press (its imports are
        then done), and keep one waiting after every run."""
        self.keep_warm = True
        if self._spare is None or not self._spare.alive:
            self._spare = TrainingProcess()

    def shutdown(self) -> None:
        """End every training process (the window is closing): none outlives it."""
        self.keep_warm = False
        self._timer.stop()
        self._listen(None)
        for p in (self._process, self._spare, *self._retired):
            if p is not None:
                p.close()
        self._process = self._spare = None
        self._retired = []
        if self.is_active:
            self._set_state(TrainingState.STOPPED)
            self._end_run()

    def set_sample(self, index: int, split: str | None = None) -> None:
        """Make a sample the one under inspection; the plots follow at once, also after
        training (taken by the training process while a run is alive, else here)."""
        split = split or (self.run.default_split if self.run else
                          (self.sample[0] if self.sample else "test"))
        self.sample = (split, int(index))
        self.sample_changed.emit(split, int(index))
        if self.is_active:
            self._command(Command.SAMPLE, self.sample)
        elif self.run is not None or self.has_weights:
            self._publish_snapshot(self._local_snapshot(test=False))

    def count_whole_test_split(self) -> None:
        """A snapshot with predictions on every test sample (while training runs the live
        confusion matrix counts only the first `RunDescription.watched_test`)."""
        if self.is_active:
            self._command(Command.WHOLE_TEST)
        elif self.run is not None or self.has_weights:
            self._publish_snapshot(self._local_snapshot(test=True))

    # --- internals ------------------------------------------------------------------------
    def _command(self, command: Command, payload: Any = None) -> None:
        if self._process is not None:
            self._process.send(command, payload)

    def _reset_run(self) -> None:
        self.metrics.clear()
        self.epoch_history.clear()
        self.timeline.clear()
        self.speed.clear()
        self.progress = Progress()
        self.snapshot = None
        self.alarms = []
        self.test_metrics = None
        self.run = None
        self.weights = None
        self.model = self.dataset = self.probe = None
        self.weights_source = None
        self.sample = None

    def _launch(self, config: TrainingConfig, paused: bool,
                weights: dict | None, step_offset: int = 0, epoch_offset: int = 0) -> None:
        self.config = config
        base = self.base_dir
        job = Job(self.graph.copy(), config, str(base) if base else None, self.sample,
                  self.snapshot_hz, self.snapshot_share, weights, step_offset, epoch_offset,
                  list(self.metrics.epochs), paused, self.pace, self.watched)
        process = self._spare if self._spare is not None and self._spare.alive else None
        if self._spare is not None and process is None:
            self._spare.kill()     # and its watcher, which waits for a job
        self._spare = None
        self._process = process or TrainingProcess()
        self._received = None
        self._awaited.clear()
        self._early = []
        self._shown = 0
        self._process.run(job)
        self._start_paused = paused
        self._run_graph = structure(self.graph)
        self.weights_source = TRAINED
        self._started_at = time.monotonic()
        self._set_state(TrainingState.STARTING)
        if self.document is not None:
            self.document.locked = True
        self._listen(self._process)
        self._timer.start()

    def _listen(self, process: TrainingProcess | None) -> None:
        """Read the run's reports as soon as they arrive (the child sends about 30 a second),
        rather than on the timer's own beat: two unsynchronised 30 Hz clocks would leave
        every other tick empty and the plots redrawn half as often. The timer still polls,
        for the watchdog."""
        for _, notifier in self._notifiers:
            notifier.setEnabled(False)
            notifier.deleteLater()
        self._notifiers = []
        for reader in process.readers if process is not None else ():
            notifier = QSocketNotifier(reader.fd, QSocketNotifier.Type.Read, self)
            notifier.activated.connect(self.poll)
            self._notifiers.append((reader, notifier))

    def _quiet_ended_pipes(self) -> None:
        """A pipe at its end is readable for ever: its notifier would call `poll` at every
        turn of the event loop (a watcher that died mid-run)."""
        for reader, notifier in self._notifiers:
            if reader.eof and notifier.isEnabled():
                notifier.setEnabled(False)

    def _continue(self, paused: bool = False) -> None:
        """After a divergence: train the remaining epochs from the last finite weights, with
        the graph's current training settings (e.g. a lower learning rate)."""
        if not self.has_weights or self.config is None:
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
        self._launch(config, paused, self.current_weights(), self._step, done)

    def _end_run(self) -> None:
        """The current run is over: its process is left to exit (and reaped by the timer)."""
        p = self._process
        self._process = None
        self._listen(None)
        if p is not None:
            self._retired.append(p)
        if self.document is not None:
            self.document.locked = False
        if self.keep_warm and self._spare is None:
            self._spare = TrainingProcess()
        self.run_ended.emit()

    def _set_state(self, state: TrainingState) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)

    def _say(self, text: str) -> bool:
        self.last_message = text
        self.message.emit(text)
        return False

    def _fail(self, text: str) -> bool:
        self._say(text)
        if self.state in ACTIVE or self.state in (TrainingState.IDLE, TrainingState.FAILED):
            self._set_state(TrainingState.FAILED)
        self.failed.emit(text)
        return False
