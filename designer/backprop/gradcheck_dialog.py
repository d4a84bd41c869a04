"""Gradient check from the window: backprop against central differences for one node or
the whole graph, on a small batch, off the GUI thread with progress and cancel; a row per
weight with its relative error and a coloured verdict, and a line per step-like node."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

import nnengine

from .context import ContextError, ToolContext, ToolJob

BATCH = 4
VERDICT_COLORS = {"pass": "#15803d", "warn": "#b45309", "fail": "#dc2626"}
VERDICT_WORDS = {"pass": "pass (< 1e-6)", "warn": "warn (< 1e-4)", "fail": "FAIL"}


class GradientCheckDialog(QDialog):
    def __init__(self, context_provider: Callable[[], ToolContext], node_id: str | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        scope = f"node '{node_id}'" if node_id else "the whole graph"
        self.setWindowTitle(f"Gradient Check: {scope}")
        self.resize(560, 380)
        self.node_id = node_id
        self.report: nnengine.tools.GradientCheck | None = None
        layout = QVBoxLayout(self)
        self.summary = QLabel(f"Comparing backprop with central differences (float64, "
                              f"{BATCH} samples) for {scope}…")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.progress = QProgressBar()
        layout.addWidget(self.progress)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["weight", "checked", "relative error", "verdict"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout.addWidget(self.table, 1)
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        layout.addWidget(self.notes)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.cancel_or_close)
        layout.addWidget(self.buttons)
        self.job: ToolJob | None = None
        try:
            context = context_provider()
        except ContextError as e:
            self._finish_with(f"The gradient check cannot run: {e}.")
            return
        self.summary.setText(self.summary.text() + f"\nWeights: {context.weights_note}.")
        nodes = [node_id] if node_id else None

        def work(progress, cancelled):
            clone, batch = nnengine.probe_batch(context.model, context.dataset, context.config,
                                                size=BATCH)
            return nnengine.gradient_check(clone, batch.xs, batch.targets, batch.loss, nodes,
                                           progress=progress, cancelled=cancelled)

        self.job = ToolJob(work, self)
        self.job.progressed.connect(self._progressed)
        self.job.finished.connect(self.show_report)
        self.job.failed.connect(lambda m: self._finish_with(f"The gradient check failed: {m}."))
        self.job.start()

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setMaximum(total)
        self.progress.setValue(done)

    def cancel_or_close(self) -> None:
        if self.job is not None and self.report is None and not self.job.cancelled:
            self.job.cancel()
            self.summary.setText("Cancelling…")
            return
        self.reject()

    def _finish_with(self, sentence: str) -> None:
        self.summary.setText(sentence)
        self.progress.hide()
        self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Close)

    def show_report(self, report: nnengine.tools.GradientCheck) -> None:
        self.report = report
        self.table.setRowCount(len(report.weights))
        for row, check in enumerate(report.weights):
            cells = [check.key, f"{check.checked} of {check.size}",
                     f"{check.relative_error:.2e}", VERDICT_WORDS[check.verdict]]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 3:
                    item.setForeground(QColor(VERDICT_COLORS[check.verdict]))
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        done = "" if report.complete else " (cancelled: the rows shown were checked)"
        verdict = {"pass": "Backprop agrees with the numerical gradients",
                   "warn": "Backprop mostly agrees; a warning usually means a ReLU or max-pool "
                           "kink was crossed by the nudge",
                   "fail": "Backprop disagrees with the numerical gradients"}[report.verdict]
        if not report.weights:
            verdict = "There are no trainable weights to check here"
        self._finish_with(f"{verdict}{done}.")
        self.notes.setText("\n".join(f"{node}: {why}." for node, why in
                                     report.flat_nodes.items()))
