"""prune_threshold explains Optuna's real pruning decisions: a pruned trial's value is worse
than the threshold, a trial that goes on is not."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from optuna.storages import RDBStorage

from core.sweeps.space import Space
from core.sweeps.thresholds import prune_threshold

optuna.logging.set_verbosity(optuna.logging.WARNING)

STEPS = 6


def _study(tmp_path, direction: str, pruner: optuna.pruners.BasePruner) -> optuna.Study:
    # The driver's storage kind: each read gives fresh trials, as in the window.
    storage = RDBStorage(f"sqlite:///{tmp_path / 's.db'}")
    return optuna.create_study(storage=storage, study_name="t", direction=direction,
                               pruner=pruner)


def _curve(rng: np.random.Generator, maximize: bool) -> np.ndarray:
    """A noisy learning curve over STEPS epochs: a loss falling from a random level, or
    an accuracy rising to one."""
    level = rng.uniform(0.2, 2.0)
    loss = level * np.exp(-rng.uniform(0.05, 0.6) * np.arange(STEPS)) \
        + rng.normal(0, 0.03, STEPS)
    return 1.0 / (1.0 + loss) if maximize else loss


def _complete(study: optuna.Study, *values: float) -> None:
    """Complete one trial per value, each reporting it at step 0."""
    for value in values:
        trial = study.ask()
        trial.report(value, 0)
        study.tell(trial, value)


def _worse(value: float, threshold: float, maximize: bool) -> bool:
    return value < threshold if maximize else value > threshold


def _run(study: optuna.Study, space: Space, seed: int, checked_steps: set[int] | None):
    """Thirty trials, one after another. Returns the pruning decisions as (trial number,
    step, the value the pruner compared, the threshold, pruned?): every pruned trial's,
    and the kept ones at the steps the pruner judges (``checked_steps``; None: every step
    once two trials completed, the median pruner's start-up)."""
    rng = np.random.default_rng(seed)
    maximize = space.direction == "maximize"
    decisions = []
    for _ in range(30):
        trial = study.ask()
        curve = _curve(rng, maximize)
        completed = len(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,)))
        for step, value in enumerate(curve):
            trial.report(float(value), step)
            prune = trial.should_prune()
            judged = step in checked_steps if checked_steps is not None \
                else completed >= 2 and step >= 1
            if prune or judged:
                seen = curve[:step + 1]
                # The median pruner compares the best value so far, halving the current.
                compared = value if checked_steps is not None else \
                    (seen.max() if maximize else seen.min())
                threshold = prune_threshold(study, trial.number, step, space)
                decisions.append((trial.number, step, float(compared), threshold, prune))
            if prune:
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                break
        else:
            study.tell(trial, float(curve[-1]))
    return decisions


def _check(decisions, maximize: bool) -> None:
    """Every pruned trial was worse than its threshold; every kept one was not."""
    assert sum(d[4] for d in decisions) >= 5  # the test saw real prunings
    assert sum(not d[4] for d in decisions) >= 5  # and trials that went on
    for number, step, compared, threshold, pruned in decisions:
        assert threshold is not None, (number, step)
        assert _worse(compared, threshold, maximize) == pruned, \
            (number, step, compared, threshold, pruned)


@pytest.mark.parametrize("objective", ["val_loss", "val_accuracy"])
def test_a_median_pruned_trial_is_worse_than_the_completed_trials_median_a_kept_one_not(tmp_path,
                                                                         objective):
    space = Space((), objective=objective, pruner="median")
    study = _study(tmp_path, space.direction,
                   optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1))
    decisions = _run(study, space, seed=3, checked_steps=None)
    _check(decisions, objective == "val_accuracy")
    for number, step, _compared, threshold, _pruned in decisions:
        # The threshold is the median of the completed trials' values at that step.
        done = [t.intermediate_values[step] for t in study.trials
                if t.state == optuna.trial.TrialState.COMPLETE and t.number < number
                and step in t.intermediate_values]
        assert threshold == pytest.approx(float(np.median(done)))


def test_a_median_threshold_also_explains_a_trial_that_went_on(tmp_path):
    space = Space((), objective="val_loss", pruner="median")
    study = _study(tmp_path, "minimize",
                   optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1))
    for curve in ([1.0, 0.8, 0.6], [1.0, 0.6, 0.4]):  # medians 0.7, 0.5 at steps 1, 2
        trial = study.ask()
        for step, value in enumerate(curve):
            trial.report(value, step)
        study.tell(trial, curve[-1])
    trial = study.ask()
    trial.report(0.9, 0)
    trial.report(0.65, 1)  # better than 0.7: goes on
    assert not trial.should_prune()
    assert prune_threshold(study, trial.number, 1, space) == pytest.approx(0.7)
    trial.report(0.55, 2)  # its best, 0.55, is worse than 0.5: pruned
    assert trial.should_prune()
    assert prune_threshold(study, trial.number, 2, space) == pytest.approx(0.5)


@pytest.mark.parametrize("objective", ["val_loss", "val_accuracy"])
def test_a_halving_pruned_trial_is_worse_than_the_rungs_cut_off_a_promoted_one_not(
        tmp_path, objective):
    space = Space((), objective=objective, pruner="halving")
    study = _study(tmp_path, space.direction,
                   optuna.pruners.SuccessiveHalvingPruner(min_resource=1,
                                                          reduction_factor=2))
    # Rungs at steps 1, 2, 4 (min_resource · 2^rung): where a trial is judged.
    _check(_run(study, space, seed=5, checked_steps={1, 2, 4}), objective == "val_accuracy")


def test_a_threshold_asked_later_ignores_trials_that_finished_after(tmp_path):
    space = Space((), objective="val_loss", pruner="median")
    study = _study(tmp_path, "minimize",
                   optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0))
    _complete(study, 0.2, 0.4)
    trial = study.ask()
    trial.report(0.5, 0)
    assert trial.should_prune()
    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    late = study.ask()  # finishes after the decision: would move the median to 0.4
    late.report(0.9, 0)
    study.tell(late, 0.9)
    assert prune_threshold(study, trial.number, 0, space) == pytest.approx(0.3)


def test_no_threshold_without_a_pruner_or_anything_to_compare(tmp_path):
    study = _study(tmp_path, "minimize", optuna.pruners.MedianPruner(n_startup_trials=0))
    trial = study.ask()
    trial.report(0.5, 0)
    assert prune_threshold(study, trial.number, 0, Space((), pruner="median")) is None
    assert prune_threshold(study, trial.number, 0, Space((), pruner="none")) is None
    assert prune_threshold(study, 99, 0, Space((), pruner="median")) is None


def test_a_threshold_asked_at_the_decision_ignores_trials_that_completed_since(tmp_path):
    # The driver tells Optuna a pruned trial's end only when its worker has stopped;
    # another trial may complete meanwhile.
    from datetime import datetime

    space = Space((), objective="val_loss", pruner="median")
    study = _study(tmp_path, "minimize",
                   optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0))
    _complete(study, 0.2, 0.4)
    pruned, other = study.ask(), study.ask()
    pruned.report(0.5, 0)
    assert pruned.should_prune()
    decided = datetime.now()
    other.report(0.9, 0)
    study.tell(other, 0.9)  # completes before the pruned trial is told
    assert prune_threshold(study, pruned.number, 0, space, at=decided) == pytest.approx(0.3)
    assert prune_threshold(study, pruned.number, 0, space) == pytest.approx(0.4)
