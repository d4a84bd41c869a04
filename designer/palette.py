"""The layer palette: every catalogue entry, grouped by category, searchable, draggable.

Generated from `nnengine.layer_specs()`; no layer name is written here. Search also finds
the choices of a layer's first key parameter (an activation function by name, "relu",
found as "Activation: relu" and added with that function set), the losses (double-click
sets the training loss), and the synonyms of `search_terms`. Dragging an entry starts a QDrag
carrying the type name as `application/x-nnengine-layer` (and its parameters as JSON);
double-clicking (or Enter in the search field) asks the window to add it after the selection.
"""
from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QByteArray, QMimeData, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

import nnengine
from nnengine.catalogue import CATEGORIES, LOSSES, LayerSpec

from . import style
from .search_terms import FUNCTION_WORDS, LAYER_WORDS, LOSS_WORDS, words

LAYER_MIME = "application/x-nnengine-layer"
PARAMS_MIME = "application/x-nnengine-params"
LOSSES_GROUP = "Losses (set in Training)"
TYPE_ROLE = Qt.ItemDataRole.UserRole
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 1
PARAMS_ROLE = Qt.ItemDataRole.UserRole + 2
LOSS_ROLE = Qt.ItemDataRole.UserRole + 3
NAME_ROLE = Qt.ItemDataRole.UserRole + 4   # what an exact search for this entry types


def layer_mime(type_name: str, params: dict[str, Any] | None = None) -> QMimeData:
    """What a palette drag carries; the canvas accepts it as a drop."""
    mime = QMimeData()
    mime.setData(LAYER_MIME, QByteArray(type_name.encode("utf-8")))
    if params:
        mime.setData(PARAMS_MIME, QByteArray(json.dumps(params).encode("utf-8")))
    return mime


def dropped_layer(mime: QMimeData) -> tuple[str, dict[str, Any] | None] | None:
    """(type name, params or None) from a palette drag; None when it holds no layer."""
    if not mime.hasFormat(LAYER_MIME):
        return None
    type_name = bytes(mime.data(LAYER_MIME).data()).decode("utf-8").strip()
    params = None
    if mime.hasFormat(PARAMS_MIME):
        try:
            params = json.loads(bytes(mime.data(PARAMS_MIME).data()).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            params = None
    return type_name, params if isinstance(params, dict) else None


def variant_param(spec: LayerSpec):
    """The parameter whose choices are searchable entries of their own: the first key
    parameter, when it is a choice (Activation's function)."""
    first = spec.param(spec.key_params[0]) if spec.key_params else None
    return first if first is not None and first.kind == "choice" else None


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
        layers = [i for i in items if i.data(0, TYPE_ROLE)]
        if not layers:
            return QMimeData()
        return layer_mime(layers[0].data(0, TYPE_ROLE), layers[0].data(0, PARAMS_ROLE))


class Palette(QWidget):
    """Search field above a category tree of layer types."""

    layer_activated = Signal(str, object)  # type name and params (None: the defaults)
    loss_chosen = Signal(str)              # a loss the user wants for training

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search layers, functions, losses…")
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
        self._variants: list[QTreeWidgetItem] = []   # shown only while searching
        self._losses: dict[str, QTreeWidgetItem] = {}
        self._populate()
        self.setMinimumWidth(self.width_for_categories())

    def _populate(self) -> None:
        bold = QFont(self.font())
        bold.setBold(True)
        for category in (*CATEGORIES, LOSSES_GROUP):
            group = QTreeWidgetItem(self.tree, [category])
            group.setFont(0, bold)
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            group.setForeground(0, style.category_color(category).darker(150))
            group.setToolTip(0, category)
            self._groups[category] = group
        drag = (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsDragEnabled)
        for spec in nnengine.layer_specs():
            group = self._groups[spec.category]
            item = QTreeWidgetItem(group, [spec.type])
            item.setIcon(0, style.category_icon(spec.category))
            item.setToolTip(0, tooltip(spec))
            item.setStatusTip(0, spec.description)
            item.setData(0, TYPE_ROLE, spec.type)
            item.setData(0, NAME_ROLE, spec.type.lower())
            item.setData(0, SEARCH_ROLE, words(spec.type, spec.description, spec.category,
                                               LAYER_WORDS.get(spec.type, "")))
            item.setFlags(drag)
            self._items[spec.type] = item
            param = variant_param(spec)
            for choice in param.choices if param is not None else ():
                variant = QTreeWidgetItem(group, [f"{spec.type}: {choice}"])
                variant.setIcon(0, style.category_icon(spec.category))
                variant.setToolTip(0, tooltip(spec))
                variant.setData(0, TYPE_ROLE, spec.type)
                variant.setData(0, PARAMS_ROLE, {param.name: choice})
                variant.setData(0, NAME_ROLE, str(choice).lower())
                variant.setData(0, SEARCH_ROLE, words(str(choice), spec.type,
                                                      FUNCTION_WORDS.get(str(choice), "")))
                variant.setFlags(drag)
                self._variants.append(variant)
        for name, loss in LOSSES.entries.items():
            item = QTreeWidgetItem(self._groups[LOSSES_GROUP], [f"loss: {name}"])
            item.setToolTip(0, f"<b>{name}</b><p>{loss.description}</p><p style='color:gray'>"
                               "Double-click to train with this loss.</p>")
            item.setData(0, LOSS_ROLE, name)
            item.setData(0, NAME_ROLE, name)
            item.setData(0, SEARCH_ROLE, words(name, loss.description,
                                               LOSS_WORDS.get(name, ""), "loss"))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            self._losses[name] = item
        for category, group in list(self._groups.items()):
            if group.childCount() == 0:  # a category with no layers yet: do not show it
                self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(group))
                del self._groups[category]
        self.set_filter("")

    def width_for_categories(self) -> int:
        """The width at which every category name shows whole (not "Normalization and
        regularizat…"), with the scroll bar beside it."""
        bold = QFont(self.font())
        bold.setBold(True)
        text = max(QFontMetrics(bold).horizontalAdvance(c) for c in self._groups)
        margins = self.layout().contentsMargins()
        frame = 2 * self.tree.frameWidth()
        scroll_bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        return text + self.tree.indentation() + 16 + frame + scroll_bar \
            + margins.left() + margins.right()

    # --- queries (also used by tests) ----------------------------------------------------
    def item_for(self, type_name: str) -> QTreeWidgetItem:
        return self._items[type_name]

    def visible_types(self) -> list[str]:
        """The plain layer entries shown (not the functions or losses found by search)."""
        return [t for t, item in self._items.items() if not item.isHidden()]

    def visible_entries(self) -> list[QTreeWidgetItem]:
        """Every entry shown, in tree order."""
        groups = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        return [g.child(i) for g in groups if not g.isHidden() for i in range(g.childCount())
                if not g.child(i).isHidden()]

    # --- behaviour -----------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        """Show the entries whose search text contains every typed word; functions and
        losses only while something is typed."""
        typed = text.lower().split()
        extras = set(map(id, self._variants)) | set(map(id, self._losses.values()))
        for group in self._groups.values():
            shown = 0
            for i in range(group.childCount()):
                item = group.child(i)
                if not typed:
                    match = id(item) not in extras
                else:
                    match = all(w in item.data(0, SEARCH_ROLE) for w in typed)
                item.setHidden(not match)
                shown += match
            group.setHidden(shown == 0)
        self.tree.expandAll()

    def best_entry(self) -> QTreeWidgetItem | None:
        """What Enter adds: the entry named exactly as typed, else the first one shown."""
        shown = self.visible_entries()
        typed = "_".join(self.search.text().lower().split())
        exact = [i for i in shown if i.data(0, NAME_ROLE) == typed]
        return (exact or shown or [None])[0]

    def _activate_first(self) -> None:
        item = self.best_entry()
        if item is not None:
            self._item_activated(item, 0)

    def _item_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        type_name, loss = item.data(0, TYPE_ROLE), item.data(0, LOSS_ROLE)
        if type_name:
            self.layer_activated.emit(type_name, item.data(0, PARAMS_ROLE))
        elif loss:
            self.loss_chosen.emit(loss)
