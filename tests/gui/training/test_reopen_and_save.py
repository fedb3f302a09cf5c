"""Saved work comes back as it was saved: a reopened project shows its run (weights,
curves, model view) and Train continues it; saving during a run saves the live run;
Save As proposes a project once there are runs or weights."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from core import DenseSpec
from core.datasets import DatasetSpec, load_dataset
from core.design.edit import insert_layer
from core.files.project import load_project
from core.records.snapshots import StepSnapshot
from core.training.trainer import Trainer
from gui.main_window import MainWindow
from gui.project.files import DESIGN_FILTER, PROJECT_FILTER, save_as_default
from gui.training.controller import IDLE

EPOCHS = 3


def xor_design(window: MainWindow, epochs: int = EPOCHS, **training):
    window.open_example("xor.json")
    d = window.document.design
    d = replace(d, training=replace(d.training, epochs=epochs, **training))
    window.document.set_design(d, "settings")
    return d


def train_to_end(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.training.controller.run_finished, timeout=30000):
        window.training.train()


def save_to(window: MainWindow, monkeypatch, target: Path) -> list[tuple]:
    """Save As to ``target`` (the dialog's arguments are returned)."""
    asked: list[tuple] = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: asked.append(a) or (str(target), ""))
    assert window.files.save_as()
    return asked


def answer_box(button_text: str, seen: list[str]) -> None:
    """Click ``button_text`` in the next modal message box (they block in exec())."""
    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        seen.append(f"{box.text()}\n{box.informativeText()}")
        next(b for b in box.buttons() if b.text() == button_text).click()
    QTimer.singleShot(0, click)


def uninterrupted_losses(design, epochs: int) -> list[float]:
    d = replace(design, training=replace(design.training, epochs=epochs))
    data = load_dataset(DatasetSpec.from_dict(d.dataset))
    return [s.loss for s in Trainer(d, data).run() if isinstance(s, StepSnapshot)]


@pytest.fixture
def saved_xor(qtbot, shown_window, monkeypatch, tmp_path):
    """An XOR project trained for EPOCHS epochs with Adam, saved as .bpsproj."""
    design = xor_design(shown_window, optimizer="adam", learning_rate=0.02)
    train_to_end(qtbot, shown_window)
    target = tmp_path / "xor.bpsproj"
    save_to(shown_window, monkeypatch, target)
    return target, design, shown_window.runs_panel.runs()[-1]


def reopened(qtbot, path: Path) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.open_startup_file(path)
    return window


def test_the_project_keeps_the_run_its_weights_and_optimizer_state(saved_xor):
    target, _design, record = saved_xor
    project = load_project(target)
    assert project.train_state is not None
    assert project.train_state.run_id == record.id == project.runs[-1].id
    assert project.train_state.step == record.steps == 96  # 32 steps an epoch
    assert set(project.train_state.optimizer_state) == {"m", "v"}


def test_a_reopened_project_shows_its_run_and_continues_from_it(qtbot, saved_xor):
    target, design, record = saved_xor
    window = reopened(qtbot, target)
    try:
        t = window.training
        # The diagram, the curves and the decision boundary of the saved weights.
        assert window.diagram.has_weights
        assert window.plots.history_points() >= record.loss_curve.shape[0]
        assert window.plots.summary.text() == f"step {record.steps} · epoch {EPOCHS}"
        assert window.plots.model_view.surface_view.surface is not None
        assert len(window.plots.grad_curves) == 3
        assert "saved run (finished)" in t.status.text()
        assert "Continue the saved run" in t.train_action.toolTip()
        # Train asks; Continue trains on from step 97 with the saved optimizer state:
        # the losses of the uninterrupted run's second half.
        seen: list[str] = []
        answer_box("Continue", seen)
        with qtbot.waitSignal(t.controller.run_finished, timeout=30000):
            t.train()
        assert "Continue from epoch 3, step 96, with the saved optimizer state" in seen[0]
        runs = window.runs_panel.runs()
        assert runs[-1].steps == 2 * record.steps and runs[-1].epochs == 2 * EPOCHS
        assert "Continued from" in runs[-1].note
        continued = runs[-1].loss_curve
        whole = uninterrupted_losses(design, 2 * EPOCHS)
        np.testing.assert_allclose(continued[:, 1], [whole[int(s) - 1] for s in continued[:, 0]],
                                   rtol=1e-4)
        assert continued[0, 0] == 1  # the record holds the saved history too
        assert window.plots.summary.text() == f"step {2 * record.steps} · epoch {2 * EPOCHS}"
    finally:
        window.training.shutdown()


def test_start_again_trains_from_the_seed_and_cancel_trains_nothing(qtbot, saved_xor):
    target, design, _record = saved_xor
    window = reopened(qtbot, target)
    try:
        t = window.training
        answer_box("Cancel", [])
        t.train()
        assert t.controller.state == IDLE and window.diagram.has_weights
        answer_box("Start again", [])
        t.step()  # Step asks too: it would otherwise step the fresh weights
        qtbot.waitUntil(lambda: window.plots.summary.text().startswith("step 1 "), timeout=20000)
        fresh = uninterrupted_losses(design, 1)[0]
        first = t._recorder._loss.array()
        assert first[0, 0] == 1 and first[0, 1] == pytest.approx(fresh, rel=1e-5)
        assert t.saved is None  # asked once: the next run does not ask again
    finally:
        window.training.shutdown()


def test_an_edited_network_trains_from_the_seed_without_asking(qtbot, saved_xor,
                                                             monkeypatch):
    target, _design, _record = saved_xor
    window = reopened(qtbot, target)
    try:
        monkeypatch.setattr(window.training, "ask_continue",
                            lambda words: pytest.fail(f"asked: {words}"))
        d = window.document.design
        window.document.set_design(replace(d, network=insert_layer(d.network, (4,),
                                                                   DenseSpec(4))), "add")
        assert window.training.train_action.isEnabled()
        window.training.train()
        assert "the network has changed" in window.statusBar().currentMessage()
        qtbot.waitUntil(lambda: window.plots.history_points() > 0, timeout=20000)
        assert window.runs_panel.runs()[-1].end_reason == "finished"  # the saved one
    finally:
        window.training.shutdown()


# ------------------------------------------------------------ saving while training


def long_run(qtbot, window: MainWindow) -> None:
    xor_design(window, epochs=100_000)
    window.training.train()
    qtbot.waitUntil(lambda: window.plots.history_points() > 50, timeout=20000)


def test_ctrl_s_during_a_run_saves_the_live_run_then_the_end_modifies_again(
        qtbot, shown_window, monkeypatch, tmp_path):
    window = shown_window
    target = tmp_path / "live.bpsproj"
    long_run(qtbot, window)
    save_to(window, monkeypatch, target)  # Save As, then Ctrl+S on the same file
    window.document.mark_modified()
    window.save_action.trigger()
    assert not window.isWindowModified()
    project = load_project(target)
    live = project.runs[-1]
    assert live.end_reason == "unfinished" and live.ended == "unfinished"
    assert live.steps > 50 and project.train_state.step == live.steps
    assert project.train_state.run_id == live.id
    assert project.weights is not None and live.loss_curve[-1, 0] == live.steps
    with qtbot.waitSignal(window.training.controller.run_finished, timeout=20000):
        window.training.stop()
    final = window.runs_panel.runs()[-1]
    assert final.id == live.id and final.name == live.name and final.steps >= live.steps
    assert window.isWindowModified()  # the file holds the run as it stood, not its end


def test_a_paused_run_is_saved_as_it_stands(qtbot, shown_window, monkeypatch, tmp_path):
    window = shown_window
    long_run(qtbot, window)
    window.training.pause_or_resume()
    qtbot.wait(200)
    save_to(window, monkeypatch, tmp_path / "paused.bpsproj")
    project = load_project(tmp_path / "paused.bpsproj")
    assert project.runs[-1].steps == project.train_state.step == window.plots._last_step


def test_closing_during_a_run_and_choosing_save_saves_the_live_run(
        qtbot, shown_window, monkeypatch, tmp_path):
    window = shown_window
    target = tmp_path / "closed.bpsproj"
    long_run(qtbot, window)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Save)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.document.mark_modified()
    assert window.close()
    project = load_project(target)
    assert project.runs[-1].end_reason == "unfinished" and project.runs[-1].steps > 50
    assert project.train_state.step == project.runs[-1].steps
    assert not window.training.controller.active


# ------------------------------------------------------------------- Save As


@pytest.mark.parametrize("path, has_work, name, selected", [
    (None, False, "My_net.json", DESIGN_FILTER),
    (None, True, "My_net.bpsproj", PROJECT_FILTER),
    (Path("/d/a.json"), False, "/d/a.json", DESIGN_FILTER),
    (Path("/d/a.json"), True, "/d/a.bpsproj", PROJECT_FILTER),
    (Path("/d/a.bpsproj"), False, "/d/a.bpsproj", PROJECT_FILTER),
])
def test_save_as_proposes_a_project_once_there_are_runs_or_weights(path, has_work, name,
                                                                   selected):
    assert save_as_default(path, "My net", has_work) == (name, selected)


def test_save_as_after_training_offers_a_project_and_names_what_each_keeps(
        qtbot, shown_window, monkeypatch, tmp_path):
    window = shown_window
    xor_design(window, epochs=1)
    asked = save_to(window, monkeypatch, tmp_path / "a.json")
    assert asked[0][2].endswith(".json") and asked[0][4] == DESIGN_FILTER
    train_to_end(qtbot, window)
    asked = save_to(window, monkeypatch, tmp_path / "b.bpsproj")
    start, filters, selected = asked[0][2], asked[0][3], asked[0][4]
    assert start.endswith("a.bpsproj") and selected == PROJECT_FILTER
    assert "Project with runs and weights" in filters and "Design only" in filters


def test_saving_runs_as_a_design_warns_and_can_save_a_project_instead(
        qtbot, shown_window, monkeypatch, tmp_path):
    window = shown_window
    xor_design(window, epochs=1)
    train_to_end(qtbot, window)
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "d.json"), ""))
    seen: list[str] = []
    answer_box("Cancel", seen)
    assert not window.files.save_as()
    assert "not the runs or the trained weights" in seen[0]
    assert not (tmp_path / "d.json").exists()
    answer_box("Save as Project", seen)
    assert window.files.save_as()
    assert not (tmp_path / "d.json").exists() and load_project(tmp_path / "d.bpsproj").runs
    answer_box("Save Design Only", seen)
    assert window.files.save_as() and (tmp_path / "d.json").exists()
    window.document.mark_modified()
    window.save_action.trigger()  # asked once for this file, not on every Ctrl+S
    assert len(seen) == 3 and not window.isWindowModified()
