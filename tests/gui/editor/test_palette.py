"""The layer palette: built from core.LAYER_KINDS, drags carry the kind, double-click and
Enter append a layer with its defaults (into the selected residual block), undoably."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from core import LAYER_KINDS, DenseSpec, ResidualSpec
from core.files.design_file import load_design
from core.resources import resource_path
from gui.editor.layer_model import KIND_MIME
from gui.editor.palette import KIND_NAME_ROLE, LayerPalette
from gui.project.document import Document, LayerSelection


@pytest.fixture
def env(qtbot):
    doc = Document()
    doc.load(load_design(resource_path("examples", "xor.json")), None)
    selection = LayerSelection()
    palette = LayerPalette(doc, selection)
    # In a fixed-size window, as in a dock (the offscreen platform warns about
    # propagateSizeHints for top-level windows whose size hints change).
    host = QWidget()
    host.setFixedSize(200, 400)
    QVBoxLayout(host).addWidget(palette)
    qtbot.addWidget(host)
    host.show()
    qtbot.waitExposed(host)
    yield doc, selection, palette
    doc.undo_stack.clear()  # while the Document lives (its cleanChanged lambda)


def test_lists_every_kind_from_the_registry(env):
    _, _, palette = env
    model = palette.model
    assert model.rowCount() == len(LAYER_KINDS)
    for row, info in enumerate(LAYER_KINDS.values()):
        index = model.index(row, 0)
        assert index.data(KIND_NAME_ROLE) == info.kind
        assert index.data(Qt.ItemDataRole.DisplayRole) == info.label
        assert not index.data(Qt.ItemDataRole.DecorationRole).isNull()
        assert info.description in index.data(Qt.ItemDataRole.ToolTipRole)
        assert model.flags(index) & Qt.ItemFlag.ItemIsDragEnabled


def test_drag_carries_the_kind(env):
    _, _, palette = env
    for kind in LAYER_KINDS:
        mime = palette.model.mimeData([palette.model.kind_index(kind)])
        assert bytes(mime.data(KIND_MIME).data()).decode() == kind
        assert mime.text() == LAYER_KINDS[kind].label
    assert palette.model.mimeTypes() == [KIND_MIME]
    assert palette.model.supportedDragActions() == Qt.DropAction.CopyAction


@pytest.mark.parametrize("kind", list(LAYER_KINDS))
def test_double_click_appends_with_defaults(env, qtbot, kind):
    doc, selection, palette = env
    before = doc.design
    n = len(before.network.layers)
    rect = palette.view.visualRect(palette.model.kind_index(kind))
    # QTest's double-click sends no press first; the view needs one on the same item.
    qtbot.mouseClick(palette.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert len(doc.design.network.layers) == n  # a single click only selects
    qtbot.mouseDClick(palette.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert doc.design.network.layers == (*before.network.layers, LAYER_KINDS[kind].spec())
    assert selection.path == (n,)
    assert doc.undo_stack.undoText().startswith(f"Add {LAYER_KINDS[kind].label}")
    doc.undo_stack.undo()
    assert doc.design == before
    doc.undo_stack.redo()
    assert doc.design.network.layers[-1] == LAYER_KINDS[kind].spec()


def test_enter_appends(env, qtbot):
    doc, _, palette = env
    n = len(doc.design.network.layers)
    palette.view.setFocus()
    palette.view.setCurrentIndex(palette.model.kind_index("dropout"))
    qtbot.keyClick(palette.view, Qt.Key.Key_Return)
    assert len(doc.design.network.layers) == n + 1
    assert doc.design.network.layers[-1].kind == "dropout"


def test_appends_into_selected_block(env):
    doc, selection, palette = env
    design = doc.design
    layers = (*design.network.layers[:2], ResidualSpec(layers=(DenseSpec(),)),
              *design.network.layers[2:])
    doc.set_design(dataclasses.replace(
        design, network=dataclasses.replace(design.network, layers=layers)), "block")
    before = doc.design
    selection.select((2,))
    assert palette.add_kind("batchnorm") == (2, 1)
    assert doc.design.network.layers[2].layers[1] == LAYER_KINDS["batchnorm"].spec()
    assert selection.path == (2, 1)
    # With a plain layer selected (here the new child), it goes to the network's end.
    assert palette.add_kind("dense") == (len(layers),)
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.design == before
