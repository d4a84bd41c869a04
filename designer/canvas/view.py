"""CanvasView: the node editor widget on a GraphDocument.

Grid background, zoom on the wheel around the cursor, pan (middle button or space + drag),
rubber-band selection, fit to view (F), drops of palette items (on an edge: inserted into
it), Delete, and the problem badges' repair menu. Mouse gestures are delegated to the objects in `interactions`.
"""
from __future__ import annotations

from functools import partial

import shiboken6
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QPolygonF,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QLabel, QMenu, QWidget, QWidgetAction

from .. import style
from ..document import GraphDocument
from ..palette import dropped_layer
from ..repairs import Repair, insert_layer, repairs_for_node
from ..style import GRID, HEADER_HEIGHT, NODE_WIDTH
from .interactions import ConnectInteraction, Interaction, MoveInteraction, PanInteraction, snap
from .items import BadgeItem, EdgeItem, NodeItem, PortItem
from .scene import CanvasScene

MIN_ZOOM, MAX_ZOOM, MAX_FIT_ZOOM = 0.1, 3.0, 1.0
EMPTY_HINT = ("Drag a layer from the palette and drop it here, or double-click one. "
              "Start with an Input.\n\n"
              "File ▸ New from Template opens a ready-made network, Help ▸ Lessons "
              "explains them, F1 lists the shortcuts.")
PORT_GRAB_PX = 9  # a port can be grabbed this close to its centre (view pixels), at any zoom


class CanvasView(QGraphicsView):
    selection_changed = Signal(list)   # selected node ids, in graph order
    status_message = Signal(str)       # refusals and results, for the status bar
    node_activated = Signal(str)       # a node was double-clicked

    def __init__(self, document: GraphDocument, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self._scene = CanvasScene(document, self)
        self.setScene(self._scene)
        self.setRenderHints(QPainter.RenderHint.Antialiasing
                            | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        # only what lies wholly inside the band: Delete must not take edges that merely cross it
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.ContainsItemShape)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        self._interaction: Interaction | None = None
        self._space = False
        self._fitted_once = False
        self._click_only: NodeItem | None = None
        self._drop_edge: EdgeItem | None = None   # the edge a dragged layer would go into
        self.repair_menu: QMenu | None = None   # the last badge/context menu (for tests)
        # Tools add their own entries to a node's context menu: hook(menu, node_id).
        self.node_menu_hooks: list = []
        self._selecting = False
        self._scene.selectionChanged.connect(self._on_selection_changed)
        document.graph_reset.connect(self.fit_all)
        document.repaired.connect(self._keep_in_view)
        self._hinted = self.empty_hint() is not None
        document.analysis_changed.connect(self._hint_changed)

    def _on_selection_changed(self) -> None:
        if self._selecting:
            return   # select_nodes announces its whole selection once
        if shiboken6.isValid(self._scene):  # the scene clears its selection as it is deleted
            self.selection_changed.emit(self.selected_node_ids())

    # --- public API ----------------------------------------------------------------------------
    def scene(self) -> CanvasScene:
        return self._scene

    def node_item(self, node_id: str) -> NodeItem | None:
        return self._scene.node_item(node_id)

    def edge_item(self, source: str, target: str) -> EdgeItem | None:
        return self._scene.edge_item(source, target)

    def selected_node_ids(self) -> list[str]:
        return self._scene.selected_node_ids()

    def select_nodes(self, node_ids: list[str]) -> None:
        """Select these nodes only; announced once (the scene signals every item: selecting
        thousands one announcement at a time took quadratic time)."""
        self._selecting = True
        try:
            self._scene.clearSelection()
            for n in node_ids:
                item = self._scene.node_item(n)
                if item is not None:
                    item.setSelected(True)
        finally:
            self._selecting = False
        self._on_selection_changed()

    def port_near(self, pos: QPoint, kind: str | None = None) -> PortItem | None:
        """The port (of `kind`, "in" or "out", if given) whose centre is nearest `pos` (view
        pixels) and within PORT_GRAB_PX of it: zoomed out, a port is only a few pixels wide
        and still has to be easy to hit."""
        r = PORT_GRAB_PX
        best, best_d2 = None, float(r * r)
        for item in self.items(QRect(pos.x() - r, pos.y() - r, 2 * r + 1, 2 * r + 1)):
            if not isinstance(item, PortItem) or (kind is not None and item.kind != kind):
                continue
            d = QPointF(self.mapFromScene(item.scenePos()) - pos)
            d2 = d.x() ** 2 + d.y() ** 2
            if d2 <= best_d2:
                best, best_d2 = item, d2
        return best

    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float, anchor: QPoint | None = None) -> None:
        """Zoom to `factor` keeping the scene point under `anchor` (view pixels) in place."""
        factor = min(max(factor, MIN_ZOOM), MAX_ZOOM)
        anchor = anchor if anchor is not None else self.viewport().rect().center()
        before = self.mapToScene(anchor)
        ratio = factor / self.zoom()
        self.scale(ratio, ratio)
        after = self.mapToScene(anchor)
        self.translate(after.x() - before.x(), after.y() - before.y())

    def fit_all(self) -> None:
        """Show the whole graph (not larger than 100 %)."""
        rect = self._scene.graph_rect()
        if rect.isEmpty():
            self.setTransform(QTransform())
            self.centerOn(0, 0)
            return
        rect = rect.adjusted(-60, -60, 60, 60)
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        scale = self.zoom()
        if scale > MAX_FIT_ZOOM or scale < MIN_ZOOM:
            s = min(max(scale, MIN_ZOOM), MAX_FIT_ZOOM)
            self.setTransform(QTransform.fromScale(s, s))
            self.centerOn(rect.center())

    def visible_scene_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def nodes_rect(self, node_ids: list[str]) -> QRectF:
        """The scene rectangle around these nodes' cards (empty when none is drawn)."""
        rect = QRectF()
        for n in node_ids:
            item = self.node_item(n)
            if item is not None:
                rect = rect.united(item.sceneBoundingRect())
        return rect

    def reveal(self, node_ids: list[str]) -> None:
        """Scroll so that these nodes are in view (the zoom stays)."""
        rect = self.nodes_rect(node_ids)
        if not rect.isEmpty() and not self.visible_scene_rect().contains(rect):
            self.ensureVisible(rect, 40, 40)

    def add_node_at(self, type_name: str, scene_pos: QPointF,
                    params: dict | None = None) -> str | None:
        """Add a node centred on `scene_pos` (snapped to the grid) and select it."""
        top_left = (snap(scene_pos.x() - NODE_WIDTH / 2), snap(scene_pos.y() - HEADER_HEIGHT / 2))
        node_id = self.document.add_node(type_name, top_left, params)
        return self._added(node_id, f"Added {node_id}")

    def insert_on_edge(self, type_name: str, edge: tuple[str, str],
                       params: dict | None = None) -> str | None:
        """Put a new layer into the connection `edge` (source, target) and select it."""
        node_id = insert_layer(self.document, *edge, type_name, params)
        return self._added(node_id, f"Inserted {node_id} between {edge[0]} and {edge[1]}")

    def _added(self, node_id: str | None, message: str) -> str | None:
        if node_id is None:
            self.status_message.emit(self.document.last_error)
            return None
        self.select_nodes([node_id])
        self.reveal([node_id])
        self.setFocus()
        self.status_message.emit(message)
        return node_id

    def delete_selection(self) -> bool:
        nodes, edges = self.selected_node_ids(), self._scene.selected_edges()
        if not nodes and not edges:
            return False
        if not self.document.remove_items(nodes, edges):
            self.status_message.emit(self.document.last_error)
            return False
        return True

    def show_repairs(self, node_id: str, global_pos: QPoint) -> QMenu:
        """Pop up the node's problems and the repairs that fix them."""
        menu = QMenu(self)
        for problem in self.document.problems_of(node_id):
            label = QLabel(problem.message)
            label.setWordWrap(True)
            label.setStyleSheet(f"color: {style.ERROR.name()}; padding: 4px 10px;")
            # wrap only messages longer than a comfortable line
            text_w = label.fontMetrics().horizontalAdvance(problem.message) + 24
            label.setFixedWidth(min(text_w, 460))
            label.setFixedHeight(label.heightForWidth(label.width()))
            action = QWidgetAction(menu)
            action.setDefaultWidget(label)
            menu.addAction(action)
        menu.addSeparator()
        self._add_repair_actions(menu, node_id)
        self.repair_menu = menu
        menu.popup(global_pos)
        return menu

    def _add_repair_actions(self, menu: QMenu, node_id: str) -> None:
        repairs = repairs_for_node(self.document, node_id)
        for repair in repairs:
            action = menu.addAction(repair.description)
            action.setToolTip(repair.description)
            action.triggered.connect(partial(self._apply_repair, repair))
        if not repairs and self.document.problems_of(node_id):
            menu.addAction("No automatic repair: change the graph by hand").setEnabled(False)

    def _apply_repair(self, repair: Repair) -> None:
        if repair.apply():
            self.status_message.emit(f"Repaired: {repair.description}")
        else:
            self.status_message.emit(self.document.last_error)

    def _keep_in_view(self, node_ids: list[str]) -> None:
        """After a repair (from a badge or the inspector): cards it added or moved out of
        sight bring the whole graph back into view."""
        rect = self.nodes_rect(node_ids)
        if not rect.isNull() and not self.visible_scene_rect().contains(rect):
            self.fit_all()

    def update_cursor(self) -> None:
        shape = Qt.CursorShape.OpenHandCursor if self._space else Qt.CursorShape.ArrowCursor
        self.viewport().setCursor(shape)

    # --- background ----------------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, style.CANVAS_BACKGROUND)
        scale = self.zoom()
        if scale < 0.2:
            return
        step = GRID if scale >= 0.6 else GRID * 5
        self._draw_dots(painter, rect, step, style.GRID_DOT, 1.6)
        if step == GRID:
            self._draw_dots(painter, rect, GRID * 5, style.GRID_MAJOR, 2.4)

    def empty_hint(self) -> str | None:
        """The first-run hint drawn on an empty canvas (None once there is a node)."""
        return EMPTY_HINT if not len(self.document.graph) else None

    def _hint_changed(self) -> None:
        hinted = self.empty_hint() is not None
        if hinted != self._hinted:
            self._hinted = hinted
            self.viewport().update()   # the hint spans the view, not one item's rect

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        hint = self.empty_hint()
        if hint is None:
            return
        painter.save()
        painter.resetTransform()   # view pixels: the hint does not zoom
        area = QRectF(self.viewport().rect()).adjusted(24, 24, -24, -24)
        if area.width() > 520:   # short lines read better than one across a wide canvas
            area.adjust((area.width() - 520) / 2, 0, -(area.width() - 520) / 2, 0)
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        painter.setFont(font)
        painter.setPen(style.TEXT_MUTED)
        painter.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, hint)
        painter.restore()

    @staticmethod
    def _draw_dots(painter: QPainter, rect: QRectF, step: int, color: QColor,
                   width: float) -> None:
        pen = QPen(color, width)
        pen.setCosmetic(True)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        x0 = int(rect.left() // step) * step
        y0 = int(rect.top() // step) * step
        xs = range(x0, int(rect.right()) + step, step)
        points = QPolygonF([QPointF(x, y) for y in range(y0, int(rect.bottom()) + step, step)
                            for x in xs])
        painter.drawPoints(points)

    # --- mouse ---------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._interaction is not None:
            return
        pos = event.position().toPoint()
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (
                button == Qt.MouseButton.LeftButton and self._space):
            self._interaction = PanInteraction(self, pos)
            event.accept()
            return
        if button == Qt.MouseButton.LeftButton:
            item = self.itemAt(pos)
            if isinstance(item, BadgeItem):
                self.show_repairs(item.node_id, event.globalPosition().toPoint())
                event.accept()
                return
            port = item if isinstance(item, PortItem) else self.port_near(pos)
            if port is not None and isinstance(item, NodeItem) and port.node is not item:
                port = None  # another node's card covers that port
            if port is not None:
                self._interaction = ConnectInteraction(self, port, pos)
                event.accept()
                return
            if isinstance(item, NodeItem):
                self._press_node(item, event)
                event.accept()
                return
        super().mousePressEvent(event)

    def _press_node(self, item: NodeItem, event: QMouseEvent) -> None:
        toggle = bool(event.modifiers() & (Qt.KeyboardModifier.ControlModifier
                                           | Qt.KeyboardModifier.ShiftModifier))
        if toggle:
            item.setSelected(not item.isSelected())
            if not item.isSelected():
                return
        elif not item.isSelected():
            self._scene.clearSelection()
            item.setSelected(True)
        self._interaction = MoveInteraction(self, item, event.position().toPoint())
        self._click_only = None if toggle else item

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._interaction is not None:
            self._interaction.move(event)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        interaction, self._interaction = self._interaction, None
        if interaction is None:
            super().mouseReleaseEvent(event)
            return
        interaction.release(event)
        if isinstance(interaction, MoveInteraction) and not interaction.moved:
            clicked = self._click_only
            if clicked is not None:  # a plain click on one of several selected: keep just it
                self.select_nodes([clicked.node_id])
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        item = self.itemAt(event.position().toPoint())
        if isinstance(item, (PortItem, BadgeItem)):
            item = item.node
        if isinstance(item, NodeItem):
            self.node_activated.emit(item.node_id)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        angle = event.angleDelta().y()
        if angle:
            self.set_zoom(self.zoom() * 1.0015 ** angle, event.position().toPoint())
        event.accept()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        item = self.itemAt(event.pos())
        if isinstance(item, (PortItem, BadgeItem)):
            item = item.node
        if not isinstance(item, NodeItem):
            super().contextMenuEvent(event)
            return
        if not item.isSelected():
            self.select_nodes([item.node_id])
        menu = QMenu(self)
        self._add_repair_actions(menu, item.node_id)
        if not menu.isEmpty():
            menu.addSeparator()
        ids = self.selected_node_ids()
        menu.addAction("Duplicate").triggered.connect(
            lambda: self.select_nodes(self.document.duplicate(ids)))
        menu.addAction("Delete").triggered.connect(self.delete_selection)
        for hook in self.node_menu_hooks:
            hook(menu, item.node_id)
        self.repair_menu = menu
        menu.popup(event.globalPos())

    # --- keyboard ------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self._interaction is None:
            self.delete_selection()
        elif key == Qt.Key.Key_F and not event.modifiers():
            self.fit_all()
        elif key == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space = True
                self.update_cursor()
        elif key == Qt.Key.Key_Escape:
            if self._interaction is not None:
                self._interaction.cancel()
                self._interaction = None
            else:
                self._scene.clearSelection()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            if not isinstance(self._interaction, PanInteraction):
                self.update_cursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:
        self._space = False
        super().focusOutEvent(event)

    # --- drops from the palette ----------------------------------------------------------------
    def _edge_under(self, pos: QPoint) -> EdgeItem | None:
        """The connection right under `pos` (view pixels), unless a card covers it."""
        item = self.itemAt(pos)
        return item if isinstance(item, EdgeItem) else None

    def _mark_drop_edge(self, edge: EdgeItem | None) -> None:
        if self._drop_edge is not None and self._drop_edge is not edge \
                and shiboken6.isValid(self._drop_edge):
            self._drop_edge.set_drop_target(False)
        self._drop_edge = edge
        if edge is not None:
            edge.set_drop_target(True)

    def dragEnterEvent(self, event) -> None:
        if dropped_layer(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if dropped_layer(event.mimeData()) is not None:
            self._mark_drop_edge(self._edge_under(event.position().toPoint()))
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dragLeaveEvent(self, event) -> None:
        self._mark_drop_edge(None)
        super().dragLeaveEvent(event)

    def dropEvent(self, event) -> None:
        layer = dropped_layer(event.mimeData())
        if layer is None:
            super().dropEvent(event)
            return
        type_name, params = layer
        pos = event.position().toPoint()
        edge = self._edge_under(pos)
        self._mark_drop_edge(None)
        if edge is not None:
            self.insert_on_edge(type_name, edge.key, params)
        else:
            self.add_node_at(type_name, self.mapToScene(pos), params)
        event.acceptProposedAction()

    # --- size ----------------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        """A graph that was wholly in view is fitted again when the view shrinks or grows
        (a smaller window, a dock opened), so it never ends up half off the canvas."""
        old = event.oldSize()
        whole = False
        if old.isValid() and old.width() > 0 and old.height() > 0:
            before = self.mapToScene(0, 0, old.width(), old.height()).boundingRect()
            whole = before.contains(self._scene.graph_rect())
        super().resizeEvent(event)
        if whole and not self.visible_scene_rect().contains(self._scene.graph_rect()):
            self.fit_all()
        elif whole and self.zoom() < MAX_FIT_ZOOM and event.size().width() > old.width() \
                and event.size().height() > old.height():
            self.fit_all()   # more room: show the graph larger again (up to 100 %)

    # --- first show ----------------------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._fitted_once:
            self._fitted_once = True
            self.fit_all()
