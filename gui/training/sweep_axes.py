"""Where a sweep's values go on the plots' axes: a parameter's value as an x position
(log where its range is log, the choice's index for a choice), and every axis of the
parallel-coordinates plot normalised to 0..1. Plain Python and NumPy, no Qt."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from core.sweeps.space import Parameter
from core.sweeps.status import TrialRow


def is_log(p: Parameter) -> bool:
    """Whether ``p`` is drawn on a log axis (a log range of positive numbers)."""
    return p.kind != "choice" and p.log and p.low is not None and p.low > 0


def choice_index(p: Parameter, value: Any) -> float:
    """The position of choice ``value`` among ``p.choices`` (NaN for one not listed)."""
    for i, c in enumerate(p.choices):
        if c == value and type(c) is type(value):
            return float(i)
    return math.nan


def position(p: Parameter, value: Any) -> float:
    """``value`` as an x coordinate: the choice's index for a choice, else the number
    (the plot's log mode takes its log)."""
    if p.kind == "choice":
        return choice_index(p, value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def unit(p: Parameter, value: Any) -> float:
    """``value`` on 0..1 across ``p``'s range (log spaced where the range is log; choices
    spread evenly); NaN when it cannot be placed."""
    if p.kind == "choice":
        n = len(p.choices)
        i = choice_index(p, value)
        return 0.5 if n == 1 and not math.isnan(i) else i / (n - 1)
    x = position(p, value)
    lo, hi = float(p.low), float(p.high)
    if is_log(p):
        if not x > 0:
            return math.nan
        x, lo, hi = math.log10(x), math.log10(lo), math.log10(hi)
    return (x - lo) / (hi - lo) if hi > lo else 0.5


def unit_objective(values: np.ndarray, direction: str
                   ) -> tuple[np.ndarray, float, float]:
    """Objective ``values`` (n,) on 0..1 across their ``shown_range`` (outliers at its
    worse end), and the range's ends (NaN stays NaN; all equal: 0.5)."""
    lo, hi = shown_range(values, direction)
    if math.isnan(lo):
        return np.full(values.shape, np.nan), lo, hi
    if hi <= lo:
        return np.where(np.isfinite(values), 0.5, np.nan), lo, hi
    return np.clip((values - lo) / (hi - lo), 0.0, 1.0), lo, hi


def range_ends(p: Parameter) -> tuple[str, str]:
    """The words at a parameter axis's bottom and top: its range's ends, or its first
    and last choice."""
    if p.kind == "choice":
        return str(p.choices[0]), str(p.choices[-1])
    return f"{p.low:g}", f"{p.high:g}"


def drawn_trials(trials: tuple[TrialRow, ...]) -> list[TrialRow]:
    """The trials the plots draw: complete and pruned ones with a finite value (a pruned
    one at its last reported value), by number; failed and unfinished ones are left out."""
    return sorted((t for t in trials if t.state in ("complete", "pruned")
                   and math.isfinite(t.value)), key=lambda t: t.number)


def goodness(values: np.ndarray, direction: str) -> np.ndarray:
    """Each of ``values`` (n,) as 0 (the worst of them) .. 1 (the best)."""
    u, _lo, _hi = unit_objective(np.asarray(values, dtype=float), direction)
    return u if direction == "maximize" else 1.0 - u


def shown_range(values: np.ndarray, direction: str) -> tuple[float, float]:
    """The objective range the plots show: the finite ``values``' own, but an outlier on
    the worse side (beyond three interquartile ranges of the quartiles) does not stretch
    it, so one diverged trial does not squash the rest into a line. The better side is
    never cut: the best trial, however far ahead, is what a sweep is for. NaN, NaN when
    none is finite; ``direction``: ``minimize`` or ``maximize``."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, math.nan
    q1, q3 = np.percentile(v, [25, 75])
    spread = max(q3 - q1, 1e-12 * max(abs(q3), 1.0))
    lo, hi = float(v.min()), float(v.max())
    if direction == "maximize":
        lo = max(lo, q1 - 3 * spread)
    else:
        hi = min(hi, q3 + 3 * spread)
    return lo, hi
