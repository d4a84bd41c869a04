"""nn-designer: the desktop editor on top of nnengine (PySide6).

`document` owns the graph and its undo stack; `canvas/` draws and edits it; the main window,
palette and inspector are built around one `GraphDocument`.
"""
from __future__ import annotations
