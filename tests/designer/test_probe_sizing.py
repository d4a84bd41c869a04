"""Watching costs a bounded share whatever the model: a snapshot's probe rows and the live
confusion matrix's test samples shrink as a sample's multiply-adds grow."""
from __future__ import annotations

import numpy as np

import nnengine as nn
from designer.training.probe import PROBE_WORK, WATCHED_WORK, Probe, within_work
from nnengine.layer_table import layer_table
from tests.engine.builders import sequential


def probe_for(filters: int, side: int) -> tuple[Probe, int]:
    graph = sequential([1, side, side], [
        ("Conv2D", {"filters": filters, "padding": "same"}),
        ("Activation", {"function": "relu"}), ("Flatten", {}), ("Dense", {"units": 3}),
        ("Activation", {"function": "softmax"})])
    rng = np.random.default_rng(0)
    x = rng.random((300, 1, side, side), dtype=np.float32)
    y = rng.integers(0, 3, 300)
    data = nn.Dataset("d", x, y, x[:250], y[:250], num_classes=3)
    trainer = nn.Trainer(nn.compile_model(graph), data, nn.TrainingConfig(epochs=1))
    per_sample = layer_table(graph).total("multiply_adds")
    return Probe(trainer), per_sample


def test_a_small_model_keeps_every_probe_row_and_watched_sample():
    probe, per_sample = probe_for(2, 6)
    assert per_sample * 64 < PROBE_WORK
    assert len(probe.probe_t) + 1 == 64
    assert probe.watched_test == 1000
    assert probe.describe(1, []).watched_test == 1000


def test_a_large_model_watches_fewer_rows_within_the_work_budget():
    probe, per_sample = probe_for(96, 28)
    rows = len(probe.probe_t) + 1
    assert 16 <= rows < 64 and (rows == 16 or rows * per_sample <= PROBE_WORK)
    assert 100 <= probe.watched_test < 1000
    assert probe.watched_test * per_sample <= WATCHED_WORK or probe.watched_test == 100
    assert probe.describe(1, []).watched_test == probe.watched_test   # the plot says so
    snap = probe.snapshot(("test", 0), test=probe.watched_test)
    assert len(snap.test_predictions) == min(probe.watched_test, 250)


def test_within_work_bounds():
    assert within_work(64, 1000, 16_000_000, 16) == 64
    assert within_work(64, 1_000_000, 16_000_000, 16) == 16
    assert within_work(64, 10**9, 16_000_000, 16) == 16          # never below the least
    assert within_work(8, 10**9, 16_000_000, 16) == 8            # nor above what is asked
