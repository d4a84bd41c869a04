"""What a first-time user reaches for: the empty-canvas hint, F1, Help ▸ Lessons, Analyze
and pictures of the graph."""
from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QLabel

from .shell_fixtures import *


def test_an_empty_canvas_says_how_to_begin(window, qtbot):
    view = window.view
    assert view.empty_hint() is None          # the MLP is open
    window.actions["new"].trigger()
    assert "Drag a layer from the palette" in view.empty_hint()
    image = view.viewport().grab().toImage()
    centre = image.rect().center()
    dark = [image.pixelColor(x, y).lightness() < 150
            for x in range(centre.x() - 150, centre.x() + 150)
            for y in range(centre.y() - 40, centre.y() + 40)]
    assert sum(dark) > 50                      # text is drawn in the middle of the view
    window.add_layer_after_selection("Input")
    assert view.empty_hint() is None


def test_f1_lists_the_shortcuts_of_the_window(window, qtbot):
    from designer.help import ShortcutsDialog, shortcut_rows

    rows = dict(shortcut_rows(window))
    assert rows["Undo"] == "Ctrl+Z" and rows["Train"] == "F5"
    assert rows["Keyboard Shortcuts"] == "F1" and rows["Fit to Window"] == "F"
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_F1)
    dialogs = [w for w in QApplication.topLevelWidgets()
               if isinstance(w, ShortcutsDialog) and w.isVisible()]
    assert len(dialogs) == 1
    text = dialogs[0].findChild(QLabel).text()
    assert "Ctrl+Shift+N" in text and "Insert the layer into it" in text
    dialogs[0].close()


def test_help_lessons_open_the_teaching_templates(window):
    from designer.gallery import load_templates

    titles = [a.text() for a in window.lessons_menu.actions() if not a.isSeparator()]
    templates = load_templates()
    assert titles[:len(templates)] == [t.title for t in templates]
    xor = next(a for a in window.lessons_menu.actions() if a.text() == "XOR")
    xor.trigger()
    assert window.document.graph.name == "XOR" and window.document.path is None
    assert "exclusive-or" in xor.toolTip()


def test_analyze_shows_the_layer_table_copies_and_saves_it(window, tmp_path):
    window.actions["analyze"].trigger()
    dialog = window.findChild(__import__("designer.analyze_dialog",
                                         fromlist=["AnalyzeDialog"]).AnalyzeDialog)
    table = dialog.table_widget
    doc = window.document
    assert table.rowCount() == len(doc.graph) + 1
    assert table.item(1, 0).text() == "dense1" and table.item(1, 2).text() == "[8]"
    assert table.item(1, 3).text() == "40" and table.item(1, 4).text() == "32"
    total = table.item(table.rowCount() - 1, 3).text()
    assert total == f"{doc.analysis.total_params:,}"
    doc.set_param("dense1", "units", 16)        # the open table follows the graph
    assert table.item(1, 3).text() == "80"
    dialog.copy_button.click()
    copied = QApplication.clipboard().text().splitlines()
    assert copied[0].startswith("node") and copied[-1].startswith("total")
    path = tmp_path / "layers"
    assert dialog.save_csv(str(path))
    rows = list(csv.reader(io.StringIO((tmp_path / "layers.csv").read_text())))
    assert rows[2][:5] == ["dense1", "Dense", "16", "80", "64"]
    dialog.close()


def test_export_the_graph_or_the_selection_as_png_and_svg(window, tmp_path):
    view = window.view
    assert window.export_picture(str(tmp_path / "all.png"))
    whole = QImage(str(tmp_path / "all.png"))
    assert not whole.isNull() and whole.width() > 5 * 280   # five cards side by side, at 2x
    view.select_nodes(["dense1", "relu1"])
    assert window.export_picture(str(tmp_path / "two.png"))
    part = QImage(str(tmp_path / "two.png"))
    assert 0 < part.width() < whole.width() / 2
    assert view.selected_node_ids() == ["dense1", "relu1"]   # selection kept
    assert all(view.node_item(n).isVisible() for n in window.document.graph.node_ids())
    assert window.export_picture(str(tmp_path / "two.svg"))
    svg = ET.parse(tmp_path / "two.svg").getroot()
    texts = " ".join(t.text or "" for t in svg.iter() if t.tag.endswith("text"))
    assert "dense1" in texts and "relu1" in texts and "dense2" not in texts
    assert not window.export_picture(str(tmp_path / "bad.gif"))
    assert ".png or .svg" in window.statusBar().currentMessage()
