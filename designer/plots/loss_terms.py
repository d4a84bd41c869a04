"""Loss terms: for a network whose layers add to the loss (Sampling's KL divergence,
ActivityRegularization's penalty), the data loss and each added term as curves of their own,
train and validation per epoch, on one log axis."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from .legend import title_legend
from .live_plot import LivePlot
from .pyqtgraph_setup import color, make_plot, set_title


def term_keys(epochs: list[dict], terms: list[str]) -> list[str]:
    """The data loss (under the loss's name) and each added term (`terms`, the names layers
    give them) present in the epoch logs, in the order the logs first hold them."""
    keys: list[str] = []
    for e in epochs:
        if not any(t in e for t in terms):
            continue
        for k in e:
            if k in ("epoch", "loss", "accuracy", "seconds", "batch_size") or \
                    k.startswith("val_") or k in keys:
                continue
            keys.append(k)
    return keys


class LossTermsPlot(LivePlot):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = make_plot("Loss terms", "value per epoch (log)", "epoch")
        self.plot.getPlotItem().setLogMode(y=True)
        self.body.addWidget(self.plot, 1)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.message("Loss terms are drawn for networks whose layers add to the loss: "
                     "Sampling (the KL term of a variational autoencoder) and "
                     "ActivityRegularization (a sparsity penalty).")

    def reset(self) -> None:
        for item in self.curves.values():
            self.plot.removeItem(item)
        self.curves = {}

    def _curve(self, key: str, index: int, validation: bool) -> pg.PlotDataItem:
        name = f"val_{key}" if validation else key
        if name not in self.curves:
            pen = pg.mkPen(color(index), width=2,
                           style=pg.QtCore.Qt.PenStyle.DashLine if validation else
                           pg.QtCore.Qt.PenStyle.SolidLine)
            self.curves[name] = self.plot.plot([], [], pen=pen, symbol="o", symbolSize=4,
                                               symbolBrush=color(index), symbolPen=None)
        return self.curves[name]

    def draw(self) -> None:
        m = self.context.metrics
        keys = term_keys(m.epochs, self.context.loss_terms) if m is not None else []
        if not keys:
            if m is not None and m.epochs:
                self.message("This network adds nothing to its loss: no Sampling or "
                             "ActivityRegularization node.")
            else:
                self.message("Press Train: the data loss and each term a layer adds to it "
                              "(kl, activity) appear here, one curve each, per epoch.")
            return
        self.show_plot()
        for i, key in enumerate(keys):
            for validation in (False, True):
                x, y = m.epoch_series(f"val_{key}" if validation else key)
                positive = y > 0
                self._curve(key, i, validation).setData(x[positive], y[positive])
        legend = [(k, color(i)) for i, k in enumerate(keys)]
        set_title(self.plot.getPlotItem(), title_legend(
            "Loss terms (solid: training, dashed: validation)", legend))

