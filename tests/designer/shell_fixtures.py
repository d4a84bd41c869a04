"""Fixtures for the shell's tests (main window, palette, inspector, files, templates).

Import them with `from .shell_fixtures import *` in a test module. Nothing here touches the
user's real settings or data folder, and no modal dialog can block: QMessageBox and
QFileDialog are replaced by `dialogs`, which records what was asked and answers from a queue.
"""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox

import nnengine

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before pytest-qt makes the app

__all__ = ["Dialogs", "dialogs", "mlp_graph", "settings", "shell_document", "window"]


@dataclass
class Dialogs:
    """Recorded dialogs; `answers` are returned in order by question(), `paths` by the file
    dialogs. With no answer queued, question() answers Discard (or No)."""

    shown: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, title, text)
    answers: list[Any] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def kinds(self) -> list[str]:
        return [k for k, _, _ in self.shown]

    def texts(self) -> str:
        return "\n".join(f"{t}: {x}" for _, t, x in self.shown)


@pytest.fixture
def dialogs(monkeypatch) -> Dialogs:
    d = Dialogs()
    B = QMessageBox.StandardButton

    def question(parent, title, text, buttons=B.Yes | B.No, default=B.NoButton):
        d.shown.append(("question", title, text))
        if d.answers:
            return d.answers.pop(0)
        return B.Discard if buttons & B.Discard else B.No

    def note(kind):
        def show(parent, title, text, *args, **kwargs):
            d.shown.append((kind, title, text))
            return B.Ok
        return show

    monkeypatch.setattr(QMessageBox, "question", question)
    for kind in ("critical", "warning", "information"):
        monkeypatch.setattr(QMessageBox, kind, note(kind))
    monkeypatch.setattr(QMessageBox, "about", note("about"))
    monkeypatch.setattr(QMessageBox, "exec", lambda self: d.shown.append(
        ("exec", self.windowTitle(), self.text())) or B.Ok)

    def file_dialog(kind):
        def ask(*args, **kwargs):
            d.shown.append((kind, "", ""))
            return (d.paths.pop(0) if d.paths else "", "")
        return ask

    monkeypatch.setattr(QFileDialog, "getOpenFileName", file_dialog("open"))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", file_dialog("save"))
    return d


@pytest.fixture
def settings(tmp_path) -> QSettings:
    """An INI file in tmp_path, never the user's real configuration."""
    s = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    yield s
    s.sync()


def mlp_graph() -> nnengine.Graph:
    """input [4] -> dense1 (8) -> relu1 -> dense2 (3) -> out softmax, laid out in a row."""
    g = nnengine.Graph("Small MLP", {"dataset": "iris"})
    nodes = [("input", "Input", {"shape": [4]}), ("dense1", "Dense", {"units": 8}),
             ("relu1", "Activation", {"function": "relu"}), ("dense2", "Dense", {"units": 3}),
             ("out", "Activation", {"function": "softmax"})]
    for i, (n, t, p) in enumerate(nodes):
        g.add_node(n, t, p, (i * 280.0, 0.0))
    for (a, _, _), (b, _, _) in itertools.pairwise(nodes):
        g.add_edge(a, b)
    return g


@pytest.fixture
def shell_document(qtbot):
    from designer.document import GraphDocument

    return GraphDocument(mlp_graph())


@pytest.fixture
def window(qtbot, settings, tmp_path, dialogs):
    """The real main window on a small MLP, with temporary settings and recovery folder."""
    from designer.main_window import MainWindow

    w = MainWindow(settings=settings, recovery_dir=Path(tmp_path) / "data")
    qtbot.addWidget(w)
    w.document.new(mlp_graph())
    w.resize(1440, 900)   # a first start fits the screen, and the offscreen one is 800x800
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.document.undo_stack.setClean()  # no "unsaved changes" prompt when the test ends
    w.close()
