"""The Runs panel: the current document's runs in a table (name, date, data set, epochs,
best validation, test, how it ended). Selecting a row shows that run in the plots; ticking
two or more overlays their curves; a double-click on the name renames it; the buttons and
the context menu delete a run (undoably), export it, or go back to the graph it was
trained on.

The panel only emits intents (ids); `RunsActions` (actions.py) turns them into changes.
"""
from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..style import BAD_COLOR, PLOT_MUTED
from .record import Run

COLUMNS = ("Run", "Date", "Data set", "Epochs", "Best val.", "Test", "Ended")
EXPORTS = (("weights", "Weights (.npz)…"), ("bundle", "Model Bundle (.zip)…"),
           ("onnx", "ONNX (.onnx)…"), ("pytorch", "PyTorch Source (.py)…"))
ID_ROLE = Qt.ItemDataRole.UserRole


class RunsPanel(QWidget):
    run_chosen = Signal(str)                 # a row was selected: show that run
    ticks_changed = Signal(list)             # ids of the ticked runs, in table order
    rename_requested = Signal(str, str)      # id, new name
    delete_requested = Signal(str)
    export_requested = Signal(str, str)      # id, one of EXPORTS' keys
    go_back_requested = Signal(str)          # id: restore the graph it was trained on

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.table = QTreeWidget()
        self.table.setColumnCount(len(COLUMNS))
        self.table.setHeaderLabels(list(COLUMNS))
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.setStyleSheet("QTreeWidget::item { padding: 3px 2px; }")
        header = self.table.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for i in range(1, len(COLUMNS)):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        for i in (3, 4, 5):
            self.table.headerItem().setTextAlignment(i, Qt.AlignmentFlag.AlignRight)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemChanged.connect(self._item_changed)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.setToolTip("Select a run to show it; tick two or more to compare their "
                              "curves; double-click a name to rename it")
        self.table.setMinimumWidth(120)
        self.empty = QLabel("No runs yet: press Train (F5). Each run is kept here with its "
                            "weights and curves; tick two or more to compare them.")
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet(f"color: {PLOT_MUTED}; padding: 6px;")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the selected run (Edit ▸ Undo brings it back)")
        self.delete_button.clicked.connect(lambda: self._emit_for_current(
            self.delete_requested))
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setToolTip("Export the selected run as it was trained")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_button.setMenu(self._export_menu(lambda: self.current_id()))
        self.back_button = QPushButton("Go Back")
        self.back_button.setToolTip("Make the graph what the selected run was trained on "
                                    "(undoable)")
        self.back_button.clicked.connect(lambda: self._emit_for_current(
            self.go_back_requested))
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for w in (self.delete_button, self.export_button, self.back_button):
            buttons.addWidget(w)
        buttons.addStretch(1)
        col = QVBoxLayout(self)
        col.setContentsMargins(4, 4, 4, 4)
        col.addWidget(self.table, 1)
        col.addWidget(self.empty)
        col.addLayout(buttons)
        self._current_sha: str | None = None
        self.set_runs([], None, None)

    # --- what it shows --------------------------------------------------------------------
    def set_runs(self, runs: list[Run], shown: Run | None, current_sha: str | None) -> None:
        """List `runs`, select `shown`; runs of another structure than `current_sha` (the
        graph on the canvas) are marked "earlier version". Ticks are kept by id."""
        ticked = set(self.ticked())
        self._current_sha = current_sha
        with QSignalBlocker(self.table):
            self.table.clear()
            for run in runs:
                item = QTreeWidgetItem([run.name, run.date_text(), run.dataset, str(run.epochs),
                                        run.best_validation_text(), run.test_text(),
                                        run.ended_text()])
                item.setData(0, ID_ROLE, run.id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable
                              | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(0, Qt.CheckState.Checked if run.id in ticked
                                   else Qt.CheckState.Unchecked)
                for i in (3, 4, 5):
                    item.setTextAlignment(i, Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                tip = run.summary()
                if current_sha is not None and run.sha != current_sha:
                    tip += "\nTrained on an earlier version of this graph."
                    for i in range(len(COLUMNS)):
                        item.setForeground(i, QColor(PLOT_MUTED))
                if run.ended in ("diverged", "failed"):
                    item.setForeground(6, QColor(BAD_COLOR))
                for i in range(len(COLUMNS)):
                    item.setToolTip(i, tip)
                self.table.addTopLevelItem(item)
                if run is shown:
                    item.setSelected(True)
                    self.table.setCurrentItem(item)
        self.table.setVisible(bool(runs))
        self.empty.setVisible(not runs)
        self._update_buttons()
        if ticked != set(self.ticked()):
            self.ticks_changed.emit(self.ticked())

    def current_id(self) -> str | None:
        items = self.table.selectedItems()
        return items[0].data(0, ID_ROLE) if items else None

    def ticked(self) -> list[str]:
        return [self.table.topLevelItem(i).data(0, ID_ROLE)
                for i in range(self.table.topLevelItemCount())
                if self.table.topLevelItem(i).checkState(0) == Qt.CheckState.Checked]

    def item(self, run_id: str) -> QTreeWidgetItem | None:
        for i in range(self.table.topLevelItemCount()):
            if self.table.topLevelItem(i).data(0, ID_ROLE) == run_id:
                return self.table.topLevelItem(i)
        return None

    def set_ticked(self, run_id: str, ticked: bool) -> None:
        item = self.item(run_id)
        if item is not None:
            item.setCheckState(0, Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)

    # --- user actions ---------------------------------------------------------------------
    def _selection_changed(self) -> None:
        self._update_buttons()
        run_id = self.current_id()
        if run_id is not None:
            self.run_chosen.emit(run_id)

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if column != 0:
            return
        run_id = item.data(0, ID_ROLE)
        self.ticks_changed.emit(self.ticked())
        name = item.text(0).strip()
        self.rename_requested.emit(run_id, name)

    def _update_buttons(self) -> None:
        has = self.current_id() is not None
        for w in (self.delete_button, self.export_button, self.back_button):
            w.setEnabled(has)

    def _emit_for_current(self, signal) -> None:
        run_id = self.current_id()
        if run_id is not None:
            signal.emit(run_id)

    def _export_menu(self, which) -> QMenu:
        menu = QMenu(self)
        for key, text in EXPORTS:
            menu.addAction(text, lambda k=key: self._export(which(), k))
        return menu

    def _export(self, run_id: str | None, kind: str) -> None:
        if run_id is not None:
            self.export_requested.emit(run_id, kind)

    def _context_menu(self, pos) -> None:
        item = self.table.itemAt(pos)
        if item is None:
            return
        run_id = item.data(0, ID_ROLE)
        menu = QMenu(self)
        menu.addAction("Show", lambda: self.run_chosen.emit(run_id))
        menu.addAction("Rename", lambda: self.table.editItem(item, 0))
        menu.addAction("Go Back to Its Graph", lambda: self.go_back_requested.emit(run_id))
        export = menu.addMenu("Export")
        for key, text in EXPORTS:
            export.addAction(text, lambda k=key: self.export_requested.emit(run_id, k))
        menu.addSeparator()
        menu.addAction("Delete", lambda: self.delete_requested.emit(run_id))
        menu.popup(self.table.viewport().mapToGlobal(pos))
