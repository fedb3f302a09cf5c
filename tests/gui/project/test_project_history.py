"""The window has one undo history for the whole project: Edit > Undo takes back run
deletions, design edits and run recordings (with their weights) in the order they
happened, and the Runs panel and the diagram follow the project model."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from core.records.record import RunRecord

SHOTS = Path(os.environ.get("HISTORY_SHOTS", "/tmp"))


def test_edit_undo_takes_back_a_run_deletion_and_a_design_edit_in_one_history(
        qtbot, shown_window):
    window = shown_window
    assert window.open_example()
    model = window.document.model
    model.set_design(replace(model.design, training=replace(model.design.training,
                                                            epochs=3)), "Epochs")
    with qtbot.waitSignal(window.training.run_recorded, timeout=30000):
        window.training.train_action.trigger()  # Train (F5)
    (run,) = window.runs_panel.runs()
    assert model.runs == (run,) and model.latest.record is run
    trained = model.latest.weights
    assert window.undo_action.text() == "&Undo Record Run 1"

    before_edit = window.document.design
    window.document.set_design(replace(before_edit, training=replace(
        before_edit.training, learning_rate=0.5)), "Change learning rate")
    window.runs_dock.raise_()
    window.show_workspace("train")
    window.runs_panel.select_runs([run])
    window.runs_panel.delete_selected()
    assert window.runs_panel.runs() == [] and window.document.modified
    assert window.runs_panel.model.records == []
    qtbot.wait(100)
    window.grab().save(str(SHOTS / "history_after_delete.png"))

    assert window.undo_action.text() == "&Undo Delete 1 run"
    window.undo_action.trigger()  # Edit > Undo: the run is back, selected
    assert window.runs_panel.runs() == [run] and window.runs_panel.selected_runs() == [run]
    assert window.document.design.training.learning_rate == 0.5
    qtbot.wait(100)
    window.grab().save(str(SHOTS / "history_after_undo.png"))

    window.undo_action.trigger()  # the design edit, from the same history
    assert window.document.design == before_edit
    assert window.runs_panel.runs() == [run]

    window.undo_action.trigger()  # the run's recording, and its weights with it
    assert window.runs_panel.runs() == [] and model.latest is None
    assert window.document.snapshot().weights is None

    for _ in range(3):
        window.redo_action.trigger()
    assert window.runs_panel.runs() == [] and window.document.design.training.learning_rate \
        == 0.5
    assert model.latest.weights is trained  # the recording's weights came back
    window.undo_action.trigger()
    assert window.runs_panel.runs() == [run]


def test_renames_and_notes_in_the_panel_are_steps_of_the_window_history(qtbot, shown_window):
    window = shown_window
    panel = window.runs_panel
    run = RunRecord(window.document.design)
    panel.add_run(run)
    assert window.undo_action.text() == "&Undo Record Run 1"
    name_index = panel.proxy.index(0, 0)
    assert panel.proxy.setData(name_index, "  tanh  ")
    assert run.name == "tanh" and panel.proxy.index(0, 0).data() == "tanh"
    panel.select_runs([run])
    panel.note_edit.setText("too slow")
    panel.note_edit.editingFinished.emit()
    assert run.note == "too slow"
    window.undo_action.trigger()
    assert run.note == "" and panel.note_edit.text() == ""
    window.undo_action.trigger()
    assert run.name == "Run 1" and panel.proxy.index(0, 0).data() == "Run 1"


def test_a_run_of_the_previous_document_is_not_saved_into_the_next(qtbot, shown_window,
                                                                   monkeypatch, tmp_path):
    """Opening another file (here the same example again) starts a project without runs
    or weights, even when its network is the one the last run trained."""
    from PySide6.QtWidgets import QFileDialog

    from core.files.project import load_project

    window = shown_window
    assert window.open_example()
    with qtbot.waitSignal(window.training.run_recorded, timeout=30000):
        window.training.train_action.trigger()
    assert window.open_example()  # unsaved work: the fixture answers Discard
    assert window.runs_panel.runs() == [] and not window.files.has_work()
    target = tmp_path / "fresh.bpsproj"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), "")))
    assert window.files.save_as()
    saved = load_project(target)
    assert saved.runs == [] and saved.weights is None and saved.train_state is None
