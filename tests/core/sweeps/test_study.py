"""The sweep driver: trials train through the run loop, are recorded, pruned, resumed."""

from __future__ import annotations

import dataclasses

import pytest
from optuna.trial import TrialState

from core.datasets import DatasetSpec, load_dataset
from core.files.design_file import load_design
from core.resources import resource_path
from core.sweeps.space import SpaceError, parse_space
from core.sweeps.study import open_study, run_sweep


@pytest.fixture(scope="module")
def xor():
    """A small, fast XOR design (few samples, few epochs) and its dataset."""
    design = load_design(resource_path("examples", "xor.json"))
    design = dataclasses.replace(
        design, training=dataclasses.replace(design.training, epochs=4),
        dataset={**design.dataset, "samples": 100})
    return design, load_dataset(DatasetSpec.from_dict(design.dataset))


SPACE = {"parameters": {"training.learning_rate": {"low": 1e-3, "high": 1.0, "log": True},
                        "layers[0].units": {"low": 2, "high": 8}}}


def test_a_sweep_completes_its_trials_with_values_and_records(xor, tmp_path):
    design, dataset = xor
    space = parse_space({**SPACE, "objective": "val_accuracy", "sampler": "random"}, design)
    results = []
    study = run_sweep(design, dataset, space, 4, tmp_path / "s.journal", "t", results.append)
    assert [r.number for r in results] == [0, 1, 2, 3]
    assert all(r.state == "complete" and 0.0 <= r.value <= 1.0 for r in results)
    assert len({r.params["training.learning_rate"] for r in results}) == 4
    assert results[2].record is not None
    assert results[2].record.name.startswith("Sweep t #2: learning_rate ")
    assert study.best_value == max(r.value for r in results)


def test_the_same_seed_draws_the_same_settings(xor, tmp_path):
    design, dataset = xor
    space = parse_space(SPACE, design)
    a = run_sweep(design, dataset, space, 2, tmp_path / "a.journal", "t")
    b = run_sweep(design, dataset, space, 2, tmp_path / "b.journal", "t")
    assert [t.params for t in a.trials] == [t.params for t in b.trials]


def test_resume_continues_without_repeating_trials(xor, tmp_path):
    design, dataset = xor
    space = parse_space(SPACE, design)
    path = tmp_path / "s.journal"
    first = []
    run_sweep(design, dataset, space, 3, path, "t", first.append)
    second = []
    study = run_sweep(design, dataset, space, 5, path, "t", second.append)
    assert [r.number for r in second] == [3, 4]  # only the missing two ran
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 5
    assert [t.params for t in study.trials[:3]] == [r.params for r in first]


def test_the_median_pruner_stops_a_trial_worse_than_the_others(xor, tmp_path):
    design, dataset = xor
    space = parse_space({"parameters": {
        "training.learning_rate": {"choices": [0.5, 0.0001]},
        "training.optimizer": {"choices": ["adam", "sgd"]}}, "pruner": "median"}, design)
    path = tmp_path / "s.journal"
    study = open_study(path, "t", space, 1)
    for lr, opt in ((0.5, "adam"), (0.5, "adam"), (0.0001, "sgd")):  # good, good, bad
        study.enqueue_trial({"training.learning_rate": lr, "training.optimizer": opt})
    results = []
    run_sweep(design, dataset, space, 3, path, "t", results.append)
    assert [r.state for r in results] == ["complete", "complete", "pruned"]
    assert results[2].record is not None and results[2].record.end_reason == "stopped"


def test_an_objective_that_does_not_fit_the_task_is_refused(xor, tmp_path):
    design, dataset = xor
    space = parse_space({**SPACE, "objective": "r2"}, design)
    with pytest.raises(SpaceError, match="r2 needs a regression dataset"):
        run_sweep(design, dataset, space, 1, tmp_path / "s.journal", "t")


def test_a_folder_is_not_a_storage(xor, tmp_path):
    design, _ = xor
    with pytest.raises(SpaceError, match="is a folder"):
        open_study(tmp_path, "t", parse_space(SPACE, design), 1)
