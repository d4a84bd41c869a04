"""Project files: what keeping runs costs on disk and in time.

    QT_QPA_PLATFORM=offscreen python bench/project_files.py [--runs 3] [--epochs 10]

Trains the digits CNN template RUNS times through the real window (seeds 0, 1, ...), then
saves the project, opens it again and shows a run, and prints: the file's size, each
member kind's share, the largest snapshots.npz against the 16 MiB budget, and the median
seconds of save, open (read off the GUI thread, then applied) and showing a reopened run.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

import nnengine as nn
from nnengine.project import SNAPSHOT_BUDGET


def median_seconds(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(["bench"])
    from designer.main_window import MainWindow

    tmp = Path(tempfile.mkdtemp())
    window = MainWindow(QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat), tmp / "d")
    data = json.loads((ROOT / "resources" / "templates" / "digits_cnn.json").read_text())
    graph = nn.Graph.from_dict({k: v for k, v in data.items() if k not in ("format", "version")})
    graph.training = {**graph.training, "epochs": args.epochs}
    window.files.new(graph)
    for seed in range(args.runs):
        window.document.set_training({**window.document.graph.training, "seed": seed})
        window.training.start()
        window.training.wait(3_600_000)
        app.processEvents()
    runs = window.runs
    project = runs.window.files.projects
    path = tmp / "digits.zip"
    save = median_seconds(lambda: project.save(path, keep_runs=True))
    read = median_seconds(lambda: project.read(path))
    found = project.read(path)
    project.apply(path, found)
    first = runs.store.runs[0].id
    show = median_seconds(lambda: (runs.store.show(None), runs.show(first)))
    with zipfile.ZipFile(path) as z:
        sizes: dict[str, int] = {}
        for info in z.infolist():
            kind = info.filename.rsplit("/", 1)[-1]
            sizes[kind] = sizes.get(kind, 0) + info.compress_size
        snapshots = max((i.file_size for i in z.infolist()
                         if i.filename.endswith("snapshots.npz")), default=0)
    total = path.stat().st_size
    print(f"{args.runs} runs of the digits CNN, {args.epochs} epochs each: "
          f"{total / 2**20:.2f} MiB on disk")
    for kind, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        print(f"  {kind:<15} {size / 2**20:7.2f} MiB ({size / total:.0%})")
    print(f"largest snapshots.npz: {snapshots / 2**20:.2f} MiB uncompressed "
          f"(budget {SNAPSHOT_BUDGET / 2**20:.0f} MiB)")
    print(f"save {save:.2f} s, read {read:.2f} s, show a reopened run {show:.2f} s "
          f"(medians of 3)")
    runs.store.mark_saved()
    window.document.undo_stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
