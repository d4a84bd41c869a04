"""Screenshots of the lesson views, taken mid-training (offscreen), for the README.

    python tools/lesson_screenshots.py [--out docs]

Nearest words (skip-gram), the VAE's generated digits and its loss terms, and the sine
regression's fit, each trained through the designer's TrainingController and grabbed on its
tab (see tools/training_screenshots.py, whose showcase this reuses). Look at them before
committing.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from training_screenshots import ROOT, QApplication, showcase

# template, epochs, pause at this epoch, [(tab, node or None, file name)]
SHOWCASES = [
    ("skipgram", 5, 5, [("Nearest words", "word_vectors", "lesson_nearest_words.png")]),
    ("vae", 30, 30, [("Generated", "code", "lesson_vae_generated.png"),
                     ("Loss terms", None, "lesson_loss_terms.png")]),
    ("sine_regression", 50, 12, [("Fit", "y", "lesson_regression_fit.png")]),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"))
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    for name, epochs, pause_at, shots in SHOWCASES:
        for path in showcase(app, out, name, epochs, pause_at, shots):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()
