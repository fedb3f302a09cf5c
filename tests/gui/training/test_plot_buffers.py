"""The decimating history buffer: bounded size and memory over long histories, the first
and last x kept, spikes (global minimum and maximum) surviving every merge, x in order,
results independent of how the rows were chunked, and bucket means."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gui.training.plot_buffers import DecimatingBuffer


def _fill(buf: DecimatingBuffer, x: np.ndarray, y: np.ndarray, chunk: int) -> None:
    for i in range(0, len(x), chunk):
        buf.append(x[i:i + chunk], y[i:i + chunk])


def _noisy(n: int, columns: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.arange(1, n + 1, dtype=np.float64)
    y = rng.normal(size=(n, columns))
    y[n // 3, 0] = 50.0  # one spike up in the first column
    y[(2 * n) // 3, columns - 1] = -60.0  # and one down in the last
    return x, y


@pytest.mark.parametrize(("total", "chunk"), [(100_000, 100), (100_000, 1), (1_000_000, 1000),
                                              (1_000_000, 37)])
def test_long_histories_stay_bounded_and_keep_ends_and_spikes(total, chunk):
    buf = DecimatingBuffer(capacity=2000, columns=3)
    nbytes = buf.nbytes
    x, y = _noisy(total, 3)
    _fill(buf, x, y, chunk)
    xs, ys = buf.xy()
    assert buf.appended == total
    assert len(xs) == len(ys) == len(buf) <= 2000
    assert buf.nbytes == nbytes  # memory flat
    assert xs[0] == 1.0 and xs[-1] == float(total)
    assert np.all(np.diff(xs) > 0)  # strictly increasing x
    np.testing.assert_array_equal(ys.max(axis=0), y.max(axis=0))
    np.testing.assert_array_equal(ys.min(axis=0), y.min(axis=0))
    assert ys[:, 0].max() == 50.0 and ys[:, 2].min() == -60.0


def test_a_short_history_is_returned_as_appended():
    buf = DecimatingBuffer(capacity=100, columns=2)
    x, y = _noisy(60, 2)
    _fill(buf, x, y, 7)
    xs, ys = buf.xy()
    np.testing.assert_array_equal(xs, x)
    np.testing.assert_array_equal(ys, y)
    assert buf.stride == 1


def test_one_column_accepts_flat_y_and_scalars():
    buf = DecimatingBuffer(capacity=16, columns=1)
    buf.append(np.arange(5.0), np.arange(5.0) * 2)
    buf.append(5.0, 10.0)
    xs, ys = buf.xy()
    assert ys.shape == (6, 1)
    np.testing.assert_array_equal(ys[:, 0], xs * 2)
    np.testing.assert_array_equal(buf.last(), [10.0])


@pytest.mark.parametrize("max_points", [8, 500, 999, 1000])
def test_max_points_gives_a_fixed_count_whatever_the_length(max_points):
    counts = []
    for total in (30_000, 300_000):
        buf = DecimatingBuffer(capacity=4000, columns=2)
        x, y = _noisy(total, 2)
        _fill(buf, x, y, 1000)
        xs, ys = buf.xy(max_points)
        assert len(xs) <= max_points
        assert xs[0] == 1.0 and xs[-1] == float(total)
        assert np.all(np.diff(xs) >= 0)
        np.testing.assert_array_equal(ys.max(axis=0), y.max(axis=0))
        np.testing.assert_array_equal(ys.min(axis=0), y.min(axis=0))
        counts.append(len(xs))
    assert max(counts) - min(counts) <= 2  # only the pending bucket's rows may differ


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 700), min_size=1, max_size=60))
def test_chunking_does_not_change_the_result(sizes):
    total = sum(sizes)
    x, y = _noisy(total, 2, seed=total)
    whole = DecimatingBuffer(capacity=64, columns=2)
    whole.append(x, y)
    parts = DecimatingBuffer(capacity=64, columns=2)
    start = 0
    for n in sizes:
        parts.append(x[start:start + n], y[start:start + n])
        start += n
    for a, b in zip(whole.xy(), parts.xy(), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(whole.mean_xy(20), parts.mean_xy(20), strict=True):
        np.testing.assert_allclose(a, b)
    assert len(parts) <= 64


def test_bucket_means_follow_the_data_and_skip_nan():
    buf = DecimatingBuffer(capacity=200, columns=2)
    x = np.arange(100_000, dtype=np.float64)
    y = np.column_stack([np.full_like(x, 3.0), x])
    y[10, 0] = np.nan
    _fill(buf, x, y, 333)
    xs, means = buf.mean_xy(50)
    assert len(xs) <= 50
    np.testing.assert_allclose(means[:, 0], 3.0)  # the NaN is ignored
    np.testing.assert_allclose(means[:, 1], xs, rtol=1e-3)  # mean of a line: its middle
    assert np.all(np.diff(xs) > 0)


def test_an_all_nan_column_stays_nan_without_warnings():
    buf = DecimatingBuffer(capacity=16, columns=2)
    x = np.arange(1000.0)
    y = np.column_stack([x, np.full_like(x, np.nan)])
    _fill(buf, x, y, 10)  # RuntimeWarnings are errors in this suite
    xs, ys = buf.xy(10)
    _, means = buf.mean_xy(10)
    assert np.all(np.isnan(ys[:, 1])) and np.all(np.isnan(means[:, 1]))
    assert ys[:, 0].max() == 999.0


def test_clear_forgets_everything():
    buf = DecimatingBuffer(capacity=16, columns=1)
    buf.append(np.arange(1000.0), np.arange(1000.0))
    assert buf.stride > 1
    buf.clear()
    xs, ys = buf.xy()
    assert len(buf) == 0 and xs.size == 0 and ys.shape == (0, 1)
    assert buf.last() is None and buf.stride == 1 and buf.appended == 0


@pytest.mark.parametrize(("capacity", "columns"), [(4, 1), (16, 0)])
def test_bad_sizes_are_refused(capacity, columns):
    with pytest.raises(ValueError):
        DecimatingBuffer(capacity=capacity, columns=columns)
