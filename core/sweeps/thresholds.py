"""Why a trial was pruned: the value the pruner compared the trial's against at the step
it stopped it, computed as Optuna's pruners compute it."""

from __future__ import annotations

import math

import numpy as np
import optuna
from optuna.trial import TrialState

from core.sweeps.space import Space


def prune_threshold(study: optuna.Study, number: int, step: int,
                    space: Space) -> float | None:
    """The threshold trial ``number``'s value at ``step`` was worse than: for the median
    pruner the median of the completed trials' values at that step (as
    ``MedianPruner`` takes it); None when the pruner has no single threshold."""
    if space.pruner != "median":
        return None
    values = [t.intermediate_values[step]
              for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
              if t.number != number and step in t.intermediate_values]
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return None
    return float(np.median(values))
