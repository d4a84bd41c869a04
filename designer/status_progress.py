"""Training progress in the status bar, so it shows whichever tab is in front (the training
panel is often hidden behind the inspector): state, epoch and batch, speed, time left, and a
small progress bar."""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QStatusBar, QWidget

from .steady_label import SteadyLabel
from .training.controller import TrainingController
from .training.metrics import Progress
from .training.states import ACTIVE, TrainingState

WORDS = {TrainingState.STARTING: "Preparing", TrainingState.RUNNING: "Training",
         TrainingState.PAUSED: "Paused", TrainingState.STOPPING: "Stopping",
         TrainingState.FINISHED: "Trained", TrainingState.STOPPED: "Stopped",
         TrainingState.DIVERGED: "Diverged", TrainingState.FAILED: "Failed"}


class StatusProgress(QWidget):
    def __init__(self, controller: TrainingController, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.label = SteadyLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setFixedSize(90, 12)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.setSpacing(6)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        controller.state_changed.connect(lambda _s: self.refresh())
        controller.progress_changed.connect(lambda _p: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        state = self.controller.state
        p: Progress = self.controller.progress
        if state not in WORDS:
            self.hide()
            return
        parts = [WORDS[state], p.position()]
        if state in ACTIVE:
            parts.append(p.speed())
        self.label.setText(" · ".join(x for x in parts if x))
        if state not in ACTIVE:
            self.label.fit()
        self.bar.setValue(1000 if state == TrainingState.FINISHED else int(p.fraction * 1000))
        self.bar.setVisible(state in ACTIVE or state == TrainingState.FINISHED)
        self.show()


def install_status_progress(status_bar: QStatusBar, controller: TrainingController
                            ) -> StatusProgress:
    widget = StatusProgress(controller)
    status_bar.addPermanentWidget(widget)
    return widget
