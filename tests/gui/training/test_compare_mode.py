"""Compare mode in the window: the dialog (A read-only, B edited and checked, a live diff,
Run enabled only for a valid, different B), then A and B trained one after the other,
recorded under their names, selected and overlaid, with A as the live baseline during B;
Stop cancels the rest; the document is never changed."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtWidgets import QMessageBox

from core import DenseSpec
from core.design.edit import insert_layer
from gui.training.controller import IDLE


@pytest.fixture
def window(shown_window):
    return shown_window


def load(window, example: str = "xor.json", **training):
    window.open_example(example)
    d = window.document.design
    window.document.set_design(replace(d, training=replace(d.training, **training)), "set")
    return window.document.design


def open_dialog(window, lr: float):
    dialog = window.open_compare_dialog()
    assert dialog is not None and dialog.isVisible()
    dialog.set_b_value("learning_rate", lr)
    assert dialog.run_button.isEnabled(), dialog.problem()
    return dialog


def test_action_is_in_the_train_menu_and_enabled_only_when_idle(qtbot, window):
    load(window, epochs=100000)
    action = window.compare_action
    assert action.shortcut().toString() == "Ctrl+Shift+T"
    train_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Train")
    assert action in train_menu.actions()
    assert action.isEnabled()
    window.training.train()
    assert not action.isEnabled() and window.open_compare_dialog() is None
    with qtbot.waitSignal(window.training.controller.run_finished, timeout=10000):
        window.training.stop()
    assert action.isEnabled()


def test_dialog_checks_b_and_shows_the_difference(qtbot, window):
    design = load(window, epochs=2)
    dialog = window.open_compare_dialog()
    qtbot.addWidget(dialog)
    # B starts as A: nothing to compare yet.
    assert not dialog.run_button.isEnabled()
    assert "same as A" in dialog.diff_label.text()
    assert dialog.a_labels["learning_rate"].text() == "0.3"
    assert "seed" not in dialog.editors  # both runs share the seed
    dialog.set_b_value("learning_rate", 1.0)
    assert dialog.run_button.isEnabled()
    assert dialog.diff_label.text() == "B differs from A in: learning rate: 0.3 -> 1.0"
    assert dialog.name_labels["learning_rate"].font().bold()
    # An invalid entry is shown under its field and keeps Run disabled.
    dialog.set_b_value("batch_size", "ten")
    assert not dialog.run_button.isEnabled()
    assert "Batch size must be an integer" in dialog.editor("batch_size").error()
    assert "Batch size must be an integer" in dialog.diff_label.text()
    dialog.set_b_value("batch_size", 10)
    assert dialog.run_button.isEnabled()
    # A loss that does not fit the network is refused with the engine's reason.
    dialog.set_b_value("loss", "softmax_cross_entropy")
    assert not dialog.run_button.isEnabled() and "Softmax" in dialog.problem()
    dialog.set_b_value("loss", design.training.loss)
    # An optimizer's own settings appear when B uses it; A's unused values are greyed.
    assert dialog.editor("beta1").isHidden()
    dialog.set_b_value("optimizer", "adam")
    assert not dialog.editor("beta1").isHidden()
    assert not dialog.a_labels["beta1"].isEnabled()
    assert dialog.changes() == {"optimizer": "adam", "learning_rate": 1.0}
    dialog.reject()
    assert window.document.design == design


def test_compare_runs_a_then_b_and_overlays_them(qtbot, window):
    design = load(window, epochs=3)
    undo_count = window.document.undo_stack.count()
    runner = window.compare_runner
    seen = []  # (stage, baseline run name) at each run start
    window.training.controller.run_started.connect(
        lambda _d: seen.append((runner.stage, getattr(getattr(window.plots, "baseline", None),
                                                      "name", None),
                                window.plots.baseline_loss_curve.xData is not None)))
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    dialog = open_dialog(window, 1.0)
    with qtbot.waitSignal(runner.finished, timeout=20000):
        dialog.run_button.click()
        assert runner.stage == "A"
        assert any("Compare: run A (1/2)" in m for m in messages)
    assert window.training.controller.state == IDLE
    runs = window.runs_panel.runs()
    assert [r.name for r in runs] == ["A: lr 0.3", "B: lr 1.0"]
    a, b = runs
    assert a.design == design
    assert b.design.training == replace(design.training, learning_rate=1.0)
    assert a.seed == b.seed and a.design.dataset == b.design.dataset
    assert a.end_reason == b.end_reason == "finished" and a.epochs == b.epochs == 3
    # Step 1 is measured before any update: the same start.
    assert a.loss_curve[0, 1] == b.loss_curve[0, 1]
    # While B trained, A was the dashed baseline of the live plots.
    assert seen == [("A", None, False), ("B", "A: lr 0.3", True)]
    assert any("Compare: run B (2/2)" in m for m in messages)
    assert "Compare finished" in window.statusBar().currentMessage()
    # Both selected: overlaid, with their difference.
    compare = window.runs_panel.compare
    assert [r.name for r in window.runs_panel.selected_runs()] == ["A: lr 0.3", "B: lr 1.0"]
    assert compare.curve_count("loss") == 2 and compare.curve_count("metric") == 2
    assert "learning rate: 0.3 -> 1.0" in compare.diff_text.toPlainText()
    assert window.runs_dock.isVisible()
    qtbot.waitUntil(lambda: not compare.loss_plot.viewport().visibleRegion().isEmpty(),
                    timeout=2000)
    # The design is untouched: the history's only new steps are the two recordings (one
    # history for the project). A plain run afterwards puts the pinned baseline back.
    assert window.document.design == design
    assert window.document.undo_stack.count() == undo_count + 2
    assert window.document.undo_stack.undoText() == "Record B: lr 1.0"
    with qtbot.waitSignal(window.training.controller.run_finished, timeout=20000):
        window.training.train()
    assert window.plots.baseline is None
    # Named by what differs from the previous run (B): A's learning rate.
    assert window.runs_panel.runs()[-1].name == "lr 0.3"


def test_stop_cancels_the_rest_and_edits_do_not_reach_the_run(qtbot, window, monkeypatch):
    design = load(window, epochs=100000)
    runner = window.compare_runner
    dialog = open_dialog(window, 0.05)
    dialog.run_button.click()
    qtbot.waitUntil(lambda: window.plots.history_points() >= 10, timeout=10000)
    # A settings edit changes the document only: the comparison's run keeps A's rate.
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a)
                        or QMessageBox.StandardButton.Discard)
    window.document.set_design(replace(design, training=replace(
        design.training, learning_rate=0.0321, batch_size=3)), "Change settings")
    assert asked == [] and window.document.design.training.batch_size == 3
    rates = []
    window.training.controller.batch_received.connect(
        lambda batch: rates.extend(batch.learning_rates.tolist()))
    qtbot.waitUntil(lambda: len(rates) >= 20, timeout=10000)
    assert set(rates) == {0.3}
    with qtbot.waitSignal(runner.finished, timeout=10000):
        window.training.stop_action.trigger()
    assert not runner.active and runner.record_b is None
    assert "Compare stopped during run A" in window.statusBar().currentMessage()
    qtbot.wait(100)  # B must not start later either
    assert not window.training.controller.active
    assert [(r.name, r.end_reason) for r in window.runs_panel.runs()] == [
        ("A: lr 0.3", "stopped")]
    assert window.document.design.training.learning_rate == 0.0321


def test_a_structural_edit_during_b_asks_and_stops_it(qtbot, window, monkeypatch):
    design = load(window, epochs=2)
    runner = window.compare_runner
    open_dialog(window, 0.05)
    # Make B long by giving it many epochs.
    dialog = window.compare_dialog
    dialog.set_b_value("epochs", 100000)
    dialog.run_button.click()
    qtbot.waitUntil(lambda: runner.stage == "B" and window.plots.history_points() >= 5,
                    timeout=15000)
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(runner.finished, timeout=10000):
        window.document.set_design(replace(design, network=insert_layer(
            design.network, (0,), DenseSpec(4))), "Add layer")
    assert "Compare stopped during run B" in window.statusBar().currentMessage()
    runs = window.runs_panel.runs()
    assert [(r.name, r.end_reason) for r in runs] == [
        ("A: lr 0.3, epochs 2", "finished"), ("B: lr 0.05, epochs 100000", "stopped")]
    assert [r.name for r in window.runs_panel.selected_runs()] == [r.name for r in runs]


def test_a_diverged_a_still_runs_b(qtbot, window):
    load(window, "sine_regression.json", optimizer="sgd", learning_rate=1000.0, epochs=2)
    runner = window.compare_runner
    dialog = open_dialog(window, 0.01)
    with qtbot.waitSignal(runner.finished, timeout=20000):
        dialog.run_button.click()
    a, b = window.runs_panel.runs()
    assert a.end_reason == "diverged" and b.end_reason == "finished"
    assert (a.name, b.name) == ("A: lr 1000.0", "B: lr 0.01")
    assert window.banner.isHidden()  # B's start cleared A's divergence message
