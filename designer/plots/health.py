"""Training health: the diagnostics' alarms as a readable list, most severe first, each
with a severity icon, the layer it concerns and what to try. Clicking an alarm that names
a layer emits `node_chosen` (the main window selects that node on the canvas). With no
alarm the list is hidden: the panel is then only its heading and one sentence."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QStyle, QVBoxLayout, QWidget

from nnengine.diagnostics import ERROR, INFO, WARNING

from ..style import PLOT_MUTED, PLOT_TEXT, on_window_background

ICONS = {ERROR: QStyle.StandardPixmap.SP_MessageBoxCritical,
         WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
         INFO: QStyle.StandardPixmap.SP_MessageBoxInformation}
TITLES = {"dead_relu": "Dead ReLU units", "saturated": "Saturated units",
          "vanishing": "Vanishing gradients", "exploding": "Exploding gradients",
          "flat_loss": "Loss is flat", "rising_loss": "Loss is rising",
          "overfitting": "Overfitting", "diverged": "Training diverged"}


class HealthPanel(QWidget):
    node_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        col = QVBoxLayout(self)
        col.setContentsMargins(4, 4, 4, 4)
        title = QLabel("Training health")
        title.setStyleSheet(f"color: {PLOT_TEXT}; font-weight: bold; font-size: 10pt;")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setStyleSheet(f"color: {PLOT_MUTED};")
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setIconSize(QSize(22, 22))
        self.list.setSpacing(3)
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.list.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        # On the panel's own background: a short list leaves no empty white box below it.
        on_window_background(self.list)
        self.list.itemClicked.connect(self._clicked)
        col.addWidget(title)
        col.addWidget(self.status)
        col.addWidget(self.list, 1)
        col.addStretch(0)   # holds the heading up while the list is hidden
        self.alarms: list = []
        self._shown: list[str] | None = None
        self.set_alarms([], started=False)

    def set_alarms(self, alarms: list, started: bool = True, epochs: int | None = None
                   ) -> None:
        """`epochs`: how many epochs have ended (0: the loss has no trend to judge yet)."""
        shown = [str(started), str(epochs == 0)] + [str(a) for a in alarms]
        if shown == self._shown:
            return
        self._shown = shown
        self.alarms = list(alarms)
        self.list.clear()
        self._show_list(bool(alarms))
        if not started:
            self.status.setText("Train the network to check its health: dead or saturated "
                                "units, vanishing or exploding gradients, a flat or rising "
                                "loss, overfitting.")
            return
        errors = sum(a.severity == ERROR for a in alarms)
        warnings = sum(a.severity == WARNING for a in alarms)
        notes = len(alarms) - errors - warnings
        below = f" {notes} note{'s' * (notes != 1)} below." if notes else ""
        if not errors and not warnings and epochs == 0:
            self.status.setText("✓ No problems so far: units are alive and gradients are in "
                                "a healthy range. The loss is judged once epochs have "
                                "ended." + below)
        elif not errors and not warnings:
            self.status.setText("✓ No problems found: units are alive, gradients are in a "
                                "healthy range and the loss is improving." + below)
        else:
            parts = [f"{errors} problem{'s' * (errors != 1)}" if errors else "",
                     f"{warnings} warning{'s' * (warnings != 1)}" if warnings else ""]
            self.status.setText(", ".join(p for p in parts if p) + ".")
        style = self.style()
        for a in alarms:
            head = TITLES.get(a.code, a.code.replace("_", " ").capitalize())
            where = f" · {a.node_id}" if a.node_id else ""
            item = QListWidgetItem(style.standardIcon(ICONS.get(a.severity, ICONS[INFO])),
                                   f"{head}{where}\n{without_title(a.message, head)}")
            item.setData(Qt.ItemDataRole.UserRole, a.node_id or "")
            item.setToolTip(a.message)
            self.list.addItem(item)

    def _show_list(self, shown: bool) -> None:
        self.list.setVisible(shown)
        layout = self.layout()   # title, status, list, stretch
        layout.setStretch(2, 1 if shown else 0)
        layout.setStretch(3, 0 if shown else 1)

    def add_alarm(self, alarm) -> None:
        """Append one alarm (e.g. a divergence) to what is shown."""
        self.set_alarms([alarm, *self.alarms])

    def _clicked(self, item: QListWidgetItem) -> None:
        node = item.data(Qt.ItemDataRole.UserRole)
        if node:
            self.node_chosen.emit(node)


def without_title(message: str, title: str) -> str:
    """The message without a leading "Title: " that would repeat the heading above it."""
    head, sep, rest = message.partition(":")
    if sep and rest.strip() and head.strip().lower() == title.lower():
        rest = rest.strip()
        return rest[0].upper() + rest[1:]
    return message
