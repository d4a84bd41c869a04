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
    from designer.lessons import load_chapters

    chapters = load_chapters()
    menus = [a.menu() for a in window.lessons_menu.actions() if a.menu() is not None]
    assert [m.title() for m in menus] == [c.title for c in chapters]
    assert [a.text() for a in menus[0].actions()] == [c.title for c in chapters[0].cards]
    xor = next(a for a in menus[0].actions() if a.text() == "XOR with one hidden layer")
    xor.trigger()
    assert window.document.graph.name == xor.text() and window.document.path is None
    assert "four tanh units" in xor.toolTip()
    assert "smallest multilayer perceptron" in window.lesson.toPlainText()


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


def gray(image: QImage):
    import numpy as np

    image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    return np.frombuffer(image.constBits(), np.uint8).reshape(
        image.height(), image.bytesPerLine())[:, :image.width()].astype(float)


def test_the_graph_picture_looks_like_the_canvas_at_twice_the_size(window):
    """Shrunk to half, the PNG is the canvas drawn at its own size (a picture whose fonts
    grew twice over, spilling out of the cards, is far from it)."""
    from PySide6.QtGui import QPainter

    from designer.canvas.export import picture_png, picture_rect

    scene = window.view.scene()
    picture = QImage.fromData(picture_png(scene))
    rect = picture_rect(scene, None)
    screen = QImage(rect.size().toSize(), QImage.Format.Format_ARGB32)
    painter = QPainter(screen)
    painter.fillRect(screen.rect(), picture.pixelColor(0, 0))
    scene.render(painter, screen.rect().toRectF(), rect)
    painter.end()
    assert picture.width() == 2 * screen.width()
    half = picture.scaled(screen.size(), Qt.AspectRatioMode.IgnoreAspectRatio,
                          Qt.TransformationMode.SmoothTransformation)
    assert abs(gray(half) - gray(screen)).mean() < 4


def settle(qtbot) -> None:
    qtbot.wait(30)


def test_at_1024x700_category_names_fit_and_the_graph_refits(window, qtbot):
    from PySide6.QtGui import QFontMetrics

    window.resize(1600, 1000)
    settle(qtbot)
    window.view.fit_all()
    window.resize(1024, 700)
    settle(qtbot)
    tree = window.palette.tree
    for i in range(tree.topLevelItemCount()):
        group = tree.topLevelItem(i)
        if group.isHidden():
            continue
        shown = QFontMetrics(group.font(0)).horizontalAdvance(group.text(0))
        assert tree.visualItemRect(group).width() >= shown, group.text(0)
    view = window.view
    assert view.visible_scene_rect().contains(view.scene().graph_rect())


def test_the_plots_keep_their_share_of_a_growing_window(window, qtbot):
    window.resize(1024, 700)
    settle(qtbot)
    window.resizeDocks([window.plots_dock], [240], Qt.Orientation.Vertical)   # the user's drag
    settle(qtbot)
    share = window.plots_dock.height() / window.height()
    window.resize(1600, 1000)
    settle(qtbot)
    # the dock follows once the window's layout has run
    qtbot.waitUntil(lambda: abs(window.plots_dock.height() / window.height() - share) < 0.03)
    assert window.plots_dock.height() > 300


def test_at_1024x700_train_and_stop_are_in_view(window, qtbot):
    window.resize(1024, 700)
    window.training_dock.raise_()
    settle(qtbot)
    panel = window.training_panel
    scroll = window.training_dock.widget()
    for button in (panel.train_button, panel.stop_button):
        top_left = button.mapTo(scroll.viewport(), button.rect().topLeft())
        bottom = top_left.y() + button.height()
        assert button.isVisible() and 0 <= top_left.y() and bottom <= scroll.viewport().height()
    # A first start at 1024x700 leaves the panel 295 pixels beside its vertical scroll bar:
    # it fits there (rows wrap) instead of scrolling sideways too.
    assert panel.minimumSizeHint().width() <= 295
    assert scroll.horizontalScrollBar().maximum() == 0


def test_training_progress_shows_in_the_status_bar(window, qtbot):
    from designer.training.states import TrainingState

    status = window.status_progress
    assert status.isHidden()    # nothing to say before a run
    c = window.training
    window.inspector_dock.raise_()
    c.progress.epochs, c.progress.batches, c.progress.epoch, c.progress.batch = 10, 36, 3, 12
    c._set_state(TrainingState.PAUSED)
    assert status.isVisible() and status.label.text() == "Paused · epoch 3/10 · batch 12/36"
    c._set_state(TrainingState.FINISHED)
    assert status.label.text().startswith("Trained") and status.bar.value() == 1000


def test_reset_weights_same_seed_or_a_new_one(window, qtbot):
    import numpy as np

    import nnengine as nn
    from designer.gallery import TEMPLATES_DIR

    window.files.new(nn.load_graph(TEMPLATES_DIR / "xor.json"))
    c = window.training
    assert c.start()
    assert c.wait(60_000) and c.state == "finished"
    trained = c.current_weights()
    fresh = nn.compile_model(window.document.graph, seed=0).get_weights()
    assert any(not np.array_equal(trained[k], fresh[k]) for k in fresh)
    assert window.status_progress.label.text().startswith("Trained")
    window.actions["reset_weights"].trigger()
    assert not c.has_weights and len(c.metrics) == 0 and not c.metrics.epochs
    assert c.state == "idle" and not window.status_progress.isVisible()   # nothing trained
    assert window.training_panel.progress.value() == 0
    model, current = c.export_model()
    assert not current
    assert all(np.array_equal(model.get_weights()[k], fresh[k]) for k in fresh)
    seed = window.document.graph.training["seed"]
    window.actions["reset_weights_new_seed"].trigger()
    assert window.document.graph.training["seed"] != seed
    window.actions["undo"].trigger()
    assert window.document.graph.training["seed"] == seed


def test_class_probabilities_recognises_softmax_and_sigmoid_outputs():
    import numpy as np

    from designer.prediction_view import class_probabilities

    assert np.allclose(class_probabilities(np.array([0.2, 0.8])), [0.2, 0.8])
    assert np.allclose(class_probabilities(np.array([0.9])), [0.1, 0.9])
    assert class_probabilities(np.array([2.0, -1.0, 0.5])) is None   # raw scores


def test_predict_shows_the_sample_and_a_bar_per_class(window, qtbot):
    import numpy as np

    import nnengine as nn
    from designer.gallery import TEMPLATES_DIR

    graph = nn.load_graph(TEMPLATES_DIR / "digits_mlp.json")
    graph.training["epochs"] = 1
    window.files.new(graph)
    c = window.training
    assert c.start() and c.wait(60_000) and c.state == "finished"
    c.set_sample(5, "test")
    window.actions["predict"].trigger()
    view = window.training_actions.prediction_view
    assert view.isVisible()
    result = c.predict(5, "test")
    assert "test sample #5" in view.heading.text() and "predicted" in view.heading.text()
    heights = view.bars.opts["height"]
    assert len(heights) == 10 and abs(float(np.sum(heights)) - 1) < 1e-3
    assert int(np.argmax(heights)) == result["predicted"]
    assert view.image_widget.isVisible() and view.image.image.shape == (8, 8)
    assert "Probability of each class" in view.bars_plot.getPlotItem().titleLabel.text
    view.close()


def test_export_the_plot_in_view_as_png_svg_and_csv(window, qtbot, tmp_path):
    import nnengine as nn
    from designer.gallery import TEMPLATES_DIR

    graph = nn.load_graph(TEMPLATES_DIR / "digits_mlp.json")
    graph.training["epochs"] = 2
    window.files.new(graph)
    c = window.training
    assert c.start() and c.wait(60_000) and c.state == "finished"
    dash = window.dashboard
    dash.show_page("Curves")
    qtbot.wait(50)
    assert window.export_plot(str(tmp_path / "curves.png"))
    assert not QImage(str(tmp_path / "curves.png")).isNull()
    assert window.export_plot(str(tmp_path / "curves.svg"))
    assert ET.parse(tmp_path / "curves.svg").getroot().tag.endswith("svg")
    assert window.export_plot(str(tmp_path / "curves.csv"))
    rows = list(csv.reader(io.StringIO((tmp_path / "curves.csv").read_text())))
    assert rows[0][:4] == ["loss (batch)_x", "loss (batch)_y", "accuracy (batch)_x",
                           "accuracy (batch)_y"] and "val_loss_y" in rows[0]
    batches = len(c.metrics.batch_x)
    assert len(rows) == 1 + batches and float(rows[batches][0]) == 2.0   # every batch
    assert [r[rows[0].index("loss_x")] for r in rows[1:4]] == ["1", "2", ""]
    dash.show_page("Gradients")
    qtbot.wait(50)
    assert window.export_plot(str(tmp_path / "gradients.csv"))
    header = (tmp_path / "gradients.csv").read_text().splitlines()[0]
    assert header.startswith("dense1 gradient norm_x,dense1 gradient norm_y")
    dash.show_page("Confusion")
    dash.confusion.refresh()
    qtbot.wait(50)
    assert window.export_plot(str(tmp_path / "confusion.csv"))
    rows = list(csv.reader(io.StringIO((tmp_path / "confusion.csv").read_text())))
    assert len(rows) == 11 and len(rows[1]) == 11
    assert sum(int(v) for r in rows[1:] for v in r[1:]) == int(dash.confusion.matrix.sum())


def test_the_training_panel_previews_the_chosen_data_set(window, qtbot):
    panel = window.training_panel
    preview = panel.preview
    panel.set_dataset("moons")
    assert preview.shown == "scatter" and len(preview.scatter.data) > 100
    assert "moons" in preview.summary.text() and "2 classes" in preview.summary.text()
    panel.validation_split.setValue(0.5)
    assert "to validate" in preview.summary.text()
    panel.set_dataset("digits")
    assert preview.shown == "images" and preview.images.image is not None
    rows, columns = preview.images.image.shape   # 32 digits of 8x8 in 4 full rows of 8
    assert (rows, columns) == (4 * 9 - 1, 8 * 9 - 1)
    assert "10 classes" in preview.summary.text()
    panel.set_dataset("iris")
    assert preview.shown == "table" and preview.table.rowCount() > 0
    assert preview.table.item(0, preview.table.columnCount() - 1).text()   # the class name
    panel.set_dataset("/no/such/file.csv")                 # files are read off the GUI thread
    qtbot.waitUntil(lambda: "cannot be shown" in preview.summary.text())
    assert preview.shown is None


def test_a_run_report_is_one_self_contained_html_file(window, qtbot, tmp_path):
    import nnengine as nn
    from designer.gallery import TEMPLATES_DIR

    assert not window.save_run_report(str(tmp_path / "none.html"))   # no run yet
    graph = nn.load_graph(TEMPLATES_DIR / "iris_mlp.json")
    graph.training["epochs"] = 5
    window.files.new(graph)
    c = window.training
    assert c.start() and c.wait(60_000) and c.state == "finished"
    qtbot.waitUntil(lambda: bool(window.runs.store.runs))
    assert window.save_run_report(str(tmp_path / "report"))
    text = (tmp_path / "report.html").read_text()
    assert text.startswith("<!DOCTYPE html>") and "data:image/png;base64," in text
    assert "<svg" in text and "Loss per epoch" in text and "Accuracy per epoch" in text
    assert "Confusion matrix" in text and "Run card" in text and "graph_sha256" in text
    assert f"{c.test_metrics['accuracy']:.4g}" in text
    assert "src='http" not in text and "href='http" not in text   # nothing fetched


def test_a_wrapped_templates_edges_stay_on_the_canvas_at_1024x700(window, qtbot):
    import nnengine as nn
    from designer.gallery import TEMPLATES_DIR

    window.resize(1600, 1000)
    window.files.new(nn.load_graph(TEMPLATES_DIR / "autoencoder.json"))   # two rows
    settle(qtbot)
    window.resize(1024, 700)
    settle(qtbot)
    view = window.view
    visible = view.visible_scene_rect()
    doc = window.document
    wrapped = [e for (s, t), e in view.scene().edges.items()
               if doc.position(t)[0] < doc.position(s)[0]]   # end of a row to the next row
    assert wrapped
    assert wrapped[0].sceneBoundingRect().left() < wrapped[0].target.sceneBoundingRect().left()
    for edge in view.scene().edges.values():
        assert visible.contains(edge.sceneBoundingRect()), edge.key


def test_a_repair_from_the_inspector_keeps_the_cards_it_moves_in_view(window, qtbot):
    """Inserting a Reshape pushes a full row of the digits CNN to the right: whether the fix
    is clicked in the inspector or in the badge's menu, the canvas shows them after it."""
    import nnengine as nn
    from designer.gallery import TEMPLATES_DIR

    graph = nn.load_graph(TEMPLATES_DIR / "digits_cnn.json")
    graph.set_params("input", {"shape": [64]})
    window.resize(1440, 900)
    window.files.new(graph)
    settle(qtbot)
    view, doc = window.view, window.document
    view.select_nodes(["conv1"])
    (fix,) = window.inspector.repair_buttons
    assert "[64] becomes [1, 8, 8]" in fix.text()
    fix.linkActivated.emit("fix")
    settle(qtbot)
    assert doc.analysis.ok
    visible = view.visible_scene_rect()
    for node in doc.graph.node_ids():
        assert visible.contains(view.node_item(node).sceneBoundingRect()), node


def test_a_first_start_and_the_gallery_fit_a_small_screen():
    from PySide6.QtCore import QSize

    from designer.screen_fit import fitted

    assert fitted(QSize(1440, 900), QSize(1024, 668)) == QSize(1024, 668)   # less a panel
    assert fitted(QSize(1440, 900), QSize(2560, 1400)) == QSize(1440, 900)


def test_the_template_gallery_opens_within_the_screen(window):
    from designer.gallery import TemplateGallery

    gallery = TemplateGallery(window)
    screen = gallery.screen().availableGeometry()   # 800x800 offscreen
    assert gallery.width() <= screen.width() and gallery.height() <= screen.height()
    gallery.close()
