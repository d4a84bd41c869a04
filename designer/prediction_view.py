"""Train ▸ Predict the Chosen Sample: a window with the sample (as an image, or its values),
the predicted class and every class's probability as a bar, or the output values of a
regression, beside the true answer."""
from __future__ import annotations

import html
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .plots.images import as_image, image_shape_for
from .plots.pyqtgraph_setup import image_view, make_plot
from .style import BAD_COLOR, GOOD_COLOR, PLOT_MUTED, TRAIN_COLOR

MAX_VALUES_SHOWN = 12   # a sample that is not an image: its first values, as text


def class_probabilities(output: np.ndarray) -> np.ndarray | None:
    """The output as one probability per class, or None when it is not probabilities: a
    softmax row (non-negative, summing to 1), or one sigmoid unit p (classes 0 and 1)."""
    out = np.asarray(output, dtype=np.float64).ravel()
    if out.size == 1 and 0.0 <= out[0] <= 1.0:
        return np.array([1.0 - out[0], out[0]])
    if out.size > 1 and np.all(out >= 0) and abs(out.sum() - 1.0) < 1e-3:
        return out
    return None


class PredictionView(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Prediction")
        self.heading = QLabel()
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.heading.setWordWrap(True)
        self.image_widget, self.image_box, self.image = image_view(title="Sample")
        self.image.setColorMap(pg.colormap.get("CET-L1"))
        self.image_widget.setFixedWidth(220)
        self.values = QLabel()
        self.values.setWordWrap(True)
        self.values.setStyleSheet(f"color: {PLOT_MUTED};")
        self.bars_plot = make_plot("", "", "")
        self.bars_plot.setMinimumSize(320, 220)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7)
        self.bars_plot.addItem(self.bars)
        row = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(self.image_widget)
        left.addWidget(self.values)
        left.addStretch(1)
        row.addLayout(left)
        row.addWidget(self.bars_plot, 1)
        col = QVBoxLayout(self)
        col.addWidget(self.heading)
        col.addLayout(row, 1)
        self.resize(640, 360)

    def show_result(self, split: str, index: int, result: dict[str, Any],
                    class_names: list[str], input_shape: tuple[int, ...]) -> None:
        """`result` as `TrainingController.predict` gives it."""
        self._show_sample(np.asarray(result["input"]), input_shape)
        output = np.asarray(result["output"], dtype=np.float64).ravel()
        probs = class_probabilities(output) if "predicted" in result else None
        item = self.bars_plot.getPlotItem()
        where = f"{split} sample #{index}"
        if "predicted" in result:
            names = [str(n) for n in class_names] or [str(i) for i in range(len(output))]
            predicted, label = int(result["predicted"]), int(result["label"])
            right = predicted == label
            self.heading.setText(
                f"<b>{html.escape(where)}</b>: predicted <b>{html.escape(names[predicted])}"
                f"</b>, true class <b>{html.escape(names[label])}</b> — <span style='color:"
                f"{GOOD_COLOR if right else BAD_COLOR}'>{'right' if right else 'wrong'}</span>")
            heights = probs if probs is not None else output
            brushes = [pg.mkBrush(GOOD_COLOR if i == label else
                                  BAD_COLOR if i == predicted else TRAIN_COLOR)
                       for i in range(len(heights))]
            item.setTitle("Probability of each class" if probs is not None
                          else "Output of each class (not probabilities)", size="10pt")
            item.getAxis("bottom").setTicks([[(i, names[i] if i < len(names) else str(i))
                                              for i in range(len(heights))]])
            if probs is not None:
                item.setYRange(0, 1, padding=0.02)
        else:
            target = np.asarray(result["target"], dtype=np.float64).ravel()
            self.heading.setText(
                f"<b>{html.escape(where)}</b>: output {_values(output)}, target "
                f"{_values(target)}")
            heights = output
            brushes = [pg.mkBrush(TRAIN_COLOR)] * len(heights)
            item.setTitle("Output values", size="10pt")
            item.getAxis("bottom").setTicks([[(i, str(i)) for i in range(len(heights))]])
            item.enableAutoRange(axis="y")
        self.bars.setOpts(x=np.arange(len(heights)), height=np.asarray(heights),
                          width=0.7, brushes=brushes)
        item.setXRange(-0.6, len(heights) - 0.4, padding=0)

    def _show_sample(self, sample: np.ndarray, input_shape: tuple[int, ...]) -> None:
        shape = image_shape_for(tuple(input_shape))
        self.image_widget.setVisible(shape is not None)
        if shape is not None:
            img = as_image(sample, shape)
            if img.ndim == 3:
                lo, hi = float(img.min()), float(img.max())
                img = (img - lo) / (hi - lo + 1e-9)
            self.image.setImage(img, autoLevels=False,
                                levels=(float(np.min(img)), float(np.max(img)) + 1e-9))
            self.image_box.autoRange(padding=0.02)
            self.values.setText("")
        else:
            self.values.setText("Sample: " + _values(sample.ravel()))


def _values(a: np.ndarray) -> str:
    shown = ", ".join(f"{v:.4g}" for v in a[:MAX_VALUES_SHOWN])
    return f"[{shown}{', …' if a.size > MAX_VALUES_SHOWN else ''}]"
