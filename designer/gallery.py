"""New from Template: the lesson cards, chapter by chapter as the course goes, each a card
with a picture and a sentence, and the selected card's lesson beside them.

The cards and their texts come from `designer.lessons` (`resources/templates/gallery.toml`).
Pictures are drawn from the graph itself with QPainter, so a card never goes out of date
with its picture.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from nnengine import Graph, load_graph

from . import style
from .layout import layered_positions
from .lesson_panel import LessonText
from .lessons import TEMPLATES_DIR, Card, Chapter, load_chapters
from .screen_fit import resize_to_fit

EXAMPLE = "digits_cnn.json"  # what a new user sees at first start
CARD = QSize(276, 230)
THUMB = QSize(252, 132)
TEMPLATE_ROLE = Qt.ItemDataRole.UserRole

def example_graph() -> Graph:
    """The built-in example opened when the app starts without a file."""
    return load_graph(TEMPLATES_DIR / EXAMPLE)


# --- pictures --------------------------------------------------------------------------------
def render_thumbnail(graph: Graph, size: QSize = THUMB, ratio: float = 2.0) -> QPixmap:
    """A small picture of the graph: category-coloured blocks joined by curved edges."""
    pm = QPixmap(int(size.width() * ratio), int(size.height() * ratio))
    pm.setDevicePixelRatio(ratio)
    pm.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pm)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    bounds = QRectF(0, 0, size.width(), size.height())
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(style.CANVAS_BACKGROUND)
    painter.drawRoundedRect(bounds, 6, 6)
    layout = layered_positions(graph)
    pos = {n: graph.node(n).get("position") or layout[n] for n in graph.node_ids()}
    if pos:
        w, h = style.NODE_WIDTH, 76.0
        xs = [p[0] for p in pos.values()]
        ys = [p[1] for p in pos.values()]
        scene = QRectF(min(xs), min(ys), max(xs) - min(xs) + w, max(ys) - min(ys) + h)
        margin = 12
        scale = min((size.width() - 2 * margin) / scene.width(),
                    (size.height() - 2 * margin) / scene.height(), 0.22)
        dx = (size.width() - scene.width() * scale) / 2 - scene.left() * scale
        dy = (size.height() - scene.height() * scale) / 2 - scene.top() * scale

        def rect(n: str) -> QRectF:
            x, y = pos[n]
            return QRectF(x * scale + dx, y * scale + dy, w * scale, h * scale)

        pen = QPen(style.EDGE, max(1.0, 7 * scale))
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for s, t, _ in graph.edges():
            a, b = rect(s), rect(t)
            p0 = QPointF(a.right(), a.center().y())
            p1 = QPointF(b.left(), b.center().y())
            # forward: a gentle S; backward (a wrapped row): a tight one that stays in frame
            bend = (p1.x() - p0.x()) * 0.5 if p1.x() > p0.x() else 30 * scale
            bend = max(bend, 30 * scale)
            path = QPainterPath(p0)
            path.cubicTo(p0 + QPointF(bend, 0), p1 - QPointF(bend, 0), p1)
            painter.drawPath(path)
        painter.setPen(Qt.PenStyle.NoPen)
        for n in graph.node_ids():
            r = rect(n)
            color = style.type_color(graph.type_of(n))
            painter.setBrush(color)
            painter.drawRoundedRect(r, 12 * scale, 12 * scale)
            glyph = min(r.height() * 0.7, r.width() * 0.3)
            if glyph >= 8:
                box = QRectF(r.center().x() - glyph / 2, r.center().y() - glyph / 2,
                             glyph, glyph)
                category = style.type_category(graph.type_of(n)) or ""
                style.draw_category_glyph(painter, box, category, QColor("white"))
    painter.end()
    return pm


class CardDelegate(QStyledItemDelegate):
    """Paints a template as a card: picture, bold title, a sentence in grey."""

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        return CARD

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        template: Card = index.data(TEMPLATE_ROLE)
        picture: QPixmap = index.data(Qt.ItemDataRole.DecorationRole)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        card = QRectF(option.rect).adjusted(4, 4, -4, -4)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        border = style.ACCENT if selected else QColor("#9aa5b1" if hovered else "#d5dae1")
        painter.setPen(QPen(border, 2 if selected else 1))
        painter.setBrush(QColor("#eef3ff") if selected else QColor("white"))
        painter.drawRoundedRect(card, 8, 8)
        inner = card.adjusted(8, 8, -8, -8)
        painter.drawPixmap(QPointF(inner.left() + (inner.width() - THUMB.width()) / 2,
                                   inner.top()), picture)
        title_font = QFont(option.font)
        title_font.setBold(True)
        painter.setFont(title_font)
        painter.setPen(style.TEXT)
        fm = QFontMetrics(title_font)
        top = inner.top() + THUMB.height() + 8
        title = fm.elidedText(template.title, Qt.TextElideMode.ElideRight, int(inner.width()))
        painter.drawText(QRectF(inner.left(), top, inner.width(), fm.height()),
                         Qt.AlignmentFlag.AlignLeft, title)
        painter.setFont(option.font)
        painter.setPen(style.TEXT_MUTED)
        text_rect = QRectF(inner.left(), top + fm.height() + 3, inner.width(),
                           inner.bottom() - top - fm.height() - 3)
        painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
                                        | Qt.TextFlag.TextWordWrap), template.sentence)
        painter.restore()


class TemplateGallery(QDialog):
    """Pick a card: chapters on the left, that chapter's cards, and the selected card's
    lesson. `chosen()` is the selected card after `exec()` returns Accepted."""

    def __init__(self, parent: QWidget | None = None, chapters: list[Chapter] | None = None):
        super().__init__(parent)
        self.setWindowTitle("New from Template")
        self.chapters = chapters if chapters is not None else load_chapters()
        self.templates = [card for ch in self.chapters for card in ch.cards]
        self._pictures: dict[str, QPixmap] = {}
        intro = QLabel("Lessons in the order of the course. Each card trains as it is, from the "
                       "command line or the Train panel, and its lesson stays beside the canvas.")
        intro.setWordWrap(True)
        self.chapter_list = QListWidget(self)
        for ch in self.chapters:
            item = QListWidgetItem(ch.title)
            item.setToolTip(ch.intro)
            self.chapter_list.addItem(item)
        self.chapter_list.setFixedWidth(270)
        self.chapter_intro = QLabel()
        self.chapter_intro.setWordWrap(True)
        self.chapter_intro.setStyleSheet(f"color: {style.TEXT_MUTED.name()};")
        self.list = QListWidget(self)
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setUniformItemSizes(True)
        self.list.setGridSize(QSize(CARD.width() + 6, CARD.height() + 6))
        self.list.setSpacing(0)
        self.list.setMouseTracking(True)
        self.list.setItemDelegate(CardDelegate(self.list))
        self.list.setStyleSheet("QListWidget { background: #f6f7f9; border: none; }")
        self.lesson = LessonText(self)
        self.lesson.setFixedWidth(300)
        self.chapter_list.currentRowChanged.connect(self._show_chapter)
        self.list.currentItemChanged.connect(
            lambda item, _old: self.lesson.show_card(item.data(TEMPLATE_ROLE) if item else None))
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        create = buttons.addButton("Create", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        middle = QVBoxLayout()
        middle.addWidget(self.chapter_intro)
        middle.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(self.chapter_list)
        row.addLayout(middle, 1)
        row.addWidget(self.lesson)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row, 1)
        layout.addWidget(buttons)
        create.setDefault(True)  # only once inside the dialog, which tracks its default
        self.chapter_list.setCurrentRow(0)
        resize_to_fit(self, QSize(270 + 300 + 3 * (CARD.width() + 6) + 64,
                                  2 * (CARD.height() + 6) + 150))

    def _show_chapter(self, row: int) -> None:
        self.list.clear()
        if not 0 <= row < len(self.chapters):
            return
        chapter = self.chapters[row]
        self.chapter_intro.setText(chapter.intro)
        for card in chapter.cards:
            item = QListWidgetItem(card.title)
            item.setData(TEMPLATE_ROLE, card)
            if card.name not in self._pictures:
                self._pictures[card.name] = render_thumbnail(card.graph())
            item.setData(Qt.ItemDataRole.DecorationRole, self._pictures[card.name])
            item.setToolTip(card.sentence)
            self.list.addItem(item)
        self.list.setCurrentRow(0)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.list.setFocus()  # arrows move between cards, Enter creates

    def chosen(self) -> Card | None:
        item = self.list.currentItem()
        return item.data(TEMPLATE_ROLE) if item is not None else None

    def select(self, title_or_file: str) -> None:
        for row, chapter in enumerate(self.chapters):
            for i, card in enumerate(chapter.cards):
                if title_or_file in (card.title, card.name):
                    self.chapter_list.setCurrentRow(row)
                    self.list.setCurrentRow(i)
                    return
        raise KeyError(title_or_file)
