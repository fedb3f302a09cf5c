"""The diagram tests' widget factory."""

from __future__ import annotations

import pytest

import core
from gui.diagram.view import NetworkDiagram
from gui.project.dataset_state import DatasetState
from gui.project.document import Document, LayerSelection


@pytest.fixture
def make(qtbot):
    docs: list[Document] = []

    def build(design: core.Design, with_data: bool = True):
        doc, sel = Document(), LayerSelection()
        docs.append(doc)
        doc.load(design, None)
        data = DatasetState(doc) if with_data else None
        w = NetworkDiagram(doc, sel, data)
        qtbot.addWidget(w)
        w.resize(700, 400)
        w.show()
        qtbot.waitExposed(w)
        return w, doc, sel

    yield build
    # Empty the histories while the documents live: Document's cleanChanged lambda would
    # otherwise fire on a deleted Document when Python collects it.
    for doc in docs:
        doc.undo_stack.clear()
