"""The inspector: edits the settings of the selected layer (or, with nothing selected, the
network's own settings).

Its editors come from the layer's ``FieldInfo`` table (``gui.editor.field_editors``), so every
layer kind, present or future, gets the right widgets without code here. An edit replaces
the layer with ``dataclasses.replace`` and goes through ``Document.set_design`` as one
undoable step (typing in one field merges into one step); values the field's check
refuses are never committed and the reason shows under the field. The panel refreshes on
``designChanged`` and ``selection.changed`` with its editors' signals blocked, so a
refresh never echoes an edit back.
"""

from __future__ import annotations

import dataclasses
import html
from typing import Any

from PySide6.QtCore import QSignalBlocker
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from core import INITIALIZERS, LAYER_KINDS, LayerSpec, NetworkSpec
from core.design.check import layer_rows
from core.design.edit import LayerPath, input_shape, layer_at, replace_layer
from core.design.fields import field_infos
from core.design.shapes import ShapeError, batch_shape_text, is_image, shape_words
from core.words import plural
from gui.colors import ERROR, WARNING, kind_color
from gui.editor.field_editors import (
    ChoiceCombo,
    FieldEditor,
    FieldForm,
    fill_with_scroll_area,
    lower_first,
)
from gui.project.dataset_state import DatasetState
from gui.project.document import Document, LayerSelection
from gui.shape_text import size_text, size_words, title_words

HINT = "Select a layer to edit it"


class LayerInspector(QWidget):
    """Edits the selected layer's fields; shows the network's fields when none is selected.

    ``form`` holds the current editors (``editor(name)`` finds one); ``title_label``,
    ``description_label``, ``shape_label`` and ``hint_label`` make up the header.
    """

    def __init__(self, document: Document, selection: LayerSelection,
                 dataset_state: DatasetState | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc = document
        self._selection = selection
        self._dataset_state = dataset_state
        self._form_key: tuple[Any, ...] | None = None
        self._path: LayerPath | None = None
        self.form: FieldForm | None = None
        self.inputs_label: QLabel | None = None

        self.title_label = QLabel()
        title_font = QFont(self.title_label.font())
        title_font.setBold(True)
        title_font.setPointSizeF(title_font.pointSizeF() * 1.25)
        self.title_label.setFont(title_font)
        self.title_label.setWordWrap(True)
        self.description_label = QLabel()
        self.description_label.setWordWrap(True)
        self.description_label.setStyleSheet("color: palette(placeholder-text);")
        self.shape_label = QLabel()
        self.shape_label.setWordWrap(True)
        self.shape_label.setToolTip("The shape going into and out of this layer (features, "
                                    "or channels @ height×width for images), and how many "
                                    "weights and biases it learns.")
        self.hint_label = QLabel(HINT)
        self.hint_label.setWordWrap(True)
        self.hint_label.setStyleSheet("color: palette(placeholder-text); font-style: italic;")
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)

        content = QWidget()
        self._content_layout = QVBoxLayout(content)
        self._content_layout.setContentsMargins(10, 10, 10, 10)
        self._content_layout.setSpacing(6)
        for widget in (self.title_label, self.description_label, self.shape_label, line,
                       self.hint_label):
            self._content_layout.addWidget(widget)
        self._form_index = self._content_layout.count()
        self._content_layout.addStretch(1)

        fill_with_scroll_area(self, content)

        document.designChanged.connect(self._on_document_design_changed)
        selection.changed.connect(self._on_selection_changed)
        if dataset_state is not None:
            dataset_state.changed.connect(self._on_dataset_changed)
        self.refresh()

    # -- public -----------------------------------------------------------------
    def editor(self, name: str) -> FieldEditor:
        """The editor of field ``name`` in the current form."""
        if self.form is None or name not in self.form.editors:
            raise KeyError(f"no editor for {name!r}")
        return self.form.editors[name]

    def current_layer(self) -> LayerSpec | None:
        """The selected layer, or None (nothing selected, or the path no longer exists)."""
        path = self._selection.path
        if path is None:
            return None
        try:
            return layer_at(self._doc.design.network, path)
        except (IndexError, ValueError):
            return None

    def refresh(self) -> None:
        """Show the design's current values; never pushes an edit."""
        layer = self.current_layer()
        path = self._selection.path if layer is not None else None
        key = (path, type(layer))
        if key != self._form_key:
            self._build_form(layer)
            self._form_key = key
        self._path = path
        if layer is None:
            self._show_network()
        else:
            self._show_layer(layer, path)

    # -- building ---------------------------------------------------------------
    def _build_form(self, layer: LayerSpec | None) -> None:
        if self.form is not None:
            self._content_layout.removeWidget(self.form)
            self.form.hide()  # it stays painted until deleted later otherwise
            self.form.deleteLater()
        self.form = FieldForm()
        self.inputs_label = None
        if layer is None:
            net_infos = field_infos(NetworkSpec)
            inputs = net_infos["inputs"]
            self.inputs_label = self.form.add_note(
                inputs.label, "", f"{inputs.help} Change it by choosing a dataset.")
            self.form.add_fields({k: v for k, v in net_infos.items() if k != "inputs"})
            self.form.edited.connect(self._on_network_field_edited)
        else:
            self.form.add_fields(field_infos(layer))
            self.form.edited.connect(self._on_layer_field_edited)
        self._content_layout.insertWidget(self._form_index, self.form)

    def _set_values(self, obj: Any) -> None:
        assert self.form is not None
        for name, editor in self.form.editors.items():
            with QSignalBlocker(editor):
                editor.set_value(getattr(obj, name))

    def _show_layer(self, layer: LayerSpec, path: LayerPath) -> None:
        info = LAYER_KINDS[layer.kind]
        color = kind_color(layer.kind).name()
        self.title_label.setText(f"<span style='color:{color}'>■</span> {info.label}")
        self.title_label.setToolTip(f"The {info.label} layer at position "
                                    f"{'.'.join(str(i + 1) for i in path)}.")
        self.description_label.setText(info.description)
        self.description_label.show()
        row = next((r for r in layer_rows(self._doc.design) if r.path == path), None)
        if row is not None and row.out_shape:
            params = plural(row.parameters, "parameter")
            self.shape_label.setText(f"{size_text(row.in_shape)} → "
                                     f"{size_words(row.out_shape)} · {params}")
        elif row is not None:
            self.shape_label.setText(self._shape_problem(path))
        else:
            self.shape_label.setText("")
        self.hint_label.hide()
        self._set_values(layer)
        self._describe_default_init()

    def _shape_problem(self, path: LayerPath) -> str:
        """Why the layer at ``path`` has no output shape, as rich text: its own reason (a
        kernel larger than its input, Dense on an image) in the error colour, or that a
        layer before it cannot take its input."""
        net = self._doc.design.network
        try:
            shape = input_shape(net, path)
        except ShapeError:
            return "Shape unknown: a layer before this one cannot take its input."
        try:
            layer_at(net, path).output_shape(shape)
        except ShapeError as e:
            why = e.message[:1].upper() + e.message[1:]
            return f"<span style='color:{ERROR.name()}'>{html.escape(why)}.</span>"
        return "Shape unknown: see the network check."

    def _show_network(self) -> None:
        design = self._doc.design
        net = design.network
        # The label is rich text (a layer's colour swatch): escape the design's name.
        self.title_label.setText(html.escape(design.name) or "Network")
        self.title_label.setToolTip("The whole network: nothing is selected.")
        count = len(net.layers)
        try:
            params = plural(net.parameter_count(), "parameter")
            shape = f"{size_text(net.in_shape)} → {size_words(net.out_shape)}"
        except (TypeError, ShapeError):  # a malformed layer; the check panel says which
            params, shape = "", size_words(net.in_shape)
        self.description_label.setText(plural(count, "layer"))
        self.description_label.show()
        self.shape_label.setText(" · ".join(p for p in (shape, params) if p))
        self.hint_label.show()
        self._set_values(net)
        assert self.inputs_label is not None
        self.inputs_label.setText(self._inputs_text(net))

    def _inputs_text(self, net: NetworkSpec) -> str:
        """The network's input (read-only: the dataset sets it), with the dataset's when
        they differ: "64 (set by the dataset)", "8×8 image, 1 channel · (batch, 1, 8, 8)
        (set by the dataset)"."""
        if is_image(net.in_shape):  # some layer takes the image (not just its pixels)
            mine = f"{title_words(net.in_shape)} · {batch_shape_text(net.in_shape)}"
        else:
            mine = str(net.inputs)
        data = self._dataset_state.shape if self._dataset_state else None
        if data is None:
            return f"{mine} (set by the dataset)"
        if data.n_features != net.inputs:
            has = plural(data.n_features, "feature")
        elif net.input_shape and net.input_shape != data.image_shape:
            has = (f"a {shape_words(data.image_shape)}" if data.image_shape
                   else "rows of features")
        else:
            return f"{mine} (set by the dataset)"
        return f"{mine} <span style='color:{WARNING.name()}'>(the dataset has {has})</span>"

    def _describe_default_init(self) -> None:
        # Say what 'default' means right now, so the choice is not a guess.
        editor = self.form.editors.get("init") if self.form else None
        if editor is None or not isinstance(editor.control, ChoiceCombo):
            return
        default = self._doc.design.network.default_init
        entry = INITIALIZERS.get(default)
        label = entry.label if entry is not None else default
        editor.control.set_item_text("default", f"Default ({label})")

    # -- slots ------------------------------------------------------------------
    def _on_document_design_changed(self) -> None:
        self.refresh()

    def _on_selection_changed(self) -> None:
        self.refresh()

    def _on_dataset_changed(self) -> None:
        self.refresh()

    def _on_layer_field_edited(self, name: str, value: Any) -> None:
        layer = self.current_layer()
        if layer is None or self._path is None:
            return
        design = self._doc.design
        new_layer = dataclasses.replace(layer, **{name: value})
        network = replace_layer(design.network, self._path, new_layer)
        label = field_infos(layer)[name].label
        self._doc.set_design(dataclasses.replace(design, network=network),
                             f"Change {lower_first(label)}",
                             merge_key=f"layer:{self._path}:{name}")

    def _on_network_field_edited(self, name: str, value: Any) -> None:
        design = self._doc.design
        network = dataclasses.replace(design.network, **{name: value})
        label = field_infos(NetworkSpec)[name].label
        self._doc.set_design(dataclasses.replace(design, network=network),
                             f"Change {lower_first(label)}", merge_key=f"network:{name}")
