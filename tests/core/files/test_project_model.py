"""The headless project model: one undo history over design edits, runs and weights;
opening and saving through the one project serialiser."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from core import build_network
from core.files.design_file import load_design, save_design
from core.files.project import load_project
from core.files.project_model import ProjectModel, Trained
from core.files.undo import Command, UndoStack
from core.records.record import RunRecord
from core.resources import resource_path
from core.training.train_state import TrainState


@pytest.fixture
def xor_file(tmp_path):
    path = tmp_path / "xor.json"
    save_design(load_design(resource_path("examples", "xor.json")), path)
    return path


def trained_run(design, seed: int, steps: int = 40) -> tuple[RunRecord, dict, TrainState]:
    """A run record with the weights and state it ended with."""
    weights = build_network(design.network, seed=seed, dtype=np.float32).state_dict()
    history = [{"epoch": 1.0, "step": float(steps), "train_loss": 0.5, "val_loss": 0.6,
                "train_metric": 0.75, "val_metric": 0.7}]
    loss = np.column_stack([np.arange(1.0, steps + 1), np.geomspace(0.7, 0.1, steps)])
    record = RunRecord(design, seed=seed, steps=steps, epochs=1, metric_name="accuracy",
                       history=history, loss_curve=loss)
    return record, weights, TrainState(epoch=1, step=steps, weights=weights)


def equal_weights(a: dict, b: dict) -> bool:
    return set(a) == set(b) and all(np.array_equal(a[k], b[k]) for k in a)


def test_one_history_undoes_and_redoes_design_edits_runs_and_weights(xor_file):
    model = ProjectModel.open(xor_file)
    seen = []
    model.listeners.append(lambda kind, detail: seen.append(kind))
    original = model.design
    edited = replace(original, training=replace(original.training, learning_rate=0.5))
    model.set_design(edited, "Change learning rate")
    first, w1, s1 = trained_run(edited, seed=1)
    second, w2, s2 = trained_run(edited, seed=2)
    model.add_run(first, w1, s1)
    model.add_run(second, w2, s2)
    assert [r.name for r in model.runs] == ["Run 1", "Run 2"]
    model.delete_runs([first.id])
    history = model.history
    assert history.count() == 4 and history.undo_text() == "Delete 1 run"
    assert model.runs == (second,) and equal_weights(model.latest.weights, w2)
    assert {"design", "runs", "weights", "state"} <= set(seen)

    history.undo()  # the deleted run is back where it was
    assert model.runs == (first, second)
    history.undo()  # Run 2's recording: its weights go with it, Run 1's come back
    assert model.runs == (first,) and equal_weights(model.latest.weights, w1)
    assert model.latest.state.run_id == first.id
    history.undo()
    assert model.runs == () and model.latest is None
    history.undo()
    assert model.design == original and not model.modified
    assert not history.can_undo()

    for _ in range(4):
        history.redo()
    assert model.design == edited and model.runs == (second,)
    assert equal_weights(model.latest.weights, w2) and model.modified
    # A new edit after undoing drops what was undone.
    history.undo()
    model.rename_run(first.id, "baseline")
    assert not history.can_redo() and history.count() == 4
    assert first.name == "baseline"
    history.undo()
    assert first.name == "Run 1"


def test_save_and_open_round_trip_through_the_project_file(xor_file, tmp_path):
    model = ProjectModel.open(xor_file)
    record, weights, state = trained_run(model.design, seed=4)
    model.add_run(record, weights, state)
    model.set_note(record.id, "tanh, lr 0.3")
    path = tmp_path / "xor.bpsproj"
    model.save(path)
    assert model.path == path and not model.modified

    again = ProjectModel.open(path)
    assert again.design == model.design and again.path == path
    assert [(r.id, r.name, r.note) for r in again.runs] == [(record.id, "Run 1",
                                                              "tanh, lr 0.3")]
    assert equal_weights(again.latest.weights, weights)
    assert again.latest.state.step == 40 and again.latest.state.run_id == record.id
    assert not again.modified and again.history.count() == 0

    again.history.undo()  # an opened file's content is not an undoable step
    assert len(again.runs) == 1 and again.latest is not None

    # Undo the note and the recording and save: the file has neither run nor weights.
    model.history.undo()
    model.history.undo()
    assert model.modified
    model.save(path)
    reopened = load_project(path)
    assert reopened.runs == [] and reopened.weights is None and reopened.train_state is None


def test_weights_for_another_network_are_not_saved_with_the_design(xor_file, tmp_path):
    model = ProjectModel.open(xor_file)
    record, weights, state = trained_run(model.design, seed=5)
    model.add_run(record, weights, state)
    wider = model.design.network.to_dict()
    wider["layers"][0]["units"] = wider["layers"][0]["units"] + 3
    model.set_design(replace(model.design, network=type(model.design.network).from_dict(
        wider)), "Change units")
    project = model.project()
    assert project.weights is None and project.train_state is None
    assert project.runs == [record]  # the run stays in the history
    model.history.undo()  # the network is back: so are the weights
    assert equal_weights(model.project().weights, weights)


def test_a_state_that_is_not_where_the_record_ended_is_dropped(xor_file):
    design = ProjectModel.open(xor_file).design
    record, weights, state = trained_run(design, seed=6, steps=40)
    assert Trained.of_run(record, weights, replace(state, step=39)).state is None
    assert Trained.of_run(record, weights, replace(state, run_id="other")).state is None
    kept = Trained.of_run(record, weights, state).state
    assert kept.run_id == record.id and kept.weights is weights


def test_a_live_run_is_saved_as_captured_and_dropped_at_its_end(xor_file):
    model = ProjectModel.open(xor_file)
    record, weights, state = trained_run(model.design, seed=7)
    model.set_run_live(True)
    assert model.has_work() and not model.runs
    model.capture_live(Trained.of_run(record, weights, state))
    project = model.project()
    assert project.runs == [record] and equal_weights(project.weights, weights)
    assert model.history.count() == 0  # a capture is not an edit
    model.set_run_live(False)
    assert model.project().weights is None and not model.has_work()


def test_typing_in_one_field_merges_but_not_across_a_save(xor_file, tmp_path):
    model = ProjectModel.open(xor_file)
    base = model.design
    for lr in (0.1, 0.2, 0.3):
        model.set_design(replace(base, training=replace(base.training, learning_rate=lr)),
                         "Change learning rate", merge_key="lr")
    assert model.history.count() == 1
    model.save(tmp_path / "x.json")
    model.set_design(replace(base, training=replace(base.training, learning_rate=0.4)),
                     "Change learning rate", merge_key="lr")
    assert model.history.count() == 2  # the saved state stays reachable
    model.history.undo()
    assert not model.modified and model.design.training.learning_rate == 0.3
    model.history.undo()
    assert model.design == base


def test_unknown_run_ids_are_refused_by_name(xor_file):
    model = ProjectModel.open(xor_file)
    with pytest.raises(KeyError, match="no run with id 'nope'"):
        model.rename_run("nope", "x")
    model.delete_runs(["nope"])  # nothing to delete: no step
    assert model.history.count() == 0


def test_undo_stack_drops_the_clean_state_when_it_is_cut_off():
    class Add(Command):
        def __init__(self, box: list, n: int) -> None:
            self.box, self.n, self.text = box, n, f"add {n}"

        def do(self) -> None:
            self.box.append(self.n)

        def undo(self) -> None:
            self.box.pop()

    box: list[int] = []
    stack = UndoStack()
    stack.push(Add(box, 1))
    stack.push(Add(box, 2))
    stack.set_clean()
    stack.undo()
    stack.push(Add(box, 3))  # the saved [1, 2] can no longer be reached
    assert box == [1, 3] and not stack.is_clean()
    stack.undo()
    stack.undo()
    assert box == [] and not stack.is_clean()
    stack.clear()
    assert stack.is_clean() and stack.count() == 0


def test_appended_runs_take_no_undo_step_but_mark_the_project_modified(xor_file):
    model = ProjectModel.open(xor_file)
    changes = []
    model.listeners.append(lambda kind, detail: changes.append((kind, detail)))
    mine, w, s = trained_run(model.design, seed=1)
    model.add_run(mine, w, s)
    trials = [trained_run(model.design, seed=i)[0] for i in (2, 3)]
    model.append_runs(trials)
    assert model.runs == (mine, *trials) and model.modified
    assert model.history.count() == 1  # only the user's own run is a step
    inserted = [d for k, d in changes if k == "runs" and d.kind == "inserted"][-1]
    assert [i for i, _ in inserted.rows] == [1, 2]
    model.history.undo()  # undoing the user's run leaves the trials alone
    assert model.runs == tuple(trials) and model.modified
    model.delete_runs([trials[0].id])  # and deleting a trial is undoable
    model.history.undo()
    assert model.runs == tuple(trials)
    model.append_runs([])
    assert model.runs == tuple(trials)
