"""Scene items: NodeItem (a card), PortItem, BadgeItem, EdgeItem and the temporary edge.

Items only draw: they hold a `NodeView` (plain data the scene computes from the document
and its analysis) and never change the document. Mouse gestures on them are handled by the
view's interactions, which find the items by type and read their `node_id`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from .. import style
from ..style import (
    BADGE_RADIUS,
    CORNER_RADIUS,
    HEADER_HEIGHT,
    LINE_HEIGHT,
    NODE_WIDTH,
    PORT_FIRST_Y,
    PORT_RADIUS,
    PORT_SPACING,
)

TEXT_LEFT = 18      # body text starts right of the input ports
TEXT_LEFT_NUMBERED = 28  # ... and right of the port numbers of multi-input nodes
TEXT_RIGHT = 12


@dataclass(frozen=True)
class NodeView:
    """Everything a node card shows; the scene builds it, the item draws it."""

    node_id: str
    type_name: str
    category: str
    description: str = ""
    key_params: tuple[tuple[str, str], ...] = ()
    shape_text: str = "?"
    params_text: str = ""
    problems: tuple[str, ...] = ()
    input_ports: int = 1
    connected_inputs: frozenset[int] = field(default_factory=frozenset)
    input_tips: tuple[str, ...] = ()
    has_output: bool = True
    output_connected: bool = False


def port_y(index: int) -> float:
    return PORT_FIRST_Y + index * PORT_SPACING


def node_height(view: NodeView) -> float:
    body = HEADER_HEIGHT + 6 + LINE_HEIGHT * len(view.key_params) + 7 + 2 * LINE_HEIGHT + 5
    ports = port_y(max(view.input_ports, 1) - 1) + 18
    return max(body, ports)


class Hoverable:
    """Redraws an item with `_hover` set while the pointer is over it (nodes, edges)."""

    _hover = False

    def hoverEnterEvent(self, event) -> None:
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:
        self.update()


class NodeItem(Hoverable, QGraphicsItem):
    """A rounded card: header in the category colour (glyph, type, id), key parameters,
    output shape and parameter count; ports on the left (inputs) and right (output); a red
    badge when the node has problems."""

    def __init__(self, view: NodeView):
        super().__init__()
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setAcceptHoverEvents(True)
        self.setZValue(1)
        self.view = view
        self.edges: list[EdgeItem] = []
        self.input_ports: list[PortItem] = []
        self.output_port: PortItem | None = None
        self.badge = BadgeItem(self)
        self._height = node_height(view)
        self._apply(view, force=True)

    @property
    def node_id(self) -> str:
        return self.view.node_id

    @property
    def height(self) -> float:
        return self._height

    # --- data ---------------------------------------------------------------------------------
    def set_view(self, view: NodeView) -> None:
        if view != self.view:
            self._apply(view)

    def _apply(self, view: NodeView, force: bool = False) -> None:
        old = self.view
        self.prepareGeometryChange()
        self.view = view
        self._height = node_height(view)
        if force or old.input_ports != view.input_ports or old.has_output != view.has_output:
            self._build_ports()
        for i, port in enumerate(self.input_ports):
            port.connected = i in view.connected_inputs
            tip = view.input_tips[i] if i < len(view.input_tips) else ""
            port.setToolTip(tip)
            port.update()
        if self.output_port is not None:
            self.output_port.connected = view.output_connected
            self.output_port.setToolTip(f"output {view.shape_text}: drag to an input to connect")
            self.output_port.update()
        self.badge.setPos(NODE_WIDTH - 4, 4)
        self.badge.setVisible(bool(view.problems))
        self.badge.setToolTip("\n".join(view.problems))
        self.setToolTip(f"{view.type_name} ({view.node_id}): {view.description}"
                        if view.description else f"{view.type_name} ({view.node_id})")
        for edge in self.edges:
            edge.update_path()
        self.update()

    def _build_ports(self) -> None:
        for port in self.input_ports + ([self.output_port] if self.output_port else []):
            port.setParentItem(None)
            if port.scene() is not None:
                port.scene().removeItem(port)
        self.input_ports = [PortItem(self, "in", i) for i in range(self.view.input_ports)]
        for i, port in enumerate(self.input_ports):
            port.setPos(0, port_y(i))
        self.output_port = PortItem(self, "out", 0) if self.view.has_output else None
        if self.output_port is not None:
            self.output_port.setPos(NODE_WIDTH, port_y(0))

    def input_port_pos(self, index: int) -> QPointF:
        """Scene position of input `index` (the last port for an index beyond the ports)."""
        if not self.input_ports:
            return self.mapToScene(QPointF(0, port_y(0)))
        return self.input_ports[min(index, len(self.input_ports) - 1)].scenePos()

    def output_port_pos(self) -> QPointF:
        return self.mapToScene(QPointF(NODE_WIDTH, port_y(0)))

    def first_free_input(self) -> int | None:
        for i in range(self.view.input_ports):
            if i not in self.view.connected_inputs:
                return i
        return None

    # --- QGraphicsItem ------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return QRectF(-PORT_RADIUS - 3, -BADGE_RADIUS, NODE_WIDTH + 2 * PORT_RADIUS + 6,
                      self._height + BADGE_RADIUS + 6)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, NODE_WIDTH, self._height), CORNER_RADIUS,
                            CORNER_RADIUS)
        return path

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.update_path()
        elif change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.setZValue(2 if value else 1)
        return super().itemChange(change, value)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        v = self.view
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        card = QRectF(0, 0, NODE_WIDTH, self._height)
        color = style.category_color(v.category)

        # soft shadow, body, header
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(15, 23, 42, 28))
        painter.drawRoundedRect(card.translated(0, 2), CORNER_RADIUS, CORNER_RADIUS)
        painter.setBrush(style.NODE_BODY)
        painter.drawRoundedRect(card, CORNER_RADIUS, CORNER_RADIUS)
        header = QPainterPath()
        header.addRoundedRect(card, CORNER_RADIUS, CORNER_RADIUS)
        clip = QPainterPath()
        clip.addRect(QRectF(0, 0, NODE_WIDTH, HEADER_HEIGHT))
        painter.setBrush(color)
        painter.drawPath(header.intersected(clip))

        # header: glyph, type, id
        style.draw_category_glyph(painter, QRectF(7, 5, 16, 16), v.category, QColor("white"))
        title_font = style.title_font()
        title_metrics = QFontMetricsF(title_font)
        painter.setFont(title_font)
        painter.setPen(QColor("white"))
        title_w = min(title_metrics.horizontalAdvance(v.type_name), NODE_WIDTH - 70)
        title = title_metrics.elidedText(v.type_name, Qt.TextElideMode.ElideRight, title_w + 1)
        painter.drawText(QRectF(28, 0, title_w + 2, HEADER_HEIGHT),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, title)
        small = style.body_font()
        small_metrics = QFontMetricsF(small)
        painter.setFont(small)
        painter.setPen(QColor(255, 255, 255, 215))
        id_left = 28 + title_w + 8
        id_right = NODE_WIDTH - (16 if v.problems else 8)
        node_id = small_metrics.elidedText(v.node_id, Qt.TextElideMode.ElideMiddle,
                                           max(0.0, id_right - id_left))
        painter.drawText(QRectF(id_left, 0, id_right - id_left, HEADER_HEIGHT),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, node_id)

        # body: key parameters, then output shape and parameter count
        body = style.body_font()
        metrics = QFontMetricsF(body)
        painter.setFont(body)
        y = HEADER_HEIGHT + 6
        left = TEXT_LEFT_NUMBERED if v.input_ports > 1 else TEXT_LEFT
        width = NODE_WIDTH - left - TEXT_RIGHT
        for name, value in v.key_params:
            painter.setPen(style.TEXT_MUTED)
            painter.drawText(QRectF(left, y, width, LINE_HEIGHT),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name)
            value_w = width - metrics.horizontalAdvance(name) - 8
            painter.setPen(style.TEXT)
            painter.drawText(QRectF(left, y, width, LINE_HEIGHT),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                             metrics.elidedText(value, Qt.TextElideMode.ElideRight, value_w))
            y += LINE_HEIGHT
        if v.key_params:
            painter.setPen(QPen(QColor("#e5e8ec"), 1))
            painter.drawLine(QPointF(left, y + 3), QPointF(NODE_WIDTH - TEXT_RIGHT, y + 3))
        y += 7
        bold = style.body_font()
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(style.TEXT if v.shape_text != "?" else style.TEXT_MUTED)
        shape = QFontMetricsF(bold).elidedText("→ " + v.shape_text, Qt.TextElideMode.ElideRight,
                                               width)
        painter.drawText(QRectF(left, y, width, LINE_HEIGHT),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, shape)
        y += LINE_HEIGHT
        painter.setFont(body)
        painter.setPen(style.TEXT_MUTED)
        painter.drawText(QRectF(left, y, width, LINE_HEIGHT),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         v.params_text)

        # port numbers for nodes with several inputs (order matters for Concatenate)
        if len(self.input_ports) > 1:
            painter.setFont(style.small_font())
            painter.setPen(style.TEXT_MUTED)
            for i in range(len(self.input_ports)):
                painter.drawText(QRectF(PORT_RADIUS + 1, port_y(i) - 7, 12, 14),
                                 Qt.AlignmentFlag.AlignCenter, str(i))

        # outline: selection > problem > hover > plain
        if self.isSelected():
            pen = QPen(style.ACCENT, 2.2)
        elif v.problems:
            pen = QPen(style.ERROR, 1.6)
        elif self._hover:
            pen = QPen(color, 1.4)
        else:
            pen = QPen(style.NODE_BORDER, 1)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(card, CORNER_RADIUS, CORNER_RADIUS)


class PortItem(QGraphicsItem):
    """An input slot (kind "in", left edge) or the output (kind "out", right edge)."""

    HIT_RADIUS = PORT_RADIUS + 4

    def __init__(self, node: NodeItem, kind: str, index: int):
        super().__init__(node)
        self.node = node
        self.kind = kind
        self.index = index
        self.connected = False
        self.highlighted = False
        self.setAcceptHoverEvents(True)
        self.setZValue(1)
        self.setCursor(Qt.CursorShape.CrossCursor)

    @property
    def node_id(self) -> str:
        return self.node.node_id

    def set_highlighted(self, on: bool) -> None:
        if on != self.highlighted:
            self.highlighted = on
            self.update()

    def boundingRect(self) -> QRectF:
        r = self.HIT_RADIUS
        return QRectF(-r, -r, 2 * r, 2 * r)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addEllipse(self.boundingRect())
        return path

    def hoverEnterEvent(self, event) -> None:
        self.set_highlighted(True)

    def hoverLeaveEvent(self, event) -> None:
        self.set_highlighted(False)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = PORT_RADIUS + (1.5 if self.highlighted else 0)
        if self.highlighted:
            painter.setPen(QPen(style.ACCENT, 2))
            painter.setBrush(style.ACCENT.lighter(170))
        else:
            painter.setPen(QPen(style.EDGE, 1.6))
            painter.setBrush(style.EDGE if self.connected else style.PORT_FILL)
        painter.drawEllipse(QPointF(0, 0), r, r)


class BadgeItem(QGraphicsItem):
    """The red problem badge at a node's top-right corner; its tooltip lists the problems
    and a click offers the repairs (handled by the view)."""

    def __init__(self, node: NodeItem):
        super().__init__(node)
        self.node = node
        self.setZValue(3)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAcceptHoverEvents(True)
        self.setVisible(False)

    @property
    def node_id(self) -> str:
        return self.node.node_id

    def boundingRect(self) -> QRectF:
        r = BADGE_RADIUS + 1
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("white"), 1.5))
        painter.setBrush(style.ERROR)
        painter.drawEllipse(QPointF(0, 0), BADGE_RADIUS, BADGE_RADIUS)
        font = style.title_font()
        painter.setFont(font)
        painter.setPen(QColor("white"))
        painter.drawText(self.boundingRect(), Qt.AlignmentFlag.AlignCenter, "!")


LANE_TURN = 24.0  # how far a wrapped edge runs out before turning into its lane
LANE_GAP = 9.0    # its lane's height above the target's card


def curve(p1: QPointF, p2: QPointF, lane: float | None = None) -> QPainterPath:
    """The connection from an output at p1 to an input at p2, leaving and entering
    horizontally. A target to the left of its source (a chain wrapped onto the next row) is
    reached along a horizontal lane between the rows (at `lane` when given) rather than
    across the cards."""
    path = QPainterPath(p1)
    if p2.x() >= p1.x() + 2 * LANE_TURN:
        dx = max((p2.x() - p1.x()) * 0.5, 40.0)
        path.cubicTo(QPointF(p1.x() + dx, p1.y()), QPointF(p2.x() - dx, p2.y()), p2)
        return path
    if lane is not None:
        pass
    elif abs(p2.y() - p1.y()) >= 2 * LANE_TURN:
        lane = (p1.y() + p2.y()) / 2
    else:  # same row: pass underneath
        lane = max(p1.y(), p2.y()) + 3 * LANE_TURN
    r = LANE_TURN
    a, b = QPointF(p1.x() + r, lane), QPointF(p2.x() - r, lane)
    path.cubicTo(QPointF(p1.x() + 2 * r, p1.y()), QPointF(p1.x() + 2 * r, lane), a)
    path.lineTo(b)
    path.cubicTo(QPointF(p2.x() - 2 * r, lane), QPointF(p2.x() - 2 * r, p2.y()), p2)
    return path


class EdgeItem(Hoverable, QGraphicsItem):
    """A curve from source's output to target's input `port`, drawn under the nodes, with a
    small label of the tensor shape it carries."""

    def __init__(self, source: NodeItem, target: NodeItem, port: int):
        super().__init__()
        self.source = source
        self.target = target
        self.port = port
        self.label = ""
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(0)
        self.setAcceptHoverEvents(True)
        self._path = QPainterPath()
        self._label_rect = QRectF()
        self.drop_target = False   # a layer dragged from the palette would go in here
        self.update_path()

    @property
    def key(self) -> tuple[str, str]:
        return self.source.node_id, self.target.node_id

    def set_drop_target(self, on: bool) -> None:
        if on != self.drop_target:
            self.drop_target = on
            self.update()

    def set_label(self, text: str) -> None:
        if text != self.label:
            self.prepareGeometryChange()
            self.label = text
            self._place_label()
            self.update()
        s, t = self.key
        self.setToolTip(f"{s} → {t} (input {self.port}): {text or 'shape unknown'}")

    def update_path(self) -> None:
        self.prepareGeometryChange()
        self._path = curve(self.source.output_port_pos(), self.target.input_port_pos(self.port),
                           self._lane())
        self._place_label()

    def _lane(self) -> float | None:
        """Just above the target's row when it lies below the source (a wrapped chain)."""
        above, below = self.source.sceneBoundingRect(), self.target.sceneBoundingRect()
        if below.top() - above.bottom() > 0:
            return below.top() - LANE_GAP
        return None

    def _place_label(self) -> None:
        if not self.label:
            self._label_rect = QRectF()
            return
        metrics = QFontMetricsF(style.small_font())
        w = metrics.horizontalAdvance(self.label) + 10
        h = metrics.height() + 3
        c = self._path.pointAtPercent(0.5)
        self._label_rect = QRectF(c.x() - w / 2, c.y() - h / 2, w, h)

    def path(self) -> QPainterPath:
        return self._path

    def boundingRect(self) -> QRectF:
        r = self._path.boundingRect().adjusted(-3, -3, 3, 3)
        return r.united(self._label_rect) if self.label else r

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        shape = stroker.createStroke(self._path)
        if self.label:
            shape.addRect(self._label_rect)
        return shape

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        lit = self.isSelected() or self.drop_target
        color = style.ACCENT if lit else (
            style.EDGE.darker(130) if self._hover else style.EDGE)
        painter.setPen(QPen(color, 2.4 if lit else 1.7,
                            Qt.PenStyle.DashLine if self.drop_target else Qt.PenStyle.SolidLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self.label:
            painter.setPen(QPen(color if self.isSelected() else QColor("#d5dae1"), 1))
            painter.setBrush(style.EDGE_LABEL_BACKGROUND)
            r = self._label_rect
            painter.drawRoundedRect(r, r.height() / 2, r.height() / 2)
            painter.setFont(style.small_font())
            painter.setPen(style.TEXT_MUTED)
            painter.drawText(r, Qt.AlignmentFlag.AlignCenter, self.label)


class TempEdgeItem(QGraphicsItem):
    """The dashed curve that follows the mouse while a connection is dragged."""

    def __init__(self, start: QPointF, reverse: bool = False):
        super().__init__()
        self.start = start
        self.end = start
        self.reverse = reverse  # dragged from an input: the curve ends at `start`
        self.valid = False
        self.setZValue(5)
        self._path = QPainterPath()

    def set_end(self, end: QPointF, valid: bool) -> None:
        self.prepareGeometryChange()
        self.end = end
        self.valid = valid
        self._path = curve(end, self.start) if self.reverse else curve(self.start, end)
        self.update()

    def boundingRect(self) -> QRectF:
        return self._path.boundingRect().adjusted(-3, -3, 3, 3)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(style.ACCENT if self.valid else style.EDGE, 2, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(QBrush())
        painter.drawPath(self._path)
