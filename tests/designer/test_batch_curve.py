"""The training plots' light curve items: a per-batch curve thinned to the view's pixel
columns without losing a spike, clipped to the zoomed range, in log10 on a log axis; the
per-epoch lines' bounds for auto-range; the Curves plot's x axis keeping the whole run."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from designer.plots.batch_curve import BatchCurve, peak_points
from designer.plots.epoch_lines import EpochLines


def test_peak_points_keep_every_columns_extremes_and_gaps():
    x = np.arange(10_000, dtype=float)
    y = np.sin(x / 300.0)
    y[5003] = 100.0          # a spike
    y[7000:7400] = np.nan    # a gap longer than a column
    px, py = peak_points(x, y, 100)
    assert len(px) <= 2 * 100 + 100
    assert np.nanmax(py) == 100.0 and np.nanmin(py) == pytest.approx(np.nanmin(y))
    inside = (px > 7100) & (px < 7300)
    assert inside.any() and np.isnan(py[inside]).all()   # the gap stays a gap
    assert np.all(np.diff(px) >= 0)
    short_x, short_y = peak_points(x[:150], y[:150], 100)
    assert np.array_equal(short_x, x[:150]) and np.array_equal(short_y, y[:150])


@pytest.fixture
def plot(qtbot):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(400, 300)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget.getPlotItem()   # the widget stays referenced while the test runs


def test_a_batch_curve_draws_what_the_view_can_show(plot):
    curve = BatchCurve(plot, pg.mkPen("b"))
    x = np.linspace(0, 10, 100_000)
    y = np.exp(-x) + 0.01
    plot.setXRange(0, 10, padding=0)
    curve.set_data(x, y)
    sx, sy = curve.getData()
    width = int(plot.getViewBox().width())
    assert len(sx) <= 2 * width + 100_000 // width
    assert curve.getOriginalDataset()[0] is x
    assert np.nanmax(sy) == pytest.approx(y.max())
    plot.setXRange(2.0, 2.5, padding=0)              # zoomed in: the curve is redrawn
    zx, _ = curve.getData()
    step = x[1] - x[0]
    assert zx.min() >= 2.0 - 2 * step and zx.max() <= 2.5 + 2 * step
    assert len(zx) > len(x) * 0.04 / 2 or len(zx) >= width
    curve.set_data(x, y, log=True)
    _, ly = curve.getData()
    assert np.nanmax(ly) == pytest.approx(np.log10(y[(x >= 2.0 - step) & (x <= 2.5 + step)]).max(),
                                          rel=1e-6)
    curve.remove()
    assert curve not in plot.items


def test_epoch_lines_report_their_data_for_auto_range(plot):
    lines = EpochLines(plot)
    train, valid = lines.series("#0000ff"), lines.series("#ff0000")
    train.setData([1, 2, 3], [0.9, 0.5, 0.3])
    valid.setData([1, 2, 3], [1.0, np.nan, 0.4])
    assert lines.dataBounds(0) == (1.0, 3.0) and lines.dataBounds(1) == (0.3, 1.0)
    view = plot.getViewBox()
    view.autoRange(padding=0)
    first = view.viewRange()
    view.autoRange(padding=0)                        # its bounds are not the view's own
    assert np.allclose(view.viewRange(), first)
    assert first[0][0] >= 0.9 and first[0][1] <= 3.1
    lines.set_style(log=True, markers=False)
    assert lines.dataBounds(1) == pytest.approx((np.log10(0.3), 0.0))


def test_the_loss_log_scale_keeps_the_whole_runs_x_axis(qtbot):
    from designer.plots.curves import CurvesPlot
    from designer.plots.run_context import RunContext
    from designer.training.mailbox import BatchTable
    from designer.training.metrics import MetricsStore

    m = MetricsStore()
    plot = CurvesPlot()
    qtbot.addWidget(plot)
    plot.resize(900, 400)
    plot.show()
    plot.set_context(RunContext(metrics=m, epochs=12))
    m.add_batches(BatchTable.of(np.arange(1, 51) / 50, 1.0 / np.arange(1, 51), 0.5))
    m.add_epoch({"epoch": 1, "loss": 0.2, "val_loss": 0.3})
    plot.flush()
    plot.refresh()
    whole = plot.loss_plot.viewRange()[0]
    assert whole[0] < 0.1 and whole[1] > 11.9
    plot.log_box.setChecked(True)
    plot.refresh()
    assert np.allclose(plot.loss_plot.viewRange()[0], whole)
    _, y = plot.loss_batch.getData()
    assert np.nanmax(y) == pytest.approx(0.0)      # log10 of the first batch's loss, 1.0
