"""Take a model elsewhere and bring one in: File ▸ Export (weights, model bundle, ONNX,
PyTorch source, a PyTorch training folder, a NumPy-only predictor folder) and File ▸ Import
ONNX….

Exports use the training controller's current weights (those of the run shown, or loaded or
imported), or, before any training, fresh ones drawn from the graph's seed (the status bar
says so). While the run shown was trained on an earlier version of the graph they refuse,
saying why (`RunsActions.refusal`). `export_run` exports any run as it was trained (its own
graph and weights), for the Runs panel.
Import opens an `.onnx` file as a new, unsaved document (positions laid out where the file
has none) and hands its weights to the controller, so the next Train trains on from them.

onnx is an optional extra: the ONNX actions are always shown and, without it, say what to
install. Failures are shown as one sentence in a message box; the open graph is kept.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

import nnengine
from nnengine import NNEngineError

from .document import prepare
from .files import read_off_thread, short
from .training.states import TrainingState

if TYPE_CHECKING:
    from .main_window import MainWindow
    from .runs.record import Run

ONNX_INSTALL = 'pip install "nn-designer[onnx]"'
ONNX_FILTER = "ONNX models (*.onnx);;All files (*)"
FOLDER_FILTER = "A new folder (*)"


def onnx_available() -> bool:
    """Whether the onnx package can be imported (looked up, not imported: it is large)."""
    return importlib.util.find_spec("onnx") is not None


def sentence(error: BaseException, path: Path | None = None, writing: bool = False) -> str:
    """An error as one sentence for a message box, never a traceback; a leading "path: "
    is dropped (the box names the file already)."""
    if isinstance(error, FileNotFoundError):
        return "Its folder does not exist." if writing else "The file does not exist."
    if isinstance(error, PermissionError):
        return "You do not have permission to access it."
    if isinstance(error, IsADirectoryError):
        return "It is a folder, not a file."
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}."
    text = str(error).strip() or type(error).__name__
    if path is not None and text.startswith(f"{path}: "):
        text = text[len(f"{path}: "):]
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


class ModelIO(QObject):
    """The File menu's Export submenu and Import ONNX… action of `window`."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        a = window.add_action
        a("export_npz", "&Weights (.npz)…", self.export_npz, None, None,
          "Write the weights as an .npz file")
        a("export_zip", "Model &Bundle (.zip)…", self.export_bundle, None, None,
          "Write the graph, its weights and metrics as one .zip file")
        a("export_onnx", "&ONNX (.onnx)…", self.export_onnx, None, None,
          "Write a standard ONNX model, for ONNX Runtime and other tools")
        a("export_pytorch", "&PyTorch Source (.py)…", self.export_pytorch, None, None,
          "Write a PyTorch module (.py) with its weights beside it (.npz)")
        a("export_pytorch_train", "PyTorch &Training Folder…", self.export_pytorch_train, None,
          None, "Write a folder that trains the design with PyTorch: model.py and train.py, "
          "for one process or torchrun")
        a("export_numpy", "&NumPy Predictor Folder…", self.export_numpy, None, None,
          "Write a folder with predict.py, which needs only NumPy, and the weights")
        a("import_onnx", "&Import ONNX…", self.import_onnx, None, None,
          "Open an ONNX model as a graph, with its weights")
        menu = QMenu("&Export", window)
        for key in ("export_npz", "export_zip", "export_onnx", "export_pytorch",
                    "export_pytorch_train", "export_numpy"):
            menu.addAction(window.actions[key])
        self.export_menu = menu
        # After Save As, before the separator above Quit.
        file_menu = window.file_menu
        separator = next(x for x in reversed(file_menu.actions()) if x.isSeparator())
        file_menu.insertAction(separator, window.actions["import_onnx"])
        file_menu.insertMenu(separator, menu)
        file_menu.insertSeparator(window.actions["import_onnx"])

    # --- exports -------------------------------------------------------------------------
    def export_npz(self) -> bool:
        return self._export("Export Weights", "Weights (*.npz)", ".npz",
                            lambda path: self.window.training.export_weights(path))

    def export_bundle(self) -> bool:
        return self._export("Export Model Bundle", "Model bundle (*.zip)", ".zip",
                            lambda path: self.window.training.export_bundle(path))

    def export_onnx(self) -> bool:
        if not self._have_onnx("Export"):
            return False
        return self._export("Export ONNX", ONNX_FILTER, ".onnx", self._write_onnx)

    def export_pytorch(self) -> bool:
        return self._export("Export PyTorch Source", "Python source (*.py)", ".py",
                            self._write_pytorch)

    def export_pytorch_train(self) -> bool:
        return self._export("Export PyTorch Training Folder", FOLDER_FILTER, "",
                            self._write_training_folder, tail="_pytorch")

    def export_numpy(self) -> bool:
        return self._export("Export NumPy Predictor Folder", FOLDER_FILTER, "",
                            self._write_numpy_folder, tail="_numpy")

    def _write_training_folder(self, path: Path) -> None:
        """As `nnengine export --format pytorch-train`; a data file named by a relative path
        is found beside the graph file."""
        from nnengine.export import export_pytorch_train

        model, current = self._folder_model(path)
        document = self.window.document.path
        export_pytorch_train(model, path, base_dir=document.parent if document else None)
        self._done(f"PyTorch training folder written to {path}", current)

    def _write_numpy_folder(self, path: Path) -> None:
        from nnengine.export import export_numpy

        model, current = self._folder_model(path)
        export_numpy(model, path)
        self._done(f"NumPy predictor written to {path}", current)

    def _folder_model(self, path: Path) -> tuple[nnengine.Model, bool]:
        if path.exists() and not path.is_dir():
            raise NNEngineError(f"{path.name} is a file; choose a name for a new folder")
        return self.window.training.export_model()

    def _write_onnx(self, path: Path) -> None:
        model, current = self.window.training.export_model()
        self._done(write_onnx(model, path), current)

    def _write_pytorch(self, path: Path) -> None:
        model, current = self.window.training.export_model()
        self._done(write_pytorch(model, path), current)

    def _done(self, text: str, current: bool) -> None:
        note = "" if current else self.window.training.fresh_note()
        self.window.show_message(text + note)

    def export_run(self, run: Run, kind: str) -> bool:
        """Export `run` as it was trained (its graph and weights), whatever is on the canvas;
        `kind`: "weights", "bundle", "onnx" or "pytorch"."""
        if kind == "onnx" and not self._have_onnx("Export"):
            return False

        def model() -> nnengine.Model:
            m = nnengine.compile_model(run.graph.copy())
            m.set_weights(run.weights, source=run.name)
            return m

        def weights(path: Path) -> str:
            nnengine.save_weights(run.weights, path)
            return f"weights saved to {path}"

        def bundle(path: Path) -> str:
            nnengine.save_bundle(path, run.graph, run.weights,
                                 {"epochs": run.metrics.epochs, "test": run.test or None})
            return f"model bundle saved to {path}"

        writers: dict[str, tuple[str, str, Callable[[Path], str]]] = {
            "weights": ("Weights (*.npz)", ".npz", weights),
            "bundle": ("Model bundle (*.zip)", ".zip", bundle),
            "onnx": (ONNX_FILTER, ".onnx", lambda path: write_onnx(model(), path)),
            "pytorch": ("Python source (*.py)", ".py", lambda path: write_pytorch(model(), path))}
        filt, suffix, write = writers[kind]
        return self._export(f"Export “{run.name}”", filt, suffix,
                            lambda p: self.window.show_message(f"“{run.name}”: {write(p)}"),
                            stem=f"{_stem(run.graph.name)}_{_stem(run.name)}", check_fit=False)

    def _export(self, title: str, filt: str, suffix: str, write: Callable[[Path], object],
                stem: str | None = None, check_fit: bool = True, tail: str = "") -> bool:
        """Ask where to write (a file with `suffix`, or a folder when it is ""); `tail` ends
        the proposed name."""
        if self.window.training.state == TrainingState.STOPPING:
            self.window.show_message("Wait until training has stopped, then export")
            return False
        refusal = self.window.runs.refusal() if check_fit else None
        if refusal:
            QMessageBox.information(self.window, title, refusal)
            return False
        stem = stem or _stem(self.window.document.graph.name)
        start = str(self._folder() / f"{stem}{tail}{suffix}")
        name, _ = QFileDialog.getSaveFileName(self.window, title, start, filt)
        if not name:
            return False
        path = Path(name)
        if suffix and path.suffix.lower() != suffix:
            path = path.with_name(path.name + suffix)
        return self._attempt(title, f"“{path.name}” could not be written.",
                             lambda: write(path), path, writing=True)

    # --- import --------------------------------------------------------------------------
    def import_onnx(self) -> bool:
        """Ask for an .onnx file and open it as a new document with its weights."""
        if not self._have_onnx("Import"):
            return False
        if self.window.training.is_active:
            QMessageBox.information(self.window, "Import ONNX",
                                    "Stop training before importing a model.")
            return False
        name, _ = QFileDialog.getOpenFileName(self.window, "Import ONNX Model",
                                              str(self._folder()), ONNX_FILTER)
        if not name or not self.window.files.confirm_discard():
            return False
        return self.import_path(Path(name))

    def import_path(self, path: Path) -> bool:
        """Import without asking: the file is read, checked and laid out off the GUI thread
        (progress and Cancel if it takes a while), then drawn in slices; on failure say why,
        and on failure or Cancel keep the current graph and weights."""
        from nnengine.export import import_onnx

        def read() -> tuple[nnengine.Graph, dict, nnengine.Analysis]:
            graph, weights = import_onnx(path)
            # Check the weights against the graph before the document changes.
            model = nnengine.compile_model(graph.copy())
            model.set_weights(weights, source=path.name)
            return graph, weights, prepare(graph)

        w = self.window
        found: list = []
        if not self._attempt("Import ONNX", f"“{short(path.name)}” could not be imported.",
                             lambda: found.extend(read_off_thread(
                                 w, f"Reading “{short(path.name)}”…", read,
                                 lambda r: w.files.draw_ahead(path, r[0], r[2]))), path):
            return False
        done, result = found
        if not done:
            return False
        graph, weights, analysis = result
        w.document.new(graph, analysis)
        w.document.mark_modified()   # it exists only as an .onnx file: closing asks to save
        w.training.set_weights(weights, source=path.name)
        w.files.opened.emit()
        n = len(graph)
        w.show_message(f"Imported {short(path.name)}: {n} layer{'s' * (n != 1)} with their "
                       "weights; Train continues from them")
        return True

    # --- helpers -------------------------------------------------------------------------
    def _have_onnx(self, verb: str) -> bool:
        if onnx_available():
            return True
        QMessageBox.information(
            self.window, "ONNX support is not installed",
            f"{verb}ing ONNX models needs the onnx package. Install it with:\n\n"
            f"    {ONNX_INSTALL}")
        return False

    def _attempt(self, title: str, text: str, fn: Callable[[], object],
                 path: Path | None = None, writing: bool = False) -> bool:
        try:
            fn()
        except (NNEngineError, OSError) as e:
            QMessageBox.warning(self.window, title,
                                f"{text}\n\n{sentence(e, path, writing)}")
            return False
        except Exception as e:  # noqa: BLE001 - a damaged file must never crash the app
            QMessageBox.warning(self.window, title,
                                f"{text}\n\nIt failed unexpectedly ({type(e).__name__}).")
            return False
        return True

    def _folder(self) -> Path:
        path = self.window.document.path
        return path.parent if path is not None else Path.home()


def write_onnx(model: nnengine.Model, path: Path) -> str:
    from nnengine.export import export_onnx

    export_onnx(model, path)
    return f"ONNX model saved to {path}"


def write_pytorch(model: nnengine.Model, path: Path) -> str:
    """The module source, and its weights beside it (as `nnengine export` does)."""
    from nnengine.export import export_pytorch

    weights = path.with_suffix(".npz")
    if weights == path:
        weights = path.with_name(path.name + ".npz")
    export_pytorch(model, path)
    nnengine.save_weights(model, weights)
    return f"PyTorch source saved to {path}, its weights to {weights.name}"


def _stem(name: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name.lower()).strip("_")
    return stem or "model"


def install_model_io(window: MainWindow) -> ModelIO:
    """Add File ▸ Export and File ▸ Import ONNX… to `window` (after Save As)."""
    return ModelIO(window)


__all__ = ["ModelIO", "install_model_io", "onnx_available", "sentence"]
