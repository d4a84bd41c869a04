"""Synthetic Qt events shared by the GUI tests."""
from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget


def send_drop(viewport: QWidget, mime: QMimeData, pos: QPoint) -> QDropEvent:
    """What Qt delivers for a drag released over `viewport` at `pos`: enter, move, drop."""
    copy, button, mods = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton, \
        Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(viewport, QDragEnterEvent(pos, copy, mime, button, mods))
    QApplication.sendEvent(viewport, QDragMoveEvent(pos, copy, mime, button, mods))
    drop = QDropEvent(QPointF(pos), copy, mime, button, mods)
    QApplication.sendEvent(viewport, drop)
    return drop
