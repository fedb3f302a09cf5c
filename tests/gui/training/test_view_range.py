"""The live plots' view follows the data in jumps, not on every frame."""

from __future__ import annotations

import numpy as np

from core.training.progress import ProgressBatch
from gui.training.plots import TrainingPlots
from gui.training.view_range import X_HEADROOM, follow_range


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
