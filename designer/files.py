"""Everything between the document and the disk: open, save, save as, recent files, the
"unsaved changes" prompt, and autosave to a recovery file that is offered back after a crash.

The document does the reading and writing (`GraphDocument.load/save`); this module decides
when, asks the user, and reports failures as a dialog with the engine's one-sentence message.
"""
from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from PySide6.QtCore import QEventLoop, QObject, QSettings, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog, QWidget

from nnengine import Analysis, Graph, NNEngineError, load_graph, save_graph

from .document import prepare
from .worker_garbage import collect_before_worker

if TYPE_CHECKING:
    from .document import GraphDocument

DATA_DIR_ENV = "NN_DESIGNER_DATA_DIR"
FILE_FILTER = "Graph files (*.json);;All files (*)"
OPEN_FILTER = ("Graphs, projects and model bundles (*.json *.zip);;Graph files (*.json);;"
               "Projects and model bundles (*.zip);;All files (*)")
AUTOSAVE_INTERVAL_MS = 60_000
# What reading a user's file can raise besides the engine's own errors: missing file, no
# permission, bytes that are not UTF-8 text.
READ_ERRORS = (NNEngineError, OSError, ValueError)


SHOW_PROGRESS_AFTER_MS = 300  # a read that ends sooner shows no dialog at all
SLICE_S = 0.03  # drawing on the GUI thread yields to events this often
NAME_LIMIT = 60
T = TypeVar("T")


def short(text: str, limit: int = NAME_LIMIT) -> str:
    """`text` cut to `limit` characters with an ellipsis: a graph's name or a file name as a
    widget shows it (a name of millions of characters would stall every redraw)."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def read_off_thread(parent: QWidget, label: str, work: Callable[[], T],
                    draw: Callable[[T], Iterator[tuple[str, int, int]]] | None = None
                    ) -> tuple[bool, T | None]:
    """Run `work` (reading and parsing a file) on a worker thread while the window stays
    responsive, with a busy progress dialog and a Cancel button if it takes a while; then,
    with `draw`, run the steps `draw(result)` yields on the GUI thread (drawing what was
    read: each yields (text, done, total)), a time slice between events at a time, with the
    same dialog counting them.

    Returns (True, result), or (False, None) when the user cancelled (the read then ends
    unseen in the background; the budgets of `nnengine.limits` keep it bounded; the drawing
    steps are closed). An error of `work` or `draw` is raised here, on the GUI thread."""
    future = start_reading(work)
    dialog = QProgressDialog(label, "Cancel", 0, 0, parent)
    dialog.setWindowTitle("Reading")
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(SHOW_PROGRESS_AFTER_MS)
    dialog.setAutoReset(False)
    loop = QEventLoop()
    poll = QTimer(dialog)
    poll.setInterval(15)
    poll.timeout.connect(lambda: loop.quit() if future.done() else None)
    dialog.canceled.connect(loop.quit)
    steps = None
    try:
        if not future.done():
            poll.start()
            loop.exec()
        poll.stop()
        cancelled = dialog.wasCanceled() and not future.done()
        if not cancelled and draw is not None:
            steps = draw(future.result())
            cancelled = not _run_in_slices(steps, dialog, loop)
    finally:
        poll.stop()
        if steps is not None:
            steps.close()   # a cancelled drawing drops what it drew
        dialog.close()
        dialog.deleteLater()
    if cancelled:
        future.cancel()
        return False, None
    return True, future.result()


def start_reading(work: Callable[[], T]) -> Future[T]:
    """`work` on a thread of its own that never holds the app: a read the user cancelled
    may block for ever (a named pipe with no writer) without delaying the next read or the
    app's exit, as a shared or non-daemon worker would."""
    future: Future[T] = Future()
    collect_before_worker()

    def run() -> None:
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(work())
            except BaseException as e:  # noqa: BLE001 - handed to the GUI thread
                future.set_exception(e)

    threading.Thread(target=run, name="file-reader", daemon=True).start()
    return future


def _run_in_slices(steps: Iterator[tuple[str, int, int]], dialog: QProgressDialog,
                   loop: QEventLoop) -> bool:
    """Run `steps` in slices of SLICE_S seconds between events until they end (True) or
    the user cancels (False); the dialog shows the last step's text and count."""
    outcome: list[BaseException | None] = []

    def run_slice() -> None:
        end = time.perf_counter() + SLICE_S
        try:
            step = next(steps)
            while time.perf_counter() < end:
                step = next(steps)
            text, done, total = step
            dialog.setLabelText(text)
            dialog.setMaximum(total)
            dialog.setValue(done)   # a modal dialog processes events here
        except StopIteration:
            outcome.append(None)
        except Exception as e:  # noqa: BLE001 - raised again on the GUI thread's caller
            outcome.append(e)
        if outcome:
            loop.quit()
        elif not dialog.wasCanceled():
            tick.start()

    tick = QTimer(dialog)
    tick.setSingleShot(True)
    tick.setInterval(0)
    tick.timeout.connect(run_slice)
    tick.start()
    loop.exec()
    tick.stop()
    if outcome and outcome[0] is not None:
        raise outcome[0]
    return bool(outcome)


def data_dir() -> Path:
    """Where the app keeps its own files (the recovery file): $NN_DESIGNER_DATA_DIR if set,
    else the platform's application data folder."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override)
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(location or Path.home() / ".nn-designer")


class RecentFiles:
    """The most recently used files, newest first, kept in QSettings; missing ones pruned."""

    KEY = "recent_files"

    def __init__(self, settings: QSettings, limit: int = 10):
        self.settings = settings
        self.limit = limit

    def paths(self) -> list[Path]:
        raw = self.settings.value(self.KEY, [])
        if isinstance(raw, str):  # QSettings returns a lone string for one-item lists
            raw = [raw]
        paths = [Path(p) for p in raw or [] if p]
        existing = [p for p in paths if p.is_file()]
        if len(existing) != len(paths):
            self._store(existing)
        return existing

    def add(self, path: Path) -> None:
        path = Path(path).resolve()
        self._store([path] + [p for p in self.paths() if p != path])

    def clear(self) -> None:
        self._store([])

    def _store(self, paths: list[Path]) -> None:
        self.settings.setValue(self.KEY, [str(p) for p in paths[: self.limit]])


@dataclass(frozen=True)
class Recovery:
    """A leftover autosave: the graph file, the file it belonged to, and when it was written."""

    graph_path: Path
    original: Path | None
    saved_at: float

    def when(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))


class Autosaver(QObject):
    """Every `interval_ms`, writes a modified document to the recovery file; removes it as
    soon as the document is clean again (saved, or undone back to the saved state).

    A recovery file left by an earlier run is never removed behind the user's back: only
    `remove()` (the user declined it) or, once `claim()`ed (recovered), a clean save."""

    def __init__(self, document: GraphDocument, directory: Path | None = None,
                 interval_ms: int = AUTOSAVE_INTERVAL_MS, parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        self.directory = Path(directory) if directory is not None else data_dir()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_now)
        self.timer.start()
        self._owned = False  # True once the recovery file holds this session's work
        document.clean_changed.connect(self._clean_changed)

    @property
    def graph_path(self) -> Path:
        return self.directory / "recovery.json"

    @property
    def info_path(self) -> Path:
        return self.directory / "recovery-info.json"

    def save_now(self) -> bool:
        """Write the recovery file if there is unsaved work; True if written."""
        if not self.document.is_modified:
            return False
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            save_graph(self.document.graph, self.graph_path)
            path = self.document.path
            info = {"original": str(path) if path else None, "saved_at": time.time()}
            self.info_path.write_text(json.dumps(info), encoding="utf-8")
        except (OSError, NNEngineError):
            return False  # autosave must never interrupt the user; the next tick retries
        self._owned = True
        return True

    def discard(self) -> None:
        """This session's work is safe (saved, or deliberately dropped): remove its
        recovery file. A leftover from an earlier run stays until it has been offered."""
        if self._owned:
            self.remove()

    def claim(self) -> None:
        """The leftover was recovered into this session: from now on it is ours."""
        self._owned = True

    def remove(self) -> None:
        for p in (self.graph_path, self.info_path):
            p.unlink(missing_ok=True)
        self._owned = False

    def leftover(self) -> Recovery | None:
        """The recovery file a previous run left behind (it crashed or was killed)."""
        if not self.graph_path.is_file():
            return None
        original, saved_at = None, self.graph_path.stat().st_mtime
        try:
            info = json.loads(self.info_path.read_text(encoding="utf-8"))
            original = Path(info["original"]) if info.get("original") else None
            saved_at = float(info.get("saved_at", saved_at))
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return Recovery(self.graph_path, original, saved_at)

    def _clean_changed(self, clean: bool) -> None:
        if clean:
            self.discard()


class SaveCancelled(Exception):
    """The user cancelled a save from a question it asked."""


class Projects(Protocol):
    """What the runs package (runs/project_io.py) adds to the File menu's logic: project
    files (a graph with its runs), and runs whose weights are saved nowhere yet."""

    def unsaved_runs(self) -> int: ...

    def reads(self, path: Path) -> bool:
        """Whether `path` is a project or model bundle (else it is opened as a graph)."""

    def read(self, path: Path) -> Any:
        """Read it (off the GUI thread); raises what reading can raise."""

    def graph_of(self, found: Any) -> Graph:
        """The graph in what `read` found."""

    def apply(self, path: Path, found: Any, analysis: Analysis) -> None:
        """Make what `read` found the document, with its runs (on the GUI thread);
        `analysis` is its graph's, `prepare`d off the GUI thread."""

    def save(self, path: Path, keep_runs: bool | None) -> Path | None:
        """Save the document with its runs when it has any and the user wants them kept
        (None: ask); the path written, or None to save the graph alone. Raises on failure,
        SaveCancelled when the user cancels."""


class FileController(QObject):
    """The File menu's logic. `parent` is the window its dialogs belong to. `projects`
    (set by the runs package) opens and saves project files."""

    opened = Signal()  # a different graph is now in the document (new, open, recover)

    def __init__(self, document: GraphDocument, settings: QSettings, parent: QWidget,
                 recovery_dir: Path | None = None):
        super().__init__(parent)
        self.document = document
        self.window = parent
        self.recent = RecentFiles(settings)
        self.autosaver = Autosaver(document, recovery_dir, parent=self)
        self.projects: Projects | None = None
        # What draws a graph about to be opened, ahead, in steps (the canvas's `stage`).
        self.stage: Callable[[Graph, Analysis], Iterator[tuple[int, int]]] | None = None

    # --- asking before losing work -------------------------------------------------------
    def confirm_discard(self) -> bool:
        """True when it is fine to replace the document (saved, discarded or unchanged)."""
        runs = self.projects.unsaved_runs() if self.projects is not None else 0
        if not self.document.is_modified and not runs:
            return True
        name = short(self.document.path.name if self.document.path else
                     self.document.graph.name)
        text = f"Save the changes to “{name}” before closing it?"
        if runs:
            text = (f"“{name}” has {runs} trained run{'s' * (runs != 1)} whose weights are not "
                    "saved. Save the graph with its runs (a project file) before closing it?")
        answer = QMessageBox.question(
            self.window, "Unsaved changes", text,
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save(keep_runs=True if runs else None)
        return answer == QMessageBox.StandardButton.Discard

    # --- the File menu -------------------------------------------------------------------
    def new(self, graph: Graph | None = None) -> bool:
        """An empty graph, or a copy of `graph` (a template) that has no file yet."""
        if not self.confirm_discard():
            return False
        self.document.new(graph.copy() if graph is not None else None)
        self.autosaver.discard()
        self.opened.emit()
        return True

    def open(self, path: str | Path | None = None) -> bool:
        if not self.confirm_discard():
            return False
        if path is None:
            start = str(self.document.path.parent) if self.document.path else ""
            path, _ = QFileDialog.getOpenFileName(self.window, "Open", start, OPEN_FILTER)
            if not path:
                return False
        return self.open_path(Path(path))

    def open_path(self, path: Path) -> bool:
        """Load without asking: the file is read, laid out and analysed off the GUI thread,
        then drawn in slices between events; on failure show why and keep the current
        graph; False also when the user cancelled (the current graph is kept)."""
        path = Path(path)
        projects = self.projects if self.projects is not None and \
            self.projects.reads(path) else None

        def read() -> tuple[Any, Graph, Analysis]:
            found = projects.read(path) if projects else load_graph(path)
            graph = projects.graph_of(found) if projects else found
            return found, graph, prepare(graph)

        try:
            done, result = read_off_thread(self.window, f"Reading “{short(path.name)}”…", read,
                                           lambda r: self.draw_ahead(path, r[1], r[2]))
            if not done:
                return False
            found, _graph, analysis = result
            if projects:
                projects.apply(path, found, analysis)
            else:
                self.document.load(path, found, analysis)
        except READ_ERRORS as e:
            self._error("Cannot open file", f"“{short(path.name)}” could not be opened.", e)
            return False
        self.recent.add(path)
        self.autosaver.discard()
        self.opened.emit()
        return True

    def draw_ahead(self, path: Path, graph: Graph, analysis: Analysis
                   ) -> Iterator[tuple[str, int, int]]:
        """The canvas's drawing of `graph`, read from `path`, ahead of making it the
        document's, as `read_off_thread`'s steps."""
        if self.stage is None:
            return
        for done, total in self.stage(graph, analysis):
            yield f"Drawing “{short(path.name)}”: {done * 100 // total} %…", done, total

    def save(self, keep_runs: bool | None = None) -> bool:
        """Save; with runs, ask whether to keep them (`keep_runs` None) in a project file."""
        if self.document.path is None:
            return self.save_as(keep_runs=keep_runs)
        return self._save_to(self.document.path, keep_runs)

    def save_as(self, path: str | Path | None = None, keep_runs: bool | None = None) -> bool:
        if path is None:
            start = str(self.document.path or Path.home() / f"{_file_stem(self.document)}.json")
            path, _ = QFileDialog.getSaveFileName(self.window, "Save Graph As", start,
                                                  FILE_FILTER)
            if not path:
                return False
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(".json")
        return self._save_to(path, keep_runs)

    def _save_to(self, path: Path, keep_runs: bool | None = None) -> bool:
        try:
            written = self.projects.save(path, keep_runs) if self.projects is not None \
                else None
            if written is None:
                self.document.save(path)
            else:
                path = written
        except SaveCancelled:
            return False
        except (NNEngineError, OSError, ValueError) as e:
            self._error("Cannot save file", f"“{short(path.name)}” could not be saved.", e)
            return False
        self.recent.add(path)
        self.autosaver.discard()
        return True

    # --- recovery ------------------------------------------------------------------------
    def offer_recovery(self) -> bool:
        """At start-up: if a previous run left unsaved work, offer it back. True if taken."""
        found = self.autosaver.leftover()
        if found is None:
            return False
        answer = QMessageBox.question(
            self.window, "Recover unsaved work",
            f"Recover unsaved work from {found.when()}?\n\nNN Designer closed before this "
            "graph was saved. Choose No to delete it.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes)
        if answer != QMessageBox.StandardButton.Yes:
            self.autosaver.remove()
            return False
        def read() -> tuple[Graph, Analysis]:
            graph = load_graph(found.graph_path)
            return graph, prepare(graph)

        try:   # off the GUI thread, as any file the window opens
            done, result = read_off_thread(self.window, "Reading the recovery file…", read,
                                           lambda r: self.draw_ahead(found.graph_path, *r))
        except READ_ERRORS as e:
            self._error("Cannot recover", "The recovery file could not be read.", e)
            self.autosaver.remove()
            return False
        if not done:
            return False   # cancelled: the recovery file stays, offered again next time
        self.document.new(*result)
        original = found.original
        if original is not None and self.projects is not None and self.projects.reads(original):
            original = None   # the recovery holds the graph alone: saving over the project
            #                   file would drop its runs, so Save asks where
        self.document.set_path(original)
        # Recovered work is unsaved work: the title shows it and closing asks first. The
        # recovery file stays until the user saves.
        self.document.mark_modified()
        self.autosaver.claim()
        self.opened.emit()
        return True

    def _error(self, title: str, text: str, error: Exception) -> None:
        QMessageBox.critical(self.window, title, f"{text}\n\n{_sentence(error)}")


def _sentence(error: Exception) -> str:
    if isinstance(error, FileNotFoundError):
        return "The file does not exist."
    if isinstance(error, PermissionError):
        return "You do not have permission to access it."
    if isinstance(error, UnicodeDecodeError):
        return "It is not a text file."
    text = str(error).strip() or type(error).__name__
    return text[0].upper() + text[1:]


def _file_stem(document: GraphDocument) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in document.graph.name.lower())
    return stem.strip("_") or "graph"
