"""What keeps watching cheap: the training thread parks between batches while the GUI draws
(turns), plots draw once per drain, snapshots are summarized cheaply (offscreen Qt)."""
from __future__ import annotations

import os
import threading
import time
from typing import Self

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from designer.plots.base import TRAILING, LivePlot
from designer.training.controller import FINISHED, TrainingController
from designer.training.summary import Hist, LayerSummary, Snapshot, histogram
from designer.training.turns import Turns

from .test_training import template


class Batches:
    """A stand-in training thread: counts batches and gives a turn after each one."""

    def __init__(self, turns: Turns):
        self.turns = turns
        self.count = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            time.sleep(0.0005)         # one "batch"
            self.count += 1
            self.turns.give()

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 5
        while self.count < 3 and time.monotonic() < deadline:
            time.sleep(0.001)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)


def test_the_training_thread_parks_while_the_gui_has_its_turn():
    turns = Turns(idle_after=5.0)   # a loaded machine may starve the thread a while
    with Batches(turns) as batches:
        with turns.taken(timeout=5.0) as parked:
            assert parked and turns.parked
            before = batches.count
            time.sleep(0.05)             # a long frame: no batch may run meanwhile
            assert batches.count == before
        deadline = time.monotonic() + 5
        while batches.count <= before and time.monotonic() < deadline:
            time.sleep(0.001)
        assert batches.count > before    # and training goes on after the turn
        assert not turns.parked


def test_no_turn_is_waited_for_when_no_batch_is_running():
    turns = Turns()                      # no batch has ever ended: paused, or not started
    with turns.taken(timeout=30.0) as parked:
        assert not parked                # returns at once instead of waiting 30 s
    turns.give()                         # a batch ends, then training stops
    time.sleep(turns.idle_after * 2)
    with turns.taken(timeout=30.0) as parked:
        assert not parked


def test_a_parked_thread_goes_on_after_its_patience():
    turns = Turns(patience=0.05, idle_after=5.0)
    with Batches(turns) as batches, turns.taken(timeout=5.0) as parked:
        assert parked
        before = batches.count
        deadline = time.monotonic() + 5
        while batches.count == before and time.monotonic() < deadline:
            time.sleep(0.01)
        assert batches.count > before   # the GUI never gave the turn back in time


def test_the_worker_gives_a_turn_after_every_batch(qtbot, monkeypatch):
    calls = []
    original = Turns.give
    monkeypatch.setattr(Turns, "give", lambda self: (calls.append(1), original(self)))
    c = TrainingController(graph=template("xor", epochs=3))
    assert c.start()
    assert c.wait(60_000) and c.state == FINISHED, c.last_message
    assert len(calls) == c.progress.step == 3 * c.progress.batches
    c.shutdown()


class CountingPlot(LivePlot):
    def __init__(self) -> None:
        super().__init__()
        self.drawn = 0

    def draw(self) -> None:
        self.drawn += 1


def test_a_plot_draws_once_per_drain_and_the_last_request_later(qtbot):
    plot = CountingPlot()
    qtbot.addWidget(plot)
    plot.show()
    qtbot.waitExposed(plot)
    plot.min_interval = 60.0             # "within the interval", however slow the machine
    plot.request()                       # new batches ...
    plot.request()                       # ... and a snapshot from the same drain
    assert plot.drawn == 1
    plot.request()
    assert plot.drawn == 1
    qtbot.waitUntil(lambda: plot.drawn == 2, timeout=int(TRAILING * 1000) + 2000)
    plot.min_interval = 0.0
    plot.request()                       # the next drain, past the interval: at once
    assert plot.drawn == 3


def test_the_epoch_history_copy_of_a_snapshot_is_made_once():
    layer = LayerSummary("conv1", "Conv2D", None, (2, 3, 3),
                         unit_values=np.ones(18, np.float32),
                         feature_maps=np.ones((2, 3, 3), np.float32),
                         act_hist=Hist(np.ones(4, np.float32), 0.0, 1.0))
    snap = Snapshot(5, 2, 3, 1.5, ("test", 0), {"conv1": layer})
    light = snap.without_sample_detail()
    assert light is snap.without_sample_detail() is light.without_sample_detail()
    assert light.layers["conv1"].unit_values is None
    assert light.layers["conv1"].feature_maps is None
    assert light.layers["conv1"].act_hist is layer.act_hist
    assert snap.layers["conv1"].unit_values is not None   # the original keeps its detail


def test_a_histogram_clips_a_few_extreme_values_into_its_end_bins():
    values = np.concatenate([np.linspace(-1.0, 1.0, 3000), [500.0, -400.0]])
    h = histogram(values)
    assert -1.05 < h.lo < -0.95 and 0.95 < h.hi < 1.05
    assert h.total == len(values)                  # the extremes are counted, at the ends
    assert h.counts[0] >= 1 and h.counts[-1] >= 1
    flat = histogram(np.linspace(-1.0, 1.0, 3000))
    assert flat.lo == -1.0 and flat.hi == 1.0      # nothing to clip: the full range
