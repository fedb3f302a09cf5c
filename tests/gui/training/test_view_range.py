"""The live plots' view follows the data in jumps, not on every frame, and never loses
a curve: finite bounds only, a diverged run's tail left out, off-scale values named."""

from __future__ import annotations

import numpy as np
import pytest

from core.training.progress import ProgressBatch
from gui.training.plots import TrainingPlots
from gui.training.view_range import (
    X_HEADROOM,
    blown_tail,
    blowup_cut,
    data_bounds,
    follow_range,
    off_scale,
)


def test_first_fit_leaves_headroom_to_the_right_and_margins_in_y():
    x0, x1, y0, y1 = follow_range((0.0, 100.0, 1.0, 3.0), None)
    assert x0 < 0.0 and x1 == 100.0 + X_HEADROOM * 100.0
    assert y0 < 1.0 and y1 > 3.0


def test_view_is_kept_while_data_stays_well_inside():
    view = follow_range((0.0, 100.0, 1.0, 3.0), None)
    assert follow_range((0.0, 110.0, 1.1, 3.0), view) is None


def test_view_jumps_when_data_leaves_it():
    view = follow_range((0.0, 100.0, 1.0, 3.0), None)
    assert follow_range((0.0, view[1] + 1.0, 1.0, 3.0), view) is not None
    assert follow_range((0.0, 100.0, 1.0, view[3] + 0.5), view) is not None


def test_view_refits_when_data_shrinks_to_a_small_part_of_it():
    view = follow_range((0.0, 100.0, 0.0, 10.0), None)
    new = follow_range((0.0, 100.0, 4.0, 5.0), view)
    assert new is not None and new[3] - new[2] < 2.0


def test_flat_and_single_point_data_get_a_nonempty_range():
    for data in ((5.0, 5.0, 2.0, 2.0), (0.0, 0.0, 0.0, 0.0)):
        x0, x1, y0, y1 = follow_range(data, None)
        assert x1 > x0 and y1 > y0


def _batch(first: int, n: int, loss: float) -> ProgressBatch:
    steps = np.arange(first, first + n, dtype=np.float64)
    z = np.zeros(n)
    norms = np.ones((n, 1))
    return ProgressBatch(("layers.0",), steps, z, np.full(n, loss), z, z, steps, norms,
                         norms, norms * 1e-3)


def test_loss_plot_range_holds_between_jumps(qtbot):
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.start_run(("layers.0",), ("layers.0",), "regression", None)
    plots.add_batch(_batch(1, 100, 1.0))
    plots.redraw()
    first = plots.loss_plot.getViewBox().viewRange()
    assert first[0][1] > 100  # room to grow
    plots.add_batch(_batch(101, 5, 1.0))
    plots.redraw()
    assert plots.loss_plot.getViewBox().viewRange() == first
    plots.add_batch(_batch(106, 200, 1.0))  # far beyond the right edge
    plots.redraw()
    assert plots.loss_plot.getViewBox().viewRange()[0][1] >= 305


# --------------------------------------------------- bounds that never lose data


def test_data_bounds_count_finite_points_only():
    x = np.arange(5.0)
    y = np.array([1.0, np.inf, 2.0, np.nan, 3.0])
    assert data_bounds([(x, y)]) == (0.0, 4.0, 1.0, 3.0)
    assert data_bounds([(x, np.full(5, np.nan))]) is None


def test_data_bounds_take_y_only_left_of_the_limit():
    x = np.arange(10.0)
    y = np.r_[np.linspace(0.5, 0.2, 6), 1e6, 1e9, 1e12, 1e15]
    x0, x1, y0, y1 = data_bounds([(x, y)], x_limit=6.0)
    assert (x0, x1) == (0.0, 9.0)  # the whole run stays in view sideways
    assert y1 == pytest.approx(0.5) and y0 == pytest.approx(0.2)
    # Nothing left of the limit: the point at it.
    assert data_bounds([(x, y)], x_limit=0.0)[2:] == (0.5, 0.5)


def test_off_scale_names_values_outside_the_view():
    latest = {"val": (3.58, 3.58), "batch": (0.3, 0.3), "tiny": (-5.0, 1e-5),
              "nan": (np.nan, np.nan), "inf": (np.inf, np.inf)}
    assert off_scale(latest, 0.0, 1.0) == {"val": "↑", "tiny": "↓", "nan": "↑",
                                            "inf": "↑"}


def test_blowup_cut_uses_the_rule_and_a_diverged_end():
    healthy = np.linspace(0.7, 0.2, 100)
    assert blowup_cut(healthy) is None
    assert blowup_cut(healthy, ended_diverged=True) == 99  # the last point: no later one
    wild = np.r_[healthy, 1e6, 1e20]
    assert blowup_cut(wild) is None  # two steps are not the rule ...
    assert blowup_cut(wild, ended_diverged=True) == 100  # ... but the end says it was
    assert blowup_cut(np.r_[healthy, np.full(40, 1e5)]) == 100
    assert blowup_cut(np.array([])) is None


def test_blown_tail_leaves_the_view_upwards_without_huge_numbers():
    x = np.arange(6.0)
    y = np.array([0.7, 0.5, 0.4, 1e30, np.inf, np.nan])
    tx, ty = blown_tail(x, y, 3)
    assert list(tx) == [2.0, 3.0, 4.0, 5.0]  # joined to the last healthy point
    assert ty[0] == 0.4 and np.all(ty[1:] == 1000.0)  # 1000 x the healthy maximum (>= 1)
