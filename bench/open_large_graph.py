"""Opening large valid graphs in the window: how long the event loop stalls.

    QT_QPA_PLATFORM=offscreen python bench/open_large_graph.py [--nodes 2001]
        [--names 4000000 50000000]

Opens, through File ▸ Open in a real window, a chain of NODES layers and a small graph whose
name holds 4 MB and 50 MB of text. A 5 ms timer runs all along; the longest gap between its
ticks is the longest time the window could not react (goal: well under 100 ms). Then, on
the large canvas: fit to view, select all, move the selection and undo it, each timed.
Prints seconds and milliseconds, and the machine's load (figures are noisy on a busy one).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

import nnengine as nn
from bench.editor_speed import chain


class StallMeter:
    """The longest gap between ticks of a 5 ms timer while `run` goes on in the event loop."""

    def __init__(self, app: QApplication):
        self.app = app
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now

    def run(self, fn) -> tuple[float, float, object]:
        """(seconds, longest stall in seconds, fn's result), fn called from the event loop."""
        out: dict[str, object] = {}

        def call() -> None:
            out["result"] = fn()
            out["end"] = time.perf_counter()
            self.app.quit()

        self.worst, self.last = 0.0, time.perf_counter()
        began = self.last
        self.timer.start()
        QTimer.singleShot(0, call)
        self.app.exec()
        self.timer.stop()
        self._tick()
        return float(out["end"]) - began, self.worst, out["result"]


def timed_ms(fn) -> float:
    began = time.perf_counter()
    fn()
    QApplication.processEvents()
    return (time.perf_counter() - began) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2001)
    parser.add_argument("--names", type=int, nargs="*", default=[4_000_000, 50_000_000])
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(["bench"])
    from designer.main_window import MainWindow

    tmp = Path(tempfile.mkdtemp())
    window = MainWindow(QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat), tmp / "d")
    window.resize(1400, 900)
    window.show()
    app.processEvents()
    cases = [(f"chain of {args.nodes:,} layers", chain(args.nodes))]
    for size in args.names:
        g = chain(5)
        g.name = "N" * size
        cases.append((f"name of {size / 1e6:g} MB", g))
    meter = StallMeter(app)
    print(f"load average: {os.getloadavg()[0]:.2f}")
    print(f"{'graph':<26}{'file MB':>9}{'open s':>9}{'longest stall ms':>18}")
    for title, graph in cases:
        path = tmp / "graph.json"
        nn.save_graph(graph, path)
        seconds, stall, ok = meter.run(lambda p=path: window.files.open_path(p))
        assert ok, f"opening the {title} failed"
        print(f"{title:<26}{path.stat().st_size / 1e6:>9.1f}{seconds:>9.2f}{stall * 1000:>18.0f}")
    nn.save_graph(chain(args.nodes), tmp / "graph.json")
    window.files.open_path(tmp / "graph.json")
    view, doc = window.view, window.document
    print(f"on the canvas of {args.nodes:,} layers:")
    print(f"  fit to view        {timed_ms(view.fit_all):8.0f} ms")
    print(f"  select all         {timed_ms(window.select_all):8.0f} ms")
    ids = view.selected_node_ids()
    moved = {n: (doc.position(n)[0] + 40, doc.position(n)[1]) for n in ids}
    print(f"  move all, one step {timed_ms(lambda: doc.move_nodes(moved)):8.0f} ms")
    print(f"  undo the move      {timed_ms(doc.undo_stack.undo):8.0f} ms")
    print(f"  repaint            {timed_ms(window.grab):8.0f} ms")
    print(f"load average: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
