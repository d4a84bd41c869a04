"""The inspector: the selected node's id and parameters, and an "explain" section.

Fields come from the catalogue's ParamSpecs (see `param_fields.make_field`). A value is
checked before it is applied: a bad one turns the field red with the reason and leaves the
graph alone. Every accepted edit is one `document.set_params` call (one undo step, merged
per field). With nothing selected it shows the graph's summary instead of an empty panel.
"""
from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

import nnengine
from nnengine.catalogue import LayerSpec
from nnengine.graph import is_valid_id

from . import layer_notes, style
from .files import short
from .param_fields import ERROR_STYLE, ParamField, check, make_field
from .repairs import Repair, refused_repairs, repairs_for, repairs_for_node

if TYPE_CHECKING:
    from .document import GraphDocument

MUTED = "#66727f"
ERROR = "#c0362c"


def shape_text(shape: Any) -> str:
    return style.format_shape(shape)


class Inspector(QScrollArea):
    """Shows one node (`show_nodes([id])`), several, or the graph summary (`show_nodes([])`)."""

    def __init__(self, document: GraphDocument, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.node_id: str | None = None
        self.selection: list[str] = []
        self.fields: dict[str, ParamField] = {}
        self.id_edit: QLineEdit | None = None
        self.id_error: QLabel | None = None
        self.explain: QLabel | None = None
        self.summary: QLabel | None = None
        self.repair_buttons: list[QLabel] = []
        self.repair_notes: list[QLabel] = []   # why an obvious fix is not offered
        self._repair_box: QVBoxLayout | None = None
        self._form: QFormLayout | None = None
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setMinimumWidth(260)
        document.params_changed.connect(self._params_changed)
        document.node_renamed.connect(self._node_renamed)
        document.node_removed.connect(self._node_removed)
        document.analysis_changed.connect(self._analysis_changed)
        document.graph_reset.connect(lambda: self.show_nodes([]))
        document.training_changed.connect(self._update_summary)
        document.locked_changed.connect(self._locked_changed)
        self.show_nodes([])

    # --- what is shown -------------------------------------------------------------------
    def show_nodes(self, node_ids: list[str]) -> None:
        ids = [n for n in node_ids if n in self.document.graph]
        self.selection = ids
        self.node_id = ids[0] if len(ids) == 1 else None
        self.fields, self.id_edit, self.explain, self.summary = {}, None, None, None
        self.repair_buttons, self.repair_notes = [], []
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(12, 10, 12, 12)
        layout.setSpacing(10)
        if self.node_id is not None:
            self._build_node(layout, self.node_id)
        else:
            self.summary = _label(rich=True)
            layout.addWidget(self.summary)
        self._repair_box = QVBoxLayout()
        self._repair_box.setSpacing(4)
        layout.addLayout(self._repair_box)
        if self.node_id is None:
            self._update_summary()
        else:
            self._update_explain()
        layout.addStretch(1)
        self.setWidget(body)  # deletes the previous body

    def _build_node(self, layout: QVBoxLayout, node_id: str) -> None:
        graph = self.document.graph
        type_name = graph.type_of(node_id)
        try:
            spec: LayerSpec | None = nnengine.layer_spec(type_name)
        except KeyError:
            spec = None
        layout.addWidget(_header(type_name, spec))

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(6)
        self._form = form
        self.id_edit = QLineEdit(node_id)
        self.id_edit.setToolTip("The node's id: letters, digits and _, not starting with a "
                                "digit; unique in the graph. Weight files use it as a key.")
        self.id_edit.textEdited.connect(self._id_edited)
        self.id_edit.editingFinished.connect(self._id_finished)
        self.id_edit.installEventFilter(self)
        self.id_error = _label()
        self.id_error.setStyleSheet(ERROR_STYLE)
        self.id_error.hide()
        id_box = QWidget()
        id_layout = QVBoxLayout(id_box)
        id_layout.setContentsMargins(0, 0, 0, 0)
        id_layout.setSpacing(2)
        id_layout.addWidget(self.id_edit)
        id_layout.addWidget(self.id_error)
        form.addRow("id", id_box)
        for p in spec.params if spec else ():
            field = make_field(p)
            field.committed.connect(lambda name=p.name: self._commit(name))
            field.edited.connect(lambda name=p.name: self._validate_live(name))
            field.reverted.connect(self._load_values)
            label = QLabel(p.name.replace("_", " "))
            label.setToolTip(p.help)
            form.addRow(label, field.widget)
            self.fields[p.name] = field
        layout.addLayout(form)
        self._locked_changed(self.document.locked)
        if spec is not None and not spec.params:
            layout.addWidget(_label(f"<span style='color:{MUTED}'>{type_name} has no "
                                    "parameters.</span>", rich=True))
        layout.addWidget(_section("Explain"))
        self.explain = _label(rich=True)
        self.explain.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.explain)
        self._load_values()

    # --- fields --------------------------------------------------------------------------
    def _config(self) -> dict[str, Any]:
        """The node's params with the catalogue's defaults filled in."""
        spec = nnengine.layer_spec(self.document.graph.type_of(self.node_id))
        config = spec.defaults()
        config.update(self.document.graph.params_of(self.node_id))
        return config

    def _load_values(self) -> None:
        if self.node_id is None or not self.fields:
            return
        params = self.document.graph.params_of(self.node_id)
        config = self._config()
        for name, field in self.fields.items():
            if name in config:
                field.show(config[name])
            _, reason = field.spec.check(config[name]) if name in config else (None, None)
            if name not in config:
                reason = "is required"
            elif name in params and reason:
                reason = f"{reason}, received {params[name]!r}"
            field.set_error(reason)
        self._update_visibility(config)

    def _update_visibility(self, config: dict[str, Any]) -> None:
        for field in self.fields.values():
            self._form.setRowVisible(field.widget, field.spec.applies(config))

    def _validate_live(self, name: str) -> None:
        field = self.fields[name]
        field.set_error(check(field)[1])

    def _commit(self, name: str) -> None:
        """Apply the field's value if it is valid; otherwise show why and change nothing."""
        if self.node_id is None:
            return
        field = self.fields[name]
        value, reason = check(field)
        field.set_error(reason)
        if reason:
            return
        params = dict(self.document.graph.params_of(self.node_id))
        current = params.get(name, None if field.spec.required else field.spec.default)
        known = name in params or not field.spec.required
        if known and current == value and type(current) is type(value):
            return
        params[name] = value
        self.document.set_params(self.node_id, params)

    # --- renaming ------------------------------------------------------------------------
    def _id_problem(self, text: str) -> str | None:
        if text == self.node_id:
            return None
        if not is_valid_id(text):
            return "use letters, digits and _, not starting with a digit"
        if text in self.document.graph:
            return f"'{text}' is already used by another node"
        return None

    def _id_edited(self, text: str) -> None:
        self._show_id_error(self._id_problem(text))

    def _id_finished(self) -> None:
        if self.id_edit is None or self.node_id is None:
            return
        text = self.id_edit.text().strip()
        reason = self._id_problem(text)
        if reason is None and text != self.node_id \
                and not self.document.rename(self.node_id, text):
            reason = getattr(self.document, "last_error", "") or "cannot rename"
        self._show_id_error(reason)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Escape in the id field gives the node's id back."""
        if watched is self.id_edit and event.type() == QEvent.Type.KeyPress \
                and event.key() == Qt.Key.Key_Escape and self.node_id is not None:
            self.id_edit.setText(self.node_id)
            self._show_id_error(None)
            return True
        return super().eventFilter(watched, event)

    def _show_id_error(self, reason: str | None) -> None:
        if self.id_edit is None:
            return
        self.id_edit.setStyleSheet(
            "border: 1px solid #d0342c; border-radius: 3px; background: #fff2f1;"
            if reason else "")
        self.id_error.setText(reason or "")
        self.id_error.setVisible(bool(reason))

    # --- document signals ----------------------------------------------------------------
    def _params_changed(self, node_id: str) -> None:
        if node_id == self.node_id:
            self._load_values()

    def _node_renamed(self, old: str, new: str) -> None:
        if old in self.selection:
            self.selection = [new if n == old else n for n in self.selection]
        if old == self.node_id:
            self.node_id = new
            if self.id_edit is not None and self.id_edit.text() != new:
                self.id_edit.setText(new)
            self._show_id_error(None)

    def _locked_changed(self, locked: bool) -> None:
        """While training runs the graph cannot change: fields are read-only."""
        for field in self.fields.values():
            field.editor.setEnabled(not locked)
        if self.id_edit is not None:
            self.id_edit.setReadOnly(locked)

    def _node_removed(self, node_id: str) -> None:
        if node_id in self.selection:
            self.show_nodes([n for n in self.selection if n != node_id])

    def _analysis_changed(self) -> None:
        if self.node_id is not None:
            self._update_explain()
        else:
            self._update_summary()

    # --- explain and summary -------------------------------------------------------------
    def _update_explain(self) -> None:
        if self.explain is None or self.node_id is None:
            return
        self.explain.setText(explain_html(self.document, self.node_id))
        repairs = repairs_for_node(self.document, self.node_id)
        self._show_repairs(repairs, [] if repairs else
                           refused_repairs(self.document, self.node_id))

    def _update_summary(self) -> None:
        if self.summary is None:
            return
        self.summary.setText(summary_html(self.document, self.selection))
        graph_wide = [p for p in self.document.analysis.problems if p.node_id is None]
        self._show_repairs([r for p in graph_wide for r in repairs_for(self.document, p)])

    def _show_repairs(self, repairs: list[Repair], refused: list[str] = ()) -> None:
        """One button per one-click fix ("Insert a Flatten ..."), each one undo step; below,
        why an obvious fix is not offered (it would leave other problems)."""
        if self._repair_box is None:
            return
        for button in self.repair_buttons + self.repair_notes:
            self._repair_box.removeWidget(button)
            button.deleteLater()
        self.repair_buttons, self.repair_notes = [], []
        for text in refused:
            note = QLabel(html.escape(text))
            note.setWordWrap(True)
            note.setStyleSheet(f"color: {style.TEXT_MUTED.name()};")
            self._repair_box.addWidget(note)
            self.repair_notes.append(note)
        for repair in repairs:
            # A wrapping label with a link, not a QPushButton: a button never wraps, and a
            # long description would widen the whole panel.
            button = QLabel(f"<a href='fix' style='color:#1d4ed8; text-decoration:none'>"
                            f"<b>Fix:</b> {html.escape(repair.description)}</a>")
            button.setWordWrap(True)
            button.setTextFormat(Qt.TextFormat.RichText)
            button.setToolTip("Apply this repair (one undoable step)")
            button.setStyleSheet("QLabel { background: #eef3ff; border: 1px solid #c7d6fb; "
                                 "border-radius: 4px; padding: 5px 8px; }")
            button.linkActivated.connect(lambda _link, r=repair: self._apply(r))
            self._repair_box.addWidget(button)
            self.repair_buttons.append(button)

    def _apply(self, repair: Repair) -> None:
        if not repair.apply():
            self._show_repairs([])


def explain_html(document: GraphDocument, node_id: str) -> str:
    """What the node computes, the shapes it sees here, its weights and its problems."""
    graph, analysis = document.graph, document.analysis
    type_name = graph.type_of(node_id)
    esc = html.escape
    parts: list[str] = []
    try:
        spec = nnengine.layer_spec(type_name)
    except KeyError:
        spec = None
    if spec is not None:
        parts.append(f"<p>{esc(spec.description)}</p>")
        computes = layer_notes.formula(analysis, node_id) or spec.formula
        parts.append(f"<p><b>Computes</b><br><span style='font-family:monospace'>"
                     f"{esc(computes)}</span></p>")
    sources = [s for _, s in graph.inputs_of(node_id)]
    rows = []
    if spec is None or not spec.is_input:
        if sources:
            for s in sources:
                rows.append(("Input" if len(sources) == 1 else f"Input from {s}",
                             shape_text(analysis.shapes.get(s))))
        else:
            rows.append(("Input", "not connected"))
    rows.append(("Output", shape_text(analysis.shapes.get(node_id))))
    parts.append("<table cellspacing='0' cellpadding='1'>" + "".join(
        f"<tr><td style='color:{MUTED}; padding-right:10px'>{esc(k)}</td>"
        f"<td style='font-family:monospace'>{esc(v)}</td></tr>" for k, v in rows) + "</table>")
    parts.append(layer_notes.notes_html(graph, analysis, node_id, MUTED))
    weights = analysis.weight_shapes.get(node_id)
    count = analysis.param_count(node_id)
    how = spec.param_count_help if spec else ""
    text = f"<b>Parameters</b>: {count:,}" if weights is not None else "<b>Parameters</b>: ?"
    if how:
        text += f" <span style='color:{MUTED}'>({esc(how)})</span>"
    if weights:
        listed = ", ".join(f"{esc(k)} {esc(shape_text(v))}" for k, v in weights.items())
        text += f"<br><span style='font-family:monospace'>{listed}</span>"
    parts.append(f"<p>{text}</p>")
    problems = analysis.problems_of(node_id)
    if problems:
        items = "".join(f"<li>{esc(p.message)}</li>" for p in problems)
        parts.append(f"<p style='color:{ERROR}'><b>Problems</b></p>"
                     f"<ul style='color:{ERROR}; margin-left:-20px'>{items}</ul>")
    return "".join(parts)


def summary_html(document: GraphDocument, selection: list[str]) -> str:
    """The graph at a glance (nothing selected) or the selection's totals."""
    graph, analysis = document.graph, document.analysis
    esc = html.escape
    n_nodes = len(graph)
    n_edges = sum(1 for _ in graph.edges())
    name = re.sub(r"(\S{16})", "\\1\u200b", short(graph.name))  # long words may wrap
    parts = [f"<p style='font-size:14pt; font-weight:600'>{esc(name)}</p>"]
    if selection:
        total = sum(analysis.param_count(n) for n in selection)
        parts.append(f"<p>{len(selection)} layers selected<br>{total:,} parameters in "
                     "them</p>")
    stats = [("Layers", f"{n_nodes}"), ("Connections", f"{n_edges}"),
             ("Parameters", f"{analysis.total_params:,}")]
    if analysis.input_ids:
        stats.append(("Inputs", ", ".join(
            f"{i} {shape_text(analysis.shapes.get(i))}" for i in analysis.input_ids)))
    if analysis.output_id:
        out = analysis.output_id
        stats.append(("Output", f"{out} {shape_text(analysis.shapes.get(out))}"))
    training = graph.training or {}
    if training.get("dataset"):
        stats.append(("Data set", str(training["dataset"])))
    if training.get("loss"):
        stats.append(("Loss", str(training["loss"])))
    parts.append("<table cellspacing='0' cellpadding='2'>" + "".join(
        f"<tr><td style='color:{MUTED}; padding-right:12px'>{esc(k)}</td><td>{esc(v)}</td>"
        "</tr>" for k, v in stats) + "</table>")
    problems = analysis.problems
    if problems:
        items = "".join(f"<li>{esc(str(p))}</li>" for p in problems[:8])
        more = f"<li>… and {len(problems) - 8} more</li>" if len(problems) > 8 else ""
        parts.append(f"<p style='color:{ERROR}'><b>{len(problems)} problem"
                     f"{'s' if len(problems) != 1 else ''}</b></p>"
                     f"<ul style='color:{ERROR}; margin-left:-20px'>{items}{more}</ul>")
    elif n_nodes:
        parts.append("<p style='color:#15803d'>The graph is valid.</p>")
    hint = ("Select a layer to edit its parameters." if n_nodes else
            "Drag a layer from the palette onto the canvas to start.")
    parts.append(f"<p style='color:{MUTED}'>{hint}</p>")
    return "".join(parts)


def _label(text: str = "", rich: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    return label


def _section(title: str) -> QLabel:
    label = QLabel(title.upper())
    label.setStyleSheet(f"color: {MUTED}; font-weight: 600; letter-spacing: 1px; "
                        "border-bottom: 1px solid #dde1e6; padding: 6px 0 3px 0;")
    return label


def _header(type_name: str, spec: LayerSpec | None) -> QWidget:
    """The category icon, the type in bold and the category in grey."""
    box = QWidget()
    row = QFormLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    icon = QLabel()
    icon.setPixmap(style.type_icon(type_name, 28).pixmap(28, 28))
    category = spec.category if spec else "unknown layer type"
    text = QLabel(f"<span style='font-size:13pt; font-weight:600'>{html.escape(type_name)}"
                  f"</span><br><span style='color:{MUTED}'>{html.escape(category)}</span>")
    text.setTextFormat(Qt.TextFormat.RichText)
    row.addRow(icon, text)
    return box
