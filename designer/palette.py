"""The layer palette: every catalogue entry, grouped by category, searchable, draggable.

Generated from `nnengine.layer_specs()`; no layer name is written here. Dragging an entry
starts a QDrag carrying the type name as `application/x-nnengine-layer`; double-clicking
(or Enter in the search field) asks the window to add it next to the selection.
"""
from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

import nnengine
from nnengine.catalogue import CATEGORIES, LayerSpec

from . import style

LAYER_MIME = "application/x-nnengine-layer"
TYPE_ROLE = Qt.ItemDataRole.UserRole
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 1


def layer_mime(type_name: str) -> QMimeData:
    """What a palette drag carries; the canvas accepts it as a drop."""
    mime = QMimeData()
    mime.setData(LAYER_MIME, type_name.encode("utf-8"))
    return mime


def tooltip(spec: LayerSpec) -> str:
    return (f"<b>{spec.type}</b> <span style='color:gray'>· {spec.category}</span>"
            f"<p style='margin-top:4px'>{spec.description}</p>"
            "<p style='color:gray'>Drag onto the canvas, or double-click to add it after the "
            "selected layer.</p>")


class LayerTree(QTreeWidget):
    """The tree itself; overrides `mimeData` so Qt's drag machinery carries the type name."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setIndentation(8)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformRowHeights(True)
        self.setAnimated(True)

    def mimeTypes(self) -> list[str]:
        return [LAYER_MIME]

    def mimeData(self, items) -> QMimeData:
        types = [i.data(0, TYPE_ROLE) for i in items if i.data(0, TYPE_ROLE)]
        return layer_mime(types[0]) if types else QMimeData()


class Palette(QWidget):
    """Search field above a category tree of layer types."""

    layer_activated = Signal(str)  # a type name the user wants added and connected

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.set_filter)
        self.search.returnPressed.connect(self._activate_first)
        self.tree = LayerTree(self)
        self.tree.itemDoubleClicked.connect(self._item_activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._groups: dict[str, QTreeWidgetItem] = {}
        self._items: dict[str, QTreeWidgetItem] = {}
        self._populate()

    def _populate(self) -> None:
        bold = QFont(self.font())
        bold.setBold(True)
        for category in CATEGORIES:
            group = QTreeWidgetItem(self.tree, [category])
            group.setFont(0, bold)
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            group.setForeground(0, style.category_color(category).darker(150))
            group.setData(0, SEARCH_ROLE, category.lower())
            self._groups[category] = group
        for spec in nnengine.layer_specs():
            item = QTreeWidgetItem(self._groups[spec.category], [spec.type])
            item.setIcon(0, style.category_icon(spec.category))
            item.setToolTip(0, tooltip(spec))
            item.setStatusTip(0, spec.description)
            item.setData(0, TYPE_ROLE, spec.type)
            item.setData(0, SEARCH_ROLE,
                         f"{spec.type} {spec.description} {spec.category}".lower())
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                          | Qt.ItemFlag.ItemIsDragEnabled)
            self._items[spec.type] = item
        for category, group in list(self._groups.items()):
            if group.childCount() == 0:  # a category with no layers yet: do not show it
                self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(group))
                del self._groups[category]
        self.tree.expandAll()

    # --- queries (also used by tests) ----------------------------------------------------
    def item_for(self, type_name: str) -> QTreeWidgetItem:
        return self._items[type_name]

    def visible_types(self) -> list[str]:
        return [t for t, item in self._items.items() if not item.isHidden()]

    # --- behaviour -----------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        """Show the layers whose type, description or category contain every typed word."""
        words = text.lower().split()
        for group in self._groups.values():
            shown = 0
            for i in range(group.childCount()):
                item = group.child(i)
                match = all(w in item.data(0, SEARCH_ROLE) for w in words)
                item.setHidden(not match)
                shown += match
            group.setHidden(shown == 0)
        self.tree.expandAll()

    def _activate_first(self) -> None:
        visible = self.visible_types()
        if visible:
            self.layer_activated.emit(visible[0])

    def _item_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        type_name = item.data(0, TYPE_ROLE)
        if type_name:
            self.layer_activated.emit(type_name)
