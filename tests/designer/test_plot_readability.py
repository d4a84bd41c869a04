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
        shown = [t for t in conf.texts if t.isVisible() and t.toPlainText()]
        for t in shown:
            metrics = QFontMetrics(t.textItem.font())
            assert metrics.horizontalAdvance(t.toPlainText()) < cell
            assert metrics.height() <= cell
        if cell >= 24:
            assert shown      # big enough cells carry their counts
        title = conf.plot.getPlotItem().titleLabel
        assert title.item.boundingRect().width() <= conf.plot.width()
    assert "test samples" in conf.summary.text()
