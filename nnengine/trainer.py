"""The training loop the CLI and the GUI both drive.

It runs epoch by epoch and batch by batch, checks a `TrainingControl` between batches (pause,
resume, stop, single step), and reports through Keras-named callback hooks. Nothing here
knows about Qt: the GUI's worker thread calls `fit` and forwards the events.

The data set is held once: the training and validation splits are `Rows` (indices into it),
standardisation is stored on the Input nodes and applied batch by batch, and each batch is
gathered into buffers reused from step to step.
"""
from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .catalogue import LOSSES
from .datasets.base import Dataset, Features
from .datasets.rows import Rows
from .errors import DatasetError, TrainingDiverged
from .layers.base import Workspace
from .losses import accuracy
from .model import Model
from .optimizers import make_optimizer
from .packed import KEY as PACKED
from .threads import blas_threads, training_threads
from .training_config import LABEL_LOSSES, TrainingConfig


class TrainingControl:
    """Thread-safe pause / resume / stop / step token, checked before every batch.

    `post(task)` queues a callable to run on the training thread at the next checkpoint,
    also while paused, when the weights are not changing (the GUI uses it to take a snapshot
    of a newly chosen sample)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._paused = False
        self._stopped = False
        self._steps = 0
        self._tasks: deque[Callable[[], None]] = deque()

    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused, self._steps = False, 0
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def step(self, batches: int = 1) -> None:
        """While paused, let exactly `batches` more batches run, then pause again."""
        with self._cond:
            self._paused = True
            self._steps += batches
            self._cond.notify_all()

    def post(self, task: Callable[[], None]) -> None:
        with self._cond:
            self._tasks.append(task)
            self._cond.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stopped(self) -> bool:
        return self._stopped

    def checkpoint(self) -> bool:
        """Run posted tasks; block while paused; return False once stop was asked for."""
        with self._cond:
            while True:
                while self._tasks:
                    task = self._tasks.popleft()
                    self._cond.release()
                    try:
                        task()
                    finally:
                        self._cond.acquire()
                if self._stopped:
                    return False
                if not self._paused:
                    return True
                if self._steps > 0:
                    self._steps -= 1
                    return True
                self._cond.wait()

    def run_tasks(self) -> None:
        """Run what is still posted (after training, from the thread that trained)."""
        with self._cond:
            tasks, self._tasks = list(self._tasks), deque()
        for task in tasks:
            task()


class Callback:
    """Hooks called by the trainer on its own thread; override what you need."""

    def on_train_begin(self, trainer: Trainer) -> None: ...
    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None: ...
    def on_batch_end(self, trainer: Trainer, epoch: int, batch: int, logs: dict) -> None: ...
    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict) -> None: ...
    def on_train_end(self, trainer: Trainer, logs: dict) -> None: ...


@dataclass
class History:
    """Per-epoch metrics: loss, accuracy (classification), val_loss, val_accuracy."""

    epochs: list[dict[str, Any]] = field(default_factory=list)
    stopped_early: bool = False

    def last(self, key: str) -> Any:
        return self.epochs[-1].get(key) if self.epochs else None

    def columns(self) -> dict[str, list]:
        """Keras' `history.history` layout: one list per metric, one value per epoch."""
        keys = [k for k in ("loss", "accuracy", "val_loss", "val_accuracy")
                if any(k in e for e in self.epochs)]
        return {k: [e.get(k) for e in self.epochs] for k in keys}


class Trainer:
    def __init__(self, model: Model, dataset: Dataset, config: TrainingConfig,
                 callbacks: Iterable[Callback] = (), control: TrainingControl | None = None):
        config.check()
        self.model = model
        self.dataset = dataset
        self.config = config
        self.callbacks = list(callbacks)
        self.control = control or TrainingControl()
        self.optimizer = make_optimizer(config.optimizer)
        if hasattr(self.optimizer, "check_model"):  # a rule for one kind of network only
            self.optimizer.check_model(model)
        self.history = History()
        self.batches_per_epoch = 0
        self.epoch = 0
        self.grad_squares: dict[str, float] = {}  # last batch: key -> squared gradient norm
        self._batches = Workspace()  # the gathered batch, reused from step to step
        self._prepare_data()

    # --- data ----------------------------------------------------------------------------
    def _prepare_data(self) -> None:
        m, cfg = self.model, self.config
        x_all = m.as_inputs(self.dataset.x_train)
        y_all = self.prepare_targets(self.targets(self.dataset.x_train, self.dataset.y_train),
                                     "training")
        n = len(y_all)
        if n == 0:
            raise DatasetError(f"data set '{self.dataset.name}' has no training samples")
        order = np.random.default_rng([cfg.seed, 3]).permutation(n)
        n_val = int(n * cfg.validation_split)
        val, train = order[:n_val], np.sort(order[n_val:])
        self.x_train = [Rows(a, train) for a in x_all]
        self.y_train = Rows(y_all, train)
        self.x_val = [Rows(a, val) for a in x_all]
        self.y_val = Rows(y_all, val)
        if cfg.standardize:
            for input_id, a in zip(m.input_ids, self.x_train):
                if np.issubdtype(a.dtype, np.floating):
                    mean, std = a.feature_stats()
                    m.set_input_scaling(input_id, mean, np.where(std > 0, std, 1.0))

    def targets(self, x: Features, y: np.ndarray) -> np.ndarray:
        """What the model learns to output: the labels, the labels as one-hot vectors (for
        mse on classes), or (autoencoders) the input itself."""
        if self.config.target == "inputs":
            return self.model.as_inputs(x)[0]
        if self.config.target == "one_hot":
            classes = int(np.prod(self.model.output_shape))
            y = np.asarray(y)
            if y.ndim != 1 or not np.all(np.mod(y, 1) == 0) or len(y) and (
                    y.min() < 0 or y.max() >= classes):
                raise DatasetError(f"target one_hot needs class labels from 0 to {classes - 1}"
                                   f" (one per output unit of '{self.model.output_id}')")
            return np.eye(classes, dtype=self.model.dtype)[y.astype(np.int64)]
        return y

    def accuracy(self, y: np.ndarray, t: np.ndarray) -> float | None:
        """Share of correct predictions, or None when the targets are not classes."""
        if self.config.target == "one_hot":
            return float(np.mean(np.argmax(y, axis=1) == np.argmax(t, axis=1)))
        return accuracy(y, t, self.config.loss)

    def prepare_targets(self, y: np.ndarray, where: str) -> np.ndarray:
        """Labels as int64 (N,) for cross_entropy/hinge; float targets shaped like the
        output otherwise. Mismatches raise DatasetError with both shapes."""
        m, loss = self.model, self.config.loss
        y = np.asarray(y)
        out_shape = m.output_shape
        if loss in LABEL_LOSSES:
            if y.ndim != 1:
                raise DatasetError(f"{loss} needs integer class labels, one per sample; the "
                                   f"{where} targets have shape {list(y.shape[1:])}")
            fractional = np.flatnonzero(np.mod(y, 1) != 0)
            if len(fractional):
                raise DatasetError(f"{loss} needs integer class labels, but the {where} "
                                   f"targets hold numbers such as {y[fractional[0]]:g} (a "
                                   "regression data set: use the loss mse or mae)")
            y = y.astype(np.int64)
            if len(out_shape) != 1:
                raise DatasetError(f"{loss} needs a flat output (classes,), the model's output "
                                   f"'{m.output_id}' has shape {list(out_shape)}")
            if len(y) and (y.min() < 0 or y.max() >= out_shape[0]):
                raise DatasetError(
                    f"the {where} labels go from {y.min()} to {y.max()}, but the output "
                    f"'{m.output_id}' has {out_shape[0]} units (one per class)")
            return y
        y = y.astype(m.dtype)
        if y.shape[1:] != out_shape:
            if y.size == len(y) * int(np.prod(out_shape)):
                return y.reshape((len(y), *out_shape))
            raise DatasetError(f"the {where} targets have shape {list(y.shape[1:])}, the "
                               f"model's output '{m.output_id}' has shape {list(out_shape)}")
        return y

    # --- running -------------------------------------------------------------------------
    def fit(self) -> History:
        """Train for `config.epochs` epochs (or until stopped); returns the history.

        Raises TrainingDiverged, with the weights from before the bad step kept, if the loss
        or a gradient becomes NaN or infinite. BLAS runs on `threads.training_threads`."""
        with self.threads():
            return self._fit(min(self.config.batch_size, len(self.y_train)))

    def threads(self) -> contextlib.AbstractContextManager:
        """The BLAS thread limit the steps run under (see threads.py), also for the work
        around a run (its test evaluation, a window's snapshots): a small model's products are
        many times slower on two threads."""
        bs = min(self.config.batch_size, max(len(self.y_train), 1))
        return blas_threads(training_threads(self.model, bs))

    def _fit(self, bs: int) -> History:
        cfg = self.config
        n = len(self.y_train)
        self.batches_per_epoch = -(-n // bs)
        shuffle_rng = np.random.default_rng([cfg.seed, 1])
        noise_rng = np.random.default_rng([cfg.seed, 2])
        for cb in self.callbacks:
            cb.on_train_begin(self)
        stopped = False
        for epoch in range(1, cfg.epochs + 1):
            self.epoch = epoch
            for cb in self.callbacks:
                cb.on_epoch_begin(self, epoch)
            order = shuffle_rng.permutation(n) if cfg.shuffle else np.arange(n)
            total_loss, total_correct, seen = 0.0, 0.0, 0
            term_totals: dict[str, float] = {}
            started = time.perf_counter()
            for b in range(self.batches_per_epoch):
                if not self.control.checkpoint():
                    stopped = True
                    break
                idx = order[b * bs:(b + 1) * bs]
                xb, yb = self._gather(idx)
                loss, _, acc = self.train_batch(xb, yb, noise_rng, epoch, b + 1)
                total_loss += loss * len(idx)
                seen += len(idx)
                logs = {"loss": loss, "batch_size": len(idx)}
                if self.model.adds_loss:
                    logs.update(self.term_logs(loss, self.model.last_loss_terms))
                    for key in [k for k in logs if k not in ("loss", "batch_size")]:
                        term_totals[key] = term_totals.get(key, 0.0) + logs[key] * len(idx)
                if acc is not None:
                    total_correct += acc * len(idx)
                    logs["accuracy"] = acc
                for cb in self.callbacks:
                    cb.on_batch_end(self, epoch, b + 1, logs)
            if seen == 0:
                break
            logs = {"epoch": epoch, "loss": total_loss / seen}
            logs.update({key: total / seen for key, total in term_totals.items()})
            if LOSSES.get(cfg.loss).classification or cfg.target == "one_hot":
                logs["accuracy"] = total_correct / seen
            if len(self.y_val):
                val = self.evaluate(self.x_val, self.y_val, prepared=True, batch_size=bs,
                                    reuse=True)
                logs["val_loss"] = val["loss"]
                logs.update({f"val_{key}": val[key] for key in term_totals if key in val})
                if "accuracy" in val:
                    logs["val_accuracy"] = val["accuracy"]
            logs["seconds"] = time.perf_counter() - started
            self.history.epochs.append(logs)
            for cb in self.callbacks:
                cb.on_epoch_end(self, epoch, logs)
            if stopped:
                break
        self.history.stopped_early = stopped
        for cb in self.callbacks:
            cb.on_train_end(self, {"stopped": stopped})
        return self.history

    def _gather(self, positions: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """The training rows at `positions`, in the trainer's reused batch buffers."""
        ws, n = self._batches, len(positions)
        rows = ws.empty("rows", (n,), np.intp)
        xb = [a.gather(positions, rows, ws.empty(f"x{k}", (n, *a.shape[1:]), a.dtype))
              for k, a in enumerate(self.x_train)]
        y = self.y_train
        return xb, y.gather(positions, rows, ws.empty("y", (n, *y.shape[1:]), y.dtype))

    def train_batch(self, xb: list[np.ndarray], yb: np.ndarray, rng: np.random.Generator,
                    epoch: int = 0, batch: int = 0) -> tuple[float, np.ndarray, float | None]:
        """One optimizer step; returns (loss, outputs, accuracy or None)."""
        cfg, m = self.config, self.model
        rule = getattr(self.optimizer, "gradients", None)  # perceptron: its own rule
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if rule is not None:
                loss, y, grads = rule(m, xb, yb, cfg.loss, cfg.l2, rng)
            else:
                loss, y, grads = m.train_step_grads(xb, yb, cfg.loss, cfg.l2, rng,
                                                    prepared=True, reuse=True)
            # Packed (see packed.py): the gradients in one array, updated in one go.
            flat = m.packed.gather(grads) if m.packed is not None else None
            if flat is not None:
                self.grad_squares = m.packed.squares(flat)
            else:
                self.grad_squares = {k: float(np.vdot(g, g)) for k, g in grads.items()}
            sq = sum(self.grad_squares.values())
        if not (np.isfinite(loss) and np.isfinite(sq)):
            self._diverged(xb, grads, loss, epoch, batch)
        if cfg.clip_norm is not None and sq > cfg.clip_norm ** 2:
            scale = cfg.clip_norm / np.sqrt(sq)
            for g in [flat] if flat is not None else grads.values():
                g *= scale
        if flat is not None:
            self.optimizer.step({PACKED: m.packed.values}, {PACKED: flat})
        else:
            self.optimizer.step(m.weights, grads)
        return loss, y, self.accuracy(y, yb)

    def _diverged(self, xb, grads, loss, epoch, batch) -> None:
        m = self.model
        node = m.first_nonfinite_node(xb)
        what = "the loss" if not np.isfinite(loss) else "a gradient"
        if node is None:
            bad = [k for k, g in grads.items() if not np.all(np.isfinite(g))]
            node = bad[-1].split("/")[0] if bad else m.output_id
        raise TrainingDiverged(
            f"training stopped at epoch {epoch}, batch {batch}: {what} became NaN or infinite, "
            f"first in node '{node}'; try a lower learning rate (now "
            f"{self.optimizer.learning_rate:g}) or gradient clipping", node, epoch, batch)

    def evaluate(self, x: Features | list[np.ndarray | Rows], y: np.ndarray | Rows,
                 prepared: bool = False, batch_size: int = 512, reuse: bool = False
                 ) -> dict[str, float]:
        """Mean loss (with the l2 penalty and the terms layers add, as optimised) and
        accuracy, in inference mode; with added terms also each term on its own.
        `prepared`: x and y are as the trainer holds them (`as_inputs` arrays or Rows).
        `reuse` (the training thread, between batches): run in the training workspaces,
        with the training `batch_size` so that no new buffers are made."""
        m = self.model
        if prepared:
            pred = m.predict_prepared(x, batch_size, reuse=reuse)
            y = np.asarray(y)
        else:
            y = self.prepare_targets(y, "test")
            pred = m.predict(x, batch_size)
        return self.scores(pred, y, x, batch_size)

    def scores(self, pred: np.ndarray, y: np.ndarray, x: Features | list[np.ndarray | Rows],
               batch_size: int = 512) -> dict[str, float]:
        """`evaluate` on outputs already predicted for `x` (prepared targets `y`): for a
        caller that also wants the outputs, without a second pass over the data."""
        m, cfg = self.model, self.config
        with np.errstate(all="ignore"):
            loss, _, _ = m.loss_and_grad(pred, y, cfg.loss)
            if cfg.l2:
                loss += cfg.l2 * sum(float(np.vdot(m.weights[k], m.weights[k]))
                                     for k in m.regularized_keys)
            terms = m.mean_loss_terms(x, batch_size)
            loss += sum(terms.values())
        out = {"loss": float(loss), **self.term_logs(float(loss), terms)}
        acc = self.accuracy(pred, y)
        if acc is not None:
            out["accuracy"] = acc
        return out

    def term_logs(self, loss: float, terms: dict[str, float]) -> dict[str, float]:
        """For a model whose layers add to the loss: the data loss under the loss's name
        ("mse") and each added term ("kl", "activity"), so each can be drawn as its own curve;
        empty otherwise."""
        if not terms:
            return {}
        return {self.config.loss: loss - sum(terms.values()), **terms}

    def evaluate_test(self) -> dict[str, float]:
        d = self.dataset
        with self.threads():
            return self.evaluate(d.x_test, self.targets(d.x_test, d.y_test))

    def sample(self, index: int, split: str = "val") -> tuple[list[np.ndarray], np.ndarray]:
        """One sample (as a batch of one) from the validation split, or train if empty."""
        xs, ys = (self.x_val, self.y_val) if split == "val" and len(self.y_val) else \
            (self.x_train, self.y_train)
        index = index % len(ys)
        return [a[index:index + 1] for a in xs], ys[index:index + 1]

    def snapshot(self, index: int = 0, nodes: list[str] | None = None
                 ) -> dict[str, dict[str, Any]]:
        """Activations, gradients and weights of every node (or of `nodes`) for one sample
        (see Model.inspect); what the GUI asks for at its own bounded rate."""
        x, y = self.sample(index)
        return self.model.inspect(x, y, self.config.loss, nodes)


def fit(model: Model, dataset: Dataset, config: TrainingConfig | None = None,
        callbacks: Iterable[Callback] = (), **overrides: Any) -> History:
    """Train `model` on `dataset`; keyword overrides replace `config`'s values."""
    config = (config or TrainingConfig()).replace(**overrides)
    return Trainer(model, dataset, config, callbacks).fit()


def evaluate(model: Model, dataset: Dataset, config: TrainingConfig | None = None,
             **overrides: Any) -> dict[str, float]:
    """Loss and accuracy on `dataset`'s test split, in inference mode. The model's weights
    already hold any standardization, so it is not recomputed from this data."""
    if not len(dataset.y_test):
        raise DatasetError(f"data set '{dataset.name}' has no test samples to evaluate on")
    config = (config or TrainingConfig()).replace(**overrides)
    config = config.replace(validation_split=0.0)
    config.standardize = False
    return Trainer(model, dataset, config).evaluate_test()
