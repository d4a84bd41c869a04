"""The Help menu: the keyboard shortcuts (F1), the lessons (the teaching templates, opened as
a new graph) and About.

The shortcut list is made from the window's own actions, so it never disagrees with them;
the canvas' mouse gestures, which are not actions, are listed beside them.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QScrollArea, QVBoxLayout

from .lessons import load_chapters

if TYPE_CHECKING:
    from .main_window import MainWindow

GESTURES = (
    ("Drag a palette entry onto the canvas", "add that layer there"),
    ("… onto a connection", "insert the layer into it"),
    ("Double-click a palette entry", "add it after the selected layer, connected"),
    ("Drag from an output port to an input port", "connect two layers"),
    ("Wheel", "zoom around the pointer"),
    ("Middle button drag, or Space + drag", "pan"),
    ("Drag on empty canvas", "select the layers inside the band"),
    ("Click a red badge", "see the problem and its one-click repair"),
    ("Double-click a layer", "edit it in the inspector"),
    ("Escape", "cancel a drag; in a red field, take the value back"),
)


def shortcut_rows(window: MainWindow) -> list[tuple[str, str]]:
    """(what, keys) for every window action that has a shortcut, in menu order."""
    rows = []
    for action in _menu_actions(window):
        keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText)
                         for s in action.shortcuts())
        if keys:
            rows.append((action.text().replace("&", "").rstrip("…"), keys))
    return rows


def _menu_actions(window: MainWindow) -> list[QAction]:
    seen: list[QAction] = []

    def walk(actions: list[QAction]) -> None:
        for a in actions:
            if a.menu() is not None:
                walk(a.menu().actions())
            elif not a.isSeparator() and a not in seen:
                seen.append(a)

    walk(window.menuBar().actions())
    return seen


def shortcuts_html(window: MainWindow) -> str:
    def table(rows: list[tuple[str, str]], head: tuple[str, str]) -> str:
        body = "".join(f"<tr><td>{html.escape(a)}</td><td><b>{html.escape(b)}</b></td></tr>"
                       for a, b in rows)
        return (f"<table cellspacing='0' cellpadding='3'><tr><th align='left'>{head[0]}</th>"
                f"<th align='left'>{head[1]}</th></tr>{body}</table>")

    return (table(shortcut_rows(window), ("Command", "Keys")) + "<br>"
            + table([(what[:1].upper() + what[1:], how) for how, what in GESTURES],
                    ("To", "Do")))


class ShortcutsDialog(QDialog):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.setWindowTitle("Keyboard Shortcuts and Mouse Gestures")
        self.label = QLabel(shortcuts_html(window))
        self.label.setContentsMargins(10, 10, 10, 10)
        self.label.setWordWrap(True)
        scroll = QScrollArea()
        scroll.setWidget(self.label)
        scroll.setWidgetResizable(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll)
        layout.addWidget(buttons)
        self.resize(560, min(760, window.height() - 40))


def install_help(window: MainWindow) -> None:
    """Fill the Help menu of `window` (its `help_menu`)."""
    menu = window.help_menu
    a = window.add_action
    a("shortcuts", "&Keyboard Shortcuts…", lambda: ShortcutsDialog(window).show(), "F1")
    menu.addAction(window.actions["shortcuts"])
    lessons = menu.addMenu("&Lessons")
    lessons.setToolTipsVisible(True)
    window.lessons_menu = lessons
    for chapter in load_chapters():  # one submenu per chapter of the course
        sub = lessons.addMenu(chapter.title)
        sub.setToolTipsVisible(True)
        for card in chapter.cards:
            action = sub.addAction(card.title)
            action.setToolTip(card.sentence)
            action.setStatusTip(card.sentence)
            action.triggered.connect(lambda _checked=False, c=card: window.open_lesson(c))
    lessons.addSeparator()
    lessons.addAction(window.actions["template"])
    menu.addSeparator()
    menu.addAction(window.actions["about"])
