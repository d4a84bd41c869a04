"""Screenshots of what a first-time user meets, in the real window at 1024x700 (offscreen):
editing on the canvas (a layer dropped on a connection, a palette double-click, paste, the
repairs), the training plots after a short run, the training panel and its data-set
preview, Reset Weights, plot export, the run report, the prediction view, Analyze and the
shortcuts. Renew them after changing one of these; look at them before committing.

    python tools/first_use_screenshots.py [OUT_DIR]      (default: docs/first_use/)
    python tools/first_use_screenshots.py --before OLD_CHECKOUT [OUT_DIR]

`--before` runs only the editing shots, on the code of another checkout, and names them
*_before.png: the README's "before" pictures of the editing items were made so from commit
2aeceea^ (`git archive 2aeceea^ | tar -x -C OLD_CHECKOUT`), the code before the fixes. The
other "before" pictures were made the same way from earlier commits and are not renewed.
The run report is drawn by headless Chromium when `chromium` is installed (skipped, with a
line saying so, when it is not).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QEventLoop, QPoint, QRect, Qt, QTimer
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QWidget
from screenshots import ROOT, close_window, new_window  # sets the offscreen platform

SIZE = (1024, 700)
EDITING_SIZE = (1440, 900)   # the canvas large enough to read the cards
# template, epochs, node to select, dashboard tab, file name
RUNS = [
    ("digits_cnn", 3, None, "Confusion", "confusion_after.png"),
    ("digits_cnn", 3, "conv1", "Feature maps", "feature_maps_after.png"),
    ("deep_sigmoid", 40, None, "Gradients", "gradients_after.png"),
    ("spirals", 60, None, "Decision boundary", "decision_boundary_after.png"),
]


def spin(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def save(pixmap: QPixmap, path: Path) -> None:
    """Write `pixmap` as a 256-colour PNG (a third of the size; screenshots of the window
    look the same)."""
    pixmap.save(str(path))
    write_small(Image.open(path), path)


def write_small(image: Image.Image, path: Path) -> None:
    image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE,
                                  dither=Image.Dither.NONE).save(path, optimize=True)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


def shoot(widget: QWidget, path: Path, popups: tuple[QWidget, ...] = (),
          area: QRect | None = None) -> None:
    """`widget` as drawn, with `popups` (menus, open lists: windows of their own) painted
    where they are on the screen, cut to `area` (widget pixels) when given."""
    spin(150)
    widget.repaint()
    pixmap = widget.grab()
    if popups:
        painter = QPainter(pixmap)
        origin = widget.mapToGlobal(QPoint(0, 0))
        for popup in popups:
            popup.repaint()
            painter.drawPixmap(popup.mapToGlobal(QPoint(0, 0)) - origin, popup.grab())
        painter.end()
    save(pixmap.copy(area) if area is not None else pixmap, path)


def area_of(window: QWidget, *widgets: QWidget) -> QRect:
    """The window's rectangle holding every one of `widgets`."""
    rect = QRect()
    for w in widgets:
        rect = rect.united(QRect(w.mapTo(window, QPoint(0, 0)), w.size()))
    return rect


def load(window, template: str, **training):
    from designer.gallery import TEMPLATES_DIR
    from nnengine import load_graph

    graph = load_graph(TEMPLATES_DIR / f"{template}.json")
    graph.training.update(training)
    window.files.new(graph)
    spin(100)
    window.view.fit_all()
    return graph


# --- editing on the canvas: run on this code, or with --before on the code before the fixes --
def editing_shots(window, out: Path, stage: str) -> None:
    window.inspector_dock.raise_()
    spin(100)
    canvas = area_of(window, window.palette_dock, window.view)
    with_inspector = area_of(window, window.view, window.inspector_dock)

    # A palette double-click with a node selected (the new layer's place and wiring).
    load(window, "digits_mlp")
    window.view.select_nodes(["dense1"])
    item = window.palette.item_for("Dropout")
    window.palette.tree.setCurrentItem(item)
    window.palette.tree.itemDoubleClicked.emit(item, 0)
    shoot(window, out / f"double_click_{stage}.png", area=canvas)

    # Copy two layers and paste them.
    load(window, "digits_mlp")
    window.view.select_nodes(["dense1", "relu1"])
    window.actions["copy"].trigger()
    window.actions["paste"].trigger()
    shoot(window, out / f"paste_{stage}.png", area=canvas)

    # The shape error of the issue (the digits CNN's input typed as [1, 8]) and its repair.
    graph = load(window, "digits_cnn")
    graph.set_params("input", {"shape": [1, 8]})
    window.files.new(graph)
    spin(100)
    window.view.fit_all()
    (problem,) = window.document.analysis.problems
    window.document.apply_repair(problem)   # refused when no repair is offered
    window.view.select_nodes([window.document.analysis.problems[0].node_id])
    show_problems(window)
    shoot(window, out / f"repair_{stage}.png", area=with_inspector)


def show_problems(window) -> None:
    """Scroll the inspector to its end: the node's problems and the repairs offered."""
    spin(100)
    bar = window.inspector.verticalScrollBar()
    bar.setValue(bar.maximum())


def edge_drop_shots(window, out: Path) -> None:
    """A layer dragged over a connection (lit), then dropped there: inserted."""
    from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent

    load(window, "digits_mlp")
    view, tree = window.view, window.palette.tree
    edge = view.edge_item("relu1", "output")
    view.set_zoom(0.9)
    view.centerOn(edge.path().pointAtPercent(0.5))
    at = view.mapFromScene(edge.path().pointAtPercent(0.5))
    item = window.palette.item_for("Dropout")
    tree.setCurrentItem(item)
    mime = tree.mimeData([item])
    copy, left, none = (Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), QDragEnterEvent(at, copy, mime, left, none))
    QApplication.sendEvent(view.viewport(), QDragMoveEvent(at, copy, mime, left, none))
    canvas = area_of(window, window.palette_dock, window.view)
    spin(150)
    pixmap = window.grab()
    # Qt's drag shows the entry under the pointer (a picture the platform draws): drawn in.
    rect = tree.visualItemRect(item)
    rect.setWidth(tree.fontMetrics().horizontalAdvance(item.text(0)) + 2 * rect.height())
    painter = QPainter(pixmap)
    painter.setOpacity(0.8)
    painter.drawPixmap(view.viewport().mapTo(window, at) + QPoint(-36, 16),
                       tree.viewport().grab(rect))
    painter.end()
    save(pixmap.copy(canvas), out / "edge_drop_before.png")
    QApplication.sendEvent(view.viewport(), QDropEvent(at.toPointF(), copy, mime, left, none))
    shoot(window, out / "edge_drop_after.png", area=canvas)


def repair_offered_shot(window, out: Path) -> None:
    """A flat input before the digits CNN: the Reshape it needs is offered, then applied."""
    graph = load(window, "digits_cnn")
    graph.set_params("input", {"shape": [64]})
    window.files.new(graph)
    spin(100)
    window.view.fit_all()
    window.inspector_dock.raise_()
    window.view.select_nodes(["conv1"])
    show_problems(window)
    shoot(window, out / "repair_offered.png",
          area=area_of(window, window.view, window.inspector_dock))
    window.inspector.repair_buttons[0].linkActivated.emit("fix")   # its "Fix:" link clicked
    window.view.select_nodes([])
    window.show_message(window.actions["undo"].text())
    shoot(window, out / "repair_applied.png",
          area=area_of(window, window.view, window.inspector_dock, window.statusBar()))


# --- training -------------------------------------------------------------------------
def train(window, template: str, **training) -> None:
    load(window, template, **training)
    window.training.start()
    window.training.wait(120_000)
    spin(200)


def training_shots(window, out: Path) -> None:
    for name, epochs, node, tab, file in RUNS:
        train(window, name, epochs=epochs)
        window.dashboard.show_page(tab)
        if node:
            window.view.select_nodes([node])
            window.dashboard.show_page(tab)
        shoot(window, out / file)
    window.training_dock.raise_()
    shoot(window, out / "training_panel_after.png")
    reset_weights_shots(window, out)
    window.inspector_dock.raise_()
    window.training.set_sample(3, "test")
    window.actions["predict"].trigger()
    view = window.training_actions.prediction_view
    shoot(view, out / "prediction.png")
    view.close()


def reset_weights_shots(window, out: Path) -> None:
    """The spirals learned; Train ▸ Reset Weights with a New Seed; the boundary starts over."""
    menu = window.training_actions.menu
    menu.popup(window.menuBar().mapToGlobal(
        window.menuBar().actionGeometry(menu.menuAction()).bottomLeft()))
    menu.setActiveAction(window.actions["reset_weights_new_seed"])
    shoot(window, out / "reset_weights_before.png", popups=(menu,))
    menu.hide()
    window.actions["reset_weights_new_seed"].trigger()
    spin(300)
    window.training_dock.raise_()
    shoot(window, out / "reset_weights_after.png")


def preview_shots(window, out: Path) -> None:
    """The training panel's look at the data set before training: points, images, rows."""
    window.training_dock.raise_()
    panel = window.training_panel
    for template, kind in (("spirals", "scatter"), ("digits_cnn", "images"),
                           ("iris_mlp", "table")):
        load(window, template)
        spin(100)
        window.training_dock.widget().ensureWidgetVisible(panel.preview, 0, 0)
        shoot(window.training_dock, out / f"preview_{kind}.png")
    window.training_dock.widget().verticalScrollBar().setValue(0)   # Train on top again


def export_plot_shot(window, out: Path) -> None:
    """Train ▸ Export the Plot in View: the real dialog, its list of file kinds opened."""
    from PySide6.QtWidgets import QComboBox

    train(window, "digits_mlp", epochs=5)
    window.dashboard.show_page("Curves")

    def shoot_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        kinds = next(c for c in dialog.findChildren(QComboBox)
                     if "PNG image (*.png)" in [c.itemText(i) for i in range(c.count())])
        kinds.showPopup()
        spin(200)
        shoot(window, out / "export_plot.png", popups=(dialog, kinds.view().window()))
        kinds.hidePopup()
        dialog.reject()

    QTimer.singleShot(300, shoot_dialog)
    window.export_plot()


def run_report_shot(window, out: Path, tmp: Path) -> None:
    """Train ▸ Save a Run Report, as a browser shows the file (headless Chromium)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("run_report.png not made: install chromium to draw the HTML report")
        return
    train(window, "digits_cnn", epochs=5)
    report = tmp / "report.html"
    window.save_run_report(str(report))
    picture = tmp / "report.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                    "--hide-scrollbars", f"--screenshot={picture}", "--window-size=1000,1500",
                    report.as_uri()], check=True, capture_output=True, timeout=120)
    write_small(Image.open(picture), out / "run_report.png")


def dialog_shots(window, out: Path) -> None:
    from designer.help import ShortcutsDialog

    load(window, "digits_cnn")
    dialog = window.analyze()
    dialog.resize(900, 470)
    shoot(dialog, out / "analyze.png")
    dialog.close()
    dialog = ShortcutsDialog(window)
    dialog.resize(520, 640)
    dialog.show()
    shoot(dialog, out / "shortcuts.png")
    dialog.close()
    window.files.new(None)
    shoot(window, out / "empty_canvas_after.png")


def open_window(folder: Path, size: tuple[int, int]):
    folder.mkdir()
    window = new_window(folder, size)
    window.files.confirm_discard = lambda: True   # no "unsaved changes" question
    spin(200)
    return window


def main(argv: list[str]) -> int:
    before = None
    if argv[:1] == ["--before"]:
        before, argv = Path(argv[1]).resolve(), argv[2:]
        sys.path.insert(0, str(before))   # that checkout's designer and nnengine
    out = (Path(argv[0]) if argv else ROOT / "docs" / "first_use").resolve()
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["screenshots"])
    from designer.app import configure

    configure(app)
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)   # where the file dialogs open
        window = open_window(Path(tmp) / "editing", EDITING_SIZE)
        editing_shots(window, out, "before" if before is not None else "after")
        if before is None:
            edge_drop_shots(window, out)
            repair_offered_shot(window, out)
        close_window(window)
        if before is None:   # a first start at 1024x700: the side docks tabbed together
            window = open_window(Path(tmp) / "small", SIZE)
            preview_shots(window, out)
            training_shots(window, out)
            export_plot_shot(window, out)
            run_report_shot(window, out, Path(tmp))
            dialog_shots(window, out)
            close_window(window)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
