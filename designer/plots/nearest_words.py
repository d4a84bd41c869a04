"""Nearest words: for any Embedding node of a run on a word-vector data set, type or pick a
word and see the words whose vectors are closest to it by cosine similarity, as bars,
updated live while training runs. Click a bar to look up that word."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCompleter, QHBoxLayout, QLabel, QLineEdit, QWidget

from nnengine.datasets.words import RELATED
from nnengine.word_vectors import PAD, nearest_words

from ..style import PLOT_MUTED, TRAIN_COLOR, VALID_COLOR
from .live_plot import LivePlot, NodePicker, choose_node
from .pyqtgraph_setup import make_plot, set_title
from .run_context import trained_for

SHOWN = 10   # neighbours drawn


def _is_embedding(ctx, node_id: str) -> bool:
    return node_id in ctx.embeddings


class NearestWordsPlot(LivePlot):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.picker = NodePicker(self, _is_embedding, "Embedding:")
        self.word = QLineEdit()
        self.word.setPlaceholderText("type a word")
        self.word.setClearButtonEnabled(True)
        self.word.setMaximumWidth(220)
        self.word.returnPressed.connect(self.request)
        self.word.textChanged.connect(self._typed)
        self.note = QLabel()
        self.note.setStyleSheet(f"color: {PLOT_MUTED};")
        row = QHBoxLayout()
        row.addWidget(self.picker)
        row.addWidget(QLabel("Word:"))
        row.addWidget(self.word)
        row.addWidget(self.note, 1)
        self.body.addLayout(row)
        self.plot = make_plot("Nearest words", "", "cosine similarity")
        item = self.plot.getPlotItem()
        item.showGrid(x=True, y=False, alpha=0.25)
        item.getAxis("left").setStyle(tickLength=0)
        item.getViewBox().invertY(True)
        item.setXRange(-1.0, 1.0, padding=0.02)
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.72, width=[],
                                    brush=TRAIN_COLOR, pen=None)
        self.plot.addItem(self.bars)
        self.values = [pg.TextItem(color=PLOT_MUTED, anchor=(0, 0.5)) for _ in range(SHOWN)]
        for label in self.values:
            self.plot.addItem(label)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.body.addWidget(self.plot, 1)
        self.shown: list[tuple[str, float]] = []
        self.message("Nearest words are shown for Embedding nodes trained on a word-vector "
                     "data set (skipgram, cbow).")

    # --- input -----------------------------------------------------------------------------
    def reset(self) -> None:
        self.picker.fill()
        vocab = self.context.vocabulary or []
        words = [w for w in vocab if w != PAD]
        completer = QCompleter(words, self.word)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.word.setCompleter(completer)
        if words and self.word.text().strip().lower() not in words:
            start = next((a for a, _ in RELATED if a in words), words[0])
            self.word.blockSignals(True)
            self.word.setText(start)
            self.word.blockSignals(False)

    def _typed(self, text: str) -> None:
        if text.strip().lower() in (self.context.vocabulary or []):
            self.request()

    def look_up(self, word: str) -> None:
        """Show `word`'s neighbours (what typing it and pressing Enter does)."""
        self.word.setText(word)
        self.request()

    def _clicked(self, event) -> None:
        if not self.shown:
            return
        pos = self.plot.getPlotItem().getViewBox().mapSceneToView(event.scenePos())
        row = round(pos.y())
        if 0 <= row < len(self.shown):
            self.look_up(self.shown[row][0])

    # --- drawing ---------------------------------------------------------------------------
    def draw(self) -> None:
        ctx, snap = self.context, self.snapshot
        if not ctx.embeddings:
            self.message("Nearest words are shown for Embedding nodes trained on a "
                         "word-vector data set (skipgram, cbow); this run has none.")
            return
        node = choose_node(self, self.picker)
        self.picker.sync()
        vectors = None if snap is None else snap.extras.get(f"vectors/{node}")
        if vectors is None:
            self.message("Press Train, then type a word: its nearest words by cosine "
                         "similarity appear here and change as the vectors learn.")
            return
        self.show_plot()
        word = self.word.text().strip().lower()
        if word not in ctx.vocabulary or word == PAD:
            self.note.setText(f"'{word}' is not in the vocabulary ({len(ctx.vocabulary)} "
                              "words)" if word else "")
            self._bars([])
            return
        self.shown = nearest_words(vectors, ctx.vocabulary, word, SHOWN)
        self._bars(self.shown)
        when = trained_for(snap)
        self.note.setText(f"{len(ctx.vocabulary)} words, {vectors.shape[1]} numbers each"
                          + (f" · {when}" if when else "") + " · click a word to look it up")
        set_title(self.plot.getPlotItem(), f"Nearest words to “{word}” in {node}")

    def _bars(self, shown: list[tuple[str, float]]) -> None:
        sims = np.array([s for _, s in shown], dtype=float)
        self.bars.setOpts(x0=np.zeros(len(sims)), y=np.arange(len(sims)), width=sims,
                          brushes=[pg.mkBrush(TRAIN_COLOR if s >= 0 else VALID_COLOR)
                                   for s in sims])
        for i, label in enumerate(self.values):
            label.setVisible(i < len(sims))
            if i < len(sims):
                label.setText(f"{sims[i]:.2f}")
                label.setPos(max(sims[i], 0.0) + 0.01, i)
        axis = self.plot.getPlotItem().getAxis("left")
        axis.setTicks([[(i, w) for i, (w, _) in enumerate(shown)]])
        self.plot.getPlotItem().setYRange(-0.6, max(len(shown), SHOWN) - 0.4, padding=0)
