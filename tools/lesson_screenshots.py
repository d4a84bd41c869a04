"""Screenshots of the lesson views, taken mid-training (offscreen), for the README.

    python tools/lesson_screenshots.py [--out docs]

Nearest words (skip-gram), the VAE's generated digits and its loss terms, and the sine
regression's fit, each trained through the designer's TrainingController and grabbed on its
tab (see tools/training_screenshots.py, whose showcase this reuses); the gallery open on a
chapter (lesson_gallery.png), and the main window with a card open and trained, its lesson
in the Lesson dock beside the canvas (lesson_dock.png). Look at them before committing.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tempfile

from PySide6.QtCore import Qt
from screenshots import close_window, new_window, shoot
from training_screenshots import ROOT, QApplication, showcase, spin, train_until

from designer.gallery import TemplateGallery
from designer.lessons import card_for_path

# template, epochs, pause at this epoch, [(tab, node or None, file name)]
SHOWCASES = [
    ("skipgram", 5, 5, [("Nearest words", "word_vectors", "lesson_nearest_words.png")]),
    ("vae", 10, 10, [("Generated", "code", "lesson_vae_generated.png"),
                     ("Loss terms", None, "lesson_loss_terms.png")]),
    ("sine_regression", 50, 12, [("Fit", "y", "lesson_regression_fit.png")]),
]


def gallery_shot(app: QApplication, out: Path) -> Path:
    """The gallery on the convolutional chapter, the shifted-digits CNN card selected."""
    gallery = TemplateGallery()
    gallery.show()
    gallery.select("shifted_cnn.json")
    path = out / "lesson_gallery.png"
    shoot(app, gallery, path)
    gallery.close()
    return path


def lesson_dock_shot(app: QApplication, out: Path) -> Path:
    """The overfitting card opened from the gallery and trained to its end: the Lesson dock
    beside the canvas, the curves parting and the health panel's alarm below."""
    with tempfile.TemporaryDirectory() as tmp:
        window = new_window(Path(tmp), (1600, 1000))
        window.open_lesson(card_for_path("overfit.json"))
        window.resizeDocks([window.plots_dock], [400], Qt.Orientation.Vertical)
        spin(app, 200)
        window.view.fit_all()
        train_until(app, window.training, 300)
        window.dashboard.tabs.setCurrentIndex(0)   # the curves
        spin(app, 300)
        path = out / "lesson_dock.png"
        shoot(app, window, path)
        close_window(window)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"))
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    for name, epochs, pause_at, shots in SHOWCASES:
        for path in showcase(app, out, name, epochs, pause_at, shots):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    # Last: after a main window has trained and closed, a showcase's run never started.
    gallery_shot(app, out)
    lesson_dock_shot(app, out)


if __name__ == "__main__":
    main()
