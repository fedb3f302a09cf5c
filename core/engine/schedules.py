"""Learning-rate schedules keyed by name: the rate to use in a given epoch.

A schedule is a pure function of the base rate, the epoch (0-based, fractional within an
epoch is not used) and the run's settings, so a run restarted from a snapshot gets the
same rates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol


class _Rate(Protocol):
    def __call__(
        self, base: float, epoch: int, epochs: int, step_size: int, gamma: float
    ) -> float: ...


@dataclass(frozen=True)
class ScheduleInfo:
    """One schedule: ``rate(base, epoch, epochs, step_size, gamma) -> learning rate``."""

    name: str
    label: str
    description: str
    rate: _Rate
    settings: tuple[str, ...] = ()  # the TrainConfig fields this schedule reads


SCHEDULES: dict[str, ScheduleInfo] = {
    s.name: s
    for s in (
        ScheduleInfo(
            "constant", "Constant", "The same learning rate for the whole run.",
            lambda base, epoch, epochs, step_size, gamma: base,
        ),
        ScheduleInfo(
            "step", "Step decay",
            "Multiply the rate by gamma every step_size epochs.",
            lambda base, epoch, epochs, step_size, gamma: base
            * gamma ** (epoch // max(step_size, 1)),
            ("step_size", "gamma"),
        ),
        ScheduleInfo(
            "exponential", "Exponential decay",
            "Multiply the rate by gamma after every epoch.",
            lambda base, epoch, epochs, step_size, gamma: base * gamma**epoch,
            ("gamma",),
        ),
        ScheduleInfo(
            "cosine", "Cosine annealing",
            "Lower the rate along half a cosine from the base rate to zero by the last epoch.",
            lambda base, epoch, epochs, step_size, gamma: base
            * 0.5
            * (1.0 + math.cos(math.pi * min(epoch, epochs) / max(epochs, 1))),
        ),
    )
}
