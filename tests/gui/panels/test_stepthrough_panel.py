"""The step-through panel: navigation, counter, highlights, and the too-large message."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core import DenseSpec
from core.datasets import DatasetSpec, load_dataset
from gui.panels.stepthrough import StepThroughPanel, stage_html


def make_panel(qtbot) -> StepThroughPanel:
    panel = StepThroughPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 500)
    panel.show()
    return panel


def test_tiny_design_steps_through_every_stage(qtbot):
    panel = make_panel(qtbot)
    design = StepThroughPanel.tiny_design()
    assert design.training.loss == "mse" and design.training.learning_rate == 0.5
    panel.set_design(design)
    n = len(panel.stages)
    assert n == 11
    assert panel.counter.text() == f"Stage 1 of {n}"
    assert not panel.previous_button.isEnabled() and panel.next_button.isEnabled()
    panel.previous_button.click()  # stops at the start
    assert panel.index == 0
    seen = [panel.current_stage().kind]
    for i in range(2, n + 1):
        panel.next_button.click()
        assert panel.counter.text() == f"Stage {i} of {n}"
        assert panel.title.text() == panel.current_stage().title
        seen.append(panel.current_stage().kind)
    assert not panel.next_button.isEnabled()
    panel.next_button.click()  # stops at the end
    assert panel.index == n - 1
    assert seen[0] == "forward-dense" and "loss" in seen and seen[-1] == "update"
    qtbot.keyClick(panel, Qt.Key.Key_Left)
    assert panel.counter.text() == f"Stage {n - 1} of {n}"
    qtbot.keyClick(panel, Qt.Key.Key_Right)
    assert panel.counter.text() == f"Stage {n} of {n}"


def test_highlights_change_between_stages(qtbot):
    panel = make_panel(qtbot)
    panel.set_design(StepThroughPanel.tiny_design())
    highlights = []
    for _ in panel.stages:
        highlights.append(panel.highlight())
        panel.go_next()
    assert highlights[0] == ((0, 1), 1)  # inputs and hidden neurons, first weights
    assert highlights[1] == ((1,), None)  # the hidden activation
    assert highlights[4] == ((2,), None)  # the error at the output
    assert highlights[6] == ((1, 2), 2)  # gradients of the second weights
    # Every forward stage moves the highlight; the whole step uses several.
    assert all(a != b for a, b in zip(highlights[:3], highlights[1:4], strict=True))
    assert len(set(highlights)) >= 4
    assert panel.diagram.widths == [2, 3, 1]


def test_uses_the_first_training_batch_of_a_dataset(qtbot):
    panel = make_panel(qtbot)
    design = StepThroughPanel.tiny_design()
    dataset = load_dataset(DatasetSpec.from_dict(dict(design.dataset)))
    panel.set_design(design, dataset)
    first = panel.stages[0].values["inputs"]
    assert first.shape == (4, 2)
    perm = np.random.default_rng([design.training.seed, 2]).permutation(
        dataset.x_train.shape[0])[:4]
    np.testing.assert_array_equal(first, dataset.x_train[perm])
    assert "4 samples" in panel.note.text()


def test_without_dataset_a_fixed_batch_is_used(qtbot):
    panel = make_panel(qtbot)
    design = replace(StepThroughPanel.tiny_design(), dataset=None)
    panel.set_design(design)
    assert panel.message_text() == ""
    assert "fixed example batch" in panel.note.text()
    assert len(panel.stages) == 11


def test_too_large_design_shows_the_message(qtbot):
    panel = make_panel(qtbot)
    design = StepThroughPanel.tiny_design()
    wide = replace(design, network=replace(
        design.network, layers=(DenseSpec(units=16),) + design.network.layers[1:]))
    panel.set_design(wide)
    assert "too large" in panel.message_text()
    assert "2-3-1" in panel.message_text()
    assert panel.small_button.isVisible()  # and the way to it
    with qtbot.waitSignal(panel.small_example_requested, timeout=1000):
        panel.small_button.click()
    assert panel.stages == [] and panel.highlight() == ((), None)
    deep = replace(design, network=replace(
        design.network, layers=(DenseSpec(units=3),) * 5 + design.network.layers[2:]))
    panel.set_design(deep)
    assert "too large" in panel.message_text()
    panel.set_design(design)  # back to a small design: the stages return
    assert panel.message_text() == "" and panel.counter.text() == "Stage 1 of 11"


def test_an_image_design_is_named_dense_only_and_offers_the_small_example(qtbot):
    from core import ActivationSpec
    from core.design.spec import Conv2DSpec, FlattenSpec

    panel = make_panel(qtbot)
    design = StepThroughPanel.tiny_design()
    # Small by every size rule (4 pixels, two layers with weights), but on images.
    images = replace(design, network=replace(design.network, inputs=4, input_shape=(1, 2, 2),
                                             layers=(Conv2DSpec(filters=1, kernel=1),
                                                     FlattenSpec(), DenseSpec(units=1),
                                                     ActivationSpec("sigmoid"))),
                     dataset=None)
    assert images.validate() == []
    panel.set_design(images)
    text = panel.message_text()
    assert text.startswith("The step-through follows dense networks only, neuron by "
                           "neuron; this design works on images (Conv2D, Flatten).")
    assert "2-3-1" in text
    assert panel.stages == [] and panel.small_button.isVisible()
    with qtbot.waitSignal(panel.small_example_requested, timeout=1000):
        panel.small_button.click()
    panel.set_design(design)
    assert panel.message_text() == "" and panel.counter.text() == "Stage 1 of 11"


def test_formulas_render_as_rich_text(qtbot):
    panel = make_panel(qtbot)
    panel.set_design(StepThroughPanel.tiny_design())
    stage = panel.current_stage()
    html = stage_html(stage)
    assert "<table" in html and "z₁⁽¹⁾" in html
    assert "z₁⁽¹⁾ = w₁₁·x₁" in panel.text.toPlainText()


def _wide_design():
    from core import ActivationSpec

    design = StepThroughPanel.tiny_design()
    layers = (DenseSpec(units=8), ActivationSpec(function="tanh"), DenseSpec(units=8),
              ActivationSpec(function="tanh"), DenseSpec(units=1),
              ActivationSpec(function="sigmoid"))
    return replace(design, network=replace(design.network, layers=layers))


@pytest.mark.parametrize("size", [(420, 500), (700, 500), (1000, 800)])
@pytest.mark.parametrize("wide", [False, True])
def test_weight_labels_never_overlap(qtbot, size, wide):
    panel = make_panel(qtbot)
    panel.resize(*size)
    panel.set_design(_wide_design() if wide else StepThroughPanel.tiny_design())
    qtbot.wait(10)  # laid out at this size
    diagram = panel.diagram
    labelled = 0
    for _ in panel.stages:
        labels = diagram.weight_labels()
        rects = [label.rect for label in labels if label.rect is not None]
        labelled += len(rects)
        for i, a in enumerate(rects):
            assert diagram.rect().contains(a.toAlignedRect())
            assert not any(a.intersects(b) for b in rects[i + 1:])
            assert not any(a.intersects(b) for b in diagram.blocked_rects())
        # A weight without a label is found under the pointer on its line instead.
        for label in labels:
            if label.rect is None:
                middle = (label.start + label.end) * 0.5
                assert diagram.connection_at(middle) is not None
        panel.grab()  # paints without error
        panel.go_next()
    assert labelled > 0
    if not wide and size[0] >= 700:
        # The tiny design's 6 and 3 weights all get labels where there is room.
        panel.set_design(StepThroughPanel.tiny_design())
        assert all(label.rect is not None for label in diagram.weight_labels())
        assert len(diagram.weight_labels()) == 6


def test_place_labels_moves_along_the_line_or_gives_up():
    from PySide6.QtCore import QPointF, QRectF

    from gui.panels.step_diagram import place_labels

    a, b = QPointF(0, 0), QPointF(100, 0)
    rects = place_labels([(a, b, 0.5), (a, b, 0.5), (a, b, 0.5)], [(20, 10)] * 3, [])
    assert rects[0].center() == QPointF(50, 0)
    assert rects[1] is not None and not rects[1].intersects(rects[0])
    assert rects[2] is not None and not rects[2].intersects(rects[1])
    blocked = [QRectF(-10, -10, 120, 20)]  # the whole line is covered
    assert place_labels([(a, b, 0.5)], [(20, 10)], blocked) == [None]


def test_other_problems_offer_no_small_example(qtbot):
    panel = make_panel(qtbot)
    design = StepThroughPanel.tiny_design()
    panel.set_design(replace(design, network=replace(design.network, inputs=0)))
    assert "cannot be trained" in panel.message_text()
    assert not panel.small_button.isVisible()  # not a size problem: nothing to offer
    panel.set_design(design)
    assert panel.message_text() == ""
