"""The "earlier version" banner above the canvas: the plots show a run whose graph is not the
one on the canvas any more, and one click goes back to that version."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from ..style import ACCENT, ACCENT_HOVER, NOTICE_BACKGROUND, NOTICE_BORDER, TEXT


class VersionBanner(QFrame):
    go_back = Signal()
    train = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("version_banner")
        self.setStyleSheet(
            f"#version_banner {{ background: {NOTICE_BACKGROUND}; "
            f"border-bottom: 1px solid {NOTICE_BORDER}; }}"
            f" QLabel {{ color: {TEXT.name()}; }}")
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.back_button = QPushButton("Go Back to That Version")
        self.back_button.setToolTip("Undo to the graph this run was trained on (Redo comes "
                                    "back here)")
        self.back_button.setStyleSheet(
            f"QPushButton {{ background: {ACCENT.name()}; color: white; border: none; "
            "border-radius: 4px; padding: 4px 12px; font-weight: 600; }"
            f"QPushButton:hover {{ background: {ACCENT_HOVER.name()}; }}")
        self.back_button.clicked.connect(self.go_back)
        self.train_button = QPushButton("Train This Version")
        self.train_button.clicked.connect(self.train)
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 6, 12, 6)
        row.setSpacing(10)
        icon = QLabel("⚠")
        icon.setStyleSheet(f"color: {NOTICE_BORDER}; font-size: 16px;")
        row.addWidget(icon)
        row.addWidget(self.label, 1)
        row.addWidget(self.train_button)
        row.addWidget(self.back_button)
        self.hide()

    def show_for(self, run_name: str) -> None:
        self.label.setText(
            f"The plots show <b>{_escape(run_name)}</b>, trained on an earlier version of this "
            "graph. Its weights do not fit the graph on the canvas, so exports and Evaluate "
            "wait until they do.")
        self.show()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
