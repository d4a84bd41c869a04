"""What makes a live snapshot cheap keeps what it shows and what the health alarms see: the
histograms equal the exact rule they replace, the gradient norms are the ones the alarms
were calibrated on, the watched test samples are predicted only while the confusion matrix
is in front (and at once when it comes to the front), the run's end makes one pass over
the test split for its metrics and its predictions, and a snapshot crosses the pipe once."""
from __future__ import annotations

import os
import pickle
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import numpy as np
import pytest

import nnengine as nn
from designer.plots.dashboard import TrainingDashboard
from designer.training.controller import TrainingController
from designer.training.mailbox import Drained, EpochRecord, Mailbox
from designer.training.probe import Probe
from designer.training.reporter import SnapshotBudget, TrainingReporter
from designer.training.states import TrainingState
from designer.training.summary import (
    BINS,
    MAX_HIST_VALUES,
    OPTIONAL_PARTS,
    TEST_PREDICTIONS,
    Snapshot,
    histogram,
    predicted_classes,
    summarize,
)
from nnengine.diagnostics import grad_norms
from tests.engine.builders import sequential

from .test_training import template


def exact_histogram(values: np.ndarray, bins: int = BINS) -> tuple[np.ndarray, float, float]:
    """The rule `histogram` implements, written plainly: the finite values in float64, the
    0.5-99.5 percentile range (exact order statistics) when it spans under half the full
    range, np.histogram with the outliers counted in the end bins."""
    v = np.ravel(values).astype(np.float64)
    v = v[np.isfinite(v)]
    lo, hi = float(v.min()), float(v.max())
    if v.size > 200 and hi > lo:
        k = (int(0.005 * (v.size - 1)), int(np.ceil(0.995 * (v.size - 1))))
        plo, phi = np.sort(v)[list(k)]
        if phi > plo and phi - plo < 0.5 * (hi - lo):
            lo, hi = float(plo), float(phi)
    if hi - lo < 1e-12:
        pad = max(abs(lo) * 0.05, 1e-3)
        lo, hi = lo - pad, hi + pad
    counts, _ = np.histogram(np.clip(v, lo, hi), bins=bins, range=(lo, hi))
    return counts, lo, hi


def samples(seed: int) -> dict[str, np.ndarray]:
    """Activations, weights and gradients as a snapshot meets them (float32, at most
    MAX_HIST_VALUES values, some transposed views as the training workspaces hand out)."""
    rng = np.random.default_rng(seed)
    normal = rng.standard_normal((16, 8, 4, 4)).astype(np.float32)
    tailed = normal.copy()
    tailed.flat[rng.choice(tailed.size, 5, replace=False)] = [60, -45, 80, 55, -70]
    broken = rng.standard_normal(500).astype(np.float32)
    broken[[3, 77, 400]] = [np.nan, np.inf, -np.inf]
    return {"normal": normal,
            "relu, channel-major view": np.maximum(normal, 0).transpose(1, 0, 2, 3)
            .copy().transpose(1, 0, 2, 3),
            "a few outliers": tailed,
            "long tail": rng.lognormal(0.0, 1.5, (64, 60)).astype(np.float32).T,
            "uniform weights": rng.uniform(-0.3, 0.3, (300, 10)).astype(np.float32),
            "nan and inf": broken,
            "constant": np.full(300, 0.25, np.float32),
            "small": rng.standard_normal(50).astype(np.float32)}


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_fast_histogram_is_the_exact_rule(seed):
    for name, values in samples(seed).items():
        assert values.size <= MAX_HIST_VALUES
        h = histogram(values)
        counts, lo, hi = exact_histogram(values)
        assert (h.lo, h.hi) == pytest.approx((lo, hi), rel=1e-6, abs=1e-9), name
        assert h.total == counts.sum(), name
        # float32 index arithmetic may put a value lying on a bin edge next door
        assert np.abs(h.counts - counts).sum() <= 2, name


def test_a_large_view_is_sampled_without_a_whole_copy_and_keeps_its_shape():
    rng = np.random.default_rng(5)
    base = rng.standard_normal((32, 64, 8, 8)).astype(np.float32)     # channel-major
    view = base.transpose(1, 0, 2, 3)                                 # (batch, C, H, W)
    assert not view.flags.c_contiguous and view.size > MAX_HIST_VALUES
    h = histogram(view)
    assert h.total == pytest.approx(view.size / -(-view.size // MAX_HIST_VALUES), abs=1)
    counts, lo, hi = exact_histogram(base.ravel()[::-(-view.size // MAX_HIST_VALUES)])
    assert (h.lo, h.hi) == pytest.approx((lo, hi), rel=1e-6)
    assert np.abs(h.counts - counts).sum() <= 2


def sick_trainer(seed: int, epochs: int = 1) -> nn.Trainer:
    """A ReLU net whose first layer starts mostly dead (a large negative bias), with a test
    split: alarms to see, and a confusion matrix."""
    graph = sequential([6], [("dense1", "Dense", {"units": 32}),
                             ("relu1", "Activation", {"function": "relu"}),
                             ("dense2", "Dense", {"units": 3}),
                             ("out", "Activation", {"function": "softmax"})])
    model = nn.compile_model(graph, seed=seed)
    model.weights["dense1/b"][:24] = -50.0
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((400, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 1).astype(int)
    data = nn.Dataset("d", x[:300], y[:300], x[300:], y[300:], num_classes=3)
    return nn.Trainer(model, data, nn.TrainingConfig(epochs=epochs, batch_size=32, seed=seed))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_snapshot_shows_the_norms_and_alarms_of_all_probe_rows(seed):
    trainer = sick_trainer(seed)
    probe = Probe(trainer)
    snap = probe.snapshot(("test", 3))
    m = trainer.model
    sx, st = probe.sample("test", 3)
    xs = [np.concatenate([a, p]) for a, p in zip(sx, probe.probe_x)]
    ts = np.concatenate([st, probe.probe_t.astype(st.dtype)])
    assert len(ts) == 64                                 # the rows the alarms were tuned on
    inspected = m.inspect(xs, ts, trainer.config.loss)
    expected = grad_norms(inspected)
    shown = {n: s.grad_norm for n, s in snap.layers.items() if s.grad_norm is not None}
    assert shown == expected                             # bit for bit
    assert {n: s.grad_norm for n, s in summarize(inspected, probe.kinds).items()
            if s.grad_norm is not None} == expected
    assert [(a.code, a.node_id) for a in snap.alarms] == [("dead_relu", "relu1")]


class Recording(Mailbox):
    def __init__(self) -> None:
        super().__init__()
        self.snapshots: list = []

    def put_snapshot(self, snapshot) -> None:
        self.snapshots.append(snapshot)
        super().put_snapshot(snapshot)


def reporter_run(watched: frozenset[str]) -> tuple[TrainingReporter, Recording]:
    trainer = sick_trainer(0, epochs=3)
    box = Recording()
    control = nn.TrainingControl()
    rep = TrainingReporter(box, control, None, SnapshotBudget(max_hz=1000, share=1.0),
                           watched=watched)
    nn.Trainer(trainer.model, trainer.dataset, trainer.config, [rep], control).fit()
    return rep, box


def test_the_watched_test_samples_are_predicted_only_while_shown():
    rep, box = reporter_run(frozenset())
    assert len(box.snapshots) > 3
    assert all(s.test_predictions is None for s in box.snapshots)
    rep.watch(OPTIONAL_PARTS)                       # the confusion matrix comes to the front
    now = box.snapshots[-1]
    assert now.test_predictions is not None and len(now.test_predictions) == 100
    shown, shown_box = reporter_run(OPTIONAL_PARTS)
    assert any(s.test_predictions is not None for s in shown_box.snapshots)
    assert shown.watched == OPTIONAL_PARTS


def test_the_watched_test_predictions_have_a_budget_of_their_own(monkeypatch):
    """Slow predictions (50 ms) are charged to their own budget, not to the snapshots':
    charged to the snapshots' share they held the next snapshots back. A count of the whole
    split asked for by the person is charged to neither."""
    slow = Probe.test_predictions

    def slowed(self, count):
        time.sleep(0.05)
        return slow(self, count)

    monkeypatch.setattr(Probe, "test_predictions", slowed)
    rep, box = reporter_run(OPTIONAL_PARTS)
    tested = [s for s in box.snapshots if s.test_predictions is not None]
    assert tested                                     # predicted while the matrix is shown
    assert rep.test_budget.spent >= 0.05 * len(tested)
    assert rep.budget.spent < 0.05                    # none of it charged to the snapshots
    before = rep.budget.spent, rep.test_budget.spent
    rep.snap(full_test=True)                          # "count all test samples now"
    assert len(box.snapshots[-1].test_predictions) == 100
    assert rep.budget.spent - before[0] < 0.05        # asked for: neither budget pays
    assert rep.test_budget.spent == before[1]
    rep.test_budget.restart()
    rep.test_budget.last = -float("inf")              # due by time...
    assert rep.test_due()
    rep.test_budget.spent = 0.05                      # ...but not over its share
    assert not rep.test_due()


def test_the_end_of_a_run_counts_the_whole_test_split_in_one_pass():
    rep, box = reporter_run(frozenset())
    trainer = rep.trainer
    metrics = rep.finish()
    x_test, y_test = trainer.dataset.x_test, trainer.dataset.y_test
    assert metrics == trainer.evaluate(x_test, y_test)       # as `nnengine train` reports
    last = box.snapshots[-1]
    np.testing.assert_array_equal(last.test_predictions,
                                  predicted_classes(trainer.model.predict(x_test)))


def test_the_confusion_tab_in_front_makes_the_training_process_predict(qtbot):
    c = TrainingController(graph=template("digits_cnn", epochs=5, batch_size=16))
    dash = TrainingDashboard(c)
    qtbot.addWidget(dash)
    dash.show()
    try:
        assert dash.tabs.currentWidget() is dash.curves and c.watched == frozenset()
        c.step()                                            # a paused run, one batch in
        qtbot.waitUntil(lambda: c.state == TrainingState.PAUSED and c.snapshot is not None
                        and c.snapshot.step == 1, timeout=60_000)
        assert c.snapshot.test_predictions is None
        dash.show_page("Confusion")
        assert c.watched == {TEST_PREDICTIONS}
        qtbot.waitUntil(lambda: c.snapshot.test_predictions is not None, timeout=60_000)
        watched = min(c.run.watched_test, c.run.split_sizes["test"])
        assert len(c.snapshot.test_predictions) == watched
        dash.confusion.refresh()
        assert dash.confusion.matrix.sum() == watched
        dash.show_page("Weights")
        assert c.watched == frozenset()
    finally:
        c.shutdown()


def test_an_epoch_record_does_not_carry_a_snapshot_already_sent():
    first, second = (Snapshot(s, 1, s, 0.1 * s, ("test", 0), {}, output=np.arange(1000.0))
                     for s in (10, 20))
    box = Mailbox()
    box.put_snapshot(first)
    box.put_epoch(EpochRecord(1, {"loss": 1.0}, first))
    sent = [box.drain()]
    box.put_epoch(EpochRecord(2, {"loss": 0.9}, first))      # no newer snapshot yet
    sent.append(box.drain())
    box.put_snapshot(second)
    box.put_epoch(EpochRecord(3, {"loss": 0.8}, first))      # ended before `second`
    sent.append(box.drain())
    box.put_epoch(EpochRecord(4, {"loss": 0.7}, second))
    sent.append(box.drain())
    sizes = [len(pickle.dumps(d)) for d in sent]
    assert sizes[1] < 1000 < sizes[0] and sizes[3] < 1000   # 8 kB of output went once
    received = [pickle.loads(pickle.dumps(d)) for d in sent]   # what the window reads
    last = None
    merged = Drained()
    for d in received:
        last = d.fill_in(last)
        merged.merge(d)
    epochs = merged.epochs
    assert [e.epoch for e in epochs] == [1, 2, 3, 4]
    assert epochs[1].snapshot is epochs[0].snapshot is received[0].snapshot
    assert epochs[2].snapshot is received[0].snapshot and epochs[2].snapshot.step == 10
    assert epochs[3].snapshot is received[2].snapshot is last and last.step == 20
    np.testing.assert_array_equal(epochs[1].snapshot.output, first.output)
