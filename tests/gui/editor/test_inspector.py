"""The inspector edits the selected layer through undoable steps, refuses invalid values
with a visible reason, fills its combo boxes from the engine's tables, and never pushes an
edit when it merely refreshes."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QVBoxLayout, QWidget

from core import ACTIVATIONS, INITIALIZERS, LAYER_KINDS, DenseSpec, DropoutSpec
from core.design.edit import layer_at, replace_layer
from core.design.fields import field_infos
from core.files.design_file import load_design
from core.resources import resource_path
from gui.editor.field_editors import (
    BoolCheck,
    ChoiceCombo,
    NumberEdit,
    format_number,
    parse_number,
    step_number,
)
from gui.editor.inspector import HINT, LayerInspector
from gui.project.document import Document, LayerSelection


@pytest.fixture
def setup(qtbot):
    doc = Document()
    doc.load(load_design(resource_path("examples", "spiral.json")), None)
    selection = LayerSelection()
    inspector = LayerInspector(doc, selection)
    host = show_in_host(qtbot, inspector)
    yield doc, selection, inspector
    del host
    # Empty the history while the document lives: Document's cleanChanged lambda would
    # otherwise fire on a deleted Document when Python collects it (noise, not a failure).
    doc.undo_stack.clear()


def show_in_host(qtbot, widget: QWidget) -> QWidget:
    """Show ``widget`` inside a fixed-size window, as in a dock: a top-level window whose
    size hints change makes the offscreen platform warn (propagateSizeHints)."""
    host = QWidget()
    host.setFixedSize(320, 700)
    QVBoxLayout(host).addWidget(widget)
    qtbot.addWidget(host)
    host.show()
    return host


def type_into(qtbot, edit: NumberEdit, text: str, enter: bool = True) -> None:
    """Replace the entry's text the way a user does: select all, type, press Return."""
    edit.setFocus()
    edit.lineEdit().selectAll()
    QTest.keyClicks(edit.lineEdit(), text)
    if enter:
        QTest.keyClick(edit.lineEdit(), Qt.Key.Key_Return)


def test_nothing_selected_shows_network_fields_and_hint(setup):
    doc, _selection, inspector = setup
    assert inspector.hint_label.text() == HINT
    assert not inspector.hint_label.isHidden()
    assert "set by the dataset" in inspector.inputs_label.text()
    combo = inspector.editor("default_init").control
    assert isinstance(combo, ChoiceCombo)
    assert combo.names() == list(INITIALIZERS)
    combo.setCurrentIndex(combo.findData("he_normal"))
    assert doc.design.network.default_init == "he_normal"
    assert doc.undo_stack.count() == 1


def test_header_shows_kind_description_shapes_and_parameters(setup):
    _doc, selection, inspector = setup
    selection.select((2,))  # Dense 32 after Dense 32
    assert "Dense" in inspector.title_label.text()
    assert inspector.description_label.text() == LAYER_KINDS["dense"].description
    assert inspector.shape_label.text() == "32 → 32 features · 1,056 parameters"
    assert inspector.hint_label.isHidden()


def test_invalid_units_are_refused_with_the_reason(setup, qtbot):
    doc, selection, inspector = setup
    selection.select((0,))
    before = doc.design
    editor = inspector.editor("units")
    type_into(qtbot, editor.control, "0")
    assert doc.design is before
    assert doc.undo_stack.count() == 0
    assert "Units must be" in editor.error() and "got 0" in editor.error()
    assert not editor.error_label.isHidden()
    type_into(qtbot, editor.control, "200000")
    assert doc.design is before
    assert "100000" in editor.error()
    type_into(qtbot, editor.control, "abc")
    assert doc.design is before
    assert "must be an integer" in editor.error()
    type_into(qtbot, editor.control, "-", enter=False)  # shown while typing, too
    assert "must be an integer, got '-'" in editor.error()
    editor.control.clearFocus()  # leaving the field commits nothing
    assert doc.design is before
    assert editor.control.text() == "-" and editor.error()


def test_valid_units_commit_as_one_undo_step(setup, qtbot):
    doc, selection, inspector = setup
    selection.select((0,))
    before = doc.design
    editor = inspector.editor("units")
    type_into(qtbot, editor.control, "0")  # invalid first
    type_into(qtbot, editor.control, "64", enter=False)
    assert doc.design is before  # nothing is committed while typing...
    assert editor.error() == ""  # ...but it is checked as you type
    QTest.keyClick(editor.control.lineEdit(), Qt.Key.Key_Return)
    assert layer_at(doc.design.network, (0,)).units == 64
    type_into(qtbot, editor.control, "65")  # a second edit of the field merges
    assert layer_at(doc.design.network, (0,)).units == 65
    assert editor.error() == ""
    assert doc.undo_stack.count() == 1
    assert doc.undo_stack.undoText() == "Change units"
    doc.undo_stack.undo()
    assert doc.design == before
    assert editor.control.text() == "32"  # undo refreshed the field


def test_arrow_keys_step_within_range(setup, qtbot):
    doc, selection, inspector = setup
    selection.select((4,))  # Dense 2
    edit = inspector.editor("units").control
    edit.setFocus()
    QTest.keyClick(edit, Qt.Key.Key_Down)
    assert layer_at(doc.design.network, (4,)).units == 1
    QTest.keyClick(edit, Qt.Key.Key_Down)  # 0 is out of range: stays at 1
    assert layer_at(doc.design.network, (4,)).units == 1
    assert doc.undo_stack.count() == 1


def test_activation_combo_lists_the_table_and_changes_the_function(setup):
    doc, selection, inspector = setup
    selection.select((1,))
    combo = inspector.editor("function").control
    assert isinstance(combo, ChoiceCombo)
    assert combo.names() == list(ACTIVATIONS)
    for i, (name, info) in enumerate(ACTIVATIONS.items()):
        assert combo.itemText(i) == info.label
        assert combo.itemData(i, Qt.ItemDataRole.ToolTipRole) == ACTIVATIONS[name].description
    assert combo.currentData() == "tanh"
    combo.setCurrentIndex(combo.findData("relu"))
    assert layer_at(doc.design.network, (1,)).function == "relu"
    assert doc.undo_stack.undoText() == "Change function"
    doc.undo_stack.undo()
    assert combo.currentData() == "tanh"


def test_bool_field_toggles_bias(setup):
    doc, selection, inspector = setup
    selection.select((0,))
    check = inspector.editor("bias").control
    assert isinstance(check, BoolCheck)
    assert check.isChecked()
    check.click()
    assert layer_at(doc.design.network, (0,)).bias is False
    assert "64 parameters" in inspector.shape_label.text()  # 2 x 32 weights, no biases
    assert doc.undo_stack.count() == 1


def test_float_field_commits_exact_value(setup, qtbot):
    doc, selection, inspector = setup
    selection.select((0,))
    type_into(qtbot, inspector.editor("gain").control, "0.0123")
    assert layer_at(doc.design.network, (0,)).gain == 0.0123
    type_into(qtbot, inspector.editor("gain").control, "0")
    assert layer_at(doc.design.network, (0,)).gain == 0.0123
    assert "Init gain must be a number > 0" in inspector.editor("gain").error()


def test_selection_change_refreshes_the_fields(setup):
    doc, selection, inspector = setup
    net = replace_layer(doc.design.network, (2,), DenseSpec(units=7))
    doc.set_design(dataclasses.replace(doc.design, network=net), "test")
    selection.select((0,))
    assert inspector.editor("units").control.text() == "32"
    selection.select((2,))
    assert inspector.editor("units").control.text() == "7"
    selection.select((1,))
    assert "function" in inspector.form.editors and "units" not in inspector.form.editors
    selection.select(None)
    assert "default_init" in inspector.form.editors


def test_selection_change_clears_a_refused_entry(setup, qtbot):
    _doc, selection, inspector = setup
    selection.select((0,))
    type_into(qtbot, inspector.editor("units").control, "0")
    selection.select((2,))
    assert inspector.editor("units").error() == ""
    assert inspector.editor("units").control.text() == "32"


def test_default_item_says_what_default_means(setup):
    doc, selection, inspector = setup
    selection.select((0,))
    combo = inspector.editor("init").control
    assert combo.itemText(combo.findData("default")) == "Default (Glorot (Xavier) uniform)"
    net = dataclasses.replace(doc.design.network, default_init="he_normal")
    doc.set_design(dataclasses.replace(doc.design, network=net), "test")
    assert combo.itemText(combo.findData("default")) == "Default (He normal)"


def test_refreshes_never_push_edits(setup):
    doc, selection, inspector = setup
    for path in [(0,), (1,), (4,), None, (5,), (0,)]:
        selection.select(path)
    assert doc.undo_stack.count() == 0
    net = replace_layer(doc.design.network, (0,), DenseSpec(units=5, bias=False))
    doc.set_design(dataclasses.replace(doc.design, network=net), "outside edit")
    assert doc.undo_stack.count() == 1
    assert inspector.editor("units").control.text() == "5"
    assert not inspector.editor("bias").control.isChecked()
    doc.undo_stack.undo()
    doc.undo_stack.redo()
    doc.load(load_design(resource_path("examples", "xor.json")), None)
    assert doc.undo_stack.count() == 0
    assert inspector.editor("units").control.text() == "8"


def test_a_removed_layer_falls_back_to_the_network(setup):
    doc, selection, inspector = setup
    selection.select((5,))
    net = dataclasses.replace(doc.design.network, layers=doc.design.network.layers[:2])
    doc.set_design(dataclasses.replace(doc.design, network=net), "remove")
    assert inspector.current_layer() is None
    assert "default_init" in inspector.form.editors
    assert not inspector.hint_label.isHidden()


def test_number_text_round_trips():
    assert format_number(0.0123) == "0.0123"
    assert format_number(1e-08) == "1e-08"
    assert format_number(100.0) == "100"
    assert format_number(32) == "32"
    assert parse_number("1e3", "int") == 1000
    assert parse_number("2.5", "int") == 2.5
    assert parse_number("0,5", "float") == 0.5
    assert parse_number("x", "float") == "x"


def test_float_steps_follow_the_leading_digit():
    gain = field_infos(DenseSpec)["gain"]
    assert step_number(1.0, -1, gain) == 0.9
    assert step_number(0.01, 1, gain) == 0.02
    assert step_number(0.01, -1, gain) == 0.009  # log field: never reaches 0
    rate = field_infos(DropoutSpec)["rate"]
    assert step_number(0.01, -1, rate) == 0.0  # non-log field reaches 0
    assert step_number(0.99, 1, rate) == 0.99  # stays inside the range
