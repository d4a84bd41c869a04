"""Mouse gestures in progress: connect-drag, move and pan.

The view starts one interaction on a mouse press and forwards moves and the release to it.
Interactions change only the scene's items while the gesture runs (the temporary edge, a
node's live position); when it ends they turn the gesture into one document intent
(`connect`, `move_nodes`) and report refusals through the view's `status_message`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent

from ..style import GRID
from .items import BadgeItem, NodeItem, PortItem, TempEdgeItem

if TYPE_CHECKING:
    from .view import CanvasView

DRAG_THRESHOLD = 4  # view pixels before a press becomes a drag


def snap(value: float) -> float:
    return float(round(value / GRID) * GRID)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


class Interaction:
    def __init__(self, view: CanvasView):
        self.view = view
        self.scene = view.scene()
        self.document = view.document

    def move(self, event: QMouseEvent) -> None:
        pass

    def release(self, event: QMouseEvent) -> None:
        pass

    def cancel(self) -> None:
        pass


class ConnectInteraction(Interaction):
    """Drag from an output port to an input port (or from an input to an output): a dashed
    curve follows the mouse; on release the port (or node) under it is hit-tested and the
    document asked to connect. Dropping on a node's body uses its first free input."""

    def __init__(self, view: CanvasView, port: PortItem, press: QPoint):
        super().__init__(view)
        self.port = port
        self.reverse = port.kind == "in"
        self.press = press
        self.dragged = False
        self.temp = TempEdgeItem(port.scenePos(), self.reverse)
        self.scene.addItem(self.temp)
        self.temp.set_end(port.scenePos(), False)
        self.highlighted: PortItem | None = None

    def _candidate(self, pos: QPoint) -> tuple[tuple[str, str, int], PortItem | None] | None:
        """(source, target, port) of the connection the pointer at `pos` (view pixels)
        offers, and the port to highlight; None over empty canvas."""
        near = self.view.port_near(pos, "out" if self.reverse else "in")
        nearby = [near] if near is not None else []
        for item in nearby + self.scene.items(self.view.mapToScene(pos)):
            if item is self.temp:
                continue
            if isinstance(item, PortItem):
                if item is self.port:
                    return None
                if self.reverse and item.kind == "out":
                    return (item.node_id, self.port.node_id, self.port.index), item
                if not self.reverse and item.kind == "in":
                    return (self.port.node_id, item.node_id, item.index), item
                item = item.node
            if isinstance(item, BadgeItem):
                item = item.node
            if isinstance(item, NodeItem):
                if self.reverse:
                    return (item.node_id, self.port.node_id, self.port.index), item.output_port
                free = item.first_free_input()
                index = 0 if free is None else free
                port = item.input_ports[index] if item.input_ports else None
                return (self.port.node_id, item.node_id, index), port
        return None

    def _highlight(self, port: PortItem | None) -> None:
        if self.highlighted is not None and self.highlighted is not port:
            self.highlighted.set_highlighted(False)
        self.highlighted = port
        if port is not None:
            port.set_highlighted(True)

    def move(self, event: QMouseEvent) -> None:
        if (event.position().toPoint() - self.press).manhattanLength() >= DRAG_THRESHOLD:
            self.dragged = True
        pos = self.view.mapToScene(event.position().toPoint())
        found = self._candidate(event.position().toPoint())
        ok = found is not None and self.document.can_connect(*found[0])
        self._highlight(found[1] if ok and found else None)
        end = found[1].scenePos() if ok and found and found[1] is not None else pos
        self.temp.set_end(end, ok)

    def release(self, event: QMouseEvent) -> None:
        found = self._candidate(event.position().toPoint()) if self.dragged else None
        self.cancel()
        if found is None:
            return
        source, target, port = found[0]
        if self.document.connect(source, target, port):
            self.view.status_message.emit(f"Connected {source} → {target}")
        else:
            self.view.status_message.emit(_sentence(self.document.last_error))

    def cancel(self) -> None:
        self._highlight(None)
        # hover events stop while the button is down: the start port would stay lit
        self.port.set_highlighted(False)
        if self.temp.scene() is not None:
            self.scene.removeItem(self.temp)


class MoveInteraction(Interaction):
    """Drag the selected nodes; they snap to the grid, and the release becomes one
    `move_nodes` call (one undo step)."""

    def __init__(self, view: CanvasView, anchor: NodeItem, press: QPoint):
        super().__init__(view)
        self.anchor = anchor
        self.press = press
        self.press_scene = view.mapToScene(press)
        self.items = [i for i in self.scene.selectedItems() if isinstance(i, NodeItem)]
        if anchor not in self.items:
            self.items.append(anchor)
        self.start = {i: QPointF(i.pos()) for i in self.items}
        self.moved = False

    def move(self, event: QMouseEvent) -> None:
        if not self.moved and (event.position().toPoint() - self.press).manhattanLength() \
                < DRAG_THRESHOLD:
            return
        self.moved = True
        delta = self.view.mapToScene(event.position().toPoint()) - self.press_scene
        a0 = self.start[self.anchor]
        shift = QPointF(snap(a0.x() + delta.x()) - a0.x(), snap(a0.y() + delta.y()) - a0.y())
        for item in self.items:
            item.setPos(self.start[item] + shift)

    def release(self, event: QMouseEvent) -> None:
        if not self.moved:
            return
        positions = {i.node_id: (i.x(), i.y()) for i in self.items if i.pos() != self.start[i]}
        if positions:
            self.document.move_nodes(positions)

    def cancel(self) -> None:
        for item, pos in self.start.items():
            item.setPos(pos)


class PanInteraction(Interaction):
    """Middle-button drag, or space + left drag: scroll the canvas with the hand."""

    def __init__(self, view: CanvasView, press: QPoint):
        super().__init__(view)
        self.last = press
        view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)

    def move(self, event: QMouseEvent) -> None:
        p = event.position().toPoint()
        d = p - self.last
        self.last = p
        h, v = self.view.horizontalScrollBar(), self.view.verticalScrollBar()
        h.setValue(h.value() - d.x())
        v.setValue(v.value() - d.y())

    def release(self, event: QMouseEvent) -> None:
        self.cancel()

    def cancel(self) -> None:
        self.view.update_cursor()
