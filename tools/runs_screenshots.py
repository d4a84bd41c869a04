"""Screenshots of runs in the main window (offscreen), for the README.

    python tools/runs_screenshots.py [--out docs]

Trains the spirals template three times at three learning rates through the real window,
then grabs the Runs panel, the comparison of two runs, and the "earlier version" banner
after an edit. Renew them after changing the runs package; look at them before committing.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

import nnengine as nn

RATES = (0.003, 0.01, 0.03)


def spin(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def spirals(epochs: int) -> nn.Graph:
    data = json.loads((ROOT / "resources" / "templates" / "spirals.json").read_text())
    graph = nn.Graph.from_dict({k: v for k, v in data.items() if k not in ("format", "version")})
    graph.training = {**graph.training, "epochs": epochs}
    return graph


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--epochs", type=int, default=150)
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(["runs-screenshots"])
    from designer.app import configure
    from designer.main_window import MainWindow

    configure(app)
    tmp = Path(tempfile.mkdtemp())
    window = MainWindow(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat),
                        tmp / "data")
    window.resize(1440, 900)
    window.show()
    window.files.new(spirals(args.epochs))
    spin(300)
    doc, runs = window.document, window.runs
    for rate in RATES:
        training = dict(doc.graph.training)
        training["optimizer"] = {"type": "adam", "learning_rate": rate}
        doc.set_training(training)
        window.actions["train"].trigger()
        window.training.wait(600_000)
        spin(200)
        run = runs.store.runs[-1]
        runs.rename(run.id, f"learning rate {rate:g}")
    window.view.fit_all()
    runs.dock.raise_()
    window.resizeDocks([runs.dock, window.plots_dock], [620, 820], Qt.Orientation.Horizontal)
    window.resizeDocks([window.plots_dock], [330], Qt.Orientation.Vertical)
    window.dashboard.show_page("Decision boundary")
    spin(400)
    window.dashboard.refresh_all()
    spin(200)
    args.out.mkdir(parents=True, exist_ok=True)
    written = []

    def grab(widget, name: str) -> None:
        path = args.out / name
        widget.grab().save(str(path))
        written.append(path)

    first, _, last = runs.store.runs
    runs.panel.set_ticked(first.id, True)
    runs.panel.set_ticked(last.id, True)
    spin(400)
    grab(runs.dock, "runs_panel.png")
    window.resizeDocks([runs.dock, window.plots_dock], [360, 1080], Qt.Orientation.Horizontal)
    spin(400)
    grab(window.plots_dock, "runs_compare.png")
    for run in (first, last):
        runs.panel.set_ticked(run.id, False)
    window.dashboard.show_page("Decision boundary")
    doc.set_param("dense2", "units", 24)
    window.view.select_nodes(["dense2"])
    window.view.set_zoom(0.9)
    x, y = doc.position("dense2")
    window.view.centerOn(x + 100, y + 40)
    spin(400)
    grab(window.centralWidget(), "runs_banner.png")
    for path in written:
        print(path)
    runs.store.mark_saved()
    doc.undo_stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
