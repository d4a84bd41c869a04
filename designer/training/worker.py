"""The training thread: a QObject moved to a QThread that runs `nnengine.Trainer.fit()`.

The same engine Trainer the command line uses does all the learning (`prepare_run` builds
the model and data exactly as `nnengine train` does: `compile_model(graph, seed=seed)`),
so the GUI and the CLI give the same weights for the same graph and seed. A `Recorder`
callback writes into the `Mailbox`: every batch's metrics, and, at a bounded rate, a
snapshot (see `probe.Probe`). Snapshots are limited both in rate (`max_hz`) and in the
share of the run's time they may take (`share`), measured with time.monotonic, so
watching does not slow training noticeably, however fast or slow a batch is.
"""
from __future__ import annotations

import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

import nnengine as nn
from nnengine import Callback, Trainer, TrainingConfig, TrainingControl, TrainingDiverged
from nnengine.errors import DatasetError, NNEngineError

from .mailbox import BatchRecord, EpochRecord, Mailbox
from .probe import Probe

TEST_INTERVAL = 1.0   # seconds between two predictions on the test split while training


def prepare_run(graph: nn.Graph, training: dict[str, Any] | TrainingConfig,
                base_dir: str | Path | None = None
                ) -> tuple[nn.Model, nn.Dataset, TrainingConfig]:
    """Model, data set and config for a training run, built as the command line builds
    them: weights drawn from the config's seed, data reshaped to the Input nodes."""
    config = training if isinstance(training, TrainingConfig) else \
        TrainingConfig.from_dict(training)
    if not config.dataset:
        raise DatasetError("no data set chosen: pick one in the training panel")
    model = nn.compile_model(graph, seed=config.seed)
    return model, load_run_data(model, config, base_dir), config


def load_run_data(model: nn.Model, config: TrainingConfig,
                  base_dir: str | Path | None = None) -> nn.Dataset:
    """The config's data set, reshaped to the model's Input nodes."""
    if not config.dataset:
        raise DatasetError("no data set chosen: pick one in the training panel")
    shapes = {i: model.shapes[i] for i in model.input_ids}
    return nn.load_dataset(config.dataset, shapes, base_dir)


def keep_scaling(model: nn.Model, config: TrainingConfig) -> TrainingConfig:
    """The config a Trainer of a model that already holds weights gets: its standardization
    statistics (learned with its weights, or loaded with them) are kept, not recomputed."""
    if config.standardize and model.input_ids and \
            all(f"{i}/mean" in model.weights for i in model.input_ids):
        return config.replace(standardize=False)
    return config


class RatePolicy:
    """When a snapshot is due: at most `max_hz` a second, and only while snapshots have
    taken at most `share` of the time since training began."""

    def __init__(self, max_hz: float = 10.0, share: float = 0.05):
        self.min_interval = 1.0 / max_hz if max_hz > 0 else float("inf")
        self.share = share
        self.start = time.monotonic()
        self.last = -float("inf")
        self.spent = 0.0

    def due(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return (now - self.last >= self.min_interval
                and self.spent <= self.share * (now - self.start))

    def record(self, began: float, ended: float) -> None:
        self.last = ended
        self.spent += ended - began


class GradNorms:
    """Each layer's weight-gradient norm on the last training batch, from the squared
    norms the trainer already computes for its NaN check (no extra pass over gradients)."""

    def __init__(self, keys: list[str]):
        self.nodes: list[str] = list(dict.fromkeys(k.split("/")[0] for k in keys))
        index = {n: i for i, n in enumerate(self.nodes)}
        self._slots = [(k, index[k.split("/")[0]]) for k in keys]

    def read(self, squares: dict[str, float]) -> tuple[float, ...]:
        sq = [0.0] * len(self.nodes)
        for key, slot in self._slots:
            sq[slot] += squares.get(key, 0.0)
        return tuple(float(np.sqrt(v)) for v in sq)


class Recorder(Callback):
    """Trainer callback: metrics into the mailbox every batch, snapshots when due."""

    def __init__(self, worker: TrainingWorker):
        self.w = worker
        self.probe: Probe | None = None
        self.norms: GradNorms | None = None
        self.bpe = 1
        self.step = worker.step_offset
        self.epoch = worker.epoch_offset
        self.batch = 0
        self.tested_at = -float("inf")

    def x(self) -> float:
        return self.epoch - 1 + self.batch / self.bpe if self.epoch else 0.0

    def on_train_begin(self, trainer: Trainer) -> None:
        w = self.w
        self.bpe = max(trainer.batches_per_epoch, 1)
        self.probe = Probe(trainer)
        self.norms = GradNorms(trainer.model.trainable_keys)
        if w.sample is None:
            w.sample = (self.probe.default_split(), 0)
        w.policy.start = time.monotonic()
        w.mailbox.put_event("ready", {"probe": self.probe, "batches_per_epoch": self.bpe,
                                      "train_size": len(trainer.y_train),
                                      "grad_nodes": list(self.norms.nodes),
                                      "epochs": trainer.config.epochs + w.epoch_offset})
        self.snap()

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        self.epoch = epoch + self.w.epoch_offset
        self.batch = 0

    def on_batch_end(self, trainer: Trainer, epoch: int, batch: int, logs: dict) -> None:
        w = self.w
        self.step += 1
        self.batch = batch
        now = time.monotonic()
        w.mailbox.put_batch(BatchRecord(self.step, self.epoch, batch, self.x(),
                                        float(logs["loss"]), logs.get("accuracy"),
                                        int(logs["batch_size"]), now,
                                        self.norms.read(trainer.grad_squares)))
        # A pause or single step must show the state it stopped in, so it forces one.
        if w.control.paused or w.policy.due(now):
            self.snap()
        w.mailbox.turns.give()

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict) -> None:
        """The epoch's record for the scrubber, with a fresh snapshot when one is due and at
        the end (with the test split's predictions at most once a second: they cost as much
        as the rest of a snapshot); otherwise with the newest snapshot taken before."""
        w = self.w
        logs = dict(logs, epoch=self.epoch)
        w.epochs_logs.append(logs)
        last = epoch == trainer.config.epochs or w.control.stopped
        snap = None
        if last or w.policy.due():
            snap = self.snap(with_test=last or time.monotonic() - self.tested_at >= TEST_INTERVAL)
        w.mailbox.put_epoch(EpochRecord(self.epoch, logs, snap or w.latest))

    def snap(self, with_test: bool = False):
        """Take a snapshot of the chosen sample now; put it in the mailbox and return it."""
        w = self.w
        began = time.monotonic()
        snap = self.probe.snapshot(w.sample, self.step, self.epoch, self.batch, self.x(),
                                   w.epochs_logs, test=with_test)
        if with_test:
            self.tested_at = began
        w.policy.record(began, time.monotonic())
        w.latest = snap
        w.mailbox.put_snapshot(snap)
        return snap


class TrainingWorker(QObject):
    """Runs one training run when its thread starts; `done` is emitted when it has ended
    (the outcome is in the mailbox as a "finished", "diverged" or "failed" event).

    With `model` given (training on from current weights, or after a divergence) it is
    trained as it is; the data set is loaded when `dataset` is not given too."""

    done = Signal()

    def __init__(self, graph: nn.Graph, config: TrainingConfig, mailbox: Mailbox,
                 control: TrainingControl, base_dir: str | Path | None = None,
                 sample: tuple[str, int] | None = None, policy: RatePolicy | None = None,
                 model: nn.Model | None = None, dataset: nn.Dataset | None = None,
                 step_offset: int = 0, epoch_offset: int = 0,
                 epochs_logs: list[dict] | None = None):
        super().__init__()
        self.graph = graph
        self.config = config
        self.mailbox = mailbox
        self.control = control
        self.base_dir = base_dir
        self.sample = sample
        self.policy = policy or RatePolicy()
        self.model = model
        self.dataset = dataset
        self.step_offset = step_offset
        self.epoch_offset = epoch_offset
        self.epochs_logs: list[dict] = list(epochs_logs or [])
        self.latest = None
        self.recorder: Recorder | None = None

    def request_snapshot(self, sample: tuple[str, int]) -> None:
        """From the GUI thread: show `sample` now (done on this worker's thread)."""
        self.sample = sample

        def task() -> None:
            if self.recorder is not None and self.recorder.probe is not None:
                self.recorder.snap()

        self.control.post(task)

    @Slot()
    def run(self) -> None:
        mb = self.mailbox
        try:
            config = self.config
            if self.model is None:
                self.model, self.dataset, self.config = prepare_run(
                    self.graph, self.config, self.base_dir)
                config = self.config
            else:
                if self.dataset is None:
                    self.dataset = load_run_data(self.model, self.config, self.base_dir)
                config = keep_scaling(self.model, self.config)
            self.recorder = Recorder(self)
            trainer = Trainer(self.model, self.dataset, config, [self.recorder], self.control)
            history = trainer.fit()
            self.finish(trainer, {"stopped": history.stopped_early})
        except TrainingDiverged as e:
            if self.recorder is not None and self.recorder.probe is not None:
                self.recorder.snap()
            mb.put_event("diverged", {"message": str(e), "node_id": e.node_id,
                                      "epoch": e.epoch + self.epoch_offset, "batch": e.batch,
                                      "step": self.recorder.step if self.recorder else 0})
        except NNEngineError as e:
            mb.put_event("failed", str(e))
        except Exception as e:  # noqa: BLE001 - a bug must not kill the GUI silently
            mb.put_event("failed", f"training failed unexpectedly: {e!r}\n"
                                   f"{traceback.format_exc()}")
        finally:
            self.done.emit()

    def finish(self, trainer: Trainer, outcome: dict[str, Any]) -> None:
        rec = self.recorder
        self.control.run_tasks()
        if rec is not None and rec.probe is not None:
            outcome["test"] = rec.probe.evaluate_test()
            latest = self.latest
            if latest is None or latest.step != rec.step or latest.test_predictions is None \
                    or latest.sample != tuple(self.sample):
                rec.snap(with_test=True)
        outcome["step"] = rec.step if rec else 0
        self.mailbox.put_event("finished", outcome)
