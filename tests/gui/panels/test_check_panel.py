"""The network check panel selects the layer a problem is about, read from the problem's
``layer`` (its data), never from the words of its path (issue 12)."""

from __future__ import annotations

from PySide6.QtCore import Qt

import gui.panels.check as check_panel
from core import ActivationSpec, DenseSpec, Design, NetworkSpec, ResidualSpec, TrainConfig
from core.datasets import DatasetSpec
from core.errors import Problem
from gui.panels.check import NetworkCheckPanel
from gui.project.dataset_state import DatasetState
from gui.project.document import Document, LayerSelection


def make_panel(qtbot, design: Design):
    doc = Document()
    doc.load(design, None)
    selection = LayerSelection()
    panel = NetworkCheckPanel(doc, selection, DatasetState(doc))
    qtbot.addWidget(panel)
    return doc, selection, panel


def click(panel: NetworkCheckPanel, text: str) -> None:
    items = [panel.list.item(i) for i in range(panel.list.count())]
    panel.list.itemClicked.emit(next(i for i in items if text in i.text()))


def nested_design() -> Design:
    block = ResidualSpec(layers=(DenseSpec(0), ActivationSpec("tanh")))
    net = NetworkSpec(inputs=2, layers=(DenseSpec(8), block, DenseSpec(2)))
    return Design(net, dataset=DatasetSpec.synthetic("xor", samples=100).to_dict())


def test_clicking_a_nested_layer_problem_selects_that_layer(qtbot):
    _, selection, panel = make_panel(qtbot, nested_design())
    assert not panel.ready
    problem = next(p for p in panel.problems if p.field == "units")
    assert problem.layer == (1, 0)
    click(panel, "layers[1].layers[0].units")
    assert selection.path == (1, 0)


def test_problems_not_about_a_layer_select_nothing(qtbot):
    design = nested_design()
    design = Design(design.network, TrainConfig(loss="nope"), design.dataset)
    _, selection, panel = make_panel(qtbot, design)
    click(panel, "training.loss")
    assert selection.path is None


def test_the_layer_comes_from_the_problem_not_its_text(qtbot, monkeypatch):
    # The words and the data disagree: the panel follows the data.
    problems = [Problem("network.layers[5].units", "a path that names layer 5", None, "units"),
                Problem("training.loss", "about layer 2 after all", (2,), "units")]
    monkeypatch.setattr(check_panel, "check", lambda design, shape: list(problems))
    _, selection, panel = make_panel(qtbot, nested_design())
    assert panel.list.item(0).data(Qt.ItemDataRole.UserRole) is None
    click(panel, "layer 5")
    assert selection.path is None
    click(panel, "layer 2 after all")
    assert selection.path == (2,)
