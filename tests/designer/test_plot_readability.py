"""Plots that stay readable at the default and at small sizes."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

from .test_training import run, template  # noqa: F401  (run is a fixture)


@pytest.mark.parametrize("low, high, pixels", [(-7, 1, 100), (-3, -1.5, 100), (-2.3, -2, 100),
                                                 (-12, 3, 60), (0, 0.05, 300)])
def test_log_tick_labels_keep_apart(low, high, pixels):
    from designer.plots.log_axis import LABEL_GAP, log_ticks

    ticks = log_ticks(low, high, pixels)
    assert ticks and all(low <= t <= high for t in ticks)
    if len(ticks) > 1:
        assert np.min(np.diff(ticks)) * pixels / (high - low) >= LABEL_GAP


def test_the_gradient_plot_labels_its_log_axis_without_overlap(qtbot):
    from designer.plots.gradients import GradientsPlot
    from designer.plots.log_axis import LABEL_GAP, LogAxis, log_label

    plot = GradientsPlot()
    qtbot.addWidget(plot)
    axis = plot.norm_plot.getPlotItem().getAxis("left")
    assert isinstance(axis, LogAxis) and axis.logMode
    (_, values), = axis.tickValues(-3.0, -1.5, 120)   # the range that overlapped before
    assert np.min(np.diff(values)) * 120 / 1.5 >= LABEL_GAP
    assert [log_label(v) for v in (-6, -3, 0, np.log10(20))] == ["1e-6", "0.001", "1", "20"]


def test_confusion_counts_fit_their_cells_and_the_title_fits(qtbot, run):  # noqa: F811
    from PySide6.QtGui import QFontMetrics

    from designer.training.states import TrainingState

    c, dash = run(template("digits_mlp", epochs=1))
    c.start()
    assert c.wait(60_000) and c.state == TrainingState.FINISHED
    dash.show_page("Confusion")
    conf = dash.confusion
    for size in ((1000, 640), (1024, 260), (700, 200)):   # 1024x700's plot dock: 260
        dash.resize(*size)
        qtbot.wait(50)
        conf.refresh()
        qtbot.wait(50)
        cell = conf.cell_pixels()
        counts = conf.counts
        shown = [t for t in counts.texts if t] if counts.shown else []
        metrics = QFontMetrics(counts.font)
        for t in shown:
            assert metrics.horizontalAdvance(t) < cell
            assert metrics.height() <= cell
        if cell >= 24:
            assert shown      # big enough cells carry their counts
        title = conf.plot.getPlotItem().titleLabel
        assert title.item.boundingRect().width() <= conf.plot.width()
    assert "test samples" in conf.summary.text()
    assert conf.counts.texts == [str(n) if n else "" for n in conf.matrix.ravel()]


def test_confusion_counts_are_painted_in_their_cells(qtbot, run):  # noqa: F811
    from PySide6.QtCore import QRectF

    from designer.training.states import TrainingState

    c, dash = run(template("digits_mlp", epochs=1))
    c.start()
    assert c.wait(60_000) and c.state == TrainingState.FINISHED
    dash.resize(1000, 640)
    dash.show_page("Confusion")
    qtbot.wait(50)
    conf = dash.confusion
    conf.refresh()
    qtbot.wait(50)
    view = conf.plot.getPlotItem().getViewBox()

    def ink(row: int, col: int) -> int:
        """Pixels that differ with and without the counts inside cell (row, col)."""
        rect = view.mapViewToDevice(QRectF(col, row, 1, 1)).boundingRect().toRect()
        font = conf.counts.font
        with_counts = conf.plot.grab().toImage().copy(rect)
        conf.counts.set_font(font, False)
        without = conf.plot.grab().toImage().copy(rect)
        conf.counts.set_font(font, True)
        return sum(with_counts.pixel(x, y) != without.pixel(x, y)
                   for x in range(rect.width()) for y in range(rect.height()))

    m = conf.matrix
    full = np.unravel_index(np.argmax(m), m.shape)          # a cell with a count
    empty = np.argwhere(m == 0)[0]                            # and one without
    assert ink(*full) > 5
    assert ink(*empty) == 0


def test_per_channel_scaling_stretches_each_channel():
    from designer.plots.feature_maps import per_channel

    rng = np.random.default_rng(0)
    weak = rng.normal(0, 0.1, (8, 8))
    strong = rng.normal(0, 5.0, (8, 8))
    strong[0, 0] = 100.0                         # one extreme value, as at a padded border
    maps = np.stack([weak, strong, np.full((8, 8), 3.0)]).astype(np.float32)
    signed = per_channel(maps, signed=True)
    assert np.abs(signed).max() == 1.0
    for c in (0, 1):                             # both channels use their range, robustly
        assert np.mean(np.abs(signed[c]) > 0.3) > 0.3
    plain = per_channel(np.abs(maps), signed=False)
    assert np.all(plain[2] == 0)                 # a flat channel stays flat
    assert plain[0].min() == 0 and plain[0].max() == 1


def test_feature_maps_say_which_scale_they_show(qtbot, run):  # noqa: F811
    from designer.training.states import TrainingState

    c, dash = run(template("digits_cnn", epochs=1))
    c.start()
    assert c.wait(60_000) and c.state == TrainingState.FINISHED
    dash.show_page("Feature maps")
    fm = dash.feature_maps
    fm.refresh()
    qtbot.wait(50)
    assert "each channel scaled to its own range" in fm.caption.text()
    assert fm.maps.levels is not None and max(abs(v) for v in fm.maps.levels) == 1.0
    fm.scale.setCurrentIndex(fm.scale.findData("whole layer"))
    fm.refresh()
    qtbot.wait(50)
    assert "one colour scale for the layer" in fm.caption.text()


def test_decision_boundary_keeps_the_planes_shape_and_names_the_classes(qtbot, run):  # noqa: F811
    from designer.training.states import TrainingState

    c, dash = run(template("xor", epochs=2))
    c.start()
    assert c.wait(60_000) and c.state == TrainingState.FINISHED
    dash.resize(1200, 300)     # a wide, short plot dock
    dash.show_page("Decision boundary")
    db = dash.boundary
    db.refresh()
    qtbot.wait(100)
    aspect = db.data_aspect()
    vb = db.plot.getPlotItem().getViewBox()
    x0, x1, y0, y1 = db.context.extent

    def spare() -> float:
        (vx0, vx1), (vy0, vy1) = vb.viewRange()
        return max((vx1 - vx0) / (x1 - x0), (vy1 - vy0) / (y1 - y0))

    qtbot.waitUntil(lambda: spare() < 1.3, timeout=3000)   # the layout settles
    (vx0, vx1), (vy0, vy1) = vb.viewRange()
    assert vx0 <= x0 + 1e-6 and vx1 >= x1 - 1e-6 and vy0 <= y0 + 1e-6 and vy1 >= y1 - 1e-6
    w, h = vb.width(), vb.height()
    assert abs((w / h) / ((vx1 - vx0) / (vy1 - vy0)) - 1) < 0.05   # one unit, one length
    assert aspect is not None
    assert db.legend.isVisible() and "class" in db.legend.text()
    assert all(str(n) in db.legend.text() for n in (db.context.class_names or [0, 1]))
