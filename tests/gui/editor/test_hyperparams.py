"""The training settings panel: one editor per TrainConfig field, only the relevant
optimizer and schedule settings shown, a logarithmic learning-rate slider with an exact
entry, one undo step per change, and no edits pushed by refreshes."""

from __future__ import annotations

import dataclasses
import math

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QVBoxLayout, QWidget

from core import LOSSES, OPTIMIZERS, SCHEDULES, TrainConfig
from core.design.fields import field_infos
from core.files.design_file import load_design
from core.resources import resource_path
from gui.editor.log_slider import SLIDER_MAX, SLIDER_MIN, LogSlider
from gui.editor.training_settings import (
    TrainingSettingsPanel,
    optimizer_settings,
    schedule_settings,
)
from gui.project.document import Document


@pytest.fixture
def setup(qtbot):
    doc = Document()
    doc.load(load_design(resource_path("examples", "spiral.json")), None)  # Adam, 0.01
    panel = TrainingSettingsPanel(doc)
    # In a fixed-size window, as in a dock: a top-level window whose size hints change
    # makes the offscreen platform warn (propagateSizeHints).
    host = QWidget()
    host.setFixedSize(320, 700)
    QVBoxLayout(host).addWidget(panel)
    qtbot.addWidget(host)
    host.show()
    yield doc, panel
    del host
    doc.undo_stack.clear()  # while the Document lives (its cleanChanged lambda)


def type_into(edit, text: str) -> None:
    edit.setFocus()
    edit.lineEdit().selectAll()
    QTest.keyClicks(edit.lineEdit(), text)
    QTest.keyClick(edit.lineEdit(), Qt.Key.Key_Return)


def set_training(doc: Document, **changes) -> None:
    design = doc.design
    doc.set_design(dataclasses.replace(
        design, training=dataclasses.replace(design.training, **changes)), "test")


def test_every_training_field_has_an_editor(setup):
    _doc, panel = setup
    assert set(field_infos(TrainConfig)) | {"default_init"} == set(panel.form.editors)
    assert panel.editor("loss").control.names() == list(LOSSES)
    assert panel.editor("optimizer").control.names() == list(OPTIMIZERS)
    assert panel.editor("schedule").control.names() == list(SCHEDULES)
    assert panel.editor("learning_rate").control is panel.learning_rate


def test_adam_shows_only_its_settings(setup):
    _doc, panel = setup
    for name in optimizer_settings():
        assert panel.is_shown(name) == (name in OPTIMIZERS["adam"].settings), name
    assert panel.is_shown("learning_rate")
    assert panel.descriptions["optimizer"].text() == OPTIMIZERS["adam"].description


def test_changing_the_optimizer_shows_and_hides_settings(setup):
    doc, panel = setup
    combo = panel.editor("optimizer").control
    combo.setCurrentIndex(combo.findData("momentum"))
    assert doc.design.training.optimizer == "momentum"
    assert panel.is_shown("momentum") and panel.is_shown("nesterov")
    assert not panel.is_shown("beta1") and not panel.is_shown("epsilon")
    combo.setCurrentIndex(combo.findData("sgd"))
    assert [n for n in optimizer_settings() if panel.is_shown(n)] == []
    combo.setCurrentIndex(combo.findData("rmsprop"))
    assert panel.is_shown("rho") and panel.is_shown("epsilon")
    assert not panel.is_shown("momentum")
    # Consecutive changes of one field merge into one step (merge_key per field).
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert combo.currentData() == "adam" and panel.is_shown("beta1")
    assert not panel.is_shown("rho")


def test_schedule_settings_follow_the_schedule(setup):
    doc, panel = setup
    assert schedule_settings("step") == ("step_size", "gamma")
    assert schedule_settings("exponential") == ("gamma",)
    assert schedule_settings("cosine") == () and schedule_settings("constant") == ()
    combo = panel.editor("schedule").control
    assert not panel.is_shown("step_size") and not panel.is_shown("gamma")
    combo.setCurrentIndex(combo.findData("step"))
    assert panel.is_shown("step_size") and panel.is_shown("gamma")
    combo.setCurrentIndex(combo.findData("exponential"))
    assert not panel.is_shown("step_size") and panel.is_shown("gamma")
    combo.setCurrentIndex(combo.findData("cosine"))
    assert not panel.is_shown("step_size") and not panel.is_shown("gamma")
    assert doc.design.training.schedule == "cosine"


def test_log_slider_maps_to_and_from_the_rate(setup):
    _doc, panel = setup
    slider = panel.learning_rate
    middle = (slider.slider.minimum() + slider.slider.maximum()) // 2
    assert math.isclose(slider.value_at(middle), math.sqrt(SLIDER_MIN * SLIDER_MAX))
    assert slider.value_at(slider.slider.minimum()) == SLIDER_MIN
    assert slider.value_at(slider.slider.maximum()) == SLIDER_MAX
    for value in (1e-4, 0.003, 0.01, 0.5, 2.0):
        assert math.isclose(slider.value_at(slider.position_of(value)), value, rel_tol=0.03)
    assert slider.position_of(100.0) == slider.slider.maximum()  # pinned beyond the span
    assert slider.slider.value() == slider.position_of(0.01)  # shows the design's rate


def test_dragging_the_slider_is_one_undo_step(setup):
    doc, panel = setup
    slider = panel.learning_rate.slider
    edited: list[str] = []
    panel.settings_edited.connect(edited.append)
    start = slider.value()
    for position in range(start, start + 60, 5):  # a drag: many values
        slider.setValue(position)
    assert math.isclose(doc.design.training.learning_rate, 0.01 * 10 ** 0.55, rel_tol=0.03)
    assert panel.learning_rate.entry.text() == repr(doc.design.training.learning_rate)
    assert doc.undo_stack.count() == 1
    assert doc.undo_stack.undoText() == "Change learning rate"
    assert set(edited) == {"learning_rate"}
    doc.undo_stack.undo()
    assert doc.design.training.learning_rate == 0.01
    assert slider.value() == start and panel.learning_rate.entry.text() == "0.01"


def test_exact_entry_commits_an_exact_rate(setup):
    doc, panel = setup
    entry = panel.learning_rate.entry
    type_into(entry, "0.0123")
    assert doc.design.training.learning_rate == 0.0123
    assert panel.learning_rate.slider.value() == panel.learning_rate.position_of(0.0123)
    type_into(entry, "50")  # beyond the slider, inside the field's range
    assert doc.design.training.learning_rate == 50.0
    assert panel.learning_rate.slider.value() == panel.learning_rate.slider.maximum()
    assert doc.undo_stack.count() == 1  # typing in one field merges


def test_invalid_rate_is_refused_with_the_reason(setup):
    doc, panel = setup
    before = doc.design
    edited: list[str] = []
    panel.settings_edited.connect(edited.append)
    type_into(panel.learning_rate.entry, "0")
    assert doc.design is before
    assert "Learning rate must be a number > 0" in panel.editor("learning_rate").error()
    type_into(panel.learning_rate.entry, "1e5")
    assert doc.design is before and "10000" in panel.editor("learning_rate").error()
    assert edited == [] and doc.undo_stack.count() == 0


def test_each_kind_of_change_is_one_undo_step(setup):
    doc, panel = setup
    type_into(panel.editor("batch_size").control, "64")
    panel.editor("restore_best").control.click()
    combo = panel.editor("dtype").control
    combo.setCurrentIndex(combo.findData("float64"))
    init = panel.editor("default_init").control
    init.setCurrentIndex(init.findData("he_uniform"))
    training = doc.design.training
    assert (training.batch_size, training.restore_best, training.dtype) == (64, False, "float64")
    assert doc.design.network.default_init == "he_uniform"
    assert doc.undo_stack.count() == 4
    assert doc.undo_stack.undoText() == "Change default initialiser"
    doc.undo_stack.undo()
    assert init.currentData() == "glorot_uniform"
    doc.undo_stack.undo()
    assert combo.currentData() == "float32"
    doc.undo_stack.undo()
    assert panel.editor("restore_best").control.isChecked()
    doc.undo_stack.undo()
    assert panel.editor("batch_size").control.text() == "16"


def test_clipping_accepts_zero_for_off(setup):
    doc, panel = setup
    type_into(panel.editor("clip_norm").control, "1.5")
    assert doc.design.training.clip_norm == 1.5
    type_into(panel.editor("clip_norm").control, "0")
    assert doc.design.training.clip_norm == 0.0
    type_into(panel.editor("clip_norm").control, "-1")
    assert doc.design.training.clip_norm == 0.0
    assert panel.editor("clip_norm").error()


def test_refreshes_never_push_edits(setup):
    doc, panel = setup
    edited: list[str] = []
    panel.settings_edited.connect(edited.append)
    set_training(doc, optimizer="momentum", learning_rate=0.3, schedule="step", epochs=7)
    assert doc.undo_stack.count() == 1
    assert panel.editor("epochs").control.text() == "7"
    assert panel.learning_rate.entry.text() == "0.3"
    assert panel.is_shown("momentum") and panel.is_shown("step_size")
    doc.undo_stack.undo()
    doc.undo_stack.redo()
    assert doc.undo_stack.count() == 1
    doc.load(load_design(resource_path("examples", "xor.json")), None)
    assert doc.undo_stack.count() == 0
    assert edited == []
    assert panel.learning_rate.entry.text() == repr(doc.design.training.learning_rate)


def test_log_slider_alone_reports_entered_values(qtbot):
    slider = LogSlider(field_infos(TrainConfig)["learning_rate"])
    qtbot.addWidget(slider)
    got: list[float] = []
    slider.entered.connect(got.append)
    slider.set_value(0.001)  # programmatic: silent
    assert got == [] and slider.slider.value() == slider.position_of(0.001)
    slider.slider.setValue(slider.position_of(0.1))
    assert got == [0.1] and slider.entry.text() == "0.1"
