"""The status line and the training feedback: no stale messages, a readout that a long
message never cuts, one Resume while paused, a new run that says it is new, and one name
for the document."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QToolButton

from core import DenseSpec
from core.design.edit import insert_layer
from gui.training.controller import IDLE, PAUSED, RUNNING
from gui.training.status_line import READOUT_SAMPLES

LONG = ("Could not read /home/someone/projects/a/very/long/folder/name/measurements_of_"
        "the_whole_year_2026.csv: line 17, column 4 holds text where a number was expected, "
        "and the rest of this sentence is long enough to need eliding anywhere")


@pytest.fixture
def window(shown_window):
    return shown_window


def _break(window) -> None:
    """A dense layer after the output: the network check reports a problem."""
    d = window.document.design
    window.document.set_design(replace(d, network=insert_layer(d.network, (6,),
                                                                DenseSpec(3))), "Add")


def test_a_fixed_design_leaves_no_cannot_train_message(window):
    window.open_example("xor.json")
    bar = window.statusBar()
    _break(window)
    assert bar.currentMessage().startswith("Cannot train")
    window.document.undo()  # fixed
    assert window.training.train_action.isEnabled()
    assert "Cannot train" not in bar.currentMessage()
    assert bar.currentMessage() == "Ready to train"
    assert window.training.status_line.message.text() == "Ready to train"


def test_fixing_the_design_keeps_a_newer_message(window):
    window.open_example("xor.json")
    _break(window)
    window.statusBar().showMessage("Diagram saved to x.png", 5000)
    window.document.undo()
    assert window.statusBar().currentMessage() == "Diagram saved to x.png"


def test_pressing_train_on_a_broken_design_then_fixing_it(window):
    window.open_example("xor.json")
    _break(window)
    window.statusBar().clearMessage()
    window.training.train()  # refused: says why
    assert window.statusBar().currentMessage().startswith("Cannot train")
    window.document.undo()
    assert "Cannot train" not in window.statusBar().currentMessage()


def _fits(label) -> bool:
    return label.fontMetrics().horizontalAdvance(label.text()) <= label.contentsRect().width()


def test_a_long_message_never_cuts_the_readout(qtbot, window):
    window.open_example("spiral.json")
    d = window.document.design
    window.document.set_design(replace(d, training=replace(d.training, epochs=100_000)),
                               "epochs")
    window.resize(1280, 720)
    window.training.train()
    qtbot.waitUntil(lambda: "step" in window.training.status.text(), timeout=20000)
    line = window.training.status_line
    window.statusBar().showMessage(LONG)
    qtbot.wait(50)
    message, readout = line.message, line.readout
    assert message.text() == LONG
    assert message.is_elided() and message.shown_text().endswith("…")
    assert message.toolTip() == LONG  # the whole text on hover
    assert message.isVisible() and readout.isVisible()
    # Side by side, not on top of each other, and the readout's text fits whole.
    assert not message.geometry().intersects(readout.geometry())
    assert message.geometry().right() < readout.geometry().left()
    assert readout.text().startswith("epoch") and _fits(readout)
    # The longest readouts there are fit too (the label's size never follows its text).
    size = readout.size()
    for sample in READOUT_SAMPLES:
        readout.setText(sample)
        assert _fits(readout), sample
        assert readout.size() == size
    window.training.stop()


def test_a_short_message_is_shown_whole(window):
    window.resize(1280, 720)
    window.statusBar().showMessage("Opened xor.json")
    message = window.training.status_line.message
    assert message.shown_text() == "Opened xor.json" and not message.is_elided()
    assert message.toolTip() == ""
    window.statusBar().clearMessage()
    assert message.text() == ""


def _toolbar_texts(window) -> list[str]:
    bar = window.training_toolbar
    return [b.text().replace("&", "") for b in bar.findChildren(QToolButton)
            if b.defaultAction() is not None and b.isVisible()]


def test_paused_there_is_exactly_one_resume(qtbot, window):
    window.open_example("spiral.json")
    d = window.document.design
    window.document.set_design(replace(d, training=replace(d.training, epochs=100_000)),
                               "epochs")
    t = window.training
    t.train_action.trigger()
    qtbot.waitUntil(lambda: window.plots.history_points() > 0, timeout=20000)
    t.pause_action.trigger()
    assert t.controller.state == PAUSED
    texts = _toolbar_texts(window)
    assert sum("Resume" in x for x in texts) == 1, texts
    menu = [a.text().replace("&", "") for a in t.actions]
    assert sum("Resume" in x for x in menu) == 1, menu
    assert not t.train_action.isEnabled()  # Train starts runs; Resume continues this one
    assert "Paused" in window.statusBar().currentMessage()
    # F5 (Train's key) resumes too, through the one Resume action.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert t.controller.state == RUNNING
    assert "Paused" not in window.statusBar().currentMessage()  # no stale "Paused"
    assert sum("Resume" in x for x in _toolbar_texts(window)) == 0
    with qtbot.waitSignal(t.controller.run_finished, timeout=10000):
        t.stop_action.trigger()
    assert t.controller.state == IDLE and t.train_action.isEnabled()


def test_a_rerun_of_the_same_design_says_so_and_starts_from_step_0(qtbot, window):
    window.open_example("xor.json")
    t = window.training
    with qtbot.waitSignal(t.run_recorded, timeout=30000):
        t.train()
    first = window.document.model.runs[-1]
    assert window.plots.history_points() > 0
    t.train()
    # The old curves are gone at once: the rerun draws from step 0.
    assert window.plots.history_points() == 0
    words = window.statusBar().currentMessage()
    assert words.startswith("Run 2 started")
    assert f"same design and seed ({first.design.training.seed}) as {first.name}" in words
    assert "identical curves" in words
    with qtbot.waitSignal(t.run_recorded, timeout=30000):
        pass
    d = window.document.design
    window.document.set_design(replace(d, training=replace(d.training, seed=7)), "seed")
    t.train()
    words = window.statusBar().currentMessage()
    # Named by what changed since the previous run.
    assert words.startswith("Run “seed 7” started from seed 7") and "identical" not in words
    with qtbot.waitSignal(t.run_recorded, timeout=30000):
        pass


def test_the_unsaved_changes_question_names_the_document_as_the_title_does(window,
                                                                             monkeypatch):
    asked: list[str] = []

    def question(_parent, _title, text, *args, **kwargs):
        asked.append(text)
        return QMessageBox.StandardButton.Cancel

    window.open_example("spiral.json")  # an untitled copy, named after the example
    name = window.document.design.name
    assert name and window.document.path is None
    _break(window)
    assert window.document.modified
    assert window.windowTitle().startswith(f"{name}[*]")
    monkeypatch.setattr(QMessageBox, "question", question)
    assert not window.files.maybe_save()  # cancelled
    assert asked and f"“{name}”" in asked[0]
    assert "Untitled" not in asked[0]
    assert window.document.display_name == name


def test_display_name_rule(window, tmp_path):
    doc = window.document
    window.files.new(replace(doc.design, name=""))
    assert doc.display_name == "Untitled"
    assert window.windowTitle().startswith("Untitled[*]")
    target = tmp_path / "mine.json"
    assert window.files._write(target)
    assert doc.display_name == "mine.json"
    assert window.windowTitle().startswith("mine.json[*]")

