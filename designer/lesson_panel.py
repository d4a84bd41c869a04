"""The lesson beside the canvas: the open card's lesson, the result to expect and what to
look at, the same text the gallery shows (from `designer.lessons`)."""
from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QTextBrowser, QWidget

from . import style
from .lessons import Card

PLACEHOLDER = ("<p style='color:{muted}'>No lesson is open. Choose one with File ▸ New from "
               "Template… (Ctrl+Shift+N): each card says what it teaches, what result to "
               "expect and where to look while it trains.</p>")


class LessonText(QTextBrowser):
    """A card's texts as a short page; `card` is the one shown (None: a hint instead)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.card: Card | None = None
        self.setOpenLinks(False)
        style.on_window_background(self)
        self.show_card(None)

    def show_card(self, card: Card | None) -> None:
        self.card = card
        if card is None:
            self.setHtml(PLACEHOLDER.format(muted=style.TEXT_MUTED.name()))
            return
        muted = style.TEXT_MUTED.name()

        def section(title: str, text: str) -> str:
            return (f"<p style='margin:8px 0 2px 0'><b>{title}</b></p>"
                    f"<p style='margin:0'>{escape(' '.join(text.split()))}</p>")

        self.setHtml(
            f"<p style='color:{muted}; margin:0'>{escape(card.chapter)}</p>"
            f"<h3 style='margin:2px 0 6px 0'>{escape(card.title)}</h3>"
            + section("Lesson", card.lesson) + section("Expect", card.expect)
            + section("Look at", card.look_at)
            + f"<p style='color:{muted}; margin-top:10px'>Checked at 10 seeds by "
              f"bench/lessons.py: {escape(card.target_text())}.</p>")
