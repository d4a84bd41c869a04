"""The chosen data set before training: its size, classes and split, and a look at it: a
scatter of the points for 2-D data, a grid of images, or a table of the first rows.

Loaded once per data set: a built-in set here (it loads in milliseconds), a file or folder
off the GUI thread (it may be large or hostile; the preview says it is reading meanwhile). A
file that cannot be read gets one sentence in place of the preview."""
from __future__ import annotations

from collections import Counter
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QLabel,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

import nnengine
from nnengine import NNEngineError
from nnengine.datasets import is_builtin

from ..files import short, start_reading
from ..plots.images import image_shape_for, tile
from ..plots.pyqtgraph_setup import class_rgb, image_view, make_plot

POINTS_SHOWN = 600
IMAGES_SHOWN = 32
IMAGE_COLUMNS = 8   # 4 full rows of 8: the grid fills the preview's 2:1 box
ROWS_SHOWN = 6
COLUMNS_SHOWN = 6


def first_array(x: object) -> np.ndarray:
    """The (first) input's samples of a data set's features."""
    if isinstance(x, dict):
        return np.asarray(next(iter(x.values())))
    if isinstance(x, list):
        return np.asarray(x[0])
    return np.asarray(x)


def describe(ds: nnengine.Dataset, validation_split: float) -> str:
    """"300 samples for training (240 train, 60 validation) and 100 for testing · 3 classes
    (iris-setosa 50, …)"."""
    n = ds.train_size
    val = round(n * validation_split)
    parts = [(f"<b>{ds.name}</b>: {n:,} training samples ({n - val:,} to learn from, {val:,} "
              f"to validate) and {ds.test_size:,} for testing; samples of shape "
              f"{list(ds.sample_shape())}")]
    if ds.is_classification:
        counts = Counter(np.asarray(ds.y_train).ravel().astype(int).tolist())
        k = ds.num_classes or (max(counts) + 1 if counts else 0)
        names = ds.class_names or []   # none: the labels name the classes
        shown = ", ".join(f"{names[i] if i < len(names) else i} {counts.get(i, 0)}"
                          for i in range(min(k, 10)))
        parts.append(f"{k} classes ({shown}{', …' if k > 10 else ''})")
    else:
        parts.append("regression targets")
    return " · ".join(parts)


def _loaded(name: str, base_dir: Path | None) -> nnengine.Dataset | str:
    """The data set, or why it cannot be read (one sentence)."""
    try:
        return nnengine.load_dataset(name, base_dir=base_dir)
    except (NNEngineError, OSError, ValueError) as e:
        return str(e)


class DatasetPreview(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.scatter_plot = make_plot("", "", "")
        self.scatter_plot.getPlotItem().setAspectLocked(True)
        self.scatter = pg.ScatterPlotItem(size=4, pen=None)
        self.scatter_plot.addItem(self.scatter)
        self.images_widget, self.images_box, self.images = image_view()
        self.images.setColorMap(pg.colormap.get("CET-L1"))
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.stack = QStackedWidget()
        for w in (self.scatter_plot, self.images_widget, self.table):
            self.stack.addWidget(w)
        self.stack.setFixedHeight(170)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.summary)
        col.addWidget(self.stack)
        self.shown: str | None = None   # "scatter", "images" or "table"
        self._loaded: dict[tuple[str, str], nnengine.Dataset | str] = {}
        self._reading: dict[tuple[str, str], Future] = {}
        self._wanted: tuple[str, Path | None, float] | None = None   # the last asked for

    def show_dataset(self, name: str | None, base_dir: Path | None,
                     validation_split: float) -> None:
        if not name:
            self._say("Choose a data set to see it here.")
            return
        key = (name, str(base_dir))
        self._wanted = (name, base_dir, validation_split)
        if key not in self._loaded:
            if not is_builtin(name):
                self._read_later(key, name, base_dir)
                return
            self._loaded[key] = _loaded(name, base_dir)
        ds = self._loaded[key]
        if isinstance(ds, str):
            self._say(f"The data set cannot be shown: {ds}")
            return
        self.summary.setText(describe(ds, validation_split))
        x = first_array(ds.x_train)
        image = image_shape_for(tuple(x.shape[1:]))
        if ds.is_2d and ds.is_classification:
            self._scatter(x, np.asarray(ds.y_train))
        elif image is not None and len(image) == 2:
            self._images(x, image)
        else:
            self._table(x, np.asarray(ds.y_train), ds)
        self.stack.show()

    def _read_later(self, key: tuple[str, str], name: str, base_dir: Path | None) -> None:
        """Read a data file off the GUI thread; shown when read, if still the one chosen."""
        self._say(f"Reading “{short(name)}”…")
        if key in self._reading:
            return
        future = start_reading(lambda: _loaded(name, base_dir))
        self._reading[key] = future
        poll = QTimer(self)
        poll.setInterval(50)

        def check() -> None:
            if not future.done():
                return
            poll.stop()
            poll.deleteLater()
            del self._reading[key]
            self._loaded[key] = future.result()
            wanted = self._wanted
            if wanted is not None and (wanted[0], str(wanted[1])) == key:
                self.show_dataset(*wanted)

        poll.timeout.connect(check)
        poll.start()

    def _say(self, text: str) -> None:
        self.summary.setText(text)
        self.stack.hide()
        self.shown = None

    def _scatter(self, x: np.ndarray, y: np.ndarray) -> None:
        rgb = class_rgb(int(y.max()) + 1 if y.size else 1)
        n = min(len(x), POINTS_SHOWN)
        brushes = [pg.mkBrush(*rgb[int(k)]) for k in y[:n]]
        self.scatter.setData(pos=x[:n, :2].astype(float), brush=brushes)
        self.scatter_plot.getPlotItem().autoRange()
        self.stack.setCurrentWidget(self.scatter_plot)
        self.shown = "scatter"

    def _images(self, x: np.ndarray, shape: tuple[int, ...]) -> None:
        imgs = x[:IMAGES_SHOWN].reshape(-1, *shape).astype(np.float32)
        mosaic = tile(imgs, columns=IMAGE_COLUMNS)
        self.images.setImage(mosaic, autoLevels=False,
                             levels=(float(imgs.min()), float(imgs.max()) + 1e-9))
        self.images_box.autoRange(padding=0.02)
        self.stack.setCurrentWidget(self.images_widget)
        self.shown = "images"

    def _table(self, x: np.ndarray, y: np.ndarray, ds: nnengine.Dataset) -> None:
        flat = x[:ROWS_SHOWN].reshape(min(len(x), ROWS_SHOWN), -1)
        cols = min(flat.shape[1], COLUMNS_SHOWN)
        self.table.setRowCount(len(flat))
        self.table.setColumnCount(cols + 1)
        self.table.setHorizontalHeaderLabels([f"x{i}" for i in range(cols)] + ["label"])
        names = ds.class_names or []
        for r, row in enumerate(flat):
            for c in range(cols):
                self.table.setItem(r, c, QTableWidgetItem(f"{row[c]:.3g}"))
            target = y[r]
            text = (names[int(target)] if ds.is_classification and int(target) < len(names)
                    else np.array2string(np.asarray(target), precision=3))
            self.table.setItem(r, cols, QTableWidgetItem(str(text)))
        self.table.resizeColumnsToContents()
        self.stack.setCurrentWidget(self.table)
        self.shown = "table"
