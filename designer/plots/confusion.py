"""The confusion matrix on the test split (rows: true class, columns: predicted; shaded by
the share of each true class), and a grid of test samples with their predictions. Clicking
a cell lists its samples; clicking a sample makes it the sample under inspection."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ..style import BAD_COLOR, GOOD_COLOR, HIGHLIGHT_COLOR, ON_DARK_TEXT, PLOT_MUTED, PLOT_TEXT
from ..training.summary import TEST_PREDICTIONS, Snapshot
from .cell_counts import CellCounts
from .live_plot import LivePlot
from .pyqtgraph_setup import make_plot, sequential_map, set_axis_label, set_title
from .run_context import trained_for

MAX_TEXT_CLASSES = 15    # above this, cells carry no count labels
CELL_FONT_MAX, CELL_FONT_MIN = 13, 7   # pixel sizes of the counts in the cells
GRID_SAMPLES = 60        # samples shown when no cell is chosen
ICON = 40


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    """(k, k) counts: [true, predicted]."""
    m = np.zeros((k, k), dtype=np.int64)
    ok = (labels >= 0) & (labels < k) & (predicted >= 0) & (predicted < k)
    np.add.at(m, (labels[ok].astype(int), predicted[ok].astype(int)), 1)
    return m


def sample_icon(image: np.ndarray, levels: tuple[float, float]) -> QIcon:
    """A grey (h, w) or colour (h, w, 3) sample as an icon, scaled up without smoothing."""
    lo, hi = levels
    a = np.clip((np.asarray(image, dtype=np.float32) - lo) / (hi - lo + 1e-9), 0, 1)
    a = np.ascontiguousarray((a * 255).astype(np.uint8))
    if a.ndim == 2:
        h, w = a.shape
        img = QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    else:
        h, w, _ = a.shape
        img = QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    return QIcon(QPixmap.fromImage(img).scaled(ICON, ICON, Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.FastTransformation))


class ConfusionPlot(LivePlot):
    sample_chosen = Signal(int)      # a test sample index
    cell_chosen = Signal(int, int)   # true class, predicted class
    whole_split_wanted = Signal()    # count every test sample now, not only the watched ones
    snapshot_parts = frozenset({TEST_PREDICTIONS})

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.plot = make_plot("Confusion matrix (test split)", "true class", "predicted class")
        self.plot.setMinimumSize(200, 150)
        item = self.plot.getPlotItem()
        item.invertY(True)
        item.setAspectLocked(True)
        item.showGrid(x=False, y=False)
        item.getViewBox().setMouseEnabled(x=False, y=False)
        self.image = pg.ImageItem(autoLevels=False)
        self.image.setColorMap(sequential_map())
        self.plot.addItem(self.image)
        self.cell_box = pg.QtWidgets.QGraphicsRectItem(0, 0, 1, 1)
        self.cell_box.setPen(pg.mkPen(HIGHLIGHT_COLOR, width=3))
        self.cell_box.setVisible(False)
        self.plot.addItem(self.cell_box)
        self.counts = CellCounts()
        self.plot.addItem(self.counts)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        item.getViewBox().sigResized.connect(self._fit_cell_texts)
        self._cell_font_px = 0
        self._icons: dict[int, QIcon] = {}             # test sample index -> its icon
        split.addWidget(self.plot)
        right = QWidget()
        col = QVBoxLayout(right)
        col.setContentsMargins(4, 0, 0, 0)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet(f"color: {PLOT_TEXT};")
        self.samples = QListWidget()
        self.samples.setViewMode(QListWidget.ViewMode.IconMode)
        self.samples.setIconSize(QSize(ICON, ICON))
        self.samples.setGridSize(QSize(ICON + 30, ICON + 24))
        self.samples.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.samples.setMovement(QListWidget.Movement.Static)
        self.samples.setUniformItemSizes(True)
        self.samples.itemClicked.connect(self._sample_clicked)
        hint = QLabel("Click a cell to list its samples; click a sample to inspect it.")
        hint.setStyleSheet(f"color: {PLOT_MUTED};")
        hint.setWordWrap(True)
        self.whole_split = QPushButton()
        self.whole_split.setToolTip("While training runs the matrix counts a fixed part of "
                                    "the test split, so watching costs the same whatever its "
                                    "size; this counts all of it once")
        self.whole_split.clicked.connect(self.whole_split_wanted)
        self.whole_split.setVisible(False)
        col.addWidget(self.summary)
        col.addWidget(self.whole_split)
        col.addWidget(self.samples, 1)
        col.addWidget(hint)
        split.addWidget(right)
        split.setStretchFactor(0, 3)   # the matrix first: the samples list can scroll
        split.setStretchFactor(1, 2)
        split.setSizes([480, 300])
        self.body.addWidget(split, 1)
        self.snapshot: Snapshot | None = None
        self.matrix: np.ndarray | None = None
        self.predictions: np.ndarray | None = None
        self.cell: tuple[int, int] | None = None
        self._drawn = None
        self._levels = (0.0, 1.0)
        self.about = ""
        self.message("The confusion matrix is shown for classification.")

    # --- run set-up ------------------------------------------------------------------------
    def reset(self) -> None:
        ctx = self.context
        self.counts.set_cells([], [])
        self._icons = {}
        self.snapshot = self.matrix = self.predictions = None
        self.cell = None
        self.cell_box.setVisible(False)
        self._drawn = None
        k = ctx.num_classes
        if not ctx.classification or not k:
            return
        names = [str(n) for n in (ctx.class_names or range(k))][:k]
        ticks = [[(i + 0.5, names[i]) for i in range(k)]]
        item = self.plot.getPlotItem()
        item.getAxis("bottom").setTicks(ticks)
        item.getAxis("left").setTicks(ticks)
        item.setRange(xRange=(0, k), yRange=(0, k), padding=0.02)
        if ctx.test_images is not None:
            self._levels = (float(np.nanmin(ctx.test_images)), float(np.nanmax(ctx.test_images)))

    def set_snapshot(self, snap: Snapshot | None) -> None:
        """Only snapshots with test predictions change the matrix; others are ignored."""
        if snap is not None and snap.test_predictions is not None:
            self.snapshot = snap
            self.request()

    # --- drawing ---------------------------------------------------------------------------
    def draw(self) -> None:
        ctx, snap = self.context, self.snapshot
        if not ctx.classification or ctx.test_labels is None:
            self.message("The confusion matrix is shown for classification data sets with a "
                         "test split.")
            return
        if snap is None:
            self.message("Press Train to see the confusion matrix on the test split.")
            return
        self.show_plot()
        if self._drawn is snap:
            return
        self._drawn = snap
        k = ctx.num_classes
        self.predictions = snap.test_predictions
        labels = self.labels()
        self.matrix = confusion_matrix(labels, self.predictions, k)
        rows = self.matrix.sum(axis=1, keepdims=True)
        share = np.divide(self.matrix, rows, out=np.zeros(self.matrix.shape), where=rows > 0)
        self.image.setImage(share.astype(np.float32), autoLevels=False, levels=(0.0, 1.0))
        self.image.setRect(QRectF(0, 0, k, k))
        if k <= MAX_TEXT_CLASSES:
            self.counts.set_cells([str(n) if n else "" for n in self.matrix.ravel()],
                                  [ON_DARK_TEXT if x > 0.55 else PLOT_TEXT for x in share.ravel()])
        else:
            self.counts.set_cells([], [])
        self._fit_cell_texts()
        acc = float(np.trace(self.matrix)) / max(int(self.matrix.sum()), 1)
        # a short title (a long one is cut on a small window); the rest in the text beside
        set_title(self.plot.getPlotItem(), f"Confusion matrix · test accuracy {acc:.1%}")
        when = trained_for(snap)
        item = self.plot.getPlotItem()
        set_axis_label(item, "bottom", f"predicted class · {self.coverage()}")
        total = len(ctx.test_labels)
        self.whole_split.setVisible(len(self.predictions) < total)
        self.whole_split.setText(f"Count all {total:,} test samples now")
        self.about = f"Test accuracy {acc:.1%} {self.coverage()}" + \
            (f", {when}" if when else "") + "."
        self._fill_samples()

    def cell_pixels(self) -> float:
        """The side of one cell on screen, in pixels."""
        k = max(self.context.num_classes, 1)
        rect = self.plot.getPlotItem().getViewBox().mapViewToDevice(QRectF(0, 0, k, k))
        if rect is None:
            return 0.0
        box = rect.boundingRect()
        return min(box.width(), box.height()) / k

    def _fit_cell_texts(self, *_args) -> None:
        """Count labels sized to their cells (hidden when a cell is too small to hold one):
        the counts never spill into the next cell."""
        if not self.counts.k or self.matrix is None:
            return
        digits = len(str(int(self.matrix.max()))) if self.matrix.size else 1
        cell = self.cell_pixels()
        px = int(min(CELL_FONT_MAX, cell * 0.55, (cell - 4) / (0.62 * digits)))
        if px == self._cell_font_px:
            return
        self._cell_font_px = px
        font = QFont(self.font())
        font.setPixelSize(max(px, 1))
        self.counts.set_font(font, px >= CELL_FONT_MIN)

    def labels(self) -> np.ndarray:
        """The true classes of the test samples predicted: while training runs the first
        `watched_test` of them (a fixed part, so watching costs the same whatever the data
        size), the whole split at the end of the run."""
        return self.context.test_labels[:len(self.predictions)]

    def coverage(self) -> str:
        """Which test samples the matrix counts: "all 360 test samples", or "the first 1,000
        of 10,000 test samples while training (all at the end)"."""
        n, total = len(self.predictions), len(self.context.test_labels)
        if n >= total:
            return f"all {total:,} test samples"
        return f"the first {n:,} of {total:,} test samples while training (all at the end)"

    def select_cell(self, true: int, predicted: int) -> list[int]:
        """Show the samples of one cell; returns their test indices."""
        k = self.context.num_classes
        if not (0 <= true < k and 0 <= predicted < k):
            return []
        self.cell = (true, predicted)
        self.cell_box.setRect(QRectF(predicted, true, 1, 1))
        self.cell_box.setVisible(True)
        self.cell_chosen.emit(true, predicted)
        return self._fill_samples()

    def cell_samples(self, true: int, predicted: int) -> list[int]:
        if self.predictions is None or self.context.test_labels is None:
            return []
        hits = (self.labels() == true) & (self.predictions == predicted)
        return [int(i) for i in np.flatnonzero(hits)]

    def _fill_samples(self) -> list[int]:
        ctx = self.context
        names = [str(n) for n in (ctx.class_names or range(ctx.num_classes))]
        if self.predictions is None:
            return []
        if self.cell is not None:
            indices = self.cell_samples(*self.cell)
            t, p = self.cell
            verdict = "correct" if t == p else "mistaken"
            self.summary.setText(f"<b>{len(indices)}</b> test samples of class "
                                 f"<b>{names[t]}</b> predicted as <b>{names[p]}</b> "
                                 f"({verdict}).")
        else:
            indices = list(range(min(GRID_SAMPLES, len(self.predictions))))
            self.summary.setText(f"{self.about} The first {len(indices)} test samples with "
                                 "their predictions (true → predicted):")
        listed = [self.samples.item(n).data(Qt.ItemDataRole.UserRole)
                  for n in range(self.samples.count())]
        if listed != indices:   # the same samples as before are updated in place
            self.samples.clear()
            for i in indices:
                item = QListWidgetItem()
                item.setData(Qt.ItemDataRole.UserRole, i)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if ctx.test_images is not None:
                    if i not in self._icons:
                        self._icons[i] = sample_icon(ctx.test_images[i], self._levels)
                    item.setIcon(self._icons[i])
                self.samples.addItem(item)
        for n, i in enumerate(indices):
            item = self.samples.item(n)
            true, pred = int(ctx.test_labels[i]), int(self.predictions[i])
            text = f"{names[true]}→{names[pred]}"
            if item.text() != text:
                item.setText(text)
                item.setToolTip(f"test sample #{i}: true {names[true]}, predicted {names[pred]}")
                item.setForeground(QColor(GOOD_COLOR if true == pred else BAD_COLOR))
        return indices

    # --- mouse -----------------------------------------------------------------------------
    def _clicked(self, event) -> None:
        if self.matrix is None:
            return
        pos = self.plot.getPlotItem().getViewBox().mapSceneToView(event.scenePos())
        c, r = int(np.floor(pos.x())), int(np.floor(pos.y()))
        if 0 <= r < len(self.matrix) and 0 <= c < len(self.matrix):
            self.select_cell(r, c)

    def _sample_clicked(self, item: QListWidgetItem) -> None:
        self.sample_chosen.emit(int(item.data(Qt.ItemDataRole.UserRole)))
