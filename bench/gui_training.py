"""Training in the GUI vs `nnengine train`: event-loop delay, plot refresh rate, slowdown,
snapshots per second and the time from the Train press to the first progress.

    python bench/gui_training.py [--case digits|mnist] [--epochs N] [--repeats 12]
                                 [--layout app|large] [--tab each|rotate|Curves|...]

`--case digits` (the default, 60 epochs) trains the digits CNN template
(resources/templates/digits_cnn.json); `--case mnist` (6 epochs) an MNIST-size case: 5,000
generated 28x28 training images and 10,000 test images of 10 classes (a .npz written to a
temporary folder), through the two-conv CNN of bench/engine_speed.py (16 and 32 filters,
"same" padding, each with ReLU and 2x2 max pooling, then Dense 10 and softmax), batch 64.

Each is trained in the designer's main
window as it first opens (offscreen Qt; `--layout large` shows only the training panel and
the plots, filling 1400x820, so the plots are about twice as large), and the same graph the
way `nnengine train` does, in a fresh process as a user runs it (the same `prepare_run`, the
engine's Trainer with the command line's progress bar, then the test evaluation; only the
file writing is left out),
alternating the two `--repeats` times; the visible plot's redraws and the snapshots are
counted while new batches arrive (from the first batch's arrival to the last's: not the
final test evaluation, when there is nothing new to draw). By default
each GUI run shows one tab for the whole run, the next run the next tab, so every kind of
plot is watched in turn (`--tab rotate` switches tabs every 500 ms instead: a harder case,
as each switch lays out and paints a whole page). A third run per pair, in the GUI again,
measures how late a 10 ms timer fires (the event loop's delay), and starts its training
process cold (the speed runs use a warm one, as the app keeps one waiting from start-up).

Two slowdowns are printed, each the median of the pairs' ratios:
- training speed (the goal): the time from the end of the first epoch to the end of the
  last, taken from the batches' own timestamps (time.monotonic, one clock for every process)
  on both sides, so it counts everything that runs while training (snapshots, the window's
  share of the machine) and nothing the window's reading latency adds;
- end to end: from pressing Train to the "finished" signal, against `nnengine train`'s work
  from compiling the graph to the test metrics (start-up and the final evaluation are
  fixed costs of well under a second, so short runs pay them more).
Goals (issue 12): training at most 1.05x `nnengine train`; event-loop delay p99 < 20 ms;
the visible Curves plot redrawn >= 25 times a second; snapshots >= 5 a second (digits) or
>= 2 (mnist); progress within 1 s of pressing Train.
"""
from __future__ import annotations

import argparse
import gc
import io
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest.mock import patch

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np
from PySide6.QtCore import QEvent, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QHBoxLayout, QMessageBox, QWidget

import nnengine as nn
from designer.app import configure
from designer.main_window import MainWindow
from designer.plots.dashboard import TrainingDashboard
from designer.training.controller import TrainingController
from designer.training.panel import TrainingPanel
from designer.training.run_setup import prepare_run
from designer.training.states import TrainingState
from nnengine.cli_progress import ProgressBar

TABS = ["Curves", "Activations", "Feature maps", "Gradients", "Weights", "Confusion"]


def load_template(name: str, epochs: int) -> nn.Graph:
    data = json.loads((ROOT / "resources" / "templates" / f"{name}.json").read_text())
    graph = nn.Graph.from_dict({k: v for k, v in data.items() if k not in ("format", "version")})
    graph.training = {**graph.training, "epochs": epochs}
    return graph


def mnist_size_graph(folder: Path, epochs: int) -> nn.Graph:
    """The MNIST-size case: generated 28x28 images of 10 classes (each class a fixed random
    pattern under noise, so the network has something to learn) in `folder`/mnist_size.npz,
    and the CNN of bench/engine_speed.py."""
    rng = np.random.default_rng(0)
    patterns = rng.random((10, 1, 28, 28), dtype=np.float32)

    def images(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 10, n)
        x = 0.5 * patterns[y] + 0.5 * rng.random((n, 1, 28, 28), dtype=np.float32)
        return x.astype(np.float32), y

    x, y = images(5000)
    x_test, y_test = images(10_000)
    path = folder / "mnist_size.npz"
    np.savez(path, x=x, y=y, x_test=x_test, y_test=y_test)
    g = nn.Graph("MNIST-size CNN", {"dataset": str(path), "loss": "cross_entropy",
                                    "optimizer": {"type": "adam", "learning_rate": 0.001},
                                    "batch_size": 64, "epochs": epochs,
                                    "validation_split": 0.1, "seed": 0})
    layers = [("input", "Input", {"shape": [1, 28, 28]}),
              ("conv1", "Conv2D", {"filters": 16, "padding": "same"}),
              ("relu1", "Activation", {"function": "relu"}), ("pool1", "MaxPool2D", {}),
              ("conv2", "Conv2D", {"filters": 32, "padding": "same"}),
              ("relu2", "Activation", {"function": "relu"}), ("pool2", "MaxPool2D", {}),
              ("flat", "Flatten", {}), ("dense", "Dense", {"units": 10}),
              ("out", "Activation", {"function": "softmax"})]
    for node_id, type_name, params in layers:
        g.add_node(node_id, type_name, params)
    for (a, _, _), (b, _, _) in itertools.pairwise(layers):
        g.add_edge(a, b)
    return g


def steady_span(batch_ends: list[tuple[int, float]]) -> float:
    """Seconds from the last batch of epoch 1 to the last batch of the run, from
    (epoch, time.monotonic() at the batch's end) pairs."""
    first = max(t for e, t in batch_ends if e == 1)
    return max(t for _, t in batch_ends) - first


class BatchClock(nn.Callback):
    """Each batch's end on the training thread, as the GUI's Recorder stamps it."""

    def __init__(self) -> None:
        self.ends: list[tuple[int, float]] = []

    def on_batch_end(self, trainer: nn.Trainer, epoch: int, batch: int, logs: dict) -> None:
        self.ends.append((epoch, time.monotonic()))


def plain_run(graph: nn.Graph) -> dict:
    """What `nnengine train` does between reading the graph and writing its files, in a
    fresh process of its own, as a user runs it (this one holds Qt and every window the
    bench has opened): see `plain_main`."""
    with tempfile.TemporaryDirectory() as folder:
        graph_path, out = Path(folder) / "graph.json", Path(folder) / "run.npz"
        nn.save_graph(graph, graph_path)
        subprocess.run([sys.executable, __file__, "--plain", str(graph_path), str(out)],
                       check=True)
        with np.load(out) as saved:
            weights = {k[2:]: saved[k] for k in saved.files if k.startswith("w/")}
            return {"seconds": float(saved["seconds"]), "steady": float(saved["steady"]),
                    "weights": weights}


def plain_main(graph_path: str, out: str) -> None:
    """The child side of `plain_run`: the same `prepare_run`, the engine's Trainer with the
    command line's progress bar, then the test evaluation; times and weights to `out`."""
    graph = nn.load_graph(graph_path)
    start = time.perf_counter()
    model, dataset, config = prepare_run(graph, graph.training)
    clock = BatchClock()
    trainer = nn.Trainer(model, dataset, config, [ProgressBar(io.StringIO()), clock])
    trainer.fit()
    trainer.evaluate_test()
    seconds = time.perf_counter() - start
    np.savez(out, seconds=seconds, steady=steady_span(clock.ends),
             **{f"w/{k}": v for k, v in model.get_weights().items()})


def build_gui(graph: nn.Graph, layout: str, folder: Path
              ) -> tuple[QWidget, TrainingController, TrainingDashboard]:
    """"app": the main window as it first opens (the plots dock a third of 1440x900);
    "large": only the training panel and the plots, filling 1400x820."""
    if layout == "app":
        settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings, recovery_dir=folder / "recovery")
        window.document.new(graph)
        window.show()
        return window, window.training, window.dashboard
    controller = TrainingController(graph=graph)
    window = QWidget()
    row = QHBoxLayout(window)
    dashboard = TrainingDashboard(controller)
    row.addWidget(TrainingPanel(controller))
    row.addWidget(dashboard, 1)
    window.resize(1400, 820)
    window.show()
    return window, controller, dashboard


def gui_run(app: QApplication, graph: nn.Graph, tab: str, probe: bool, layout: str) -> dict:
    """One run in the GUI; with `probe`, a 10 ms timer measures the event loop's delay (and
    the training process starts cold; otherwise a warm one waits for the Train press)."""
    with tempfile.TemporaryDirectory() as folder:
        return gui_run_in(app, graph, tab, probe, layout, Path(folder))


def gui_run_in(app: QApplication, graph: nn.Graph, tab: str, probe: bool, layout: str,
               folder: Path) -> dict:
    window, controller, dashboard = build_gui(graph, layout, folder)
    app.processEvents()
    if not probe:
        controller.warm_up()
        while not controller._spare.heard:   # its imports done, as a while after start-up
            controller._spare.receive()
            app.processEvents()
            time.sleep(0.01)
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
        # Feature maps and Confusion are hidden until a run says they apply (Qt then shows
        # Curves): they come to the front once the run has started, as a person clicks them.
        controller.run_started.connect(lambda: dashboard.show_page(tab))
    shown: list[tuple[str, float]] = []   # (tab title, when it came to the front)

    def tab_changed(_index: int = 0) -> None:
        shown.append((dashboard.tabs.tabText(dashboard.tabs.currentIndex()),
                      time.perf_counter()))

    dashboard.tabs.currentChanged.connect(tab_changed)
    tab_changed()
    drawn: dict[str, list[float]] = {t: [] for t, _ in dashboard.pages}
    for title, page in dashboard.pages:
        def counted(title=title, draw=page.refresh) -> None:
            drawn[title].append(time.perf_counter())
            draw()
        page.refresh = counted
    marks: dict[str, float] = {}
    controller.finished.connect(lambda _p: marks.setdefault("end", time.perf_counter()))
    controller.metrics_changed.connect(lambda _m: marks.setdefault("first", time.perf_counter()))
    snapshots: list[float] = []
    controller.snapshot_changed.connect(lambda _s: snapshots.append(time.perf_counter()))
    ends: list[tuple[int, float]] = []
    add = controller.speed.add

    arrivals: list[float] = []

    def tapped(table) -> None:   # each batch's end, as the training process stamps it
        ends.extend(zip(table.epoch.tolist(), table.seconds.tolist()))
        arrivals.append(time.perf_counter())
        add(table)

    controller.speed.add = tapped
    if probe:
        timer.start()
    if tab == "rotate":
        dashboard.show_page(TABS[0])
        next(turn)
        rotate.start()
    marks["click"] = time.perf_counter()
    if not controller.start():
        raise SystemExit(controller.last_message)
    if not controller.wait(30 * 60_000) or controller.state != TrainingState.FINISHED:
        raise SystemExit(f"the GUI run did not finish: {controller.state} "
                         f"{controller.last_message}")
    timer.stop()
    rotate.stop()
    end = marks["end"]
    gaps = np.diff(np.array(ticks)) * 1000.0 if len(ticks) > 1 else np.zeros(0)
    lateness = np.maximum(gaps - 10.0, 0.0)
    span = (arrivals[0], arrivals[-1])   # while new batches arrive (not the final test)
    refresh = refresh_rates(shown, drawn, span)
    result = {"seconds": end - marks["click"], "steady": steady_span(ends),
              "lateness": lateness, "refresh": refresh,
              "weights": controller.current_weights(),
              "first": marks["first"] - marks["click"],
              "snapshots": sum(span[0] <= t <= span[1] for t in snapshots) / (span[1] - span[0]),
              "arrivals": (len(arrivals) - 1) / (span[1] - span[0])}
    controller.shutdown()
    if layout == "app":   # answer "Discard" to the question about unsaved changes and runs
        with patch.object(QMessageBox, "question",
                          return_value=QMessageBox.StandardButton.Discard):
            window.close()
    else:
        window.close()
    window.deleteLater()
    # Deleted now, not at the end of the bench (processEvents leaves deferred deletions to
    # the event loop, which this script never returns to): otherwise every earlier run's
    # window, its plots and its data (an MNIST-size run's 31 MB of test images) stay
    # alive, and the window process under test grows from pair to pair.
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    return result


def refresh_rates(shown: list[tuple[str, float]], drawn: dict[str, list[float]],
                  span: tuple[float, float]) -> dict[str, float]:
    """Redraws a second of each tab while it was in front and new batches arrived: from the
    tab switches (title, time), each tab's draw times and the span of the batches' arrival."""
    seconds: dict[str, float] = {}
    draws: dict[str, int] = {}
    ends = [t for _, t in shown[1:]] + [span[1]]
    for (title, since), until in zip(shown, ends):
        start, stop = max(since, span[0]), min(until, span[1])
        if stop > start:
            seconds[title] = seconds.get(title, 0.0) + stop - start
            draws[title] = draws.get(title, 0) + sum(start <= t < stop for t in drawn[title])
    return {t: draws[t] / s for t, s in seconds.items() if s > 0.2}


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    if sys.argv[1:2] == ["--plain"]:
        plain_main(*sys.argv[2:4])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="digits", choices=["digits", "mnist"])
    parser.add_argument("--epochs", type=int, default=None,
                        help="default: 60 for digits, 6 for mnist")
    parser.add_argument("--repeats", type=int, default=12)
    parser.add_argument("--layout", default="app", choices=["app", "large"],
                        help="app: the main window as it first opens; large: the panel and "
                             "the plots alone, filling 1400x820")
    parser.add_argument("--tab", default="each",
                        help="each (one tab per run, in turn), rotate (every 500 ms), or a "
                             "tab's title")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    configure(app)   # the app's style, as `nn-designer` sets it
    with tempfile.TemporaryDirectory() as data_folder:
        if args.case == "mnist":
            epochs = args.epochs or 6
            graph = mnist_size_graph(Path(data_folder), epochs)
            warm = mnist_size_graph(Path(data_folder), 1)
        else:
            epochs = args.epochs or 60
            graph = load_template("digits_cnn", epochs)
            warm = load_template("digits_cnn", 1)
        bench(app, args, graph, warm, epochs)


def tabs_for(choice: str) -> list[str]:
    return TABS if choice == "each" else [choice]


def bench(app: QApplication, args: argparse.Namespace, graph: nn.Graph, warm: nn.Graph,
          epochs: int) -> None:
    cfg = graph.training
    print(f"{args.case}: {epochs} epochs, batch {cfg.get('batch_size', 32)}, data set "
          f"{Path(str(cfg.get('dataset'))).name}; {os.cpu_count()} CPUs; visible tab: "
          f"{args.tab}; layout: {args.layout}; load average {os.getloadavg()[0]:.1f}")
    plain, gui, probed, speed, whole = [], [], [], [], []
    plain_run(warm)        # warm-up (imports, caches)
    # and the window process's: its first run pays one-off costs (Qt's and pyqtgraph's
    # first paints, font caches) that later runs and a user's second run do not
    gui_run(app, warm, tabs_for(args.tab)[0], probe=False, layout=args.layout)
    tabs = tabs_for(args.tab)
    by_tab: dict[str, list[float]] = {}
    for i in range(args.repeats):
        # Pairs run back to back, and the ratio is taken per pair: on a shared machine the
        # background load drifts, and a pair sees about the same load.
        tab = tabs[i % len(tabs)]
        p = plain_run(graph)
        g = gui_run(app, graph, tab, probe=False, layout=args.layout)
        plain.append(p)
        gui.append(g)
        probed.append(gui_run(app, graph, tab, probe=True, layout=args.layout))
        speed.append(g["steady"] / p["steady"])
        by_tab.setdefault(tab, []).append(speed[-1])
        whole.append(g["seconds"] / p["seconds"])
        same = all(np.array_equal(p["weights"][k], g["weights"][k]) for k in p["weights"])
        print(f"  pair ({tab}): training nnengine {p['steady']:5.2f} s  GUI {g['steady']:5.2f} s"
              f"  ratio {speed[-1]:4.2f}   end to end {p['seconds']:5.2f} s / "
              f"{g['seconds']:5.2f} s  ratio {whole[-1]:4.2f}   snapshots "
              f"{g['snapshots']:.1f}/s   same weights: {same}   load {os.getloadavg()[0]:.1f}")
    if len(by_tab) > 1:
        print("training speed by visible tab, GUI/CLI: " + ", ".join(
            f"{t} {statistics.median(r):.2f}" for t, r in by_tab.items()))
    ratio = statistics.median(speed)
    cli_steady = statistics.median(p["steady"] for p in plain)
    gui_steady = statistics.median(g["steady"] for g in gui)
    print(f"training speed       nnengine train {cli_steady:.2f} s, GUI {gui_steady:.2f} s for "
          f"epochs 2-{epochs}: GUI/CLI {ratio:.2f} (median of {args.repeats} pairs; "
          f"goal <= 1.05: {verdict(ratio <= 1.05)})")
    cli_whole = statistics.median(p["seconds"] for p in plain)
    gui_whole = statistics.median(g["seconds"] for g in gui)
    print(f"end to end           nnengine train {cli_whole:.2f} s, GUI (Train pressed to "
          f"finished) {gui_whole:.2f} s: GUI/CLI {statistics.median(whole):.2f}")
    warm_first = statistics.median(g["first"] for g in gui)
    cold_first = statistics.median(g["first"] for g in probed)
    print(f"first progress       {warm_first:.2f} s after Train with a warm training process "
          f"(goal <= 1 s: {verdict(warm_first <= 1.0)}), {cold_first:.2f} s with a cold one")
    lateness = np.concatenate([g["lateness"] for g in probed])
    p50, p99, worst = np.percentile(lateness, [50, 99]).tolist() + [float(lateness.max())]
    print(f"event-loop delay     p50 {p50:.1f} ms   p99 {p99:.1f} ms   max {worst:.1f} ms   "
          f"(10 ms timer's lateness, in a third run per pair; goal p99 < 20 ms: "
          f"{verdict(p99 < 20)})")
    # Curves and gradient norms get new data every batch: their redraws are throttled to
    # live_plot.MAX_FPS and the controller's 30 Hz. The other tabs show snapshots and redraw
    # once per snapshot that arrives (their draw counts would mostly count tab switches).
    # New batches reach the window in messages (about 30 a second, fewer when batches are
    # slower than that): a plot cannot be redrawn more often than new data arrives.
    arrived = statistics.median(g["arrivals"] for g in gui + probed)
    goal = min(25.0, 0.9 * arrived)
    for title in ("Curves", "Gradients"):
        rates = [g["refresh"][title] for g in gui + probed if title in g["refresh"]]
        if rates:
            rate = statistics.median(rates)
            print(f"refresh {title:<12} {rate:5.1f} per second while visible (new batches "
                  f"arrived {arrived:.1f} times a second; goal >= {goal:.1f}, i.e. 25 or "
                  f"90% of the arrivals: {verdict(rate >= goal)})")
    snaps = statistics.median(g["snapshots"] for g in gui)
    goal = 2 if args.case == "mnist" else 5
    print(f"snapshots            {snaps:5.1f} per second reach the GUI (activations, feature "
          f"maps, weights, boundary, confusion, health redraw on each; goal >= {goal}: "
          f"{verdict(snaps >= goal)})")


if __name__ == "__main__":
    main()
