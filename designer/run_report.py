"""A run report: one self-contained HTML file (pictures inlined) with the graph's picture,
the training settings, the loss and accuracy curves, the test metrics, the confusion matrix
and the run card, to hand to someone who does not have the app (as Neural Network Console
offers). Made from a recorded `Run`; the curves are drawn here as inline SVG."""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

import numpy as np

from nnengine.fileio import write_atomic

from .plots.confusion import confusion_matrix
from .runs.record import Run
from .style import BAD_COLOR, TRAIN_COLOR, VALID_COLOR

CHART_W, CHART_H, PAD = 520, 220, 44

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #1f2937; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #e5e7eb; }
table { border-collapse: collapse; } td, th { padding: 3px 10px; text-align: right; }
th { background: #f3f4f6; } td.l, th.l { text-align: left; }
.muted { color: #6b7280; } img { max-width: 100%; border: 1px solid #e5e7eb; }
pre { background: #f9fafb; padding: 1em; overflow-x: auto; }
"""


def line_chart(series: list[tuple[str, str, np.ndarray, np.ndarray]], title: str) -> str:
    """An inline SVG chart: (name, colour, x, y) per line, axes with the ranges' ends."""
    points = [(x, y) for _, _, x, y in series if len(x)]
    if not points:
        return ""
    xs = np.concatenate([p[0] for p in points])
    ys = np.concatenate([p[1] for p in points])
    ys = ys[np.isfinite(ys)]
    if not len(ys):
        return ""
    x0, x1 = float(xs.min()), float(max(xs.max(), xs.min() + 1))
    y0, y1 = float(min(ys.min(), 0.0)), float(ys.max())
    y1 = y1 if y1 > y0 else y0 + 1

    def sx(v: np.ndarray) -> np.ndarray:
        return PAD + (v - x0) / (x1 - x0) * (CHART_W - 2 * PAD)

    def sy(v: np.ndarray) -> np.ndarray:
        return CHART_H - PAD + (v - y0) / (y1 - y0) * -(CHART_H - 2 * PAD)

    bottom, right = CHART_H - PAD, CHART_W - PAD
    parts = [
        (f"<svg xmlns='http://www.w3.org/2000/svg' width='{CHART_W}' height='{CHART_H}' "
         f"font-size='11'><text x='{CHART_W / 2}' y='16' text-anchor='middle'>"
         f"{html.escape(title)}</text>"),
        f"<line x1='{PAD}' y1='{bottom}' x2='{right}' y2='{bottom}' stroke='#999'/>",
        f"<line x1='{PAD}' y1='{PAD}' x2='{PAD}' y2='{bottom}' stroke='#999'/>",
        f"<text x='{PAD - 4}' y='{bottom}' text-anchor='end'>{y0:.3g}</text>",
        f"<text x='{PAD - 4}' y='{PAD + 4}' text-anchor='end'>{y1:.3g}</text>",
        f"<text x='{PAD}' y='{bottom + 14}'>{x0:g}</text>",
        f"<text x='{right}' y='{bottom + 14}' text-anchor='end'>{x1:g}</text>",
        f"<text x='{CHART_W / 2}' y='{CHART_H - 8}' text-anchor='middle'>epoch</text>"]
    for i, (name, colour, x, y) in enumerate(series):
        ok = np.isfinite(y)
        if not ok.any():
            continue
        pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(sx(x[ok]), sy(y[ok])))
        parts.append(f"<polyline fill='none' stroke='{colour}' stroke-width='1.8' "
                     f"points='{pts}'/>")
        parts.append(f"<text x='{CHART_W - PAD}' y='{PAD + 14 * i}' text-anchor='end' "
                     f"fill='{colour}'>{html.escape(name)}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _table(rows: list[list[str]], header: list[str]) -> str:
    head = "".join(f"<th class='l'>{html.escape(h)}</th>" if i == 0 else
                   f"<th>{html.escape(h)}</th>" for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(f"<td class='l'>{html.escape(c)}</td>" if i == 0 else
                                    f"<td>{html.escape(c)}</td>" for i, c in enumerate(r))
                   + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def run_matrix(run: Run) -> np.ndarray | None:
    """The confusion matrix of the run's last predictions on the test split."""
    d, snap = run.description, run.snapshot
    if d is None or snap is None or snap.test_predictions is None or d.test_labels is None \
            or not d.classification:
        return None
    predicted = np.asarray(snap.test_predictions)
    return confusion_matrix(np.asarray(d.test_labels)[:len(predicted)], predicted,
                            d.num_classes)


def report_html(run: Run, graph_png: bytes = b"") -> str:
    """The whole report as one HTML document."""
    m = run.metrics
    heading = (f"<h1>{html.escape(run.graph.name)}</h1><p class='muted'>Run "
               f"{html.escape(run.name)} · {html.escape(run.date_text())} · "
               f"{html.escape(run.ended_text())} · data set {html.escape(run.dataset)}</p>")
    sections = [heading]
    if graph_png:
        sections.append("<h2>Network</h2><img alt='the network' src='data:image/png;base64,"
                        + base64.b64encode(graph_png).decode("ascii") + "'>")
    test = run.test
    if test:
        sections.append("<h2>Test metrics</h2>" + _table(
            [[k, f"{v:.4g}" if isinstance(v, (int, float)) else str(v)]
             for k, v in test.items()], ["metric", "value"]))
    charts = []
    loss = [(name, colour, *m.epoch_series(key))
            for name, colour, key in (("loss", TRAIN_COLOR, "loss"),
                                      ("validation loss", VALID_COLOR, "val_loss"))]
    charts.append(line_chart(loss, "Loss per epoch"))
    if m.has_accuracy:
        acc = [(name, colour, *m.epoch_series(key))
               for name, colour, key in (("accuracy", TRAIN_COLOR, "accuracy"),
                                         ("validation accuracy", VALID_COLOR, "val_accuracy"))]
        charts.append(line_chart(acc, "Accuracy per epoch"))
    if any(charts):
        sections.append("<h2>Curves</h2>" + "".join(charts))
    matrix = run_matrix(run)
    if matrix is not None:
        d = run.description
        names = [str(n) for n in (d.class_names or range(d.num_classes))]
        rows = [[f"{names[i]}"] + [str(int(v)) for v in row] for i, row in enumerate(matrix)]
        sections.append("<h2>Confusion matrix (test split)</h2><p class='muted'>rows: true "
                        "class, columns: predicted</p>" + _table(rows, ["true \\ predicted",
                                                                        *names]))
    settings = run.card.get("training") or run.graph.training
    sections.append("<h2>Training settings</h2>" + _table(
        [[k, json.dumps(v)] for k, v in settings.items()], ["setting", "value"]))
    if run.note:
        sections.append(f"<p style='color:{BAD_COLOR}'>{html.escape(run.note)}</p>")
    sections.append("<h2>Run card</h2><pre>" + html.escape(json.dumps(_plain(run.card),
                                                                       indent=2)) + "</pre>")
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
            f"{html.escape(run.graph.name)} · run report</title><style>{STYLE}</style>"
            "</head><body>" + "\n".join(sections) + "</body></html>")


def _plain(value: Any) -> Any:
    """JSON-able: NaN and infinity as null (as run cards are written)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def save_report(run: Run, path: str | Path, graph_png: bytes = b"") -> Path:
    path = Path(path)
    write_atomic(path, report_html(run, graph_png).encode("utf-8"))
    return path
