"""Gradient check from the window: backprop against central differences for one node or
the whole graph, on a small batch, off the GUI thread with progress and cancel; a row per
weight with its relative error and a coloured verdict, and a line per step-like node."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QWidget

import nnengine

from .context import ToolContext
from .tool_dialog import ToolDialog

BATCH = 4
VERDICT_COLORS = {"pass": "#15803d", "warn": "#b45309", "fail": "#dc2626"}
VERDICT_WORDS = {"pass": "pass (< 1e-6)", "warn": "warn (< 1e-4)", "fail": "FAIL"}
VERDICT_SENTENCES = {
    "pass": "Backprop agrees with the numerical gradients",
    "warn": "Backprop mostly agrees; a warning usually means a ReLU or max-pool kink was "
            "crossed by the nudge",
    "fail": "Backprop disagrees with the numerical gradients"}


class GradientCheckDialog(ToolDialog):
    noun = "the gradient check"

    def __init__(self, context_provider: Callable[[], ToolContext], node_id: str | None = None,
                 parent: QWidget | None = None):
        scope = f"node '{node_id}'" if node_id else "the whole graph"
        super().__init__(f"Gradient Check: {scope}", "Comparing backprop with central "
                         f"differences (float64, {BATCH} samples) for {scope}.", parent)
        self.resize(560, 380)
        self.node_id = node_id
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["weight", "checked", "relative error", "verdict"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.body.addWidget(self.table, 1)
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.body.addWidget(self.notes)
        self.start(context_provider)

    @property
    def report(self) -> nnengine.tools.GradientCheck | None:
        return self.result

    def work(self, context, progress, cancelled):
        clone, batch = nnengine.probe_batch(context.model, context.dataset, context.config,
                                            size=BATCH)
        nodes = [self.node_id] if self.node_id else None
        return nnengine.gradient_check(clone, batch.xs, batch.targets, batch.loss, nodes,
                                       progress=progress, cancelled=cancelled)

    def show_result(self, report: nnengine.tools.GradientCheck) -> None:
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
        verdict = VERDICT_SENTENCES[report.verdict] if report.weights else \
            "There are no trainable weights to check here"
        self.finish_with(f"{verdict}{done}.")
        self.notes.setText("\n".join(f"{node}: {why}." for node, why in
                                     report.flat_nodes.items()))
