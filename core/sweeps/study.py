"""The Optuna side of a sweep: the study (made or continued in a storage, holding the
design and space a worker elsewhere needs), its sampler and pruner, and a trial's
settings drawn from the space. The loop that trains trials is ``core.sweeps.driver``;
``run_sweep`` is its simplest use (one trial at a time, in this process).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import optuna

from core.datasets.dataset import Dataset
from core.design.spec import Design
from core.sweeps.plan import SweepPlan
from core.sweeps.space import Space, SpaceError
from core.sweeps.storage import ATTR, STOP, OpenStorage

_TASK_OF_OBJECTIVE = {"val_accuracy": "classification", "r2": "regression"}


def check_task(space: Space, task: str) -> None:
    """Refuse an objective the dataset's task cannot give (accuracy of a regression)."""
    need = _TASK_OF_OBJECTIVE.get(space.objective)
    if need is not None and task != need:
        raise SpaceError(f"objective {space.objective} needs a {need} dataset; this one is "
                         f"{task}")


def sampler_for(space: Space, seed: int) -> optuna.samplers.BaseSampler:
    """The space's sampler, seeded."""
    if space.sampler == "grid":
        return optuna.samplers.GridSampler(space.grid(), seed=seed)
    if space.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def pruner_for(space: Space) -> optuna.pruners.BasePruner:
    """The space's pruner."""
    if space.pruner == "median":
        # Two finished trials are enough to compare against in a short sweep.
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)
    if space.pruner == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    return optuna.pruners.NopPruner()


def open_study(opened: OpenStorage, design: Design, plan: SweepPlan,
               clear_stop: bool = True) -> optuna.Study:
    """The study ``plan.study_name`` in ``opened``: made (holding the design, space and
    budget) or continued. A study made with another space, or another direction, is
    refused. ``clear_stop``: a resumed study forgets an earlier stop request."""
    space = plan.space
    try:
        study = optuna.create_study(storage=opened.rdb, study_name=plan.study_name,
                                    direction=space.direction,
                                    sampler=sampler_for(space, design.training.seed),
                                    pruner=pruner_for(space), load_if_exists=True)
    except ValueError as exc:  # e.g. the study exists with the other direction
        raise SpaceError(f"cannot use the study {plan.study_name!r}: {exc}") from None
    attrs = study.user_attrs.get(ATTR)
    if isinstance(attrs, dict) and attrs.get("space") != space.to_dict():
        raise SpaceError(f"the study {plan.study_name!r} was made with another search "
                         f"space; give the sweep another name to start a new study")
    study.set_user_attr(ATTR, {"version": 1, "design": design.to_dict(),
                               "space": space.to_dict(), "trials": plan.trials,
                               "time_limit": plan.time_limit})
    if clear_stop and study.user_attrs.get(STOP):
        study.set_user_attr(STOP, False)
    if study.trials:
        # A continued study: the seed moves on with the trials held, so the sampler does
        # not draw the first run's startup settings again (still the same on every replay).
        study.sampler = sampler_for(space, design.training.seed + len(study.trials))
    return study


def suggest(trial: optuna.Trial, space: Space) -> dict[str, Any]:
    """A trial's settings, drawn from the space (or fixed, for an enqueued retry)."""
    params: dict[str, Any] = {}
    for p in space.parameters:
        if p.kind == "choice":
            params[p.name] = trial.suggest_categorical(p.name, list(p.choices))
        elif p.kind == "int":
            params[p.name] = trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log)
        else:
            params[p.name] = trial.suggest_float(p.name, float(p.low), float(p.high),
                                                 log=p.log)
    return params


def run_sweep(design: Design, dataset: Dataset, plan: SweepPlan,
              on_trial: Callable[..., None] | None = None) -> list:
    """Run ``plan`` one trial at a time in this process (lessons' checks, tests); returns
    every ``TrialResult`` of this session. ``SpaceError`` for a space or storage that
    cannot be used."""
    from core.sweeps.driver import SweepDriver

    results: list = []

    def keep(result) -> None:
        results.append(result)
        if on_trial is not None:
            on_trial(result)

    driver = SweepDriver(design, dataset, plan, in_process=True, on_result=keep)
    try:
        driver.run()
    finally:
        driver.close()
    return results
