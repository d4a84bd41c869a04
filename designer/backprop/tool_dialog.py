"""The frame the gradient check and the learning-rate finder share: a sentence on top, a
progress bar, the tool's own content, and Cancel (which cancels a running job, then closes).
The work runs as a `ToolJob`; its result arrives in `show_result`."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from .context import ContextError, ToolContext, ToolJob


class ToolDialog(QDialog):
    """Subclasses add their content to `self.body` and implement `work` and `show_result`."""

    noun = "the tool"

    def __init__(self, title: str, intro: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.result: Any = None
        self.job: ToolJob | None = None
        layout = QVBoxLayout(self)
        self.summary = QLabel(intro)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.progress = QProgressBar()
        layout.addWidget(self.progress)
        self.body = QVBoxLayout()
        layout.addLayout(self.body, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.cancel_or_close)
        layout.addWidget(self.buttons)

    def start(self, context_provider: Callable[[], ToolContext]) -> None:
        """Build the context (a sentence if it cannot be) and run `work` off the GUI thread."""
        try:
            context = context_provider()
        except ContextError as e:
            self.finish_with(f"{self.noun.capitalize()} cannot run: {e}.")
            return
        self.summary.setText(f"{self.summary.text()} Weights: {context.weights_note}.")
        self.job = ToolJob(lambda progress, cancelled: self.work(context, progress, cancelled),
                           self)
        self.job.progressed.connect(self._progressed)
        self.job.finished.connect(self._finished)
        self.job.failed.connect(lambda m: self.finish_with(f"{self.noun.capitalize()} failed: "
                                                           f"{m}."))
        self.job.start()

    def work(self, context: ToolContext, progress, cancelled) -> Any:
        raise NotImplementedError

    def show_result(self, result: Any) -> None:
        raise NotImplementedError

    def _finished(self, result: Any) -> None:
        self.result = result
        self.show_result(result)

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setMaximum(total)
        self.progress.setValue(done)

    def cancel_or_close(self) -> None:
        if self.job is not None and self.result is None and not self.job.cancelled:
            self.job.cancel()
            self.summary.setText("Cancelling…")
            return
        self.reject()

    def finish_with(self, sentence: str) -> None:
        self.summary.setText(sentence)
        self.progress.hide()
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Close")
