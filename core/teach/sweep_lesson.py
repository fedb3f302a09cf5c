"""Sweep lessons ("Learning rate, measured"): one setting of one design swept over a
grid, each trial's final training loss against the value, cut into the article's three
regions.

A sweep lesson's row (``core.teach.lesson_table.SweepRow``) names the setting and the
values. :func:`sweep_space` is its search space (a grid, so every value is tried once, in
a deterministic order). A trial is measured as a :class:`SweepPoint`: the value, the
training loss after the last epoch, and whether it diverged (a diverged or failed trial
counts as the worst). :func:`regions` cuts the values into *too low* (left of the good
band), *good* (the contiguous values around the best whose loss is within
``GOOD_BAND`` times the lowest) and *too high* (right of it: the loss oscillates or
blows up). :func:`check_sweep` says whether the points show the U, in the words of the
other lessons' checks (``core.teach.checks.Verdict``). Points come from the runs a sweep
recorded (:func:`sweep_points`, what the window has) or from a headless sweep
(:func:`run_lesson_sweep`, what the tests run).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from core.design.spec import Design
from core.records.record import RunRecord
from core.sweeps.space import Space, apply, parse_space
from core.teach.checks import Verdict
from core.teach.lessons import Lesson, with_seed

__all__ = ["GOOD_BAND", "WORSE", "Regions", "SweepPoint", "check_sweep", "regions",
           "run_lesson_sweep", "sweep_design", "sweep_points", "sweep_space"]

GOOD_BAND = 3.0  # a value is "good" when its final loss is within 3x the lowest
WORSE = 3.0      # both ends must end at least 3x worse than the best to show the U


@dataclass(frozen=True)
class SweepPoint:
    """One trial: the swept ``value``, its training loss after the last epoch (``inf``
    when it diverged or failed) and whether it diverged."""

    value: float
    loss: float
    diverged: bool = False

    @property
    def worst(self) -> bool:
        return self.diverged or not math.isfinite(self.loss)


@dataclass(frozen=True)
class Regions:
    """The swept values cut into the three regions (each ascending) and the best point."""

    low: tuple[float, ...]
    good: tuple[float, ...]
    high: tuple[float, ...]
    best: SweepPoint


def sweep_design(lesson: Lesson) -> Design:
    """The design the lesson sweeps: its one variant's."""
    return lesson.variants[0].design


def sweep_space(lesson: Lesson, design: Design | None = None) -> Space:
    """The lesson's search space over ``design`` (default: the lesson's): a grid over its
    values, minimising the validation loss, no pruner (every value trains to the end)."""
    sweep = lesson.sweep
    assert sweep is not None, lesson.key
    return parse_space({"parameters": {sweep.parameter: {"choices": list(sweep.values)}},
                        "objective": "val_loss", "sampler": "grid", "pruner": "none"},
                       design or sweep_design(lesson))


def _swept(lesson: Lesson, design: Design) -> float | None:
    """The swept value if ``design`` is the lesson's design with only that setting
    changed to one of the lesson's values (names aside), else None."""
    sweep = lesson.sweep
    assert sweep is not None
    base = sweep_design(lesson)
    field = sweep.parameter.removeprefix("training.")
    value = getattr(design.training, field, None)
    if value not in sweep.values:
        return None
    same = apply(replace(base, name=""), {sweep.parameter: value})
    return float(value) if replace(design, name="") == same else None


def _point(value: float, record: RunRecord | None) -> SweepPoint:
    if record is None or record.end_reason == "diverged" or not record.history:
        return SweepPoint(value, math.inf, True)
    return SweepPoint(value, record.final_train_loss)


def sweep_points(lesson: Lesson, runs: Iterable[RunRecord],
                 failed: Iterable[float] = ()) -> list[SweepPoint]:
    """The lesson's points from recorded runs, by value: the latest run of each value
    (unfinished ones aside), and a diverged point for each value in ``failed`` (trials
    that failed leave no run) that has no run."""
    latest: dict[float, RunRecord] = {}
    for record in runs:
        value = _swept(lesson, record.design)
        if value is not None and record.end_reason != "unfinished":
            latest[value] = record
    points = {v: _point(v, r) for v, r in latest.items()}
    for value in failed:
        points.setdefault(float(value), SweepPoint(float(value), math.inf, True))
    return [points[v] for v in sorted(points)]


def regions(points: Sequence[SweepPoint]) -> Regions | None:
    """The three regions of ``points`` (any order); None when no point has a finite
    loss."""
    ordered = sorted(points, key=lambda p: p.value)
    finite = [i for i, p in enumerate(ordered) if not p.worst]
    if not finite:
        return None
    best_i = min(finite, key=lambda i: ordered[i].loss)
    bound = GOOD_BAND * ordered[best_i].loss

    def good(i: int) -> bool:
        return not ordered[i].worst and ordered[i].loss <= bound

    lo = best_i
    while lo > 0 and good(lo - 1):
        lo -= 1
    hi = best_i
    while hi < len(ordered) - 1 and good(hi + 1):
        hi += 1
    values = tuple(p.value for p in ordered)
    return Regions(values[:lo], values[lo:hi + 1], values[hi + 1:], ordered[best_i])


def _num(x: float) -> str:
    return f"{x:.2g}" if abs(x) < 0.01 else f"{x:.2f}"


def _loss(p: SweepPoint) -> str:
    return "diverged" if p.worst else _num(p.loss)


def check_sweep(lesson: Lesson, points: Sequence[SweepPoint]) -> Verdict:
    """Whether ``points`` show the U: the best value strictly inside the swept range, and
    the smallest and the largest value each ending at least ``WORSE`` times worse (a
    diverged trial is the worst). Not measured (None) until every value has a point."""
    sweep = lesson.sweep
    assert sweep is not None
    have = {p.value for p in points}
    if not all(v in have for v in sweep.values):
        done = sum(v in have for v in sweep.values)
        return Verdict(None, f"Run the sweep to measure it ({done} of {len(sweep.values)} "
                             "learning rates trained so far).")
    cut = regions(points)
    ordered = sorted(points, key=lambda p: p.value)
    first, last = ordered[0], ordered[-1]
    if cut is None:
        return Verdict(False, "Every trial diverged: the sweep shows no good rate.")
    best = cut.best
    inside = first.value < best.value < last.value

    def worse(p: SweepPoint) -> bool:
        return p.worst or p.loss >= WORSE * best.loss

    def ratio(p: SweepPoint) -> str:
        return "diverged" if p.worst else f"{_num(p.loss)} ({p.loss / best.loss:.0f}× the best)"

    measured = (f"Final training loss lowest at learning rate {best.value:g} "
                f"({_num(best.loss)}); {first.value:g} ended at {ratio(first)}, "
                f"{last.value:g} {ratio(last)}")
    good = f"good from {cut.good[0]:g} to {cut.good[-1]:g}"
    if inside and worse(first) and worse(last):
        return Verdict(True, f"{measured}: too low crawls, too high overshoots; {good}")
    return Verdict(False, f"{measured}: these trials do not show a U")


def run_lesson_sweep(lesson: Lesson, storage: str, seed: int | None = None
                     ) -> list[SweepPoint]:
    """Run the lesson's sweep headless, every trial in this process
    (``core.sweeps.study.run_sweep``), with ``seed`` for the design and its data
    (``core.teach.lessons.with_seed``); the study is kept in ``storage``. Returns the
    points of every trial, by value."""
    from core.datasets import DatasetSpec, load_dataset
    from core.sweeps.plan import SweepPlan
    from core.sweeps.study import run_sweep

    sweep = lesson.sweep
    assert sweep is not None
    design = with_seed(sweep_design(lesson), seed)
    data = load_dataset(DatasetSpec.from_dict(dict(design.dataset or {})))
    plan = SweepPlan(sweep_space(lesson, design), trials=len(sweep.values), workers=1,
                     study_name=sweep.study, storage=storage)
    points = {}
    for r in run_sweep(design, data, plan):
        value = float(r.params[sweep.parameter])
        points[value] = _point(value, r.record)  # a failed trial: diverged, the worst
    return [points[v] for v in sorted(points)]
