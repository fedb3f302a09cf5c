"""Why a trial was pruned: the value the study's pruner compared the trial against.

Optuna's pruners answer only "prune or not"; the sweep views say why ("#7 pruned at
epoch 3: val_loss 0.92 > median 0.41"). ``prune_threshold`` recomputes the pruner's
comparison from the study's trials, as the pruner does:

- the median pruner (``MedianPruner``, a ``PercentilePruner`` at 50 %) prunes a trial whose
  best reported value so far is worse than the percentile of the *completed* trials'
  values reported at the same step (``optuna.pruners._percentile``);
- successive halving promotes a trial from a rung only when its value at the rung's step
  is among the best ``1 / reduction_factor`` of the values that reached that rung; the
  threshold is the worst value that is still promoted (the value to beat).

Trials that finished after the pruner decided (``at``, or the pruned trial's end) are left
out, so the answer stays the comparison that was made however late it is asked. Optuna
is imported only in this package.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from core.sweeps.space import Space

_RUNG_KEY = "completed_rung_{}"  # the system attribute SuccessiveHalvingPruner sets per rung


def prune_threshold(study: optuna.Study, trial_number: int, step: int, space: Space,
                    at: datetime | None = None) -> float | None:
    """The value trial ``trial_number`` had to beat at ``step`` not to be pruned, under
    ``space.pruner`` ("median" or "halving"); None when there is none (no pruner, too few
    trials to compare with, or the trial was pruned for a NaN value). ``at`` is when the
    pruner decided (``datetime.now()`` then, as Optuna stamps trials); without it, the
    trial's end, or now while it has not ended."""
    if space.pruner not in ("median", "halving"):
        return None
    trials = study.get_trials(deepcopy=False)
    trial = next((t for t in trials if t.number == trial_number), None)
    if trial is None:
        return None
    moment = at if at is not None else trial.datetime_complete
    others = [t for t in trials if t.number != trial_number and _finished_before(t, moment)]
    if space.pruner == "median":
        return _percentile_threshold(study, others, step)
    return _halving_threshold(study, trial, others)


def _finished_before(other: FrozenTrial, moment: datetime | None) -> bool:
    """Whether ``other`` could have been compared at ``moment`` (None: now): trials that
    finished, or started, after the pruner decided were not there when it did."""
    if moment is None:
        return True
    if other.datetime_complete is not None:
        return other.datetime_complete <= moment
    return other.datetime_start is not None and other.datetime_start <= moment


def _percentile_threshold(study: optuna.Study, others: list[FrozenTrial],
                          step: int) -> float | None:
    pruner = study.pruner
    # The study's own settings where it has a percentile pruner; else MedianPruner's.
    percentile = float(getattr(pruner, "_percentile", 50.0))
    n_min = int(getattr(pruner, "_n_min_trials", 1))
    values = [t.intermediate_values[step] for t in others
              if t.state == TrialState.COMPLETE and step in t.intermediate_values]
    if not values or len(values) < n_min:
        return None
    if study.direction == StudyDirection.MAXIMIZE:
        percentile = 100.0 - percentile
    with np.errstate(all="ignore"):
        p = float(np.nanpercentile(np.asarray(values, dtype=float), percentile))
    return None if math.isnan(p) else p


def _halving_threshold(study: optuna.Study, trial: FrozenTrial,
                       others: list[FrozenTrial]) -> float | None:
    # The rung the trial was pruned at is its last completed one (the pruner records the
    # trial's value there before it compares).
    rung = -1
    while _RUNG_KEY.format(rung + 1) in trial.system_attrs:
        rung += 1
    if rung < 0:
        return None
    key = _RUNG_KEY.format(rung)
    value = float(trial.system_attrs[key])
    if math.isnan(value):
        return None
    competing = sorted([float(t.system_attrs[key]) for t in others if key in t.system_attrs]
                       + [value])
    factor = int(getattr(study.pruner, "_reduction_factor", 4))
    # Optuna's _is_trial_promotable_to_next_rung: the best len // factor values go on
    # (at least one).
    index = max(len(competing) // factor - 1, 0)
    if study.direction == StudyDirection.MAXIMIZE:
        return competing[-(index + 1)]
    return competing[index]
