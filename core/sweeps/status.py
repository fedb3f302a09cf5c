"""A sweep as the views draw it: plain frozen data, copied out of the driver (or read
from a study others run), so a window reads it on its own thread without locks."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.sweeps.space import Parameter

FINISHED = ("complete", "pruned", "fail")


@dataclass(frozen=True)
class TrialRow:
    """One trial of the study: Optuna's number, its settings, ``state`` (``waiting``,
    ``running``, ``complete``, ``pruned``, ``fail``), ``value`` (the last reported
    objective; NaN if none), seconds (so far while running), each reported ``(epoch,
    objective)``, and for a pruned trial the epoch and the pruner's threshold there."""

    number: int
    params: dict[str, Any]
    state: str
    value: float
    seconds: float
    values: tuple[tuple[int, float], ...] = ()
    pruned_step: int | None = None
    threshold: float | None = None
    worker: str = ""


@dataclass(frozen=True)
class LiveTrial:
    """A trial this driver is training now: ``loss`` (n, 2) [step, batch loss] and
    ``grads`` (m, 1 + layers) [step, gradient norm per layer], thinned and bounded."""

    number: int
    params: dict[str, Any]
    layer_names: tuple[str, ...]
    loss: np.ndarray
    grads: np.ndarray


@dataclass(frozen=True)
class SweepStatus:
    """Everything a view shows of a sweep at one moment. ``trials`` holds every trial of
    the study by number (other machines' included); ``live`` the curves of this driver's
    running trials; ``importances`` each parameter's share ({} until enough trials have
    finished); ``state`` is ``starting``, ``running``, ``stopping``, ``finished`` or
    ``failed`` (``message`` then says why)."""

    study_name: str
    storage: str
    objective: str
    direction: str
    parameters: tuple[Parameter, ...]
    trials: tuple[TrialRow, ...] = ()
    live: tuple[LiveTrial, ...] = ()
    importances: dict[str, float] = field(default_factory=dict)
    budget: int | None = None
    time_limit: float | None = None
    elapsed: float = 0.0
    state: str = "starting"
    message: str = ""

    def _better(self, a: float, b: float) -> bool:
        return a < b if self.direction == "minimize" else a > b

    @property
    def best(self) -> TrialRow | None:
        """The complete trial with the best value (None before one completes)."""
        best = None
        for row in self.trials:
            if row.state == "complete" and math.isfinite(row.value) and (
                    best is None or self._better(row.value, best.value)):
                best = row
        return best

    def best_so_far(self) -> list[tuple[int, float]]:
        """(trial number, best complete value up to and including it), for each complete
        trial in number order."""
        out: list[tuple[int, float]] = []
        best = math.nan
        for row in self.trials:
            if row.state != "complete" or not math.isfinite(row.value):
                continue
            if math.isnan(best) or self._better(row.value, best):
                best = row.value
            out.append((row.number, best))
        return out

    def finished_count(self) -> int:
        """Trials complete, pruned or failed."""
        return sum(row.state in FINISHED for row in self.trials)
