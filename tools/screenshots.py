"""Render the README's screenshots offscreen, so they can be renewed after a UI change.

    python tools/screenshots.py [OUT_DIR]      (default: docs/)

Writes main_window.png (the digits CNN template, a layer selected), graph_error.png (a graph
with problems: red badges, the inspector explaining one) and template_gallery.png. Uses a
temporary settings file and data folder, so the user's own layout never leaks in.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QWidget

SIZE = (1440, 900)


def settle(app: QApplication, widget: QWidget | None = None) -> None:
    for _ in range(5):
        app.processEvents()
    if widget is not None:
        widget.repaint()
        app.processEvents()


def shoot(app: QApplication, widget: QWidget, path: Path) -> None:
    settle(app, widget)
    widget.grab().save(str(path))
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def new_window(folder: Path, size: tuple[int, int] = SIZE):
    """A shown main window whose settings and recovery data live in `folder` (a temporary
    one), so the user's own layout never leaks into a screenshot."""
    from designer.main_window import MainWindow

    settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, recovery_dir=folder / "data")
    window.resize(*size)
    window.show()
    return window


def close_window(window) -> None:
    """End the window's training process and close it without the question about unsaved
    changes or runs (nothing a screenshot script made is worth keeping; the question would
    wait offscreen for ever)."""
    window.training.shutdown()
    window.runs.store.mark_saved()
    window.document.undo_stack.setClean()
    window.close()


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "docs"
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["screenshots"])
    from designer.app import configure

    configure(app)
    from designer.gallery import TEMPLATES_DIR, TemplateGallery
    from nnengine import load_graph

    with tempfile.TemporaryDirectory() as tmp:
        window = new_window(Path(tmp))

        # 1. A template, with one layer selected so the inspector explains it.
        window.files.new(load_graph(TEMPLATES_DIR / "digits_cnn.json"))
        settle(app)
        window.view.fit_all()
        window.view.select_nodes(["conv2"])
        shoot(app, window, out / "main_window.png")

        # 2. Mistakes: the Flatten before the Dense layer deleted, so it gets feature maps,
        #    and a Dropout dropped but never connected. Badges show on both; the inspector
        #    explains the selected one.
        graph = load_graph(TEMPLATES_DIR / "digits_cnn.json")
        graph.name = "CNN on digits (with mistakes)"
        graph.remove_node("flatten")
        graph.add_edge("pool2", "output")
        graph.add_node("dropout1", "Dropout", {"rate": 0.3}, (900.0, 420.0))  # below the rows
        window.files.new(graph)
        settle(app)
        window.view.fit_all()
        window.view.select_nodes(["output"])
        window.inspector_dock.raise_()  # the inspector explains the selected mistake
        window.show_message("Click a red badge to see the problem and the repair it offers")
        shoot(app, window, out / "graph_error.png")

        # 3. The template gallery.
        gallery = TemplateGallery(window)
        gallery.resize(1480, 860)  # five columns: every card in view
        gallery.show()
        gallery.select("digits_cnn.json")
        shoot(app, gallery, out / "template_gallery.png")
        gallery.close()

        close_window(window)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
