"""The builder window's image layers (issue 14): the palette offers them with icons and
tooltips, their cards show (batch, C, H, W) and parameter counts, impossible shapes mark
the card, and the inspector edits kernel, stride, padding and filters with validation."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from core import LAYER_KINDS
from core.design.spec import Conv2DSpec, DenseSpec, NetworkSpec
from gui.editor.inspector import LayerInspector
from gui.editor.layer_model import PROBLEMS_ROLE, ROW_ROLE
from gui.editor.layer_stack import LayerStackEditor
from gui.editor.palette import KIND_NAME_ROLE, LayerKindModel, LayerPalette
from gui.icons import kind_pixmap
from gui.project.dataset_state import DatasetState
from gui.project.document import Document, LayerSelection

IMAGE_KINDS = ("conv2d", "maxpool2d", "avgpool2d", "flatten", "global_avgpool")


def host(qtbot, widget: QWidget, width: int, height: int) -> QWidget:
    """``widget`` in a fixed-size window, as in a dock (no propagateSizeHints warnings)."""
    box = QWidget()
    box.setFixedSize(width, height)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(widget)
    qtbot.addWidget(box)
    box.show()
    qtbot.waitExposed(box)
    return box


@pytest.fixture
def document(conv_design):
    doc = Document()
    doc.load(conv_design, None)
    yield doc
    doc.undo_stack.clear()  # while the Document lives (its cleanChanged lambda)


def test_palette_offers_the_image_kinds_with_icons_and_tooltips(qtbot, document):
    palette = LayerPalette(document, LayerSelection())
    _box = host(qtbot, palette, 220, 520)
    model = palette.model
    rows = {model.index(r, 0).data(KIND_NAME_ROLE): model.index(r, 0)
            for r in range(model.rowCount())}
    images = {}
    for kind in IMAGE_KINDS:
        index = rows[kind]
        tip = index.data(Qt.ItemDataRole.ToolTipRole)
        assert tip.startswith(LAYER_KINDS[kind].label + ": ")
        assert LAYER_KINDS[kind].description in tip
        assert not index.data(Qt.ItemDataRole.DecorationRole).isNull()
        images[kind] = kind_pixmap(kind, 28).toImage()
    # Each icon is its own drawing (not the generic square, not another kind's).
    generic = kind_pixmap("no such kind", 28).toImage()
    drawn = list(images.values()) + [generic]
    assert all(a != b for i, a in enumerate(drawn) for b in drawn[i + 1:])
    # The article's ideas in the words: a filter sliding over the image, the strongest
    # response kept.
    assert "filter" in rows["conv2d"].data(Qt.ItemDataRole.ToolTipRole).lower()
    assert "strongest" in rows["maxpool2d"].data(Qt.ItemDataRole.ToolTipRole)


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_double_click_appends_an_image_layer_undoably(qtbot, document, kind):
    selection = LayerSelection()
    palette = LayerPalette(document, selection)
    _box = host(qtbot, palette, 220, 520)
    before = document.design
    palette.add_kind(kind)
    assert document.design.network.layers[-1] == LAYER_KINDS[kind].spec()
    document.undo_stack.undo()
    assert document.design == before


def drop_kind(editor: LayerStackEditor, kind: str, pos: QPoint) -> bool:
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    palette = LayerKindModel()
    mime = palette.mimeData([palette.kind_index(kind)])
    vp = editor.view.viewport()
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    for event in (QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, buttons, mods),
                  QDragMoveEvent(pos, Qt.DropAction.CopyAction, mime, buttons, mods),
                  QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, buttons, mods)):
        QApplication.sendEvent(vp, event)
        if not event.isAccepted():
            return False
    return True


def make_editor(qtbot, document, width: int = 340) -> LayerStackEditor:
    selection = LayerSelection()
    editor = LayerStackEditor(document, selection, DatasetState(document))
    editor._test_host = host(qtbot, editor, width, 700)  # kept alive with the editor
    return editor


def test_dropping_a_conv2d_on_a_digits_image_design_shows_its_shape(qtbot, document):
    design = document.design
    document.set_design(dataclasses.replace(design, network=dataclasses.replace(
        design.network, layers=())), "empty")
    editor = make_editor(qtbot, document)
    # Until a layer takes images, the network reads the pixels as features.
    assert editor.input_card.title() == "Input: 64 features"
    assert drop_kind(editor, "conv2d", QPoint(150, 20))
    assert document.design.network.layers == (Conv2DSpec(),)
    assert editor.input_card.title() == "Input: 8×8 image"
    assert editor.input_card.detail() == "1 channel · matches the dataset"
    index = editor.model.index_of((0,))
    row = index.data(ROW_ROLE)
    assert row.out_shape == (8, 8, 8) and row.parameters == 8 * 9 + 8
    assert editor.view.itemDelegate()._right_texts(row) == ("(batch, 8, 8, 8)", "80 params")
    assert "(batch, 8, 8, 8)" in index.data(Qt.ItemDataRole.ToolTipRole)
    document.undo_stack.undo()
    assert document.design.network.layers == ()


def test_every_card_shows_its_batch_shape_and_fits_the_editor(qtbot, document):
    editor = make_editor(qtbot, document)
    delegate = editor.view.itemDelegate()
    texts = []
    for path in [(i,) for i in range(6)]:
        row = editor.model.index_of(path).data(ROW_ROLE)
        texts.append(delegate._right_texts(row)[0])
    assert texts == ["(batch, 8, 8, 8)", "(batch, 8, 8, 8)", "(batch, 8, 4, 4)",
                     "(batch, 128)", "(batch, 10)", "(batch, 10)"]
    assert delegate._right_texts(editor.model.index_of((4,)).data(ROW_ROLE))[1] == \
        "1,290 params"
    # Issue 13: the editor is as wide as its widest card needs, capped at 340 pixels.
    widest = max(delegate.card_width(editor.view.font(), editor.model.index_of((i,)))
                 for i in range(6))
    assert widest <= 340
    editor.view.grab()


def test_an_impossible_shape_marks_the_card(qtbot, document):
    design = document.design
    layers = (Conv2DSpec(kernel=9, padding="valid"), *design.network.layers[1:])
    document.set_design(dataclasses.replace(design, network=dataclasses.replace(
        design.network, layers=layers)), "kernel")
    editor = make_editor(qtbot, document)
    conv = editor.model.index_of((0,))
    problems = conv.data(PROBLEMS_ROLE)
    assert problems and "larger than" in problems[0]
    assert editor.view.itemDelegate()._right_texts(conv.data(ROW_ROLE))[0] == "(batch, ?)"
    # Dense straight on the image: its card is marked too, saying what to insert.
    document.undo_stack.undo()
    net = document.design.network
    document.set_design(dataclasses.replace(document.design, network=dataclasses.replace(
        net, layers=net.layers[:3] + net.layers[4:])), "no flatten")
    assert isinstance(document.design.network.layers[3], DenseSpec)
    dense = editor.model.index_of((3,))
    assert any("Flatten" in m for m in dense.data(PROBLEMS_ROLE))
    editor.view.grab()


def test_inspector_edits_conv_fields_with_validation(qtbot, document):
    selection = LayerSelection()
    inspector = LayerInspector(document, selection, DatasetState(document))
    _box = host(qtbot, inspector, 320, 700)
    selection.select((0,))
    for name in ("filters", "kernel", "stride", "padding", "bias", "init", "gain"):
        editor = inspector.editor(name)
        assert editor.toolTip() or editor.control.toolTip()
    assert inspector.shape_label.text() == "1 @ 8×8 → 8 @ 8×8 · 80 parameters"
    padding = inspector.editor("padding").control
    assert set(padding.names()) == {"same", "valid"}
    padding.setCurrentIndex(padding.findData("valid"))
    assert document.design.network.layers[0].padding == "valid"
    assert inspector.shape_label.text() == "1 @ 8×8 → 8 @ 6×6 · 80 parameters"
    before = document.design
    kernel = inspector.editor("kernel")
    kernel.control.setFocus()
    kernel.control.lineEdit().selectAll()
    from PySide6.QtTest import QTest
    QTest.keyClicks(kernel.control.lineEdit(), "0")
    QTest.keyClick(kernel.control.lineEdit(), Qt.Key.Key_Return)
    assert document.design is before
    assert "Kernel must be" in kernel.error()
    # A kernel the field accepts but the image cannot take: the reason shows, and the
    # layers after it say they cannot know their shape.
    type_kernel = kernel.control.lineEdit()
    type_kernel.selectAll()
    QTest.keyClicks(type_kernel, "9")
    QTest.keyClick(type_kernel, Qt.Key.Key_Return)
    assert document.design.network.layers[0].kernel == 9
    assert "larger than its 8×8 input" in inspector.shape_label.text()
    selection.select((2,))
    assert "a layer before this one" in inspector.shape_label.text()
    # The pooling layer's window size, too.
    assert inspector.editor("size") and inspector.editor("stride")


def test_inspector_shows_the_networks_input_shape_read_only(qtbot, document):
    inspector = LayerInspector(document, LayerSelection(), DatasetState(document))
    _box = host(qtbot, inspector, 320, 700)
    text = inspector.inputs_label.text()
    assert "8×8 image, 1 channel" in text and "(batch, 1, 8, 8)" in text
    assert "set by the dataset" in text or "the dataset has" in text
    with pytest.raises(KeyError):
        inspector.editor("input_shape")
    with pytest.raises(KeyError):
        inspector.editor("inputs")


def test_network_without_image_layers_keeps_its_old_texts(qtbot):
    doc = Document()
    from core.design.spec import Design
    doc.load(Design(NetworkSpec(inputs=2, layers=(DenseSpec(4),))), None)
    editor = make_editor(qtbot, doc)
    assert editor.input_card.title() == "Input: 2 features"
    row = editor.model.index_of((0,)).data(ROW_ROLE)
    assert editor.view.itemDelegate()._right_texts(row) == ("(batch, 4)", "12 params")
    doc.undo_stack.clear()


def test_a_wide_image_design_keeps_the_editor_within_its_cap(qtbot):
    # Issue 13: the editor is as wide as its widest card needs, up to 340 pixels; the
    # input card of a 28×28 RGB image must not push past that.
    from core.design.spec import (
        ActivationSpec,
        Design,
        GlobalAvgPoolSpec,
        MaxPool2DSpec,
    )
    net = NetworkSpec(inputs=3 * 28 * 28, input_shape=(3, 28, 28), layers=(
        Conv2DSpec(filters=16, kernel=3, stride=2, padding="valid"), ActivationSpec("relu"),
        MaxPool2DSpec(), Conv2DSpec(filters=128), GlobalAvgPoolSpec(), DenseSpec(10),
        ActivationSpec("softmax")))
    doc = Document()
    doc.load(Design(net), None)
    editor = make_editor(qtbot, doc, width=360)
    assert editor.input_card.title() == "Input: 28×28 image"
    cards = editor.view.cards_width()
    assert editor.input_card.minimumSizeHint().width() <= cards
    from gui.editor.layer_tree_view import MAX_CARDS_WIDTH
    assert editor.minimumSizeHint().width() <= MAX_CARDS_WIDTH + 8  # the editor's margins
    doc.undo_stack.clear()
