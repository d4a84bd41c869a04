"""Screenshots of what a first-time user meets, in the real window at 1024x700 (offscreen):
the training plots after a short run, the training panel, the prediction view, Analyze and
the shortcuts. Renew them after changing one of these; look at them before committing.

    python tools/first_use_screenshots.py [OUT_DIR]      (default: docs/first_use/)
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QWidget

SIZE = (1024, 700)
# template, epochs, node to select, dashboard tab, file name
RUNS = [
    ("digits_cnn", 3, None, "Confusion", "confusion_1024.png"),
    ("digits_cnn", 3, "conv1", "Feature maps", "feature_maps_1024.png"),
    ("deep_sigmoid", 40, None, "Gradients", "gradients_1024.png"),
    ("spirals", 60, None, "Decision boundary", "decision_boundary_1024.png"),
]


def spin(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def shoot(widget: QWidget, path: Path) -> None:
    spin(150)
    widget.repaint()
    widget.grab().save(str(path))
    print(f"wrote {path}")


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "docs" / "first_use"
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["screenshots"])
    from designer.app import configure
    from designer.gallery import TEMPLATES_DIR
    from designer.main_window import MainWindow
    from nnengine import load_graph

    configure(app)
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings, recovery_dir=Path(tmp) / "data")
        window.files.confirm_discard = lambda: True   # no "unsaved changes" question
        window.resize(*SIZE)
        window.show()
        spin(200)
        for name, epochs, node, tab, file in RUNS:
            graph = load_graph(TEMPLATES_DIR / f"{name}.json")
            graph.training["epochs"] = epochs
            window.files.new(graph)
            spin(100)
            window.training.start()
            window.training.wait(120_000)
            window.dashboard.show_page(tab)
            if node:
                window.view.select_nodes([node])
                window.dashboard.show_page(tab)
            shoot(window, out / file)
        window.training_dock.raise_()
        shoot(window, out / "training_panel_1024.png")
        window.inspector_dock.raise_()
        if "predict" in window.actions:
            window.training.set_sample(3, "test")
            window.actions["predict"].trigger()
            view = getattr(window.training_actions, "prediction_view", None)
            if view is not None:
                shoot(view, out / "prediction.png")
                view.close()
        if hasattr(window, "analyze"):
            window.files.new(load_graph(TEMPLATES_DIR / "digits_cnn.json"))
            dialog = window.analyze()
            dialog.resize(900, 470)
            shoot(dialog, out / "analyze.png")
            dialog.close()
        if "shortcuts" in window.actions:
            from designer.help import ShortcutsDialog

            dialog = ShortcutsDialog(window)
            dialog.resize(520, 640)
            dialog.show()
            shoot(dialog, out / "shortcuts.png")
            dialog.close()
        window.files.new(None)
        shoot(window, out / "empty_canvas_1024.png")
        window.document.undo_stack.setClean()
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
