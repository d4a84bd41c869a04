"""The progress `nnengine train` shows on stderr: a trainer callback drawing a bar."""
from __future__ import annotations

import sys
import time
from typing import Any

from .trainer import Callback, Trainer


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


__all__ = ["ProgressBar"]
