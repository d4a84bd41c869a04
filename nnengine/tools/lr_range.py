"""The learning-rate range test (Leslie Smith; popularised by fast.ai's `lr_find`).

Train a copy of the model from its current weights while the learning rate grows
geometrically, batch by batch, from `start` to `end`; record the loss, smoothed by an
exponential moving average (bias-corrected, so the first batches are not pulled to zero);
stop once the smoothed loss exceeds `diverge_factor` times its best. The suggestion is the
rate where the smoothed loss falls fastest against log(rate), looking only before its
minimum: large enough to learn quickly, still well below where training blows up.
The model passed in is never changed.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..datasets.base import Dataset
from ..errors import TrainingDiverged
from ..model import Model
from ..training_config import TrainingConfig
from .batches import training_setup

SKIP_START = 10  # the first batches' losses are noise around the start
SKIP_END = 5     # the last batches before the minimum are already turning


@dataclass(frozen=True)
class LRFinderResult:
    learning_rates: np.ndarray  # (steps,) the rate used for each recorded batch
    losses: np.ndarray          # (steps,) smoothed loss after that batch
    raw_losses: np.ndarray      # (steps,) the batch's own loss
    suggestion: float | None    # None when the loss never fell
    stopped_because: str


def lr_find(model: Model, dataset: Dataset, config: TrainingConfig, start: float = 1e-6,
            end: float = 10.0, steps: int = 200, smoothing: float = 0.98,
            diverge_factor: float = 4.0,
            progress: Callable[[int, int], None] | None = None,
            cancelled: Callable[[], bool] | None = None) -> LRFinderResult:
    """Run the range test with `config`'s optimizer, batch size, loss and data split."""
    _, trainer = training_setup(model, dataset, config)
    n = len(trainer.y_train)
    bs = min(config.batch_size, n)
    order_rng = np.random.default_rng([config.seed, 1])
    noise_rng = np.random.default_rng([config.seed, 2])
    rates = start * (end / start) ** (np.arange(steps) / max(steps - 1, 1))
    smoothed, raw = [], []
    average, best = 0.0, np.inf
    order, position = order_rng.permutation(n), 0
    reason = f"reached the end of the range ({end:g})"
    for i, lr in enumerate(rates):
        if cancelled is not None and cancelled():
            reason = "cancelled"
            break
        if position + bs > n:
            order, position = order_rng.permutation(n), 0
        idx = order[position:position + bs]
        position += bs
        trainer.optimizer.learning_rate = float(lr)
        try:
            loss, _, _ = trainer.train_batch([a[idx] for a in trainer.x_train],
                                             trainer.y_train[idx], noise_rng)
        except TrainingDiverged:
            reason = f"the loss became NaN or infinite at rate {lr:.3g}"
            break
        average = smoothing * average + (1 - smoothing) * loss
        value = average / (1 - smoothing ** (i + 1))
        raw.append(loss)
        smoothed.append(value)
        if progress is not None:
            progress(i + 1, steps)
        best = min(best, value)
        if i > SKIP_START and value > diverge_factor * best:
            reason = f"the loss grew past {diverge_factor:g}x its best at rate {lr:.3g}"
            break
    lrs = rates[:len(smoothed)]
    losses = np.asarray(smoothed)
    return LRFinderResult(lrs, losses, np.asarray(raw), suggest(lrs, losses), reason)


def suggest(rates: np.ndarray, losses: np.ndarray) -> float | None:
    """The rate of steepest descent of `losses` against log10(rate), before the minimum."""
    lowest = int(np.argmin(losses)) if len(losses) else 0
    stop = lowest - SKIP_END
    if stop - SKIP_START < 3:
        return None
    slope = np.gradient(losses, np.log10(rates))[SKIP_START:stop]
    if slope.min() >= 0:
        return None
    return float(rates[SKIP_START + int(np.argmin(slope))])
