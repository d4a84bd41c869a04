"""Train ▸ Export the Plot in View: the dashboard's visible page as a PNG picture (the page as
shown, at twice the screen's resolution) or an SVG drawing (the page painted through Qt's
SVG generator: pyqtgraph 0.14's own SVG exporter fails on this Qt's path data), or its data
as CSV (the curves a plot draws itself from its `csv_series`, others through pyqtgraph's CSV
exporter; the confusion matrix as a table of counts)."""
from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters
from PySide6.QtCore import QPoint, QSize
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QWidget

from .plots.confusion import ConfusionPlot
from .plots.dashboard import TrainingDashboard
from .plots.live_plot import LivePlot

FORMATS = ("png", "svg", "csv")
PNG_SCALE = 2


def main_view(page: QWidget) -> pg.GraphicsView | None:
    """The largest pyqtgraph view the page shows (a plot, or a layout of several), also
    while its dock is behind another tab."""
    views = [w for w in page.findChildren(pg.GraphicsView) if w.isVisibleTo(page)]
    return max(views, key=lambda w: w.width() * w.height()) if views else None


def curve_plot(view: pg.GraphicsView) -> pg.PlotItem | None:
    """The plot of `view` with the most curves holding data."""
    plots = [i for i in view.scene().items() if isinstance(i, pg.PlotItem)]
    counted = [(len([c for c in p.listDataItems() if c.xData is not None and len(c.xData)]), p)
               for p in plots]
    counted = [(n, p) for n, p in counted if n]
    return max(counted, key=lambda t: t[0])[1] if counted else None


def export_page(dashboard: TrainingDashboard, path: str | Path) -> Path:
    """Write the visible page to `path` (.png, .svg or .csv by its suffix). Raises ValueError
    with a sentence for the user when that page has nothing of that kind."""
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    if kind not in FORMATS:
        raise ValueError(f"{path.name}: choose a .png, .svg or .csv file name")
    page = dashboard.tabs.currentWidget()
    title = dashboard.tabs.tabText(dashboard.tabs.currentIndex())
    for plot in [page, *page.findChildren(LivePlot)]:  # a hidden plot draws only when shown
        if isinstance(plot, LivePlot):
            plot.draw_pending()
    if kind == "png":
        _write_png(page, path)
        return path
    if kind == "svg":
        _write_svg(page, path, title)
        return path
    if kind == "csv" and isinstance(page, ConfusionPlot):
        _write_matrix(page, path)
        return path
    series = page.csv_series() if isinstance(page, LivePlot) else []
    if series:
        _write_series(series, path)
        return path
    view = main_view(page)
    if view is None:
        raise ValueError(f"the {title} page shows no plot yet: train first")
    item = curve_plot(view)
    if item is None:
        raise ValueError(f"the {title} page has no curve data to save as CSV")
    pg.exporters.CSVExporter(item).export(str(path))
    return path


def _write_png(page: QWidget, path: Path) -> None:
    size = page.size()
    pixmap = QPixmap(QSize(size.width() * PNG_SCALE, size.height() * PNG_SCALE))
    pixmap.setDevicePixelRatio(PNG_SCALE)
    pixmap.fill(page.palette().window().color())
    painter = QPainter(pixmap)
    page.render(painter, QPoint(0, 0))
    painter.end()
    if not pixmap.save(str(path), "PNG"):
        raise OSError(f"could not write {path}")


def _write_svg(page: QWidget, path: Path, title: str) -> None:
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(page.size())
    generator.setViewBox(page.rect())
    generator.setTitle(title)
    painter = QPainter()
    if not painter.begin(generator):
        raise OSError(f"could not write {path}")
    try:
        page.render(painter, QPoint(0, 0))
    finally:
        painter.end()


def _write_series(series: list[tuple[str, np.ndarray, np.ndarray]], path: Path) -> None:
    """Columns "<name>_x", "<name>_y" per curve (pyqtgraph's CSV layout), shorter ones
    padded with empty cells."""
    columns = [c for _, x, y in series for c in (x, y)]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([f"{name}_{axis}" for name, _, _ in series for axis in "xy"])
        for row in itertools.zip_longest(*(c.tolist() for c in columns), fillvalue=""):
            writer.writerow([v if v == "" else f"{v:.9g}" for v in row])


def _write_matrix(page: ConfusionPlot, path: Path) -> None:
    if page.matrix is None:
        raise ValueError("the confusion matrix is not drawn yet: train first")
    ctx = page.context
    names = [str(n) for n in (ctx.class_names or range(len(page.matrix)))]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["true \\ predicted", *names])
        for name, row in zip(names, np.asarray(page.matrix)):
            writer.writerow([name, *map(int, row)])
