"""The sweep driver: one process asks an Optuna study for settings, trains each trial
with the one run loop (``core.training.session.run_session``) and tells the study the
objective.

The study lives in an Optuna journal file (``JournalFileBackend``), so running the same
storage and study name again continues it: finished trials are kept, not repeated. Each
epoch's objective is reported to the trial, so a pruner can stop a hopeless trial early.
Every trial is recorded as a run (``RunRecorder``), named ``Sweep NAME #3: lr 0.01``.
Optuna is imported only here and in this package.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from core.design.spec import Design
from core.records.record import RunRecord
from core.records.recorder import RunRecorder
from core.records.snapshots import EpochSnapshot, Snapshot
from core.sweeps.space import Space, SpaceError, apply, params_text
from core.training.session import run_session
from core.training.trainer import DatasetLike, Trainer, TrainingControl

_TASK_OF_OBJECTIVE = {"val_accuracy": "classification", "r2": "regression"}


@dataclass(frozen=True)
class TrialResult:
    """One finished trial: Optuna's number, settings, objective (NaN when pruned or
    failed), state (``complete``, ``pruned``, ``fail``), seconds, and its run record."""

    number: int
    params: dict[str, Any]
    value: float
    state: str
    seconds: float
    record: RunRecord | None = field(default=None, repr=False)


def _sampler(space: Space, seed: int) -> optuna.samplers.BaseSampler:
    if space.sampler == "grid":
        return optuna.samplers.GridSampler(space.grid(), seed=seed)
    if space.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def _pruner(space: Space) -> optuna.pruners.BasePruner:
    if space.pruner == "median":
        # Two finished trials are enough to compare against in a short sweep.
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)
    if space.pruner == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    return optuna.pruners.NopPruner()


def open_study(storage_path: str | Path, study_name: str, space: Space,
               seed: int) -> optuna.Study:
    """The study ``study_name`` in the journal file ``storage_path`` (created, or loaded
    to continue); ``SpaceError`` when the file cannot be used."""
    path = Path(storage_path)
    if path.is_dir():
        raise SpaceError(f"the storage {path} is a folder; give a file path such as "
                         f"{path / 'study.journal'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        storage = JournalStorage(JournalFileBackend(str(path)))
        study = optuna.create_study(storage=storage, study_name=study_name,
                                    direction=space.direction, sampler=_sampler(space, seed),
                                    pruner=_pruner(space), load_if_exists=True)
    except OSError as exc:
        raise SpaceError(f"cannot use the storage {path}: {exc.strerror or exc}") from None
    except ValueError as exc:  # e.g. the study exists with the other direction
        raise SpaceError(f"cannot use the study {study_name!r} in {path}: {exc}") from None
    if study.trials:
        # A resumed study: the seed moves on with the trials held, so the sampler does not
        # draw the first run's startup settings again (still the same on every replay).
        study.sampler = _sampler(space, seed + len(study.trials))
    return study


def _suggest(trial: optuna.Trial, space: Space) -> dict[str, Any]:
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


class _Reporter:
    """A run consumer: reports each epoch's objective to the trial and stops the run
    (through ``control``) when the pruner says so."""

    def __init__(self, trial: optuna.Trial, objective: str, control: TrainingControl) -> None:
        self.trial, self.objective, self.control = trial, objective, control
        self.value = math.nan
        self.pruned = False

    def add(self, snap: Snapshot) -> None:
        if not isinstance(snap, EpochSnapshot) or self.pruned:
            return
        # Without a validation split the training set's numbers stand in.
        if self.objective == "val_loss":
            value = snap.val_loss if not math.isnan(snap.val_loss) else snap.train_loss
        else:
            value = snap.val_metric if not math.isnan(snap.val_metric) else snap.train_metric
        if not math.isfinite(value):
            return
        self.value = value
        self.trial.report(value, snap.epoch)
        if self.trial.should_prune():
            self.pruned = True
            self.control.stop()


def run_sweep(design: Design, dataset: DatasetLike, space: Space, trials: int,
              storage_path: str | Path, study_name: str,
              on_trial: Callable[[TrialResult], None] | None = None) -> optuna.Study:
    """Run trials until the study holds ``trials`` finished ones (complete, pruned or
    failed; a resumed study counts those it has). Each trial trains ``design`` with its
    settings applied on ``dataset``; ``on_trial`` gets each result as it ends. Returns
    the study. ``SpaceError`` for a space that does not fit the task or the storage."""
    task = _TASK_OF_OBJECTIVE.get(space.objective)
    if task is not None and dataset.task != task:
        raise SpaceError(f"objective {space.objective} needs a {task} dataset; this one is "
                         f"{dataset.task}")
    space.check_budget(trials)
    study = open_study(storage_path, study_name, space, design.training.seed)
    done = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    while len(study.get_trials(deepcopy=False, states=done)) < trials:
        result = _run_trial(study, design, dataset, space, study_name)
        if on_trial is not None:
            on_trial(result)
    return study


def _run_trial(study: optuna.Study, design: Design, dataset: DatasetLike, space: Space,
               study_name: str) -> TrialResult:
    trial = study.ask()
    params = _suggest(trial, space)
    trial_design = apply(design, params)
    control = TrainingControl()
    reporter = _Reporter(trial, space.objective, control)
    t0, started = time.perf_counter(), datetime.now()
    try:
        trainer = Trainer(trial_design, dataset)
    except Exception:
        study.tell(trial, state=TrialState.FAIL)
        raise
    recorder = RunRecorder(trainer.layer_names)
    end = run_session(trainer, recorder, reporter, control=control)
    seconds = time.perf_counter() - t0
    name = f"Sweep {study_name} #{trial.number}: {params_text(params)}"
    record = recorder.finish(end, trial_design, started, seconds, name=name)
    if reporter.pruned:
        study.tell(trial, state=TrialState.PRUNED)
        state, value = "pruned", reporter.value
    elif end.reason == "diverged" or math.isnan(reporter.value):
        study.tell(trial, state=TrialState.FAIL)
        state, value = "fail", math.nan
    else:
        study.tell(trial, reporter.value)
        state, value = "complete", reporter.value
    return TrialResult(trial.number, params, value, state, seconds, record)
