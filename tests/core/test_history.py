"""ThinnedSeries keeps memory bounded and rows evenly spaced."""

from __future__ import annotations

import numpy as np

from core.records.history import ThinnedSeries


def test_keeps_everything_below_capacity():
    s = ThinnedSeries(2, capacity=100)
    for i in range(100):
        s.append((i, i * 2.0))
    np.testing.assert_array_equal(s.array()[:, 0], np.arange(100))


def test_bounded_and_evenly_spaced_over_a_long_run():
    s = ThinnedSeries(2, capacity=1000)
    for i in range(1_000_000):
        s.append((i, float(i)))
    rows = s.array()
    assert len(rows) <= 1000
    assert rows[0, 0] == 0
    steps = np.diff(rows[:, 0])
    assert np.all(steps == steps[0])  # one stride, no gaps
    assert rows[-1, 0] > 1_000_000 - 2 * steps[0]
