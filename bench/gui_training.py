"""Training in the GUI vs the plain engine: event-loop delay, plot refresh rate, slowdown.

    python bench/gui_training.py [--epochs 30] [--repeats 3] [--tab rotate|Curves|...]

Trains the digits CNN template (resources/templates/digits_cnn.json) through the designer's
TrainingController with the dashboard and the training panel shown (offscreen Qt), and the
same graph with the plain `nnengine.Trainer` (what `nnengine train` runs), alternating the
two `--repeats` times. While the GUI trains, a 10 ms timer measures how late the event
loop answers, and the visible plot's redraws are counted; by default the visible tab changes
every 500 ms so every kind of plot is drawn. Prints the figures and ratios against the
goals: event-loop delay p99 < 50 ms, >= 10 plot refreshes per second, GUI training at most
15% slower than the plain Trainer.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget

import nnengine as nn
from designer.plots.dashboard import TrainingDashboard
from designer.training.controller import FINISHED, TrainingController
from designer.training.panel import TrainingPanel
from designer.training.worker import prepare_run

TABS = ["Curves", "Activations", "Feature maps", "Gradients", "Weights", "Confusion"]


def load_template(name: str, epochs: int) -> nn.Graph:
    data = json.loads((ROOT / "resources" / "templates" / f"{name}.json").read_text())
    graph = nn.Graph.from_dict({k: v for k, v in data.items() if k not in ("format", "version")})
    graph.training = {**graph.training, "epochs": epochs}
    return graph


def plain_run(graph: nn.Graph) -> tuple[float, dict]:
    model, dataset, config = prepare_run(graph, graph.training)
    trainer = nn.Trainer(model, dataset, config)
    start = time.perf_counter()
    trainer.fit()
    return time.perf_counter() - start, model.get_weights()


def gui_run(app: QApplication, graph: nn.Graph, tab: str) -> dict:
    controller = TrainingController(graph=graph)
    window = QWidget()
    row = QHBoxLayout(window)
    panel = TrainingPanel(controller)
    dashboard = TrainingDashboard(controller)
    row.addWidget(panel)
    row.addWidget(dashboard, 1)
    window.resize(1400, 820)
    window.show()
    app.processEvents()
    ticks: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    rotate = QTimer()
    rotate.setInterval(500)
    turn = iter(range(10 ** 6))
    rotate.timeout.connect(lambda: dashboard.show_page(TABS[next(turn) % len(TABS)]))
    if tab != "rotate":
        dashboard.show_page(tab)
    visible: dict[str, float] = {t: 0.0 for t, _ in dashboard.pages}
    shown = {"title": None, "since": 0.0}

    def tab_changed(_index: int = 0) -> None:
        now = time.perf_counter()
        if shown["title"] is not None and "ready" in marks and "end" not in marks:
            visible[shown["title"]] += now - max(shown["since"], marks["ready"])
        shown["title"] = dashboard.tabs.tabText(dashboard.tabs.currentIndex())
        shown["since"] = now

    dashboard.tabs.currentChanged.connect(tab_changed)
    tab_changed()
    marks: dict[str, float] = {}
    controller.run_started.connect(lambda: marks.setdefault("ready", time.perf_counter()))
    controller.finished.connect(lambda _p: marks.setdefault("end", time.perf_counter()))
    draws_before = {t: p.draws for t, p in dashboard.pages}
    timer.start()
    if tab == "rotate":
        dashboard.show_page(TABS[0])
        next(turn)
        rotate.start()
    if not controller.start():
        raise SystemExit(controller.last_message)
    if not controller.wait(30 * 60_000) or controller.state != FINISHED:
        raise SystemExit(f"the GUI run did not finish: {controller.state} "
                         f"{controller.last_message}")
    timer.stop()
    rotate.stop()
    end = marks["end"]
    visible[shown["title"]] += end - max(shown["since"], marks["ready"])
    train_seconds = end - marks["ready"]
    gaps = np.diff(np.array(ticks)) * 1000.0
    lateness = np.maximum(gaps - 10.0, 0.0)
    refresh = {t: (p.draws - draws_before[t]) / visible[t] for t, p in dashboard.pages
               if visible[t] > 0.2}
    result = {"seconds": train_seconds, "lateness": lateness, "refresh": refresh,
              "weights": controller.model.get_weights(),
              "snapshots": len(controller.timeline.entries) / train_seconds}
    controller.shutdown()
    window.close()
    window.deleteLater()
    app.processEvents()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default="digits_cnn")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tab", default="rotate", help="rotate, or one tab title")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    graph = load_template(args.template, args.epochs)
    cfg = graph.training
    print(f"{args.template}: {args.epochs} epochs, batch {cfg.get('batch_size', 32)}, "
          f"data set {cfg.get('dataset')}; {os.cpu_count()} CPUs; visible tab: {args.tab}")
    plain_times, gui, ratios = [], [], []
    plain_run(load_template(args.template, 1))        # warm-up (imports, caches)
    for _ in range(args.repeats):
        # Pairs run back to back, and the ratio is taken per pair: on a shared machine the
        # background load drifts, and a pair sees about the same load.
        seconds, plain_weights = plain_run(graph)
        plain_times.append(seconds)
        g = gui_run(app, graph, args.tab)
        gui.append(g)
        ratios.append(g["seconds"] / seconds)
        same = all(np.array_equal(plain_weights[k], g["weights"][k]) for k in plain_weights)
        print(f"  pair: plain {seconds:6.2f} s   GUI {g['seconds']:6.2f} s   "
              f"ratio {ratios[-1]:5.2f}   same weights: {same}")
    ratio = statistics.median(ratios)
    lateness = np.concatenate([g["lateness"] for g in gui])
    p50, p99, worst = np.percentile(lateness, [50, 99]).tolist() + [float(lateness.max())]
    print(f"plain Trainer        {statistics.median(plain_times):7.2f} s   (median of "
          f"{args.repeats})")
    print(f"GUI controller       {statistics.median(g['seconds'] for g in gui):7.2f} s   "
          f"ratio {ratio:.2f} (median of the pairs' ratios; goal <= 1.15: "
          f"{'met' if ratio <= 1.15 else 'NOT met'})")
    print(f"event-loop delay     p50 {p50:.1f} ms   p99 {p99:.1f} ms   max {worst:.1f} ms   "
          f"(10 ms timer's lateness; goal p99 < 50 ms: {'met' if p99 < 50 else 'NOT met'})")
    # Curves and gradient norms get new data every batch: their redraws are throttled to
    # base.MAX_FPS. The other tabs show snapshots and redraw once per snapshot that arrives
    # (their draw counts here would mostly count tab switches, so they are not printed).
    for title in ("Curves", "Gradients"):
        rates = [g["refresh"][title] for g in gui if title in g["refresh"]]
        if rates:
            rate = statistics.median(rates)
            print(f"refresh {title:<12} {rate:5.1f} per second while visible (new data every "
                  f"batch; goal >= 10: {'met' if rate >= 10 else 'NOT met'})")
    print(f"snapshots            {statistics.median(g['snapshots'] for g in gui):5.1f} per "
          "second reach the GUI (activations, feature maps, weights, boundary, confusion, "
          "health redraw on each)")


if __name__ == "__main__":
    main()
