"""The Train workspace's read-only design summary: layers with output shapes and
parameters, the dataset, the totals; it follows the document and selects on click."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core import DenseSpec
from core.design.edit import insert_layer
from core.files.design_file import load_design
from core.resources import resource_path
from gui.panels.design_summary import PATH_ROLE, DesignSummary
from gui.project.dataset_state import DatasetState
from gui.project.document import Document, LayerSelection


@pytest.fixture
def parts(qtbot):
    doc = Document()
    doc.load(load_design(resource_path("examples", "xor.json")), None)
    selection = LayerSelection()
    data = DatasetState(doc)
    summary = DesignSummary(doc, selection, data)
    qtbot.addWidget(summary)
    qtbot.waitUntil(lambda: data.dataset is not None, timeout=10000)
    return doc, selection, data, summary


def rows(summary: DesignSummary) -> list[list[str]]:
    tree = summary.layers
    return [[tree.topLevelItem(i).text(c) for c in range(3)]
            for i in range(tree.topLevelItemCount())]


def test_lists_every_layer_with_output_and_parameters(parts):
    doc, _sel, _data, summary = parts
    assert rows(summary) == [["Dense 8", "(batch, 8)", "24"],
                             ["Activation · Tanh", "(batch, 8)", "–"],
                             ["Dense 8", "(batch, 8)", "72"],
                             ["Activation · Tanh", "(batch, 8)", "–"],
                             ["Dense 1", "(batch, 1)", "9"],
                             ["Activation · Sigmoid", "(batch, 1)", "–"]]
    assert summary.title.text() == doc.design.name
    assert "105 parameters" in summary.totals.text()
    assert "2 inputs" in summary.totals.text() and "6 layers" in summary.totals.text()
    assert "xor" in summary.dataset_label.text() and "2 classes" in summary.dataset_label.text()


def test_follows_design_edits_and_undo(parts):
    doc, _sel, _data, summary = parts
    d = doc.design
    doc.set_design(replace(d, network=insert_layer(d.network, (0,), DenseSpec(4))), "Add")
    assert rows(summary)[0] == ["Dense 4", "(batch, 4)", "12"]
    assert "7 layers" in summary.totals.text()
    doc.undo()
    assert rows(summary)[0] == ["Dense 8", "(batch, 8)", "24"]


def test_is_read_only_and_a_click_selects_the_layer(parts):
    doc, selection, _data, summary = parts
    before = doc.design
    item = summary.layers.topLevelItem(2)
    summary.layers.itemClicked.emit(item, 0)
    assert selection.path == item.data(0, PATH_ROLE) == (2,)
    assert doc.design is before and not doc.modified
    assert not summary.layers.editTriggers()
