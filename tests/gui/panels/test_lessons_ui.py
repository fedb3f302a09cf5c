"""Lessons in the window: the menu, the panel, loading each variant ready to train, and
the step-through view for the forward/backward lesson."""

from __future__ import annotations

import pytest

from core.teach.lessons import LESSONS


@pytest.fixture
def window(shown_window):
    return shown_window


def test_lessons_menu_lists_every_lesson(window):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Lessons")
    assert len(menu.actions()) == len(LESSONS) == 10
    assert window.lessons.list.count() == len(LESSONS)


@pytest.mark.parametrize("key", list(LESSONS))
def test_each_variant_loads_ready_to_train(window, key):
    assert window.open_lesson(key)
    lesson = LESSONS[key]
    assert lesson.claim[:20] in window.lessons.text.text()
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
        with qtbot.waitSignal(window.training.controller.run_finished, timeout=30000):
            window.training.train()
    runs = window.runs_panel.runs()
    assert len(runs) == 2
    window.runs_panel.select_runs(runs)
    assert "learning rate" in window.runs_panel.compare.diff_report()
