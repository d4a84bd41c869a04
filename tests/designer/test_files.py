"""Open, save, recent files, the unsaved-changes prompt, autosave and recovery."""
from __future__ import annotations

import json
import os
import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QPushButton, QWidget

import nnengine

from .shell_fixtures import *

B = QMessageBox.StandardButton


def controller(qtbot, document, settings, tmp_path):
    from designer.files import FileController

    parent = QWidget()
    qtbot.addWidget(parent)
    return FileController(document, settings, parent, tmp_path / "data")


def test_recent_files_newest_first_limited_and_pruned(settings, tmp_path):
    from designer.files import RecentFiles

    recent = RecentFiles(settings, limit=3)
    files = []
    for i in range(5):
        f = tmp_path / f"g{i}.json"
        f.write_text("{}")
        files.append(f)
        recent.add(f)
    assert recent.paths() == [files[4], files[3], files[2]]
    recent.add(files[3])
    assert recent.paths()[0] == files[3]
    files[4].unlink()
    assert files[4] not in recent.paths()
    recent.clear()
    assert recent.paths() == []


def test_save_and_reopen_gives_the_same_graph(qtbot, shell_document, settings, tmp_path,
                                              dialogs):
    doc = shell_document
    files = controller(qtbot, doc, settings, tmp_path)
    doc.move_nodes({"dense1": (300.0, 60.0)})
    target = tmp_path / "saved"
    dialogs.paths.append(str(target))
    assert files.save()  # no path yet: asks where
    assert doc.path == tmp_path / "saved.json" and not doc.is_modified
    before = doc.graph.to_dict()
    files.new()
    assert len(doc.graph) == 0
    assert files.open(tmp_path / "saved.json")
    assert doc.graph.to_dict() == before
    assert doc.graph.node("dense1")["position"] == (300.0, 60.0)
    assert files.recent.paths() == [(tmp_path / "saved.json").resolve()]


def test_broken_file_shows_why_and_keeps_the_graph(qtbot, shell_document, settings, tmp_path,
                                                   dialogs):
    doc = shell_document
    files = controller(qtbot, doc, settings, tmp_path)
    before = doc.graph.to_dict()
    broken = tmp_path / "broken.json"
    for text in ("{ not json", json.dumps({"format": "nnengine.graph", "version": 1,
                                           "nodes": [{"id": "a", "type": "Dense",
                                                      "bogus": 1}], "edges": []})):
        broken.write_text(text)
        dialogs.shown.clear()
        assert not files.open(broken)
        assert dialogs.kinds() == ["critical"]
        assert "broken.json" in dialogs.texts()
        assert doc.graph.to_dict() == before
    assert not files.open(tmp_path / "missing.json")
    assert "missing.json" in dialogs.texts()
    assert files.recent.paths() == []


def test_unsaved_changes_prompt(qtbot, shell_document, settings, tmp_path, dialogs):
    doc = shell_document
    files = controller(qtbot, doc, settings, tmp_path)
    doc.set_param("dense1", "units", 5)
    dialogs.answers.append(B.Cancel)
    assert not files.new()
    assert dialogs.kinds() == ["question"]
    assert doc.graph.params_of("dense1")["units"] == 5
    dialogs.answers.append(B.Discard)
    assert files.new()
    assert len(doc.graph) == 0
    assert files.new()  # nothing to lose: no question
    assert dialogs.kinds() == ["question", "question"]


def test_autosave_writes_only_unsaved_work_and_cleans_up(qtbot, shell_document, settings,
                                                         tmp_path, dialogs):
    doc = shell_document
    files = controller(qtbot, doc, settings, tmp_path)
    saver = files.autosaver
    assert saver.timer.interval() == 60_000 and saver.timer.isActive()
    assert not saver.save_now()  # nothing modified yet
    doc.set_param("dense1", "units", 7)
    assert saver.save_now()
    assert nnengine.load_graph(saver.graph_path).to_dict() == doc.graph.to_dict()
    doc.undo_stack.undo()  # back to the clean state: nothing left to recover
    assert not saver.graph_path.exists()
    doc.set_param("dense1", "units", 7)
    saver.save_now()
    assert files.save_as(tmp_path / "x.json")
    assert not saver.graph_path.exists()


def test_recover_after_a_crash(qtbot, shell_document, settings, tmp_path, dialogs):
    from designer.document import GraphDocument

    crashed = shell_document
    first = controller(qtbot, crashed, settings, tmp_path)
    crashed.save(tmp_path / "work.json")
    crashed.set_param("dense1", "units", 12)
    assert first.autosaver.save_now()
    lost = crashed.graph.to_dict()
    stamp = time.time() - 3600
    os.utime(first.autosaver.graph_path, (stamp, stamp))
    # ... the process dies here; the next run starts on another document and, as
    # `nn-designer FILE` does, opens a file before it offers the leftover back.
    doc = GraphDocument()
    files = controller(qtbot, doc, settings, tmp_path)
    assert files.open(tmp_path / "work.json")
    files.new()
    assert files.autosaver.graph_path.exists()
    dialogs.answers.append(B.Yes)
    assert files.offer_recovery()
    assert "Recover unsaved work from" in dialogs.texts()
    assert doc.graph.to_dict() == lost
    assert doc.is_modified and doc.path == tmp_path / "work.json"
    assert files.autosaver.graph_path.exists()  # kept until the user saves
    assert files.save()
    assert not files.autosaver.graph_path.exists()
    assert not files.offer_recovery()  # nothing left over


def test_declined_recovery_is_deleted(qtbot, shell_document, settings, tmp_path, dialogs):
    doc = shell_document
    files = controller(qtbot, doc, settings, tmp_path)
    doc.set_param("dense1", "units", 12)
    files.autosaver.save_now()
    dialogs.answers.append(B.No)
    assert not files.offer_recovery()
    assert not files.autosaver.graph_path.exists()
    assert doc.graph.params_of("dense1")["units"] == 12


def test_recovery_is_read_off_the_gui_thread(qtbot, shell_document, settings, tmp_path,
                                            dialogs, monkeypatch):
    import threading

    import designer.files as files_module

    doc = shell_document
    files = controller(qtbot, doc, settings, tmp_path)
    doc.set_param("dense1", "units", 12)
    files.autosaver.save_now()
    doc.set_param("dense1", "units", 5)
    read_on = []
    real = files_module.load_graph

    def spying(path):
        read_on.append(threading.current_thread() is threading.main_thread())
        return real(path)

    monkeypatch.setattr(files_module, "load_graph", spying)
    dialogs.answers.append(B.Yes)
    assert files.offer_recovery()
    assert read_on == [False]
    assert doc.graph.params_of("dense1")["units"] == 12


def test_a_broken_recovery_file_is_one_sentence(qtbot, shell_document, settings, tmp_path,
                                                dialogs):
    doc = shell_document
    files = controller(qtbot, doc, settings, tmp_path)
    doc.set_param("dense1", "units", 12)
    files.autosaver.save_now()
    files.autosaver.graph_path.write_text("{ not json")
    dialogs.answers.append(B.Yes)
    assert not files.offer_recovery()
    shown = dialogs.texts()
    assert "Cannot recover: The recovery file could not be read." in shown
    assert "Traceback" not in shown
    assert doc.graph.params_of("dense1")["units"] == 12          # the open graph is kept


def test_data_dir_can_be_overridden(monkeypatch, tmp_path):
    from designer.files import DATA_DIR_ENV, data_dir

    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "elsewhere"))
    assert data_dir() == tmp_path / "elsewhere"


# --- reading off the GUI thread --------------------------------------------------------------

def _slow_reader(monkeypatch, release):
    """load_graph that waits until `release` is set; records the thread it ran on."""
    import threading

    import designer.files as files_module

    threads = []
    real = files_module.load_graph

    def slow(path):
        threads.append(threading.current_thread())
        assert release.wait(30), "the test never released the reader"
        return real(path)

    monkeypatch.setattr(files_module, "load_graph", slow)
    return threads


def _progress_dialog(parent):
    found = parent.findChildren(QProgressDialog)
    return found[0] if found else None


def test_a_slow_file_is_read_off_the_gui_thread_with_progress(window, tmp_path, monkeypatch,
                                                              qtbot):
    import threading

    from PySide6.QtCore import QTimer

    path = tmp_path / "big.json"
    nnengine.save_graph(nnengine.load_graph(_example()), path)
    release = threading.Event()
    threads = _slow_reader(monkeypatch, release)
    seen = {}

    def while_reading():  # runs on the GUI thread while the file is being read
        dialog = _progress_dialog(window)
        seen["label"] = dialog.labelText() if dialog else None
        seen["cancel"] = dialog is not None and any(
            b.text() == "Cancel" for b in dialog.findChildren(QPushButton))
        release.set()

    QTimer.singleShot(50, while_reading)
    assert window.files.open_path(path)
    assert threads and threads[0] is not threading.main_thread()
    assert seen == {"label": "Reading “big.json”…", "cancel": True}
    assert window.document.path == path
    assert not any(d.isVisible() for d in window.findChildren(QProgressDialog))


def test_cancel_keeps_the_open_graph(window, tmp_path, monkeypatch, qtbot):
    import threading

    from PySide6.QtCore import QTimer

    path = tmp_path / "slow.json"
    nnengine.save_graph(nnengine.load_graph(_example()), path)
    release = threading.Event()
    _slow_reader(monkeypatch, release)
    before = window.document.graph.to_dict()

    def press_cancel():
        dialog = _progress_dialog(window)
        button = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Cancel")
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(50, press_cancel)
    assert not window.files.open_path(path)
    release.set()
    assert window.document.graph.to_dict() == before and window.document.path is None


def test_a_read_error_reaches_the_dialog_from_the_worker(window, tmp_path, dialogs):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert not window.files.open_path(bad)
    assert "holds a list" in dialogs.texts()


def test_long_names_are_elided_in_the_title_and_the_inspector(window, tmp_path):
    from designer.files import NAME_LIMIT
    from designer.inspector import summary_html

    graph = nnengine.load_graph(_example())
    graph.name = "N" * 4_000_000
    path = tmp_path / ("f" * 200 + ".json")
    nnengine.save_graph(graph, path)
    assert window.files.open_path(path)
    title = window.windowTitle()
    assert len(title) < 3 * NAME_LIMIT and "N" * (NAME_LIMIT - 1) + "…" in title
    assert "f" * (NAME_LIMIT - 1) + "…" in title
    assert len(summary_html(window.document, [])) < 5000
    window.grab().save(str(tmp_path / "long_name.png"))


def _example():
    from pathlib import Path

    return Path(__file__).parents[2] / "resources" / "examples" / "mlp_iris.json"
