"""Sizes that fit the screen: a window or dialog asks for its comfortable size and gets the
screen's free area where that is smaller, so nothing opens partly off a 1024x700 screen."""
from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QWidget


def fitted(wanted: QSize, screen: QSize) -> QSize:
    return QSize(min(wanted.width(), screen.width()), min(wanted.height(), screen.height()))


def resize_to_fit(widget: QWidget, wanted: QSize) -> None:
    """Resize `widget` to `wanted`, or to its screen's free area when that is smaller."""
    widget.resize(fitted(wanted, widget.screen().availableGeometry().size()))
