"""ThinnedSeries keeps memory bounded and rows evenly spaced."""

from __future__ import annotations

import numpy as np
import pytest

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


@pytest.mark.parametrize("capacity", [2, 3, 7, 64, 1000])
def test_extend_keeps_the_rows_append_keeps(capacity):
    """One thinning rule: rows offered in batches of any size (empty ones too) are kept
    exactly as rows offered one at a time, before and after every halving."""
    rng = np.random.default_rng(capacity)
    one, many = ThinnedSeries(2, capacity), ThinnedSeries(2, capacity)
    i = 0
    while i < 20_000:
        k = int(rng.choice([0, 1, 2, 5, 37, 1000, 4 * capacity + 1]))
        rows = np.column_stack([np.arange(i, i + k), np.arange(i, i + k) * 0.5])
        for row in rows:
            one.append(row)
        many.extend(rows)
        np.testing.assert_array_equal(many.array(), one.array())
        assert many.stride == one.stride
        i += k
    kept = one.array()[:, 0]
    assert len(kept) <= capacity and np.all(kept % one.stride == 0)
    assert kept[-1] > i - 1 - one.stride  # the newest row on the stride is kept


def test_extend_thins_a_batch_larger_than_the_capacity():
    s = ThinnedSeries(1, capacity=10)
    s.extend(np.arange(1000.0))
    np.testing.assert_array_equal(s.array()[:, 0], np.arange(0, 1000, 128))
