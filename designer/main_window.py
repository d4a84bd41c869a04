"""The main window: canvas in the middle, palette and inspector docks, menus, tool bar, status
bar, clipboard, and the window layout remembered between runs (QSettings).

It owns no graph logic: edits go through the document's intents, file work through
`files.FileController`. Training (Train menu, panel, plots) is added by
`training.actions.install_training`, File ▸ Export / Import ONNX by `model_io`.
"""
from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QByteArray, QMimeData, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QToolBar,
    QWidget,
)

import nnengine
from nnengine import Graph

from . import icons
from .analyze_dialog import AnalyzeDialog
from .backprop import install_backprop_tools
from .canvas.export import export_picture, picture_png
from .canvas.view import CanvasView
from .dock_share import DockShare
from .document import GraphDocument
from .files import FileController, short
from .gallery import EXAMPLE, TemplateGallery, example_graph
from .help import install_help
from .inspector import Inspector
from .layout import COLUMN_SPACING, ROW_SPACING, clear_offset
from .lesson_panel import LessonText
from .lessons import Card, card_for_path
from .model_io import install_model_io
from .palette import Palette
from .plot_export import export_page
from .reset_weights import install_reset_weights
from .run_report import save_report
from .runs.actions import install_runs
from .screen_fit import resize_to_fit
from .status_progress import install_status_progress
from .training.actions import install_training

APP_NAME = "NN Designer"
FRAGMENT_MIME = "application/x-nnengine-fragment"
STATUS_TIMEOUT_MS = 6000
PLOTS_SHARE = 1 / 3   # of the window's height, kept as the window is resized
FIRST_SIZE = QSize(1440, 900)
COMPACT_WIDTH = 1280  # a first start narrower than this tabs the side docks together
COMPACT_PLOTS_SHARE = 0.45


class MainWindow(QMainWindow):
    """`settings` and `recovery_dir` default to the user's; tests pass temporary ones."""

    def __init__(self, settings: QSettings | None = None, recovery_dir: Path | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings if settings is not None else QSettings()
        self.document = GraphDocument(parent=self)
        self.view = CanvasView(self.document)
        self.setCentralWidget(self.view)
        self.palette = Palette()
        self.inspector = Inspector(self.document)
        self.palette_dock = self.add_dock("palette", "Layers", self.palette,
                                          Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector_dock = self.add_dock("inspector", "Inspector", self.inspector,
                                            Qt.DockWidgetArea.RightDockWidgetArea)
        self.lesson = LessonText()
        self.lesson_dock = self.add_dock("lesson", "Lesson", self.lesson,
                                         Qt.DockWidgetArea.LeftDockWidgetArea)
        self.splitDockWidget(self.palette_dock, self.lesson_dock, Qt.Orientation.Vertical)
        self.files = FileController(self.document, self.settings, self, recovery_dir)
        self.files.stage = self.view.scene().stage
        self.actions: dict[str, QAction] = {}
        self._paste_in_place = False
        self._create_actions()
        self._create_menus()
        self._create_tool_bar()
        self._create_status_bar()
        self._connect()
        self.training_actions = install_training(self)
        self.status_progress = install_status_progress(self.statusBar(), self.training)
        install_reset_weights(self)
        self.add_action("export_plot", "Export the &Plot in View…", self.export_plot, None,
                        None, "Save the training plot in view as PNG or SVG, or its data as CSV")
        self.training_actions.menu.addAction(self.actions["export_plot"])
        self.add_action("run_report", "Save a Run &Report…", self.save_run_report, None, None,
                        "The run in view as one HTML file: the network, settings, curves, "
                        "confusion matrix, test metrics and run card")
        self.training_actions.menu.addAction(self.actions["run_report"])
        self.model_io = install_model_io(self)
        self.backprop_tools = install_backprop_tools(self)
        self.runs = install_runs(self)
        self._restore_layout()
        self._update_title()
        self._update_status()

    # --- construction --------------------------------------------------------------------
    def add_dock(self, name: str, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{name}_dock")  # saveState() keys docks by object name
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def add_action(self, key: str, text: str, slot, shortcut=None, icon: str | None = None,
                   tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        if icon:
            action.setIcon(icons.icon(icon))
        if tip:
            action.setStatusTip(tip)
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{tip} ({keys})" if keys else tip)
        action.triggered.connect(slot)
        self.actions[key] = action
        return action

    def _create_actions(self) -> None:
        K = QKeySequence.StandardKey
        a = self.add_action
        a("new", "&New", lambda: self.files.new(), K.New, "new", "Start an empty graph")
        a("template", "New from &Template…", self.new_from_template, "Ctrl+Shift+N",
          "templates", "Start from an example network")
        a("open", "&Open…", lambda: self.files.open(), K.Open, "open",
          "Open a graph, project or model bundle")
        a("save", "&Save", self.files.save, K.Save, "save", "Save the graph")
        a("save_as", "Save &As…", lambda: self.files.save_as(), "Ctrl+Shift+S", "save_as",
          "Save the graph under a new name")
        a("quit", "&Quit", self.close, K.Quit)
        undo = self.document.undo_stack.createUndoAction(self, "Undo")
        undo.setShortcuts([QKeySequence(K.Undo)])
        undo.setIcon(icons.icon("undo"))
        redo = self.document.undo_stack.createRedoAction(self, "Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Y"), QKeySequence("Ctrl+Shift+Z")])
        redo.setIcon(icons.icon("redo"))
        self.actions["undo"], self.actions["redo"] = undo, redo
        a("cut", "Cu&t", self.cut, K.Cut, "cut", "Cut the selected layers")
        a("copy", "&Copy", self.copy, K.Copy, "copy", "Copy the selected layers")
        a("paste", "&Paste", self.paste, K.Paste, "paste", "Paste layers")
        a("duplicate", "&Duplicate", self.duplicate, "Ctrl+D", "duplicate",
          "Duplicate the selected layers")
        a("delete", "&Delete", self.delete_selection, [QKeySequence.StandardKey.Delete,
                                                       "Backspace"],
          "delete", "Delete the selected layers and connections")
        a("select_all", "Select &All", self.select_all, K.SelectAll)
        a("fit", "&Fit to Window", self.view.fit_all, "F", "fit", "Show the whole graph")
        a("zoom_in", "Zoom &In", lambda: self._zoom(1.25), [K.ZoomIn, "Ctrl+="], "zoom_in",
          "Zoom in")
        a("zoom_out", "Zoom &Out", lambda: self._zoom(0.8), K.ZoomOut, "zoom_out", "Zoom out")
        a("export_picture", "Export Graph &Picture…", self.export_picture, "Ctrl+Shift+E",
          None, "Save the graph, or the selected layers, as a PNG or SVG picture")
        a("analyze", "&Analyze…", self.analyze, "Ctrl+I", None,
          "A table of every layer: output shape, parameters, multiply-adds, memory")
        a("about", f"&About {APP_NAME}", self.about)
        for action in self.actions.values():
            # Shortcuts work wherever focus is in this window (line edits still take their
            # own editing keys first, through ShortcutOverride).
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)

    def _create_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.file_menu = file_menu
        for key in ("new", "template", "open"):
            file_menu.addAction(self.actions[key])
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.actions["save"])
        file_menu.addAction(self.actions["save_as"])
        file_menu.addAction(self.actions["export_picture"])
        file_menu.addSeparator()
        file_menu.addAction(self.actions["quit"])
        edit = bar.addMenu("&Edit")
        edit.addAction(self.actions["undo"])
        edit.addAction(self.actions["redo"])
        edit.addSeparator()
        for key in ("cut", "copy", "paste", "duplicate", "delete"):
            edit.addAction(self.actions[key])
        edit.addSeparator()
        edit.addAction(self.actions["select_all"])
        view = bar.addMenu("&View")
        for key in ("fit", "zoom_in", "zoom_out"):
            view.addAction(self.actions[key])
        view.addSeparator()
        view.addAction(self.actions["analyze"])
        view.addSeparator()
        self.view_menu = view
        self.help_menu = bar.addMenu("&Help")
        install_help(self)

    def _create_tool_bar(self) -> None:
        bar = QToolBar("Tool bar", self)
        bar.setObjectName("main_toolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        groups = (("new", "template", "open", "save"), ("undo", "redo"),
                  ("cut", "copy", "paste", "delete"), ("fit", "zoom_in", "zoom_out"))
        for i, group in enumerate(groups):
            if i:
                bar.addSeparator()
            for key in group:
                bar.addAction(self.actions[key])
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.tool_bar = bar
        for dock in (self.palette_dock, self.inspector_dock):
            self.view_menu.addAction(dock.toggleViewAction())
        self.view_menu.addAction(bar.toggleViewAction())

    def _create_status_bar(self) -> None:
        self.summary_label = QLabel()
        self.summary_label.setContentsMargins(8, 0, 8, 0)
        self.statusBar().addPermanentWidget(self.summary_label)

    def _connect(self) -> None:
        doc = self.document
        doc.analysis_changed.connect(self._update_status)
        doc.clean_changed.connect(lambda _clean: self._update_title())
        doc.path_changed.connect(self._update_title)
        doc.graph_reset.connect(self._update_title)
        self.view.selection_changed.connect(self.inspector.show_nodes)
        self.view.selection_changed.connect(lambda _ids: self._update_edit_actions())
        self.view.status_message.connect(self.show_message)
        self.view.node_activated.connect(self._node_activated)
        self.palette.layer_activated.connect(self.add_layer_after_selection)
        self.palette.loss_chosen.connect(self.set_loss)
        self.files.opened.connect(lambda: QTimer.singleShot(0, self.view.fit_all))
        # A template file opened by path shows its lesson; any other graph none.
        self.files.opened.connect(lambda: self.show_lesson(card_for_path(self.document.path)))
        self._update_edit_actions()

    # --- title and status ----------------------------------------------------------------
    def _update_title(self) -> None:
        where = short(self.document.path.name) if self.document.path else "not saved"
        self.setWindowTitle(f"{short(self.document.graph.name)} — {where}[*] — {APP_NAME}")
        self.setWindowModified(self.document.is_modified)

    def _update_status(self) -> None:
        analysis = self.document.analysis
        n = len(self.document.graph)
        layers = f"{n} layer{'s' if n != 1 else ''}"
        if n == 0:
            self.summary_label.setText("Empty graph: drag an Input from the palette to begin")
            self.summary_label.setToolTip("")
        elif analysis.problems:
            k = len(analysis.problems)
            self.summary_label.setText(
                f"{layers} · <span style='color:#c0362c'><b>{k} problem{'s' if k != 1 else ''}"
                "</b></span>")
            self.summary_label.setToolTip("\n".join(str(p) for p in analysis.problems[:20]))
        else:
            self.summary_label.setText(f"{layers} · {analysis.total_params:,} parameters")
            self.summary_label.setToolTip("Trainable and non-trainable weights of every layer")

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, STATUS_TIMEOUT_MS)

    def _update_edit_actions(self) -> None:
        has_selection = bool(self.view.selected_node_ids())
        for key in ("cut", "copy", "duplicate"):
            self.actions[key].setEnabled(has_selection)

    # --- editing -------------------------------------------------------------------------
    def _refused(self, fallback: str) -> None:
        self.show_message(self.document.last_error or fallback)

    def add_layer_after_selection(self, type_name: str,
                                  params: dict | None = None) -> str | None:
        """Add a layer after the selected node, or after the current output when nothing is
        selected, connected, as one undo step: into its connection when it feeds exactly
        one layer, else to its right. Selects the new layer and scrolls it into view."""
        doc = self.document
        selected = self.view.selected_node_ids()
        sinks = doc.graph.sinks()
        anchor = selected[-1] if selected else (doc.analysis.output_id
                                                or (sinks[-1] if sinks else None))
        try:
            is_input = nnengine.layer_spec(type_name).is_input
        except KeyError:
            is_input = False
        after = list(doc.graph.nx.successors(anchor)) if anchor and not is_input else []
        if len(after) == 1:
            return self.view.insert_on_edge(type_name, (anchor, after[0]), params)
        if anchor is not None and not is_input:
            x, y = doc.position(anchor)
            position = self._free_spot(x + COLUMN_SPACING, y)
        else:
            centre = self.view.mapToScene(self.view.viewport().rect().center())
            position = self._free_spot(centre.x() - 100, centre.y() - 40)
        node_id = doc.add_node(type_name, position, params,
                               connect_from=None if is_input else anchor)
        if node_id is None:
            self._refused(f"cannot add {type_name}")
            return None
        self.view.select_nodes([node_id])
        self.view.reveal([node_id])
        return node_id

    def set_loss(self, loss: str) -> None:
        """A loss chosen in the palette: train with it (one undo step), shown in Training."""
        if self.document.set_training({**self.document.graph.training, "loss": loss}):
            self.training_dock.show()
            self.training_dock.raise_()
            self.show_message(f"Training loss set to {loss}")

    def _free_spot(self, x: float, y: float) -> tuple[float, float]:
        """(x, y), or the first place below it that no node occupies."""
        taken = [self.document.position(n) for n in self.document.graph.node_ids()]
        while any(abs(px - x) < COLUMN_SPACING * 0.6 and abs(py - y) < ROW_SPACING * 0.6
                  for px, py in taken):
            y += ROW_SPACING
        return (x, y)

    def delete_selection(self) -> None:
        """Delete the selected nodes (with their edges) and the selected edges."""
        self.view.delete_selection()

    def select_all(self) -> None:
        self.view.select_nodes(self.document.graph.node_ids())

    def copy(self) -> bool:
        ids = self.view.selected_node_ids()
        if not ids:
            self.show_message("Select layers to copy first")
            return False
        fragment = self.document.fragment(ids)
        mime = QMimeData()
        mime.setData(FRAGMENT_MIME, QByteArray(json.dumps(fragment).encode("utf-8")))
        mime.setText(json.dumps(fragment, indent=2))
        QApplication.clipboard().setMimeData(mime)
        self._paste_in_place = False
        n = len(fragment["nodes"])
        self.show_message(f"Copied {n} layer{'s' if n != 1 else ''}")
        return True

    def cut(self) -> None:
        if self.copy():
            self.delete_selection()
            self._paste_in_place = True  # the first paste after a cut goes back in place

    def paste(self) -> list[str]:
        mime = QApplication.clipboard().mimeData()
        if mime is None or not mime.hasFormat(FRAGMENT_MIME):
            self.show_message("The clipboard holds no layers to paste")
            return []
        try:
            fragment = json.loads(bytes(mime.data(FRAGMENT_MIME).data()).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            self.show_message("The clipboard's layers cannot be read")
            return []
        offset = (0.0, 0.0) if self._paste_in_place else clear_offset(
            [self.document.position(n) for n in self.document.graph.node_ids()],
            _fragment_positions(fragment))
        ids = self.document.paste(fragment, offset)
        if not ids:
            self._refused("nothing to paste")
            return []
        self._paste_in_place = False
        self.view.select_nodes(ids)
        self.view.reveal(ids)
        return ids

    def duplicate(self) -> list[str]:
        ids = self.document.duplicate(self.view.selected_node_ids())
        if ids:
            self.view.select_nodes(ids)
        else:
            self._refused("select layers to duplicate first")
        return ids

    def _zoom(self, factor: float) -> None:
        self.view.set_zoom(self.view.zoom() * factor)

    def _node_activated(self, node_id: str) -> None:
        """Double-click on a node: bring the inspector forward to edit it."""
        self.inspector_dock.show()
        self.inspector_dock.raise_()
        self.inspector.setFocus()

    # --- files ---------------------------------------------------------------------------
    def new_from_template(self) -> bool:
        gallery = TemplateGallery(self)
        if gallery.exec() != QDialog.DialogCode.Accepted or gallery.chosen() is None:
            return False
        return self.open_lesson(gallery.chosen())

    def open_lesson(self, card: Card) -> bool:
        """A new graph from a lesson card (the gallery, Help ▸ Lessons), its lesson shown
        beside the canvas."""
        if not self.files.new(card.graph()):
            return False
        self.show_lesson(card)
        return True

    def show_lesson(self, card: Card | None) -> None:
        self.lesson.show_card(card)
        if card is not None:
            self.lesson_dock.show()

    def analyze(self) -> AnalyzeDialog:
        dialog = AnalyzeDialog(self.document, self)
        dialog.show()
        return dialog

    def export_picture(self, path: str | None = None) -> bool:
        """The graph, or the selected layers when there are some, as PNG or SVG."""
        ids = self.view.selected_node_ids()
        what = "the selected layers" if ids else "the graph"
        if path is None:
            path, chosen = QFileDialog.getSaveFileName(
                self, f"Export {what} as a picture", self.document.graph.name,
                "PNG image (*.png);;SVG drawing (*.svg)")
            if path and not path.lower().endswith((".png", ".svg")):
                path += ".svg" if "svg" in chosen else ".png"
        if not path:
            return False
        try:
            written = export_picture(self.view.scene(), path, ids or None)
        except (OSError, ValueError) as e:
            self.show_message(f"Could not export the picture: {e}")
            return False
        self.show_message(f"Saved {what} to {written}")
        return True

    def export_plot(self, path: str | None = None) -> bool:
        """The training plot in view as PNG or SVG, or its data as CSV."""
        if path is None:
            path, chosen = QFileDialog.getSaveFileName(
                self, "Export the plot in view", "plot",
                "PNG image (*.png);;SVG drawing (*.svg);;CSV data (*.csv)")
            if path and not path.lower().endswith((".png", ".svg", ".csv")):
                path += next(f".{k}" for k in ("svg", "csv", "png") if k in chosen.lower()
                             or k == "png")
        if not path:
            return False
        try:
            written = export_page(self.dashboard, path)
        except (OSError, ValueError) as e:
            self.show_message(f"Could not export the plot: {e}")
            return False
        self.show_message(f"Saved the plot to {written}")
        return True

    def save_run_report(self, path: str | None = None) -> bool:
        """The run shown (or the last one recorded) as one self-contained HTML file."""
        store = self.runs.store
        run = store.shown or self.runs.recorder.last or (store.runs[-1] if store.runs else None)
        if run is None:
            self.show_message("Train the network first: a report describes a run")
            return False
        if path is None:
            path = QFileDialog.getSaveFileName(self, "Save a run report",
                                               f"{run.graph.name} report.html",
                                               "HTML (*.html)")[0]
        if not path:
            return False
        if not path.lower().endswith((".html", ".htm")):
            path += ".html"
        try:
            written = save_report(run, path, picture_png(self.view.scene()))
        except OSError as e:
            self.show_message(f"Could not save the report: {e}")
            return False
        self.show_message(f"Saved the run report to {written}")
        return True

    def open_example(self) -> None:
        """Show the built-in example (first start without a file)."""
        try:
            graph: Graph = example_graph()
        except Exception as e:  # noqa: BLE001 - a missing example must not stop the app
            self.show_message(f"The example could not be loaded: {e}")
            return
        self.document.new(graph)
        self.show_lesson(card_for_path(EXAMPLE))
        QTimer.singleShot(0, self.view.fit_all)

    def _fill_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        paths = self.files.recent.paths()
        for i, path in enumerate(paths, start=1):
            action = menu.addAction(f"&{i % 10}  {path.name}    ({_short_dir(path)})")
            action.setToolTip(str(path))
            action.triggered.connect(lambda _checked=False, p=path: self.files.open(p))
        if not paths:
            menu.addAction("No recent files").setEnabled(False)
            return
        menu.addSeparator()
        menu.addAction("Clear Recent Files", self.files.recent.clear)

    def about(self) -> None:
        QMessageBox.about(
            self, f"About {APP_NAME}",
            f"<h3>{APP_NAME}</h3><p>Design neural networks by drawing them, train them on a "
            "pure-NumPy engine, and watch them learn.</p><p>Drag layers from the palette, "
            "connect output ports to input ports, and edit parameters in the inspector.</p>")

    # --- layout and closing --------------------------------------------------------------
    def _restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if geometry is None or not self.restoreGeometry(geometry):
            # 1440x900, or less on a smaller screen: a bigger window on a 1024x700 screen
            # hides the inspector and the plots
            resize_to_fit(self, FIRST_SIZE)
        self._fresh_layout = state is None   # first start: laid out for the window's width
        if state is not None:
            self.restoreState(state)
        else:
            self.resizeDocks([self.palette_dock, self.inspector_dock],
                             [self.palette.minimumWidth(), 330], Qt.Orientation.Horizontal)
            # the plots need room to be read: about a third of the window's height
            self.resizeDocks([self.plots_dock], [self.height() // 3], Qt.Orientation.Vertical)
            # the lesson is read while working: as tall as the palette beside the canvas
            self.resizeDocks([self.palette_dock, self.lesson_dock], [1, 1],
                             Qt.Orientation.Vertical)
        self.plots_share = DockShare(self, self.plots_dock, PLOTS_SHARE)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._fresh_layout:
            self._fresh_layout = False
            if self.width() < COMPACT_WIDTH:
                self.compact_layout()

    def compact_layout(self) -> None:
        """For a small screen: the lesson behind the palette and the runs behind the
        inspector, as tabs, so the canvas and the plots get the whole width."""
        self.tabifyDockWidget(self.palette_dock, self.lesson_dock)
        self.tabifyDockWidget(self.inspector_dock, self.runs.dock)
        self.palette_dock.raise_()
        self.inspector_dock.raise_()
        self.plots_share.share = COMPACT_PLOTS_SHARE   # a third of a small window is too little
        self.plots_share.apply()

    def save_layout(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.files.confirm_discard():
            event.ignore()
            return
        self.training.shutdown()
        self.save_layout()
        self.files.autosaver.discard()
        # No selection left to announce while the scene's items are destroyed with the window.
        self.view.scene().clearSelection()
        event.accept()


def _fragment_positions(fragment: object) -> list[tuple[float, float]]:
    """The positions in a clipboard fragment, skipping any that cannot be read."""
    out = []
    for node in fragment.get("nodes", []) if isinstance(fragment, dict) else []:
        try:
            x, y = node.get("position") or (0.0, 0.0)
            out.append((float(x), float(y)))
        except (AttributeError, TypeError, ValueError):
            continue
    return out


def _short_dir(path: Path) -> str:
    home = Path.home()
    parent = path.parent
    try:
        return "~/" + str(parent.relative_to(home)) if parent != home else "~"
    except ValueError:
        return str(parent)


