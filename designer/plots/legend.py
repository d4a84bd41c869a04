"""Legends outside the data, as Qt widgets: a pyqtgraph legend drawn inside a plot covers
the curves once a run fills the axes, and in a short dock it is taller than the plot.

`LegendRow` is a fixed set of entries in one line (e.g. beside a plot's check boxes);
`LegendList` is a scrollable column of entries that can be clicked (one per layer), and
`title_legend` puts a few coloured names into a plot's title.
"""
from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QWidget

from ..style import PLOT_TEXT, SELECTED_ROW

SWATCH = QSize(26, 12)


def swatch(color: str, width: float = 2.0, dot: bool = False, dashed: bool = False
           ) -> QPixmap:
    """A short horizontal line in `color` (with a dot in the middle for curves that mark
    their points; dashed for dashed curves), as drawn in the plot."""
    pix = QPixmap(SWATCH)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    c = QColor(color)
    pen = QPen(c, width)
    if dashed:
        pen.setStyle(Qt.PenStyle.DashLine)
    p.setPen(pen)
    y = SWATCH.height() / 2
    p.drawLine(1, int(y), SWATCH.width() - 1, int(y))
    if dot:
        p.setBrush(c)
        p.drawEllipse(QRectF(SWATCH.width() / 2 - 3, y - 3, 6, 6))
    p.end()
    return pix


class LegendRow(QWidget):
    """Entries "[swatch] name" in one line; `set_shown(name, bool)` hides one."""

    def __init__(self, entries: list[tuple[str, QPixmap]], parent: QWidget | None = None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        self.entries: dict[str, tuple[QLabel, QLabel]] = {}
        for name, pix in entries:
            icon, text = QLabel(), QLabel(name)
            icon.setPixmap(pix)
            text.setStyleSheet(f"color: {PLOT_TEXT};")
            row.addWidget(icon)
            row.addWidget(text)
            row.addSpacing(8)
            self.entries[name] = (icon, text)

    def set_shown(self, name: str, shown: bool) -> None:
        for label in self.entries[name]:
            label.setVisible(shown)


class LegendList(QListWidget):
    """One entry per series, in a narrow scrollable column beside a plot; clicking an entry
    emits `chosen(name)`, and `set_current(name)` highlights the emphasised one."""

    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setIconSize(SWATCH)
        self.setFrameShape(QListWidget.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizeAdjustPolicy(QListWidget.SizeAdjustPolicy.AdjustToContents)
        self.setStyleSheet("QListWidget { background: white; } QListWidget::item:selected "
                           f"{{ background: {SELECTED_ROW}; color: {PLOT_TEXT}; }}")
        self.setToolTip("Click a layer to pick it")
        self.itemClicked.connect(lambda item: self.chosen.emit(item.text()))

    def set_entries(self, entries: list[tuple[str, str]]) -> None:
        """`entries`: (name, colour) pairs, in the order the curves were added."""
        self.clear()
        for name, color in entries:
            self.addItem(QListWidgetItem(QIcon(swatch(color)), name))
        width = max((self.fontMetrics().horizontalAdvance(n) for n, _ in entries), default=40)
        self.setFixedWidth(width + SWATCH.width() + 36)   # icon gap and a scroll bar

    def set_current(self, name: str | None) -> None:
        self.blockSignals(True)
        items = self.findItems(name, Qt.MatchFlag.MatchExactly) if name else []
        if items:
            self.setCurrentItem(items[0])
        else:
            self.clearSelection()
        self.blockSignals(False)


def title_legend(title: str, entries: list[tuple[str, str]]) -> str:
    """`title` followed by each name in its colour (HTML for a pyqtgraph title): a legend
    that never covers the data."""
    names = "&nbsp;&nbsp;".join(f"<span style='color: {c}'>■&nbsp;{n}</span>"
                                for n, c in entries)
    return f"{title}&nbsp;&nbsp;·&nbsp;&nbsp;{names}" if names else title
