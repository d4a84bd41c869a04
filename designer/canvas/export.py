"""The canvas as a picture: PNG (twice the screen resolution) or SVG, of the whole graph or
of the selected nodes and the connections among them.

The scene is rendered as it is drawn on screen, minus the grid, the selection highlight and
anything outside the chosen nodes, on the canvas' background colour.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator

from .. import style
from .scene import CanvasScene

MARGIN = 30.0
PNG_SCALE = 2.0
FORMATS = ("png", "svg")


def picture_rect(scene: CanvasScene, node_ids: list[str] | None) -> QRectF:
    """The scene area the picture shows (the chosen nodes and their inner edges)."""
    rect = QRectF()
    for item in _shown_items(scene, node_ids):
        rect = rect.united(item.sceneBoundingRect())
    return rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN) if not rect.isEmpty() else rect


def export_picture(scene: CanvasScene, path: str | Path,
                   node_ids: list[str] | None = None) -> Path:
    """Write the graph (or only `node_ids`) to `path`; its suffix (.png or .svg) decides the
    format. Raises ValueError for an unknown suffix or an empty graph, OSError when the
    file cannot be written."""
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    if kind not in FORMATS:
        raise ValueError(f"{path.name}: choose a .png or .svg file name")
    rect = picture_rect(scene, node_ids)
    if rect.isEmpty():
        raise ValueError("there is nothing to export: the graph is empty")
    shown = set(map(id, _shown_items(scene, node_ids)))
    hidden = [i for i in list(scene.nodes.values()) + list(scene.edges.values())
              if id(i) not in shown and i.isVisible()]
    selected = scene.selectedItems()
    scene.clearSelection()
    for item in hidden:
        item.setVisible(False)
    try:
        if kind == "png":
            _write_png(scene, rect, path)
        else:
            _write_svg(scene, rect, path)
    finally:
        for item in hidden:
            item.setVisible(True)
        for item in selected:
            item.setSelected(True)
    return path


def _shown_items(scene: CanvasScene, node_ids: list[str] | None) -> list:
    if not node_ids:
        return list(scene.nodes.values()) + list(scene.edges.values())
    chosen = set(node_ids)
    nodes: list = [scene.nodes[n] for n in node_ids if n in scene.nodes]
    return nodes + [e for (s, t), e in scene.edges.items() if s in chosen and t in chosen]


def _paint(scene: CanvasScene, rect: QRectF, painter: QPainter, target: QRectF) -> None:
    painter.setRenderHints(QPainter.RenderHint.Antialiasing
                           | QPainter.RenderHint.TextAntialiasing)
    painter.fillRect(target, style.CANVAS_BACKGROUND)
    scene.render(painter, target, rect, Qt.AspectRatioMode.KeepAspectRatio)


def picture_png(scene: CanvasScene) -> bytes:
    """The whole graph as PNG bytes (for a report); empty for an empty graph."""
    rect = picture_rect(scene, None)
    if rect.isEmpty():
        return b""
    selected = scene.selectedItems()
    scene.clearSelection()
    try:
        image = _image(scene, rect)
    finally:
        for item in selected:
            item.setSelected(True)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data)


def _image(scene: CanvasScene, rect: QRectF) -> QImage:
    size = QSize(int(rect.width() * PNG_SCALE), int(rect.height() * PNG_SCALE))
    # The image keeps the screen's 96 dpi: at twice that, fonts sized in points would grow
    # twice over (the painter already scales by PNG_SCALE) and spill out of their cards.
    image = QImage(size, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _paint(scene, rect, painter, QRectF(0, 0, size.width(), size.height()))
    finally:
        painter.end()
    return image


def _write_png(scene: CanvasScene, rect: QRectF, path: Path) -> None:
    if not _image(scene, rect).save(str(path), "PNG"):
        raise OSError(f"could not write {path}")


def _write_svg(scene: CanvasScene, rect: QRectF, path: Path) -> None:
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(rect.size().toSize())
    generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
    generator.setTitle(scene.document.graph.name)
    generator.setDescription("A neural network drawn by NN Designer")
    painter = QPainter()
    if not painter.begin(generator):
        raise OSError(f"could not write {path}")
    try:
        _paint(scene, rect, painter, QRectF(0, 0, rect.width(), rect.height()))
    finally:
        painter.end()
    if not path.exists():
        raise OSError(f"could not write {path}")


__all__ = ["FORMATS", "export_picture", "picture_png", "picture_rect"]
