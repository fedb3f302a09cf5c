"""Training in the window: the actions, status, diagnostics, divergence message and edits
made while a run is live."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtWidgets import QMessageBox

from core import DenseSpec
from core.design.edit import insert_layer
from gui.editor.layer_model import PROBLEMS_ROLE
from gui.training.controller import IDLE, PAUSED, RUNNING


@pytest.fixture
def window(shown_window):
    return shown_window


def wait_steps(qtbot, window, n: int, timeout: int = 15000) -> None:
    qtbot.waitUntil(lambda: window.plots.history_points() >= n, timeout=timeout)


def test_train_is_enabled_only_without_problems(window):
    window.open_example("xor.json")
    assert window.training.train_action.isEnabled()
    d = window.document.design
    window.document.set_design(replace(d, network=insert_layer(d.network, (6,),
                                                                DenseSpec(3))), "Add")
    assert not window.training.train_action.isEnabled()
    assert "Cannot train" in window.training.train_action.toolTip()
    window.document.undo()
    assert window.training.train_action.isEnabled()


def test_train_pause_step_stop_from_the_actions(qtbot, window):
    window.open_example("spiral.json")
    window.training.train_action.trigger()
    assert window.training.controller.state == RUNNING
    assert window.workspace == "train"  # Train shows the Train workspace
    wait_steps(qtbot, window, 20)
    assert "step" in window.training.status.text() and "loss" in window.training.status.text()
    window.training.pause_action.trigger()
    assert window.training.controller.state == PAUSED
    assert window.training.pause_action.text() == "Res&ume"
    assert not window.training.train_action.isEnabled()
    window.training.step_action.trigger()
    with qtbot.waitSignal(window.training.controller.run_finished, timeout=10000):
        window.training.stop_action.trigger()
    assert window.training.controller.state == IDLE
    assert window.diagram.has_weights


def test_deep_sigmoid_marks_vanishing_layers(qtbot, window):
    window.open_example("deep_sigmoid.json")
    window.training.train()
    qtbot.waitUntil(lambda: window.training._last_health.get("layers.0") == "vanishing",
                    timeout=15000)
    assert "vanishing" in window.plots.legend_label("layers.0")
    assert "ReLU" in window.plots.hint_label.text()
    card = window.editor.model.index_of((0,))
    assert any("vanishing" in p for p in card.data(PROBLEMS_ROLE))


def test_divergence_shows_a_message_and_stops(qtbot, window):
    window.open_example("sine_regression.json")
    d = window.document.design
    window.document.set_design(replace(d, training=replace(d.training, optimizer="sgd",
                                                           learning_rate=1000.0)), "lr")
    with qtbot.waitSignal(window.training.controller.run_finished, timeout=20000):
        window.training.train()
    assert not window.banner.isHidden()
    assert "diverged" in window.banner.text() and "clipping" in window.banner.text()


def test_settings_pass_through_but_structural_edits_ask(qtbot, window, monkeypatch):
    window.open_example("xor.json")
    d = window.document.design
    window.document.set_design(replace(d, training=replace(d.training, epochs=100000)), "e")
    window.training.train()
    wait_steps(qtbot, window, 10)
    # A learning-rate change is taken by the live run.
    d = window.document.design
    window.document.set_design(replace(d, training=replace(d.training, learning_rate=0.0321)),
                               "Change learning rate")
    got = []
    window.training.controller.batch_received.connect(got.append)
    qtbot.waitUntil(lambda: any(b.learning_rates.size and b.learning_rates[-1] == 0.0321
                                for b in got), timeout=5000)
    # A structural edit asks; "No" keeps the design and the run.
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    before = window.document.design
    new_net = insert_layer(before.network, (0,), DenseSpec(4))
    window.document.set_design(replace(before, network=new_net), "Add layer")
    assert window.document.design == before
    assert window.training.controller.active
    # "Yes" stops the run, then makes the edit.
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    window.document.set_design(replace(before, network=new_net), "Add layer")
    assert window.document.design.network == new_net
    assert not window.training.controller.active


def test_runs_are_recorded_restored_and_saved_with_the_project(qtbot, window, tmp_path,
                                                              monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from core.files.project import load_project

    window.open_example("xor.json")
    d = window.document.design
    window.document.set_design(replace(d, training=replace(d.training, epochs=3)), "e")
    with qtbot.waitSignal(window.training.controller.run_finished, timeout=20000):
        window.training.train()
    first = window.document.design
    runs = window.runs_panel.runs()
    assert len(runs) == 1 and runs[0].end_reason == "finished" and runs[0].epochs == 3
    assert runs[0].design == first
    # A second run with another learning rate; restore the first run's design (undoable).
    window.document.set_design(replace(first, training=replace(first.training,
                                                               learning_rate=0.05)), "lr")
    with qtbot.waitSignal(window.training.controller.run_finished, timeout=20000):
        window.training.train()
    assert len(window.runs_panel.runs()) == 2
    window.runs_panel.restore_requested.emit(window.runs_panel.runs()[0])
    assert window.document.design == first
    window.document.undo()
    assert window.document.design.training.learning_rate == 0.05
    # Pinning a run as the baseline draws it under the live curves.
    window.runs_panel.set_baseline(window.runs_panel.runs()[0])
    assert window.plots.baseline_loss_curve.xData is not None
    baseline_grads = window.plots.baseline_grad_curves  # one dashed curve per layer
    assert len(baseline_grads) == len(window.runs_panel.runs()[0].layer_names) > 0
    assert all(c in window.plots.grad_plot.listDataItems() for c in baseline_grads)
    assert all(c.xData is not None and len(c.xData) for c in baseline_grads)
    window.runs_panel.set_baseline(None)
    assert window.plots.baseline_grad_curves == []
    # The project keeps the runs and the latest run's weights.
    target = tmp_path / "runs.bpsproj"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    assert window.files.save_as()
    project = load_project(target)
    assert [r.name for r in project.runs] == [r.name for r in window.runs_panel.runs()]
    assert project.weights is not None and project.history
    window.new_action.trigger()
    assert window.runs_panel.runs() == []
    assert window.open_path(target)
    assert len(window.runs_panel.runs()) == 2


def _set_training(window, **changes) -> None:
    d = window.document.design
    window.document.set_design(replace(d, training=replace(d.training, **changes)), "set")


def test_regression_without_a_validation_share_trains_to_the_end(qtbot, window):
    # Before: the training process failed in encode_targets ("cannot reshape array of
    # size 0") and the window said "internal error".
    window.open_example("sine_regression.json")
    d = window.document.design
    window.document.set_design(replace(d, dataset={**d.dataset, "val_fraction": 0.0}),
                               "no validation")
    qtbot.waitUntil(lambda: window.training.train_action.isEnabled()
                    and window.dataset_state.dataset is not None
                    and window.dataset_state.dataset.x_val.shape[0] == 0, timeout=10000)
    _set_training(window, epochs=5)
    with qtbot.waitSignal(window.training.run_recorded, timeout=20000) as blocker:
        window.training.train()
    record, end = blocker.args
    assert end is not None and end.reason == "finished", end
    assert window.banner.isHidden()
    assert len(record.history) == 5
    assert all(row["val_loss"] != row["val_loss"] for row in record.history)  # NaN
    assert window.plots.loss_legend.entry("val").visible is False
    assert "no validation set" in window.statusBar().currentMessage()
    assert window.plots.metric_legend.entry("val").visible is False
    window.grab().save("/tmp/numerics_noval.png")


def test_a_loss_that_blows_up_is_stopped_with_the_remedies(qtbot, window):
    window.open_example("xor.json")
    _set_training(window, learning_rate=1e4)
    with qtbot.waitSignal(window.training.run_recorded, timeout=20000) as blocker:
        window.training.train()
    record, end = blocker.args
    assert end.reason == "diverged" and record.end_reason == "diverged"
    text = window.banner.text()
    assert "smoothed loss" in text and "at step" in text and "clipping" in text
    window.grab().save("/tmp/numerics_blowup.png")


def test_a_blow_up_under_warn_is_shown_and_the_run_goes_on(qtbot, window):
    window.open_example("xor.json")
    _set_training(window, learning_rate=1e4, blow_up="warn", epochs=5)
    with qtbot.waitSignal(window.training.run_recorded, timeout=20000) as blocker:
        window.training.train()
    _, end = blocker.args
    assert end.reason == "finished"
    assert "Training is diverging at step" in window.banner.text()
