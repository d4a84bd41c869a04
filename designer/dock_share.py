"""Keeps a dock's share of the window as the window is resized.

QMainWindow gives every extra pixel to the central widget, so a maximised window keeps
the training plots as small as they were. `DockShare` remembers the plots' share of the
window's height (it follows the user's own drag of the splitter) and gives it back after each
resize of the window.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow


class DockShare(QObject):
    def __init__(self, window: QMainWindow, dock: QDockWidget, share: float):
        super().__init__(window)
        self.window, self.dock, self.share = window, dock, share
        self._height = window.height()
        self._pending = False    # the window was resized; the dock follows after layout
        window.installEventFilter(self)
        dock.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Resize:
            return False
        if watched is self.window:
            if self.window.height() != self._height:
                self._height = self.window.height()
                self._pending = True
                QTimer.singleShot(0, self.apply)
        elif watched is self.dock and not self._pending and self._height > 0 \
                and self._docked():
            self.share = self.dock.height() / self._height   # the user dragged the splitter
        return False

    def apply(self) -> None:
        """Size the dock to its share of the window's height now."""
        if self._docked():
            self.window.resizeDocks([self.dock], [round(self.share * self.window.height())],
                                    Qt.Orientation.Vertical)
        self._pending = False

    def _docked(self) -> bool:
        return self.dock.isVisible() and not self.dock.isFloating()
