"""What keeps watching cheap: plots draw once per tick, reports are merged and read without
waiting, snapshots are summarized cheaply, the live confusion matrix predicts a fixed part of
the test split (offscreen Qt)."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import numpy as np

from designer.plots.live_plot import TRAILING, LivePlot
from designer.training.mailbox import BatchTable, Drained, Mailbox, SentWeights
from designer.training.protocol import FrameReader, encode
from designer.training.summary import Hist, LayerSummary, Snapshot, histogram


class CountingPlot(LivePlot):
    def __init__(self) -> None:
        super().__init__()
        self.drawn = 0

    def draw(self) -> None:
        self.drawn += 1


def test_a_plot_draws_once_per_tick_and_the_last_request_later(qtbot):
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


def test_reports_merge_in_order_and_keep_only_the_newest_snapshot_and_weights():
    box = Mailbox()
    box.put_batch((1, 1, 1, 0.1, 2.0, np.nan, 8, 0.0))
    box.put_snapshot("first")
    box.put_weights(SentWeights({"d/W": np.zeros(2)}, 1, 0))
    merged = box.drain()
    box.put_batch((2, 1, 2, 0.2, 1.5, np.nan, 8, 0.1))
    box.put_event("finished", {})
    merged.merge(box.drain())
    assert merged.batches.step.tolist() == [1, 2]
    assert merged.snapshot == "first" and merged.weights.step == 1   # nothing newer came
    assert [e.kind for e in merged.events] == ["finished"]
    box.put_snapshot("second")
    box.put_weights(SentWeights({"d/W": np.ones(2)}, 2, 1))
    merged.merge(box.drain())
    assert merged.snapshot == "second" and merged.weights.step == 2
    assert not box.drain() and not Drained()


def test_the_frame_reader_never_waits_and_joins_split_messages():
    read_fd, write_fd = os.pipe()
    reader = FrameReader(read_fd)
    try:
        assert reader.read() == []                          # nothing there: returns at once
        big = np.arange(300_000, dtype=np.float32)         # more than a pipe holds at once
        data = encode("update", big) + encode("beat")
        os.write(write_fd, data[:1000])
        assert reader.read() == []                          # half a message: kept, not lost
        rest = memoryview(data)[1000:]
        got = []
        while rest:
            n = os.write(write_fd, rest[:60_000])
            rest = rest[n:]
            got += reader.read()
        os.close(write_fd)
        write_fd = -1
        got += reader.read()
        assert [k for k, _ in got] == ["update", "beat"]
        np.testing.assert_array_equal(got[0][1], big)
        assert reader.eof
    finally:
        reader.close()
        if write_fd >= 0:
            os.close(write_fd)


def test_the_live_confusion_matrix_counts_a_fixed_part_and_says_so(qtbot):
    from designer.plots.confusion import ConfusionPlot
    from designer.plots.run_context import RunContext

    plot = ConfusionPlot()
    qtbot.addWidget(plot)
    plot.resize(900, 500)
    plot.show()
    labels = np.arange(3000) % 3
    plot.set_context(RunContext(classification=True, num_classes=3, class_names=list("abc"),
                                test_labels=labels, watched_test=1000))
    part = Snapshot(10, 1, 10, 0.5, ("test", 0), {}, test_predictions=labels[:1000] * 0)
    plot.set_snapshot(part)
    plot.refresh()
    assert plot.matrix.sum() == 1000 and plot.matrix[:, 0].tolist() == [334, 333, 333]
    axis = plot.plot.getPlotItem().getAxis("bottom").labelText
    assert "the first 1,000 of 3,000 test samples" in axis
    whole = Snapshot(20, 2, 0, 2.0, ("test", 0), {}, test_predictions=labels.copy())
    plot.set_snapshot(whole)
    plot.refresh()
    assert plot.matrix.trace() == 3000 and "all 3,000 test samples" in \
        plot.plot.getPlotItem().getAxis("bottom").labelText
    assert plot.cell_samples(1, 1)[:2] == [1, 4]


def _colours_at(plot, plot_item, x: float, y: float) -> set[tuple[int, int, int]]:
    """The colours the curves widget shows within 2 pixels of data point (x, y)."""
    from PySide6.QtCore import QPoint, QPointF

    scene = plot_item.vb.mapViewToScene(QPointF(x, y))
    at = plot.view.mapTo(plot, plot.view.mapFromScene(scene))
    image = plot.grab().toImage()
    return {image.pixelColor(at + QPoint(dx, dy)).getRgb()[:3]
            for dx in range(-2, 3) for dy in range(-2, 3)}


def test_the_cached_epoch_curves_show_each_new_epoch(qtbot):
    """The per-epoch curves are painted from pixmaps: a new epoch must still appear, and the
    per-batch curve keeps every batch as its arrays grow."""
    from PySide6.QtGui import QColor

    from designer.plots.curves import CurvesPlot
    from designer.plots.run_context import RunContext
    from designer.style import VALID_COLOR
    from designer.training.metrics import MetricsStore

    m = MetricsStore()
    plot = CurvesPlot()
    qtbot.addWidget(plot)
    plot.resize(900, 400)
    plot.show()
    qtbot.waitExposed(plot)
    plot.set_context(RunContext(metrics=m, epochs=8))
    valid = QColor(VALID_COLOR)
    want = (valid.red(), valid.green(), valid.blue())
    step = 0
    for epoch in range(1, 9):
        m.add_batches(BatchTable.of(epoch - 1 + np.arange(1, 301) / 300, 1.0, 0.5,
                                    step=step + np.arange(300), epoch=epoch))
        step += 300
        val_loss = 0.2 + 0.1 * (epoch % 3)
        m.add_epoch({"epoch": epoch, "loss": 0.5, "val_loss": val_loss, "accuracy": 0.5,
                     "val_accuracy": 0.25})
        plot.flush()
        plot.refresh()
        assert want in _colours_at(plot, plot.loss_plot, epoch, val_loss), epoch
        assert want in _colours_at(plot, plot.acc_plot, epoch, 0.25), epoch
    x, y = plot.loss_batch.getOriginalDataset()
    assert len(x) == 2400 and np.array_equal(x, m.batch_x) and np.all(y == 1.0)
    assert plot.val_loss.getData()[0].tolist() == list(range(1, 9))


def test_a_snapshot_due_just_before_an_epoch_end_that_takes_one_waits_for_it(monkeypatch):
    """A fast run of 60 epochs takes a snapshot at every third epoch's end (its spread); one
    due at a batch of such an epoch, with the end nearer than the snapshot interval, is left
    to the end: snapshots come at the interval, not two in a row."""
    from types import SimpleNamespace

    import designer.training.reporter as reporter_module
    from designer.training.pacer import Pacer
    from designer.training.reporter import SnapshotBudget, TrainingReporter
    from nnengine import TrainingControl

    clock = [0.0]
    monkeypatch.setattr(reporter_module.time, "monotonic", lambda: clock[0])
    rep = TrainingReporter(Mailbox(), TrainingControl(), ("train", 0),
                           SnapshotBudget(max_hz=5.0, share=1.0), pacer=Pacer(None))
    rep.trainer = SimpleNamespace(config=SimpleNamespace(epochs=60), grad_squares={},
                                  model=SimpleNamespace(get_weights=dict))
    rep.bpe, rep.norms = 10, reporter_module.LayerGradNorms([])
    taken: list[tuple[str, int]] = []
    phase = ["batch"]

    def snap(with_test: bool = False, must: bool = True) -> None:
        taken.append((phase[0], rep.epoch))
        rep.budget.record(clock[0], clock[0])

    rep.snap = snap
    for epoch in range(1, 61):                      # 10 batches of 10 ms an epoch
        rep.on_epoch_begin(rep.trainer, epoch)
        phase[0] = "batch"
        for batch in range(1, 11):
            clock[0] += 0.01
            rep.on_batch_end(rep.trainer, epoch, batch, {"loss": 1.0, "batch_size": 8})
        phase[0] = "end"
        rep.on_epoch_end(rep.trainer, epoch, {"loss": 1.0})
    at_batches = [e for kind, e in taken if kind == "batch"]
    at_ends = [e for kind, e in taken if kind == "end"]
    assert at_ends == list(range(3, 61, 3))          # the spread: every third epoch
    assert at_batches and not [e for e in at_batches if e % 3 == 0]
    assert len(taken) / clock[0] <= 5.5              # about the 5 Hz limit, not more
