"""The network check panel with image layers (issue 14): it traces each layer's output
shape, and a problem one edit cures (Dense on an image: "Insert Flatten") carries a
button that makes that edit as one undoable step."""

from __future__ import annotations

import dataclasses

import pytest

from core.design.shapes import INSERT_FLATTEN
from core.design.spec import DenseSpec, FlattenSpec
from gui.panels.check import NetworkCheckPanel
from gui.panels.design_summary import DesignSummary
from gui.project.dataset_state import DatasetState
from gui.project.document import Document, LayerSelection


@pytest.fixture
def make(qtbot):
    docs: list[Document] = []

    def build(design, widget=NetworkCheckPanel):
        doc, selection = Document(), LayerSelection()
        docs.append(doc)
        doc.load(design, None)
        panel = widget(doc, selection, DatasetState(doc))
        qtbot.addWidget(panel)
        panel.resize(900, 260)
        panel.show()
        qtbot.waitExposed(panel)
        return doc, selection, panel

    yield build
    for doc in docs:
        doc.undo_stack.clear()  # while the Document lives (its cleanChanged lambda)


def without_flatten(design):
    net = design.network
    assert isinstance(net.layers[3], FlattenSpec)
    return dataclasses.replace(design, network=dataclasses.replace(
        net, layers=net.layers[:3] + net.layers[4:]))


def test_the_shape_trace_names_every_layer_and_its_output(make, conv_design):
    _, _, panel = make(conv_design)
    text = panel.shapes.text()
    for part in ("input 1 @ 8×8", "Conv2D 8@3×3 <b>8 @ 8×8</b>", "ReLU",
                 "MaxPool 2×2 <b>8 @ 4×4</b>", "Flatten <b>128</b>",
                 "Dense 10 <b>10</b>", "Softmax"):
        assert part in text
    assert text.index("Conv2D") < text.index("MaxPool") < text.index("Flatten")


def test_insert_flatten_is_one_undoable_edit(make, conv_design, qtbot):
    doc, selection, panel = make(without_flatten(conv_design))
    before = doc.design
    row, problem = next((i, p) for i, p in enumerate(panel.problems) if p.fix == INSERT_FLATTEN)
    assert problem.layer == (3,)
    button = panel.fix_buttons[row]
    assert button.text() == "Insert Flatten" and button.isVisible()
    assert "✗" in panel.shapes.text()  # the trace stops at the Dense layer
    n = doc.undo_stack.count()
    button.click()
    layers = doc.design.network.layers
    assert len(layers) == len(before.network.layers) + 1
    assert isinstance(layers[3], FlattenSpec) and isinstance(layers[4], DenseSpec)
    assert doc.undo_stack.count() == n + 1
    assert doc.undo_stack.undoText() == "Insert Flatten"
    assert selection.path == (3,)  # the new Flatten
    assert not any(p.fix for p in panel.problems)
    assert not panel.fix_buttons
    doc.undo_stack.undo()  # Ctrl+Z removes it again
    assert doc.design == before
    assert any(p.fix == INSERT_FLATTEN for p in panel.problems)


def test_a_fix_that_no_longer_applies_changes_nothing(make, conv_design):
    doc, _, panel = make(without_flatten(conv_design))
    problem = next(p for p in panel.problems if p.fix == INSERT_FLATTEN)
    stale = dataclasses.replace(problem, layer=(40,))
    before = doc.design
    panel.apply_fix(stale)
    assert doc.design == before


def test_design_summary_shows_image_shapes(make, conv_design):
    _, _, summary = make(conv_design, DesignSummary)
    outputs = [summary.layers.topLevelItem(i).text(1)
               for i in range(summary.layers.topLevelItemCount())]
    assert outputs == ["(batch, 8, 8, 8)", "(batch, 8, 8, 8)", "(batch, 8, 4, 4)",
                       "(batch, 128)", "(batch, 10)", "(batch, 10)"]
    assert "1 @ 8×8 → 6 layers" in summary.totals.text()


def test_in_the_window_ctrl_z_takes_the_inserted_flatten_back(shown_window, conv_design,
                                                               qtbot, tmp_path):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from core.files.design_file import save_design

    path = tmp_path / "conv.json"
    save_design(without_flatten(conv_design), path)
    window = shown_window
    assert window.open_path(path)
    panel = window.check_panel
    row = next(i for i, p in enumerate(panel.problems) if p.fix == INSERT_FLATTEN)
    n = len(window.document.design.network.layers)
    panel.fix_buttons[row].click()
    assert len(window.document.design.network.layers) == n + 1
    assert panel.ready
    window.editor.view.setFocus()
    QTest.keyClick(window.editor.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    # The offscreen platform keeps the last key event's modifiers as the application's:
    # a plain key (Shift alone does nothing here) lets later tests click without Ctrl.
    QTest.keyClick(window.editor.view, Qt.Key.Key_Shift)
    assert QApplication.keyboardModifiers() == Qt.KeyboardModifier.NoModifier
    assert len(window.document.design.network.layers) == n
    assert not panel.ready and panel.fix_buttons


def test_every_fix_the_check_offers_is_a_button(make, conv_design):
    # A residual block whose branch changes the channels, without a projection: the
    # check offers to turn it on (a 1×1 convolution for images).
    from core.design.shapes import ADD_PROJECTION
    from core.design.spec import Conv2DSpec, ResidualSpec

    net = conv_design.network
    block = ResidualSpec(layers=(Conv2DSpec(filters=16),))
    design = dataclasses.replace(conv_design, network=dataclasses.replace(
        net, layers=net.layers[:2] + (block,) + net.layers[2:]))
    doc, _, panel = make(design)
    row, problem = next((i, p) for i, p in enumerate(panel.problems) if p.fix)
    assert problem.fix == ADD_PROJECTION and problem.layer == (2,)
    assert panel.fix_buttons[row].text() == "Turn on projection"
    panel.fix_buttons[row].click()
    assert doc.design.network.layers[2].projection is True
    assert doc.undo_stack.undoText() == "Turn on projection"
    assert not any(p.fix for p in panel.problems)
