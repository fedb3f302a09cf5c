"""Lesson "Learning rate, measured": a grid sweep of the learning rate from 1e-4 to 10,
run headless, shows the U the article describes, and its measure (points, regions,
check) says so.

Margins (measured over seeds 0-5, 100 epochs): the best rate is 0.1 on every seed with a
final training loss of 0.05-0.07; 1e-4 ends 6-10x higher (0.41-0.59, the loss barely
moved); 1, 3 and 10 diverge. The test asks for 4x at the small end, and a diverged or
4x worse large end, with the best strictly inside.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.records.record import RunRecord
from core.sweeps.space import apply
from core.teach.lessons import LESSONS, LessonVariant, run_variant
from core.teach.sweep_lesson import (
    GOOD_BAND,
    SweepPoint,
    check_sweep,
    regions,
    run_lesson_sweep,
    sweep_design,
    sweep_points,
    sweep_space,
)

LESSON = LESSONS["learning_rate_sweep"]


def test_the_lesson_sweeps_the_learning_rate_on_an_even_log_grid():
    values = np.array(LESSON.sweep.values)
    assert LESSON.sweep.parameter == "training.learning_rate"
    assert values[0] == pytest.approx(1e-4) and values[-1] == pytest.approx(10)
    assert 9 <= len(values) <= 13
    steps = np.diff(np.log10(values))
    assert np.all(steps > 0.4) and np.all(steps < 0.6)  # half a decade each
    space = sweep_space(LESSON)
    assert space.sampler == "grid" and space.pruner == "none"
    assert space.grid() == {"training.learning_rate": list(LESSON.sweep.values)}
    assert len(LESSON.variants) == 1


@pytest.mark.parametrize("seed", (0, 1, 2))
def test_the_sweep_shows_a_u(tmp_path, seed):
    points = run_lesson_sweep(LESSON, str(tmp_path / "lesson.sweeps.db"), seed=seed)
    assert [p.value for p in points] == sorted(LESSON.sweep.values)
    finite = [p for p in points if not p.worst]
    best = min(finite, key=lambda p: p.loss)
    first, last = points[0], points[-1]
    assert first.value < best.value < last.value
    assert not first.worst and first.loss > 4 * best.loss
    assert last.worst or last.loss > 4 * best.loss
    # The rates past the good region end worse, up to the ones that blow up.
    assert any(p.diverged for p in points if p.value > best.value)
    verdict = check_sweep(LESSON, points)
    assert verdict.shown is True, verdict.text
    cut = regions(points)
    assert cut.low and cut.good and cut.high
    assert cut.low[-1] < best.value < cut.high[0]
    assert first.value in cut.low and last.value in cut.high


def _points(losses: dict[float, float]) -> list[SweepPoint]:
    return [SweepPoint(v, loss, diverged=math.isinf(loss)) for v, loss in losses.items()]


def test_regions_cut_around_the_best_and_a_diverged_trial_is_the_worst():
    pts = _points({1e-3: 0.5, 1e-2: 0.2, 0.1: 0.06, 1.0: 0.1, 10.0: math.inf})
    cut = regions(pts)
    assert cut.best.value == 0.1
    assert cut.low == (1e-3, 1e-2) and cut.good == (0.1, 1.0) and cut.high == (10.0,)
    # The band is contiguous: a lucky low value beyond a diverged one is not "good".
    pts = _points({1e-3: 0.5, 0.1: 0.06, 1.0: math.inf, 10.0: 0.06 * GOOD_BAND})
    assert regions(pts).high == (1.0, 10.0)
    assert regions(_points({1.0: math.inf})) is None


def _all(losses: list[float]) -> list[SweepPoint]:
    return _points(dict(zip(LESSON.sweep.values, losses, strict=True)))


def test_the_check_needs_every_value_and_says_what_it_measured():
    some = _all([0.5] * 11)[:4]
    verdict = check_sweep(LESSON, some)
    assert verdict.shown is None and "4 of 11" in verdict.text
    u = [0.5, 0.5, 0.5, 0.4, 0.3, 0.1, 0.06, 0.1, math.inf, math.inf, math.inf]
    verdict = check_sweep(LESSON, _all(u))
    assert verdict.shown is True
    assert "0.1 (0.06)" in verdict.text and "10 diverged" in verdict.text
    # Best at the end of the range: no U.
    assert check_sweep(LESSON, _all([0.5 - 0.04 * i for i in range(11)])).shown is False
    # The small end barely worse than the best: not shown.
    flat = [0.1, 0.1, 0.1, 0.1, 0.1, 0.08, 0.06, 0.1, math.inf, math.inf, math.inf]
    assert check_sweep(LESSON, _all(flat)).shown is False
    assert check_sweep(LESSON, _all([math.inf] * 11)).shown is False


def _run(lr: float) -> RunRecord:
    design = apply(sweep_design(LESSON), {"training.learning_rate": lr})
    return run_variant(LessonVariant("x", design, "")).record


def test_points_come_from_the_runs_of_the_swept_design():
    runs = [_run(0.01), _run(0.1), _run(0.1), _run(10.0)]
    other = run_variant(LESSONS["learning_rate"].variant("good"), epochs=3).record
    points = sweep_points(LESSON, [*runs, other], failed=[3.0, 10.0])
    assert [p.value for p in points] == [0.01, 0.1, 3.0, 10.0]
    by_value = {p.value: p for p in points}
    assert by_value[0.1].loss == runs[2].final_train_loss  # the latest run of a value
    assert by_value[3.0].diverged  # a failed trial leaves no run: the worst
    assert by_value[10.0].diverged == (runs[3].end_reason == "diverged")
