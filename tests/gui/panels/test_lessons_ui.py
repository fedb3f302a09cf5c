"""Lessons in the window: the menu, the panel, loading each variant ready to train,
switching variants without questions (runs kept, Ctrl+Z goes back), the runs' names, the
measured check, "Run all variants", and the step-through view for the forward/backward
lesson."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox, QPushButton

from core.teach.lessons import LESSONS
from gui.panels.lesson_runner import variant_design


def forbid_message_boxes(monkeypatch) -> list[str]:
    """Any message box from now on is recorded (and answers Cancel/No); the test then
    asserts none was shown."""
    shown: list[str] = []

    def box(*args, **_kwargs):
        shown.append(str(args[2] if len(args) > 2 else args))
        return QMessageBox.StandardButton.Cancel

    for name in ("question", "warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, name, box)
    monkeypatch.setattr(QMessageBox, "exec", lambda self: shown.append(self.text()) or 0)
    return shown


def train(qtbot, window, timeout=30000) -> None:
    with qtbot.waitSignal(window.training.run_recorded, timeout=timeout):
        window.training.train()


@pytest.fixture
def window(shown_window):
    return shown_window


def test_lessons_menu_lists_every_lesson(window):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Lessons")
    assert len(menu.actions()) == len(LESSONS) == 12
    assert window.lessons.list.count() == len(LESSONS)


@pytest.mark.parametrize("key", list(LESSONS))
def test_each_variant_loads_ready_to_train(window, key):
    assert window.open_lesson(key)
    lesson = LESSONS[key]
    assert lesson.claim[:20] in window.lessons.title.text()
    for variant in lesson.variants:
        window.lessons.request(variant)
        assert window.document.design.network == variant.design.network
        assert variant.name in window.document.design.name
        assert window.check_panel.ready, (key, variant.name, window.check_panel.problems)
        assert window.training.train_action.isEnabled()


def test_forward_backward_lesson_shows_the_step_through(qtbot, window):
    window.open_lesson("forward_backward")
    qtbot.waitUntil(lambda: window.stepthrough.current_stage() is not None, timeout=5000)
    first = window.stepthrough.current_stage()
    window.stepthrough.go_next()
    assert window.stepthrough.current_stage() != first


def test_training_two_variants_records_two_comparable_runs(qtbot, window):
    window.open_lesson("learning_rate")
    lesson = LESSONS["learning_rate"]
    for variant in lesson.variants[:2]:
        window.lessons.request(variant)
        train(qtbot, window)
    runs = window.runs_panel.runs()
    assert [r.name for r in runs] == ["Lesson 1: too high", "Lesson 1: too low"]
    window.runs_panel.select_runs(runs)
    assert "learning rate" in window.runs_panel.compare.diff_report()


def test_switching_variants_after_training_never_asks_and_keeps_the_runs(
        qtbot, window, monkeypatch):
    window.document.set_design(window.document.design, "nothing")  # any open document
    window.open_lesson("exploding_gradients")  # may ask: the XOR example is not a lesson
    shown = forbid_message_boxes(monkeypatch)
    lesson = LESSONS["exploding_gradients"]
    wild, clipped = lesson.variants
    train(qtbot, window)
    assert window.document.modified  # an unsaved run...
    window.lessons.request(clipped)  # ...and still no question
    assert window.document.design == variant_design(lesson, clipped)
    assert [r.name for r in window.runs_panel.runs()] == ["Lesson 4: large init"]
    train(qtbot, window)
    window.lessons.request(wild)
    # Another lesson too: the same document, no question, the runs stay.
    assert window.open_lesson("residual")
    assert window.lessons.lesson is LESSONS["residual"]
    assert shown == []
    assert [r.name for r in window.runs_panel.runs()] == [
        "Lesson 4: large init", "Lesson 4: large init + clipping"]
    # Each switch is one undoable edit of the same document.
    window.document.undo()
    assert window.document.design == variant_design(lesson, wild)
    window.document.undo()
    assert window.document.design == variant_design(lesson, clipped)
    # Back on the lesson's page, its button marks the variant in the editor.
    window.lessons.open_lesson("exploding_gradients")
    buttons = window.lessons.variant_buttons
    assert buttons["large init + clipping"].isChecked()
    assert not buttons["large init"].isChecked()


def test_the_panel_changes_only_after_the_document_question(qtbot, window, monkeypatch):
    """Opening a lesson from a modified non-lesson document asks first; while it asks,
    the panel still shows what it showed; Cancel keeps both."""
    window.open_lesson("learning_rate")
    window.files.new(window.document.design)  # a plain document again...
    window.document.set_design(window.document.design.__class__(), "an edit")  # ...modified
    seen = []

    def cancel(*_args, **_kwargs):
        buttons = window.lessons.findChildren(QPushButton)
        seen.append((window.lessons.lesson.key, sorted(
            b.text() for b in buttons
            if b.isVisibleTo(window.lessons) and b.text().startswith("Open"))))
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", cancel)
    window.lessons.open_lesson("activations")  # the list page's way: no question
    qtbot.waitUntil(lambda: window.lessons.variant_buttons["relu"].isVisibleTo(window.lessons))
    assert not window.open_lesson("overfitting")
    # While asking, only the shown lesson's buttons (no leftovers of the one before).
    assert seen == [("activations", sorted(f"Open “{v.name}”"
                                           for v in LESSONS["activations"].variants))]
    assert window.lessons.lesson is LESSONS["activations"]


def test_the_check_says_what_the_runs_measured(qtbot, window):
    window.open_lesson("exploding_gradients")
    panel = window.lessons
    assert "diverges" in panel.watch.text()
    assert "Not measured yet" in panel.check.text() and panel.check.isVisible()
    assert "Train “large init” and “large init + clipping”" in panel.check.text()
    train(qtbot, window)
    assert "Not measured yet" in panel.check.text()
    window.lessons.request(LESSONS["exploding_gradients"].variants[1])
    train(qtbot, window)
    assert "✔ Shown" in panel.check.text()
    assert "Without clipping the run diverged" in panel.check.text()


def test_run_all_variants_trains_each_and_selects_their_runs(qtbot, window, monkeypatch):
    window.open_lesson("epochs")
    shown = forbid_message_boxes(monkeypatch)
    runner = window.lesson_runner
    assert window.lessons.run_all.isVisible() and window.lessons.run_all.isEnabled()
    with qtbot.waitSignal(runner.sequence.finished, timeout=120000) as done:
        window.lessons.run_all.click()
        assert window.lessons.run_all.text() == "Cancel run all"
    assert done.args[1] == "done"
    names = [f"Lesson 10: {v.name}" for v in LESSONS["epochs"].variants]
    assert [r.name for r in window.runs_panel.runs()] == names
    assert [r.name for r in window.runs_panel.selected_runs()] == names
    assert window.runs_panel.compare.curve_count("loss") == 3
    assert "✔ Shown" in window.lessons.check.text()
    assert window.lessons.run_all.text() == "Run all variants"
    assert shown == []


def test_cancel_run_all_stops_after_the_live_run(qtbot, window):
    window.open_lesson("overfitting")
    runner = window.lesson_runner
    with qtbot.waitSignal(runner.sequence.finished, timeout=60000) as done:
        assert runner.run_all()
        qtbot.waitUntil(lambda: window.plots.history_points() >= 2, timeout=30000)
        window.lessons.run_all.click()  # "Cancel run all"
    assert done.args[1] == "cancelled"
    qtbot.waitUntil(lambda: not window.training.controller.active, timeout=30000)
    assert len(window.runs_panel.runs()) <= 1
    assert window.lessons.run_all.text() == "Run all variants"
