"""Entry point: `nn-designer [FILE]` (a graph, project or model bundle).

Sets the names QSettings uses, pyqtgraph's global options (once, before any plot), an error
hook that shows a dialog instead of a traceback, then opens FILE, or the built-in example
so a new user sees a real network at once, and offers back unsaved work from a crash.
"""
from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

ORGANIZATION = "nn-designer"
APPLICATION = "NN Designer"


def configure(app: QApplication) -> None:
    """Application-wide settings; safe to call more than once. (pyqtgraph's options are
    set once where the plots are defined, designer/plots/pyqtgraph_setup.py.)"""
    app.setOrganizationName(ORGANIZATION)
    app.setOrganizationDomain("nn-designer.org")
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APPLICATION)
    app.setStyle("Fusion")  # one consistent look on every platform


def install_error_hook() -> None:
    """Unexpected errors show a dialog (with the traceback under "Show Details") instead of
    a console traceback; the app keeps running."""

    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, tb)
            return
        details = "".join(traceback.format_exception(kind, error, tb))
        sys.stderr.write(details)
        if QApplication.instance() is None:
            return
        box = QMessageBox(QMessageBox.Icon.Critical, "Unexpected error",
                          "Something went wrong. Your graph is still open; save it under a "
                          "new name to be safe.")
        box.setInformativeText(f"{kind.__name__}: {error}")
        box.setDetailedText(details)
        box.exec()

    sys.excepthook = hook


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nn-designer",
                                     description="Design, train and understand neural networks.")
    parser.add_argument("file", nargs="?", type=Path, help="a graph file (.json), project or model bundle (.zip) to open")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the app; `argv` is the arguments without the program name (default: the
    command line's, after Qt removed the ones it understands, such as -platform)."""
    if argv is None:
        app = QApplication.instance() or QApplication(sys.argv)
        argv = app.arguments()[1:]
    else:
        app = QApplication.instance() or QApplication(["nn-designer", *argv])
    args = parse_args(list(argv))
    configure(app)
    install_error_hook()

    from .main_window import MainWindow  # after configure(): QSettings needs the names

    window = MainWindow()
    if args.file is not None:
        if not window.files.open_path(args.file):
            window.open_example()
    else:
        window.open_example()
    window.show()
    QTimer.singleShot(0, window.files.offer_recovery)
    # A training process imports the engine now, while the user looks at the window: the
    # first Train press then shows progress at once (and one waits after every run).
    QTimer.singleShot(0, window.training.warm_up)
    status = app.exec()
    sys.excepthook = sys.__excepthook__  # no dialogs while Qt tears the window down
    release_clipboard(app)
    return status


def release_clipboard(app: QApplication) -> None:
    """Drop copied layers before Qt shuts down: PySide6 crashes at exit while the clipboard
    still owns mime data this process made (and a quitting app's copy is gone anyway)."""
    from .main_window import FRAGMENT_MIME

    mime = app.clipboard().mimeData()
    if mime is not None and mime.hasFormat(FRAGMENT_MIME):
        app.clipboard().clear()


if __name__ == "__main__":
    sys.exit(main())
