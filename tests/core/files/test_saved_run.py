"""A reopened project's run: the batch a window draws from it (history, weights and the
model views computed from the saved weights) and whether a design can continue it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from core.datasets import DatasetSpec, load_dataset
from core.design.edit import remove_layer
from core.files.design_file import load_design
from core.files.project import Project, parse_project, project_bytes
from core.files.saved_run import plan_continue, replay_batch, saved_run
from core.records.recorder import RunRecorder
from core.records.snapshots import RunEnd
from core.resources import resource_path
from core.training.model_views import fit_curve, grid_views, surface_grid
from core.training.progress import ProgressBatcher
from core.training.trainer import Trainer


def trained(example: str, epochs: int = 2, **training):
    """A finished run of an example, saved and read back as the window saves it."""
    d = load_design(resource_path("examples", example))
    d = replace(d, training=replace(d.training, epochs=epochs, **training))
    data = load_dataset(DatasetSpec.from_dict(d.dataset))
    trainer = Trainer(d, data)
    batcher = ProgressBatcher(trainer.layer_names)
    end = None
    for snap in trainer.run():
        batcher.add(snap)
        end = snap if isinstance(snap, RunEnd) else end
    recorder = RunRecorder(trainer.layer_names)
    recorder.add(batcher.take())
    record = recorder.finish(end, d, "2026-01-01T00:00:00", 1.0)
    state = replace(trainer.state(), run_id=record.id)
    project = Project(d, state.weights, record.history, record.loss_curve, [record], state)
    return parse_project(project_bytes(project), "p.bpsproj"), data, trainer


@pytest.mark.parametrize("example, view", [("xor.json", "surface"),
                                           ("sine_regression.json", "fit"),
                                           ("digits.json", "confusion")])
def test_the_replayed_batch_holds_the_history_weights_and_the_model_view(example, view):
    project, data, trainer = trained(example)
    saved = saved_run(project)
    batch = replay_batch(saved, project.design, data)
    record = project.runs[0]
    np.testing.assert_array_equal(batch.steps, record.loss_curve[:, 0])
    np.testing.assert_array_equal(batch.losses, record.loss_curve[:, 1])
    assert batch.steps[-1] == trainer.step_count
    assert [s.epoch for s in batch.epoch_snapshots] == [1, 2]
    assert batch.grad_norms.shape == (record.grad_curves.shape[0], len(batch.layer_names))
    assert batch.layer_names == trainer.layer_names
    for name, w in trainer.network.parameters().items():
        np.testing.assert_array_equal(batch.weights[name], w)
    # The view is the one the live run computes from these weights.
    assert getattr(batch, view) is not None, view
    if view == "surface":
        expected = surface_grid(trainer.network, data, trainer.stepper.logits)
        np.testing.assert_allclose(batch.surface.values, expected.values, rtol=1e-6)
        _, maps = grid_views(trainer.network, data, trainer.stepper.logits)
        for name, col in maps.columns.items():  # the diagram's neuron maps come back too
            np.testing.assert_allclose(batch.neurons.columns[name].values, col.values,
                                       rtol=1e-6, atol=1e-7)
    if view == "fit":
        np.testing.assert_allclose(batch.fit.y, fit_curve(trainer.network, data).y,
                                   rtol=1e-6)
    if view == "confusion":
        assert batch.confusion.sum() == data.y_val.shape[0]
        np.testing.assert_array_equal(batch.confusion, trainer.confusion())


@pytest.mark.parametrize("example", ["digits.json", "xor.json"])
def test_the_replayed_batch_lists_what_the_saved_weights_get_wrong(example):
    project, data, trainer = trained(example, epochs=1)
    batch = replay_batch(saved_run(project), project.design, data)
    expected = trainer.misclassified()
    assert batch.misclassified is not None and batch.misclassified.total == expected.total
    for name in ("index", "true", "predicted", "probability"):
        np.testing.assert_array_equal(getattr(batch.misclassified, name),
                                      getattr(expected, name))


def test_without_a_dataset_the_history_and_weights_still_come_back():
    project, _data, _trainer = trained("xor.json")
    batch = replay_batch(saved_run(project), project.design, None)
    assert batch.steps.size and batch.weights is not None and batch.surface is None
    assert batch.misclassified is None


def test_continue_is_offered_only_for_the_same_network_data_and_precision():
    project, _data, _trainer = trained("xor.json", optimizer="adam", learning_rate=0.01)
    saved = saved_run(project)
    d = project.design
    state, words = plan_continue(saved, d)
    assert state is saved.state
    assert "epoch 2," in words and "saved optimizer state" in words and "until epoch 4" in words
    more = replace(d, training=replace(d.training, epochs=10))
    assert "until epoch 10" in plan_continue(saved, more)[1]
    sgd = replace(d, training=replace(d.training, optimizer="sgd"))
    state, words = plan_continue(saved, sgd)
    assert state.optimizer_state == {} and "fresh sgd optimizer" in words
    other = replace(d, training=replace(d.training, dtype="float64"))
    assert plan_continue(saved, other) == (None, "the precision has changed since the run "
                                                 "was saved")
    smaller = replace(d, network=remove_layer(d.network, (0,)))
    assert plan_continue(saved, smaller)[0] is None


def test_a_diverged_run_is_not_continued():
    project, _data, _trainer = trained("xor.json")
    project.runs[0].end_reason = "diverged"
    assert plan_continue(saved_run(project), project.design) == (None,
                                                                 "the saved run diverged")


def test_an_older_file_without_state_or_runs_continues_from_its_weights():
    project, _data, _trainer = trained("xor.json")
    old = Project(project.design, project.weights, project.history, project.steps)
    saved = saved_run(parse_project(project_bytes(old), "old.bpsproj"))
    assert saved.state.epoch == 2 and saved.state.step == project.runs[0].steps
    assert saved.state.optimizer_state == {}
    assert "fresh optimizer" in plan_continue(saved, project.design)[1]
