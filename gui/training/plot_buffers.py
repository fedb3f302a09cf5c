"""Bounded, decimating history buffers for the live plots (pure NumPy, no Qt).

A run may record a million steps; a plot can only show about one point per pixel, and
pyqtgraph's redraw cost grows with the points handed to ``setData``. A
:class:`DecimatingBuffer` therefore keeps a fixed amount of memory whatever the history
length: raw rows are stored until the buffer is full, then neighbouring rows are merged
into *buckets* that remember the first and last x and, per column, the minimum, the
maximum and the sum (with a count) of the finite y. Every merge halves the row count and
doubles the stride (raw rows per bucket), so memory stays flat; because minima and maxima
survive every merge, a single spike in a million steps is still drawn.
:meth:`DecimatingBuffer.xy` hands out the extremes of every bucket, ready for
``setData``, and :meth:`DecimatingBuffer.mean_xy` their means (a smoother line for noisy
figures drawn many to a plot); with ``max_points`` both re-bucket on the fly to a fixed
point count, so the cost of a redraw does not depend on how long the run has been going.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DecimatingBuffer"]


class DecimatingBuffer:
    """A history of rows ``(x, y_0 .. y_{k-1})`` in bounded memory.

    Parameters
    ----------
    capacity : int
        Most rows :meth:`xy` returns (at least 8; rounded down to a multiple of 4).
    columns : int
        Number of y columns ``k``.

    Notes
    -----
    x should not decrease from one append to the next (steps, epochs). Buckets of
    ``stride`` >= 2 raw rows are emitted as two rows, ``(x_first, min y)`` and
    ``(x_last, max y)``, like pyqtgraph's "peak" downsampling; NaN values are ignored by
    the minimum and maximum unless a whole bucket is NaN.
    """

    def __init__(self, capacity: int = 2000, columns: int = 1) -> None:
        if capacity < 8:
            raise ValueError(f"capacity must be at least 8, got {capacity}")
        if columns < 1:
            raise ValueError(f"columns must be at least 1, got {columns}")
        self.capacity = capacity - capacity % 4
        self.columns = columns
        # Stride 1: one row per bucket, so ``capacity`` buckets fit. Stride >= 2: two rows
        # per bucket plus up to two rows of the pending (partial) bucket; an even limit
        # lets a pairwise merge leave no bucket behind.
        self._limit_merged = ((self.capacity - 2) // 2) & ~1
        self._x_lo = np.empty(self.capacity)
        self._x_hi = np.empty(self.capacity)
        self._y_min = np.empty((self.capacity, columns))
        self._y_max = np.empty((self.capacity, columns))
        self._y_sum = np.empty((self.capacity, columns))
        self._y_cnt = np.empty((self.capacity, columns))
        self.clear()

    # ------------------------------------------------------------------ state
    def clear(self) -> None:
        """Forget every row (the arrays are kept)."""
        self._n = 0  # committed buckets
        self._stride = 1
        self._appended = 0  # raw rows ever appended
        self._p_count = 0  # raw rows in the pending bucket
        self._p_x_lo = self._p_x_hi = 0.0
        self._p_min = np.empty(self.columns)
        self._p_max = np.empty(self.columns)
        self._p_sum = np.zeros(self.columns)
        self._p_cnt = np.zeros(self.columns)

    @property
    def stride(self) -> int:
        """Raw rows per committed bucket (1 until the first merge, then a power of 2)."""
        return self._stride

    @property
    def appended(self) -> int:
        """Raw rows appended since the last :meth:`clear`."""
        return self._appended

    @property
    def nbytes(self) -> int:
        """Memory held by the buffer's arrays (constant for a given capacity)."""
        return (self._x_lo.nbytes + self._x_hi.nbytes + self._y_min.nbytes
                + self._y_max.nbytes + self._y_sum.nbytes + self._y_cnt.nbytes
                + self._p_min.nbytes + self._p_max.nbytes + self._p_sum.nbytes
                + self._p_cnt.nbytes)

    def __len__(self) -> int:
        """Rows :meth:`xy` returns without ``max_points``."""
        committed = self._n if self._stride == 1 else 2 * self._n
        return committed + min(self._p_count, 2)

    def last(self) -> np.ndarray | None:
        """The y values (k,) of the most recent bucket's last extreme, or None if empty."""
        if self._p_count:
            return self._p_max.copy()
        if self._n:
            return self._y_max[self._n - 1].copy()
        return None

    # ----------------------------------------------------------------- append
    def append(self, x: np.ndarray | float, y: np.ndarray | float) -> None:
        """Append rows: ``x`` (m,), ``y`` (m, k) (or (m,) when k is 1). Vectorised: the
        cost is a handful of NumPy calls per merge, not per row."""
        x = np.atleast_1d(np.asarray(x, dtype=np.float64)).ravel()
        m = x.shape[0]
        y = np.asarray(y, dtype=np.float64).reshape(m, self.columns)
        finite = np.isfinite(y)
        y_fin = np.where(finite, y, 0.0)  # what the sums add up
        self._appended += m
        k = self.columns
        i = 0
        while i < m:
            if self._stride == 1:
                take = min(self.capacity - self._n, m - i)
                n, end = self._n, i + take
                self._x_lo[n:n + take] = x[i:end]
                self._x_hi[n:n + take] = x[i:end]
                self._y_min[n:n + take] = y[i:end]
                self._y_max[n:n + take] = y[i:end]
                self._y_sum[n:n + take] = y_fin[i:end]
                self._y_cnt[n:n + take] = finite[i:end]
                self._n += take
                i = end
                if self._n == self.capacity:
                    self._merge(4)
                continue
            s = self._stride
            if self._p_count:  # complete the pending bucket first
                take = min(s - self._p_count, m - i)
                end = i + take
                np.fmin(self._p_min, np.fmin.reduce(y[i:end], axis=0), out=self._p_min)
                np.fmax(self._p_max, np.fmax.reduce(y[i:end], axis=0), out=self._p_max)
                self._p_sum += np.add.reduce(y_fin[i:end], axis=0)
                self._p_cnt += np.add.reduce(finite[i:end], axis=0)
                self._p_x_hi = x[end - 1]
                self._p_count += take
                i = end
                if self._p_count >= s:
                    self._commit_pending()
                continue
            whole = min((m - i) // s, self._limit_merged - self._n)
            if whole:
                end = i + whole * s
                n = self._n
                self._x_lo[n:n + whole] = x[i:end:s]
                self._x_hi[n:n + whole] = x[i + s - 1:end:s]
                self._y_min[n:n + whole] = np.fmin.reduce(
                    y[i:end].reshape(whole, s, k), axis=1)
                self._y_max[n:n + whole] = np.fmax.reduce(
                    y[i:end].reshape(whole, s, k), axis=1)
                self._y_sum[n:n + whole] = np.add.reduce(
                    y_fin[i:end].reshape(whole, s, k), axis=1)
                self._y_cnt[n:n + whole] = np.add.reduce(
                    finite[i:end].reshape(whole, s, k), axis=1)
                self._n += whole
                i = end
                if self._n >= self._limit_merged:
                    self._merge(2)
                continue
            # Fewer than ``stride`` rows left: they start a new pending bucket.
            self._p_x_lo, self._p_x_hi = x[i], x[m - 1]
            self._p_min[:] = np.fmin.reduce(y[i:m], axis=0)
            self._p_max[:] = np.fmax.reduce(y[i:m], axis=0)
            self._p_sum[:] = np.add.reduce(y_fin[i:m], axis=0)
            self._p_cnt[:] = np.add.reduce(finite[i:m], axis=0)
            self._p_count = m - i
            i = m

    def _commit_pending(self) -> None:
        n = self._n
        self._x_lo[n], self._x_hi[n] = self._p_x_lo, self._p_x_hi
        self._y_min[n], self._y_max[n] = self._p_min, self._p_max
        self._y_sum[n], self._y_cnt[n] = self._p_sum, self._p_cnt
        self._n += 1
        self._p_count = 0
        if self._n >= self._limit_merged:
            self._merge(2)

    def _merge(self, group: int) -> None:
        """Merge every ``group`` neighbouring committed buckets into one (in place)."""
        n = self._n // group
        used = n * group
        k = self.columns
        self._x_lo[:n] = self._x_lo[:used:group]
        self._x_hi[:n] = self._x_hi[group - 1:used:group]
        for arr, ufunc in ((self._y_min, np.fmin), (self._y_max, np.fmax),
                           (self._y_sum, np.add), (self._y_cnt, np.add)):
            arr[:n] = ufunc.reduce(arr[:used].reshape(n, group, k), axis=1)
        self._n = n
        self._stride *= group

    # ----------------------------------------------------------------- output
    def _groups(self, count: int) -> np.ndarray | None:
        """Start indices that split the committed buckets into exactly ``count`` groups,
        or None when there are no more buckets than that."""
        if self._n <= count:
            return None
        return (np.arange(count) * self._n) // count  # strictly increasing

    def xy(self, max_points: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows ready for plotting, keeping extremes: ``x`` (r,) non-decreasing and
        ``y`` (r, k).

        Parameters
        ----------
        max_points : int, optional
            Return at most this many rows (at least 8). When the history holds more,
            the committed buckets are regrouped into exactly ``(max_points - 2) // 2``
            groups of two rows (minimum and maximum), so the count, and with it the
            redraw cost, stays the same however long the run; spikes survive.

        Returns
        -------
        x : ndarray, shape (r,)
        y : ndarray, shape (r, k)
            Fresh arrays (the caller may keep or modify them).
        """
        n = self._n
        lo, hi = self._x_lo[:n], self._x_hi[:n]
        y_min, y_max = self._y_min[:n], self._y_max[:n]
        starts = None
        if max_points is not None and len(self) > max(max_points, 8):
            starts = self._groups((max(max_points, 8) - 2) // 2)
        if starts is not None:
            ends = np.append(starts[1:], n) - 1
            lo, hi = lo[starts], hi[ends]
            y_min = np.fmin.reduceat(y_min, starts, axis=0)
            y_max = np.fmax.reduceat(y_max, starts, axis=0)
            n = len(starts)
        if starts is not None or self._stride > 1:
            xs = np.column_stack([lo, hi]).ravel()
            ys = np.stack([y_min, y_max], axis=1).reshape(2 * n, self.columns)
        else:
            xs, ys = lo.copy(), y_min.copy()
        if self._p_count:
            if self._p_count == 1:
                px, py = np.array([self._p_x_lo]), self._p_min[None, :]
            else:
                px = np.array([self._p_x_lo, self._p_x_hi])
                py = np.stack([self._p_min, self._p_max])
            xs, ys = np.concatenate([xs, px]), np.concatenate([ys, py])
        return xs, ys

    def mean_xy(self, max_points: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows of bucket means: ``x`` (r,) the middle of each bucket, ``y`` (r, k) the
        mean of its finite values (NaN where it had none).

        A smoother line than :meth:`xy` for noisy figures drawn many to a plot (feed it
        logarithms to get geometric means). With ``max_points`` (at least 2) the buckets
        are regrouped into exactly ``max_points - 1`` groups plus the pending bucket.
        """
        n = self._n
        lo, hi = self._x_lo[:n], self._x_hi[:n]
        sums, cnts = self._y_sum[:n], self._y_cnt[:n]
        starts = self._groups(max(max_points, 2) - 1) if max_points is not None else None
        if starts is not None:
            ends = np.append(starts[1:], n) - 1
            lo, hi = lo[starts], hi[ends]
            sums = np.add.reduceat(sums, starts, axis=0)
            cnts = np.add.reduceat(cnts, starts, axis=0)
        if self._p_count:
            lo = np.append(lo, self._p_x_lo)
            hi = np.append(hi, self._p_x_hi)
            sums = np.concatenate([sums, self._p_sum[None, :]])
            cnts = np.concatenate([cnts, self._p_cnt[None, :]])
        means = np.divide(sums, cnts, out=np.full(sums.shape, np.nan), where=cnts > 0)
        return 0.5 * (lo + hi), means
