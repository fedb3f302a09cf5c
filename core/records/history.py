"""Bounded histories for long runs: memory stays flat however many steps are recorded.

``ThinnedSeries`` keeps at most ``capacity`` rows by one rule: of the rows offered (row
0, 1, 2, ...), it keeps those whose index is a multiple of the stride, and the stride is
the smallest power of two that leaves at most ``capacity`` of them. When full it drops
every other row and from then on keeps only every second (then fourth, ...) row, so a
run of a million steps keeps an evenly spaced thousand-odd rows. Rows may be offered one
at a time (``append``) or many at once (``extend``); the kept rows are the same.

``HISTORY_KEYS`` names the figures of one epoch row of a run's history.
"""

from __future__ import annotations

import numpy as np

__all__ = ["HISTORY_KEYS", "ThinnedSeries"]

# One epoch of a run's history: the keys of its dict (records, project files) and the
# columns of its rows, in this order.
HISTORY_KEYS = ("epoch", "step", "train_loss", "val_loss", "train_metric", "val_metric")


class ThinnedSeries:
    """Rows of ``width`` floats, thinned by stride doubling to at most ``capacity`` rows."""

    def __init__(self, width: int, capacity: int = 10_000) -> None:
        if capacity < 2:
            raise ValueError("capacity must be at least 2")
        self._data = np.zeros((capacity, width))
        self._n = 0
        self._stride = 1
        self._seen = 0

    def append(self, row: tuple[float, ...] | list[float] | np.ndarray) -> None:
        """Offer one row; kept if it falls on the current stride."""
        keep = self._seen % self._stride == 0
        self._seen += 1
        if not keep:
            return
        if self._n == self._data.shape[0]:
            self._halve()
            if (self._seen - 1) % self._stride:
                return
        self._data[self._n] = row
        self._n += 1

    def extend(self, rows: np.ndarray) -> None:
        """Offer rows (k, width) at once: the same rows are kept as by ``append``."""
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, self._data.shape[1])
        first = self._seen
        self._seen += rows.shape[0]
        capacity = self._data.shape[0]
        while -(-self._seen // self._stride) > capacity:  # ceil(seen / stride) rows
            self._halve()
        start = -first % self._stride  # the first new row on the stride
        kept = rows[start::self._stride]
        self._data[self._n:self._n + kept.shape[0]] = kept
        self._n += kept.shape[0]

    def _halve(self) -> None:
        # Kept rows are rows 0, s, 2s, ...: keeping every other one leaves 0, 2s, ...
        half = self._data[:self._n:2].copy()
        self._data[:half.shape[0]] = half
        self._n = half.shape[0]
        self._stride *= 2

    @property
    def stride(self) -> int:
        return self._stride

    def array(self) -> np.ndarray:
        """A copy of the kept rows, (rows, width)."""
        return self._data[: self._n].copy()

    def __len__(self) -> int:
        return self._n
