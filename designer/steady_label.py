"""A one-line label for text that changes many times a second while training runs (the live
epoch count, the progress and speed lines).

A QLabel's new text asks its parent's layout to recompute, and that request climbs to the
main window: the epoch scrubber's label, changed at every epoch's end (15 times a second on
the digits CNN), laid out the main window, its docks and their title bars (the Fusion style
loads their icons each time) 60 times in a 4-second run. A label whose width and height are
fixed asks nobody, so `SteadyLabel` keeps its size fixed and only lets it grow when a text
needs more room; `fit` lets it shrink to its text once such a stream of changes is over.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QSize
from PySide6.QtWidgets import QLabel, QWidget


class SteadyLabel(QLabel):
    """A label whose size only grows as its text changes (see the module); at least
    `min_width` pixels wide."""

    def __init__(self, text: str = "", min_width: int = 0, parent: QWidget | None = None):
        super().__init__(text, parent)
        self._min_width = min_width
        self._margins = 0   # the label's width beyond its text's
        self.fit()

    def setText(self, text: str) -> None:
        # The text's advance, not the size hint, to tell whether it still fits: in a run
        # QLabel.sizeHint took 0.35 ms (a style sheet's label, fresh digits to shape).
        if text != self.text():
            super().setText(text)
            if self.fontMetrics().horizontalAdvance(text) + self._margins > self.minimumWidth():
                self._fix()   # a QLabel's size hint counts its minimum size in: it only grows

    def fit(self) -> None:
        """Take the size the current text needs, smaller or larger."""
        self.setMinimumSize(0, 0)
        self.setIndent(self.indent())   # makes a QLabel measure its text again
        self._margins = self.sizeHint().width() - self.fontMetrics().horizontalAdvance(self.text())
        self._fix()

    def changeEvent(self, event: QEvent) -> None:  # Qt override
        """A new font or style sheet measures the text anew."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange) and \
                hasattr(self, "_margins"):   # not while QLabel.__init__ runs
            self.fit()

    def _fix(self) -> None:
        hint = self.sizeHint()
        size = QSize(max(hint.width(), self._min_width), hint.height())
        if size != self.minimumSize() or size != self.maximumSize():
            self.setFixedSize(size)
