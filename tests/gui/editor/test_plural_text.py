"""Counts in the window read right for one: "1 input", "1 layer", "1 feature"."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from core import DenseSpec, Design, NetworkSpec
from gui.editor.inspector import LayerInspector
from gui.project.document import Document, LayerSelection


def show_in_host(qtbot, widget: QWidget) -> QWidget:
    host = QWidget()
    host.setFixedSize(320, 700)  # as in a dock (a fixed top-level window: no warnings)
    QVBoxLayout(host).addWidget(widget)
    qtbot.addWidget(host)
    host.show()
    return host


def test_the_inspector_counts_one_of_each(qtbot):
    doc = Document()
    doc.load(Design(NetworkSpec(inputs=1, layers=(DenseSpec(units=1),)), name="one"), None)
    selection = LayerSelection()
    inspector = LayerInspector(doc, selection)
    host = show_in_host(qtbot, inspector)
    assert inspector.description_label.text() == "1 layer"
    assert inspector.shape_label.text() == "1 → 1 feature · 2 parameters"
    selection.select((0,))
    assert inspector.shape_label.text() == "1 → 1 feature · 2 parameters"
    doc.load(Design(NetworkSpec(inputs=1, layers=(DenseSpec(units=1),) * 2), name="two"),
             None)
    selection.select(None)
    assert inspector.description_label.text() == "2 layers"
    assert inspector.shape_label.text() == "1 → 1 feature · 4 parameters"
    del host
    doc.undo_stack.clear()
