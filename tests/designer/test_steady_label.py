"""Text that changes at every epoch's end repaints its label, not the whole main window."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QWidget

from designer.steady_label import SteadyLabel

from .shell_fixtures import *


class LayoutRequests(QObject):
    """Counts the layout requests `widget` receives."""

    def __init__(self, widget: QWidget):
        super().__init__()
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, _obj, event) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


def in_a_row(qtbot, label: QLabel) -> tuple[QWidget, LayoutRequests]:
    outer = QWidget()
    qtbot.addWidget(outer)
    inner = QWidget(outer)
    QHBoxLayout(outer).addWidget(inner)
    QHBoxLayout(inner).addWidget(label)
    outer.show()
    settle()
    return outer, LayoutRequests(outer)


def test_new_texts_within_its_size_lay_nothing_out_where_a_plain_label_does(qtbot):
    plain, plain_requests = in_a_row(qtbot, QLabel("epoch 10 of 60"))
    steady = SteadyLabel("epoch 10 of 60")
    _, steady_requests = in_a_row(qtbot, steady)
    for epoch in range(11, 20):
        plain.findChild(QLabel).setText(f"epoch {epoch} of 60")
        steady.setText(f"epoch {epoch} of 60")
        settle()
    assert plain_requests.count > 0          # what the steady label avoids
    assert steady_requests.count == 0
    assert steady.text() == "epoch 19 of 60"


def test_it_grows_for_a_longer_text_and_shrinks_when_fitted(qtbot):
    label = SteadyLabel("epoch 9")
    _row, _ = in_a_row(qtbot, label)   # kept: the label lives in it
    short = label.width()
    label.setText("epoch 10 of 60 · a much longer text than before")
    settle()
    assert label.width() >= QLabel(label.text()).sizeHint().width() > short   # never clipped
    label.setText("epoch 11")
    settle()
    natural = QLabel("epoch 11").sizeHint().width()
    assert label.width() > natural                  # it stays wide while the text changes
    label.fit()
    settle()
    assert label.width() == natural


def test_a_larger_font_is_measured_anew(qtbot):
    label = SteadyLabel("epoch 12 of 60")
    _row, _ = in_a_row(qtbot, label)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 2)
    label.setFont(font)
    settle()
    assert label.width() >= label.fontMetrics().horizontalAdvance("epoch 12 of 60")
    assert label.height() >= label.fontMetrics().height()


def test_the_epoch_scrubber_follows_training_without_laying_out_the_main_window(window):
    scrubber = window.dashboard.scrubber
    settle()
    requests = LayoutRequests(window)
    for n in range(1, 41):                 # an epoch's end each, as a fast run sends them
        scrubber.set_epochs(list(range(1, n + 1)))
        settle()
    assert scrubber.label.text() == "live · 40 epochs"
    assert scrubber.label.width() >= QLabel(scrubber.label.text()).sizeHint().width()
    assert requests.count <= 1             # at most once, should the label need more room
