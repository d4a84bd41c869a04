"""Editors for layer parameters, made by a small factory keyed by `ParamSpec.kind`.

Each field turns what the user typed into a value (`read`), shows a value (`show`), marks
itself red with a reason (`set_error`) and emits `committed` when the user finishes an edit,
`reverted` when Escape asks for the value it had.
Checking the value against the spec and applying it is the inspector's job.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nnengine.catalogue import ParamSpec

AUTO = "auto"
INVALID_STYLE = "border: 1px solid #d0342c; border-radius: 3px; background: #fff2f1;"
ERROR_STYLE = "color: #c0362c;"
INT_LIMIT = 1_000_000_000


class ParseError(ValueError):
    """The text is not a value of the field's kind; the message is the reason to show."""


class ParamField(QObject):
    """Base: a container with the editor on top and a (hidden) red reason below it."""

    committed = Signal()
    edited = Signal()  # text changed but not yet committed (live validation)
    reverted = Signal()  # Escape: show the node's value again, not what was typed

    def __init__(self, spec: ParamSpec, editor: QWidget):
        super().__init__(editor)
        self.spec = spec
        self.editor = editor
        self.widget = QWidget()
        self.error_label = QLabel(self.widget)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        layout = QVBoxLayout(self.widget)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(editor)
        layout.addWidget(self.error_label)
        editor.setToolTip(spec.help)
        editor.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Escape:
            self.reverted.emit()
            return True
        return False

    def show(self, value: Any) -> None:
        self.editor.blockSignals(True)
        try:
            self._show(value)
        finally:
            self.editor.blockSignals(False)

    def _show(self, value: Any) -> None:
        raise NotImplementedError

    def read(self) -> Any:
        """The value the editor holds; raises ParseError with a reason if it holds none."""
        raise NotImplementedError

    def set_error(self, reason: str | None) -> None:
        self.editor.setStyleSheet(INVALID_STYLE if reason else "")
        self.error_label.setText(reason or "")
        self.error_label.setVisible(bool(reason))

    @property
    def error(self) -> str | None:
        return self.error_label.text() or None


class IntField(ParamField):
    """QSpinBox with the spec's bounds; a nullable one shows "auto" below the minimum."""

    def __init__(self, spec: ParamSpec):
        box = QSpinBox()
        box.setKeyboardTracking(False)  # commit 128, not 1, 12, 128
        box.setAccelerated(True)
        lo = spec.minimum if spec.minimum is not None else -INT_LIMIT
        lo = int(lo) + (1 if spec.exclusive_minimum else 0)
        hi = int(spec.maximum) if spec.maximum is not None else INT_LIMIT
        if spec.nullable:
            lo -= 1
            box.setSpecialValueText(AUTO)
        box.setRange(lo, hi)
        box.setMinimumWidth(90)
        super().__init__(spec, box)
        box.valueChanged.connect(self.committed)

    def _show(self, value: Any) -> None:
        box: QSpinBox = self.editor
        if value is None and self.spec.nullable:
            box.setValue(box.minimum())
        elif isinstance(value, int) and not isinstance(value, bool):
            box.setValue(value)

    def read(self) -> Any:
        box: QSpinBox = self.editor
        if self.spec.nullable and box.value() == box.minimum():
            return None
        return box.value()


class TextField(ParamField):
    """A line edit whose text is parsed by `parse`; validated live, committed on Enter or
    when focus leaves."""

    def __init__(self, spec: ParamSpec, parse: Callable[[str], Any],
                 format_: Callable[[Any], str], placeholder: str = ""):
        edit = QLineEdit()
        edit.setPlaceholderText(AUTO if spec.nullable else placeholder)
        super().__init__(spec, edit)
        self._parse, self._format = parse, format_
        edit.editingFinished.connect(self._finished)
        edit.textEdited.connect(self.edited)
        self._last = None

    def _finished(self) -> None:
        if self.editor.text() != self._last:
            self._last = self.editor.text()
            self.committed.emit()

    def _show(self, value: Any) -> None:
        text = "" if value is None else self._format(value)
        self.editor.setText(text)
        self._last = text

    def read(self) -> Any:
        text = self.editor.text().strip()
        if not text or text.lower() == AUTO:
            if self.spec.nullable:
                return None
            raise ParseError("must not be empty")
        return self._parse(text)


class BoolField(ParamField):
    def __init__(self, spec: ParamSpec):
        box = QCheckBox()
        super().__init__(spec, box)
        box.toggled.connect(self.committed)

    def _show(self, value: Any) -> None:
        self.editor.setChecked(bool(value))

    def read(self) -> Any:
        return self.editor.isChecked()


class ChoiceField(ParamField):
    """QComboBox of the spec's choices; editable (int_or_choice) also takes a typed int."""

    def __init__(self, spec: ParamSpec, editable: bool = False):
        box = QComboBox()
        box.setEditable(editable)
        if spec.nullable:
            box.addItem(AUTO)
        box.addItems([str(c) for c in spec.choices])
        super().__init__(spec, box)
        if editable:
            box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            box.lineEdit().installEventFilter(self)
            box.lineEdit().editingFinished.connect(self.committed)
            box.lineEdit().textEdited.connect(self.edited)
            box.activated.connect(self.committed)
        else:
            box.currentIndexChanged.connect(self.committed)

    def _show(self, value: Any) -> None:
        box: QComboBox = self.editor
        text = AUTO if value is None else format_shape(value)
        index = box.findText(text)
        if index >= 0:
            box.setCurrentIndex(index)
        elif box.isEditable():
            box.setEditText(text)

    def read(self) -> Any:
        text = self.editor.currentText().strip()
        if self.spec.nullable and text in ("", AUTO):
            return None
        for choice in self.spec.choices:
            if text == str(choice):
                return choice
        if self.spec.kind == "int_or_choice":
            try:
                return parse_window(text)
            except ParseError:
                raise ParseError(f"must be a whole number, a pair like 1, 2 or one of "
                                 f"{', '.join(map(str, self.spec.choices))}") from None
        raise ParseError(f"must be one of {', '.join(map(str, self.spec.choices))}")


def parse_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ParseError("must be a number, like 0.5 or 1e-5") from None


def format_float(value: Any) -> str:
    return repr(float(value)) if isinstance(value, (int, float)) else str(value)


SHAPE_TEXT = re.compile(r"-?\d+(?:\s*[,×x*]\s*-?\d+|\s+-?\d+)*")


def parse_shape(text: str) -> list[int]:
    """"1, 8, 8", "[1, 8, 8]", "1 8 8" or "8x8"; anything else (a stray letter, an empty
    place between commas) is refused rather than read as the numbers around it."""
    inner = text.strip().strip("[]()").strip()
    if not SHAPE_TEXT.fullmatch(inner):
        raise ParseError("must be whole numbers separated by commas, like 1, 8, 8")
    return [int(p) for p in re.findall(r"-?\d+", inner)]


def format_shape(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def parse_window(text: str) -> int | list[int]:
    """"3" -> 3; "2, 1" or "2x1" -> [2, 1] (height, width)."""
    values = parse_shape(text)
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return values
    raise ParseError("must be a whole number or height, width, like 2, 1")


def make_field(spec: ParamSpec) -> ParamField:
    """The editor for one parameter, chosen by its declared kind."""
    kind = spec.kind
    if kind == "int":
        return IntField(spec)
    if kind == "float":
        return TextField(spec, parse_float, format_float, "a number, e.g. 0.5 or 1e-5")
    if kind == "bool":
        return BoolField(spec)
    if kind == "choice":
        return ChoiceField(spec)
    if kind == "int_or_choice":
        return ChoiceField(spec, editable=True)
    if kind == "shape":
        return TextField(spec, parse_shape, format_shape, "e.g. 1, 8, 8")
    if kind == "window":
        return TextField(spec, parse_window, format_shape, "e.g. 3, or 2, 1 (height, width)")
    raise ValueError(f"no editor for parameter kind {kind!r}")


def check(field: ParamField) -> tuple[Any, str | None]:
    """Parse and check a field against its spec: (value, None) or (None, reason)."""
    try:
        raw = field.read()
    except ParseError as e:
        return None, str(e)
    value, reason = field.spec.check(raw)
    return (None, reason) if reason else (value, None)


__all__ = ["ParamField", "ParseError", "check", "make_field"]
