"""The Analyze window: the layer table of `nnengine.layer_table` for the open graph, kept up
to date while it is open, with "Copy as Text" and "Save CSV…"."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nnengine.fileio import write_atomic
from nnengine.layer_table import (
    COLUMNS,
    LayerTable,
    display_rows,
    layer_table,
    table_csv,
    table_text,
)

from .document import GraphDocument

NUMERIC_FROM = 3   # parameters, multiply-adds and memory are right-aligned


class AnalyzeDialog(QDialog):
    def __init__(self, document: GraphDocument, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.setWindowTitle("Analyze")
        self.table_widget = QTableWidget(0, len(COLUMNS), self)
        self.table_widget.setHorizontalHeaderLabels(
            [c.replace("activation memory per sample", "activation memory\nper sample")
             for c in COLUMNS])
        self.table_widget.verticalHeader().hide()
        self.table_widget.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table_widget.setAlternatingRowColors(True)
        self.table_widget.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = QPushButton("Copy as Text")
        self.save_button = QPushButton("Save CSV…")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)
        self.copy_button.clicked.connect(self.copy_text)
        self.save_button.clicked.connect(lambda: self.save_csv())
        layout = QVBoxLayout(self)
        layout.addWidget(self.table_widget)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self.table: LayerTable | None = None
        document.analysis_changed.connect(self.refresh)
        self.refresh()
        self.resize(760, 480)

    def refresh(self) -> None:
        doc = self.document
        self.table = layer_table(doc.graph, doc.analysis)
        rows = display_rows(self.table)
        w = self.table_widget
        w.setRowCount(len(rows))
        bold = QFont(self.font())
        bold.setBold(True)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                align = Qt.AlignmentFlag.AlignRight if c >= NUMERIC_FROM \
                    else Qt.AlignmentFlag.AlignLeft
                item.setTextAlignment(align | Qt.AlignmentFlag.AlignVCenter)
                if r == len(rows) - 1:
                    item.setFont(bold)
                w.setItem(r, c, item)
        self.note.setText(
            "Multiply-adds and memory are for one sample's forward pass (float32). "
            + ("" if self.table.complete else
               "<b>?</b> marks what the graph's problems leave unknown."))

    def copy_text(self) -> None:
        QApplication.clipboard().setText(table_text(self.table))

    def save_csv(self, path: str | None = None) -> bool:
        if path is None:
            path = QFileDialog.getSaveFileName(self, "Save the layer table", "",
                                               "CSV (*.csv)")[0]
        if not path:
            return False
        if not path.endswith(".csv"):
            path += ".csv"
        try:
            write_atomic(Path(path), table_csv(self.table).encode("utf-8"))
        except OSError as e:
            self.note.setText(f"Could not save {path}: {e.strerror or e}")
            return False
        return True
