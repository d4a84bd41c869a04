"""Render the backprop tools' screenshots offscreen (the README shows them).

    python tools/backprop_screenshots.py [OUT_DIR]      (default: docs/)

Writes backprop_stepper.png (the XOR template, stepped into its backward pass),
backprop_gradient_check.png (digits CNN), backprop_lr_finder.png (digits MLP) and
backprop_init_preview.png (the deep sigmoid template's vanishing gradient).
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication

from tools.screenshots import close_window, new_window, settle, shoot

SIZE = (1440, 900)


def wait_for(app: QApplication, done, seconds: float = 60.0) -> None:
    end = time.monotonic() + seconds
    while not done() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    if not done():
        raise SystemExit("a tool did not finish in time")


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "docs"
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["screenshots"])
    from designer.app import configure

    configure(app)
    from designer.gallery import TEMPLATES_DIR
    from nnengine import load_graph

    with tempfile.TemporaryDirectory() as tmp:
        window = new_window(Path(tmp), SIZE)
        tools = window.backprop_tools

        window.files.new(load_graph(TEMPLATES_DIR / "xor.json"))
        settle(app)
        tools.show_stepper()
        panel = tools.stepper
        panel.start()
        wait_for(app, lambda: panel.session is not None)
        window.view.fit_all()
        n_forward = sum(type(e).__name__ == "ForwardEvent" for e in panel.session.events)
        panel.show_event(n_forward + 2)
        shoot(app, window, out / "backprop_stepper.png")
        tools.stepper_dock.hide()

        window.files.new(load_graph(TEMPLATES_DIR / "digits_cnn.json"))
        settle(app)
        dialog = tools.gradient_check(None)
        wait_for(app, lambda: dialog.report is not None)
        shoot(app, dialog, out / "backprop_gradient_check.png")
        dialog.close()

        window.files.new(load_graph(TEMPLATES_DIR / "digits_mlp.json"))
        settle(app)
        dialog = tools.find_learning_rate()
        wait_for(app, lambda: dialog.result is not None)
        shoot(app, dialog, out / "backprop_lr_finder.png")
        dialog.close()

        window.files.new(load_graph(TEMPLATES_DIR / "deep_sigmoid.json"))
        settle(app)
        tools.show_init_preview()
        wait_for(app, lambda: bool(tools.init_preview.rows))
        window.resize(SIZE[0] - 1, SIZE[1])  # let the dock layout settle after the new tab
        settle(app)
        window.resize(*SIZE)
        settle(app)
        window.view.fit_all()
        shoot(app, window, out / "backprop_init_preview.png")
        close_window(window)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
