"""Screenshots of every training plot, taken mid-training (offscreen), for the README.

    python tools/training_screenshots.py [--out docs]

Each showcase opens a template, trains it through the designer's TrainingController, pauses
part-way, and grabs the dashboard on the tab that shows the plot (plus the main window with
the training docks). Renew them after changing a plot; look at them before committing.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget

import nnengine as nn
from designer.plots.dashboard import TrainingDashboard
from designer.training.controller import TrainingController
from designer.training.states import TrainingState

SIZE = (1280, 720)

# template, epochs, pause at this epoch, [(tab, node or None, file name)]
SHOWCASES = [
    ("digits_cnn", 12, 6, [
        ("Curves", None, "training_curves.png"),
        ("Activations", "flatten", "training_activations.png"),
        ("Feature maps", "relu1", "training_feature_maps.png"),
        ("Weights", "conv1", "training_weights.png"),
        ("Confusion", None, "training_confusion.png")]),
    ("deep_sigmoid", 60, 30, [("Gradients", "dense1", "training_gradients.png")]),
    ("spirals", 300, 150, [("Decision boundary", None, "training_decision_boundary.png")]),
    ("autoencoder", 30, 12, [("Reconstruction", None, "training_reconstruction.png")]),
]


def template(name: str, **training) -> nn.Graph:
    data = json.loads((ROOT / "resources" / "templates" / f"{name}.json").read_text())
    graph = nn.Graph.from_dict({k: v for k, v in data.items() if k not in ("format", "version")})
    graph.training = {**graph.training, **training}
    return graph


def spin(app: QApplication, ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def train_until(app: QApplication, controller: TrainingController, epoch: int) -> None:
    """Train, pause once `epoch` has ended, and wait for the snapshot taken at the pause."""
    # Snapshots as often as they come, so the pictures show a rich history.
    controller.snapshot_hz, controller.snapshot_share = 200.0, 0.5
    controller.epoch_recorded.connect(
        lambda record: controller.pause() if record.epoch >= epoch else None)
    controller.start()
    for _ in range(30_000):    # ten minutes at most: the machine may be busy
        spin(app, 20)
        controller.poll()
        snap = controller.snapshot
        # A pause asked for at the last epoch may come after the run has finished.
        if controller.state in (TrainingState.PAUSED, TrainingState.FINISHED) and \
                snap is not None and \
                snap.step == controller.progress.step and controller.progress.epoch >= epoch:
            break
    spin(app, 150)


def showcase(app: QApplication, out: Path, name: str, epochs: int, pause_at: int,
             shots: list[tuple[str, str | None, str]]) -> list[Path]:
    controller = TrainingController(graph=template(name, epochs=epochs))
    window = QWidget()
    window.setWindowTitle(f"{name} mid-training")
    row = QHBoxLayout(window)
    row.setContentsMargins(0, 0, 0, 0)
    dashboard = TrainingDashboard(controller)
    row.addWidget(dashboard)
    window.resize(*SIZE)
    window.show()
    train_until(app, controller, pause_at)
    written = []
    for tab, node, file_name in shots:
        if node:
            dashboard.show_node(node)
        dashboard.show_page(tab)
        spin(app, 100)
        dashboard.tabs.currentWidget().refresh()
        spin(app, 100)
        path = out / file_name
        window.grab().save(str(path))
        written.append(path)
    controller.shutdown()
    window.close()
    return written


def main_window_shot(app: QApplication, out: Path) -> Path:
    import tempfile

    from screenshots import close_window, new_window

    window = new_window(Path(tempfile.mkdtemp()), (1600, 1000))
    window.document.new(template("digits_cnn", epochs=12))
    window.resizeDocks([window.plots_dock], [390], Qt.Orientation.Vertical)
    window.training_dock.raise_()
    spin(app, 200)
    window.view.fit_all()
    train_until(app, window.training, 6)
    window.view.select_nodes(["conv1"])
    spin(app, 300)
    path = out / "training_window.png"
    window.grab().save(str(path))
    close_window(window)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    written = []
    for name, epochs, pause_at, shots in SHOWCASES:
        written += showcase(app, out, name, epochs, pause_at, shots)
    written.append(main_window_shot(app, out))
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()
