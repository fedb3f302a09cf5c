"""Sweeps trained one trial at a time in this process: trials train through the run
loop, are recorded, pruned (with the pruner's threshold kept), and resumed."""

from __future__ import annotations

import dataclasses
import math

import optuna
import pytest
from optuna.trial import TrialState

from core.datasets import DatasetSpec, load_dataset
from core.files.design_file import load_design
from core.resources import resource_path
from core.sweeps.plan import SweepPlan
from core.sweeps.space import SpaceError, parse_space
from core.sweeps.storage import open_storage, read_status
from core.sweeps.study import run_sweep


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


def plan(space, trials, path, name="t") -> SweepPlan:
    return SweepPlan(space, trials, workers=1, study_name=name, storage=str(path))


def test_a_sweep_completes_its_trials_with_values_and_records(xor, tmp_path):
    design, dataset = xor
    space = parse_space({**SPACE, "objective": "val_accuracy", "sampler": "random"}, design)
    results = run_sweep(design, dataset, plan(space, 4, tmp_path / "s.db"))
    assert [r.number for r in results] == [0, 1, 2, 3]
    assert all(r.state == "complete" and 0.0 <= r.value <= 1.0 for r in results)
    assert len({r.params["training.learning_rate"] for r in results}) == 4
    record = results[2].record
    assert record is not None and record.name.startswith("Sweep t #2: learning_rate ")
    assert (record.sweep, record.trial) == ("t", 2)
    # The trial's value is its last epoch's objective.
    assert results[2].value == record.history[-1]["val_metric"]
    status = read_status(str(tmp_path / "s.db"), "t")
    assert status.best.value == max(r.value for r in results)
    assert [row.number for row in status.trials] == [0, 1, 2, 3]
    assert all(len(row.values) == 4 for row in status.trials)  # one per epoch
    assert set(status.importances) == set(SPACE["parameters"])
    assert math.isclose(sum(status.importances.values()), 1.0, rel_tol=1e-6)


def test_the_same_seed_draws_the_same_settings(xor, tmp_path):
    design, dataset = xor
    space = parse_space(SPACE, design)
    a = run_sweep(design, dataset, plan(space, 2, tmp_path / "a.db"))
    b = run_sweep(design, dataset, plan(space, 2, tmp_path / "b.db"))
    assert [t.params for t in a] == [t.params for t in b]


def test_resume_continues_without_repeating_trials(xor, tmp_path):
    design, dataset = xor
    space = parse_space(SPACE, design)
    path = tmp_path / "s.db"
    first = run_sweep(design, dataset, plan(space, 3, path))
    second = run_sweep(design, dataset, plan(space, 5, path))
    assert [r.number for r in second] == [3, 4]  # only the missing two ran
    status = read_status(str(path), "t")
    assert [row.state for row in status.trials] == ["complete"] * 5
    assert [row.params for row in status.trials[:3]] == [r.params for r in first]


def _enqueue(path, design, space, settings) -> None:
    from core.sweeps.study import open_study

    opened = open_storage(str(path))
    study = open_study(opened, design, plan(space, len(settings), path))
    for s in settings:
        study.enqueue_trial(s)
    opened.close()


def test_the_median_pruner_stops_a_trial_worse_than_the_others(xor, tmp_path):
    design, dataset = xor
    space = parse_space({"parameters": {
        "training.learning_rate": {"choices": [0.5, 0.0001]},
        "training.optimizer": {"choices": ["adam", "sgd"]}}, "pruner": "median"}, design)
    path = tmp_path / "s.db"
    _enqueue(path, design, space, [  # good, good, bad
        {"training.learning_rate": lr, "training.optimizer": opt}
        for lr, opt in ((0.5, "adam"), (0.5, "adam"), (0.0001, "sgd"))])
    results = run_sweep(design, dataset, plan(space, 3, path))
    assert [r.state for r in results] == ["complete", "complete", "pruned"]
    assert results[2].record is not None and results[2].record.end_reason == "stopped"
    row = read_status(str(path), "t").trials[2]
    # Why: its value at the step it was pruned was worse than the median of the others.
    assert row.pruned_step is not None and row.threshold is not None
    assert dict(row.values)[row.pruned_step] > row.threshold


def test_a_running_trial_left_in_a_local_file_is_retried_on_resume(xor, tmp_path):
    design, dataset = xor
    space = parse_space(SPACE, design)
    path = tmp_path / "s.db"
    run_sweep(design, dataset, plan(space, 2, path))
    opened = open_storage(str(path))
    study = optuna.load_study(study_name="t", storage=opened.rdb)
    orphan = study.ask()  # as a killed driver leaves it: running, never told
    orphan.suggest_float("training.learning_rate", 1e-3, 1.0, log=True)
    orphan.suggest_int("layers[0].units", 2, 8)
    opened.close()
    results = run_sweep(design, dataset, plan(space, 3, path))
    assert [r.params for r in results] == [orphan.params]  # the orphan, tried again
    status = read_status(str(path), "t")
    assert [row.state for row in status.trials] == ["complete", "complete", "fail",
                                                    "complete"]


def test_a_locked_storage_is_refused_with_words(xor, tmp_path):
    design, dataset = xor
    path = tmp_path / "s.db"
    held = open_storage(str(path))
    try:
        with pytest.raises(SpaceError, match="in use by another Backprop Studio"):
            run_sweep(design, dataset, plan(parse_space(SPACE, design), 1, path))
    finally:
        held.close()


def test_another_space_under_the_same_name_is_refused(xor, tmp_path):
    design, dataset = xor
    run_sweep(design, dataset, plan(parse_space(SPACE, design), 1, tmp_path / "s.db"))
    other = parse_space({"parameters": {"training.learning_rate": {"low": 0.1,
                                                                   "high": 0.5}}}, design)
    with pytest.raises(SpaceError, match="another search space"):
        run_sweep(design, dataset, plan(other, 2, tmp_path / "s.db"))


def test_an_objective_that_does_not_fit_the_task_is_refused(xor, tmp_path):
    design, dataset = xor
    space = parse_space({**SPACE, "objective": "r2"}, design)
    with pytest.raises(SpaceError, match="r2 needs a regression dataset"):
        run_sweep(design, dataset, plan(space, 1, tmp_path / "s.db"))


def test_a_folder_is_not_a_storage(tmp_path):
    with pytest.raises(SpaceError, match="is a folder"):
        open_storage(str(tmp_path))


def test_a_plan_without_budget_or_with_a_too_large_grid_is_refused(xor):
    design, _ = xor
    space = parse_space({"parameters": {"layers[0].units": {"low": 2, "high": 8}},
                         "sampler": "grid"}, design)
    with pytest.raises(SpaceError, match="trials, a time limit, or both"):
        SweepPlan(space, None).check()
    with pytest.raises(SpaceError, match="7 combinations but only 3"):
        SweepPlan(space, 3).check()
    with pytest.raises(SpaceError, match="at least one worker"):
        SweepPlan(space, 7, workers=0).check()


def test_trials_are_counted_once_when_retried():
    from core.sweeps.storage import budget_count

    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}
    failed = optuna.trial.create_trial(state=TrialState.FAIL, params={"x": 0.5},
                                       distributions=dist)
    failed.number = 0
    retry = optuna.trial.create_trial(state=TrialState.COMPLETE, value=1.0,
                                      params={"x": 0.5}, distributions=dist,
                                      system_attrs={"failed_trial": 0})
    retry.number = 1
    assert budget_count([failed, retry]) == 1
    assert budget_count([failed]) == 1
