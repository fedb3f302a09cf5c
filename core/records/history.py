"""Bounded histories for long runs: memory stays flat however many steps are recorded.

``ThinnedSeries`` keeps at most ``capacity`` rows: when full it drops every other row
and from then on records only every second (then fourth, ...) step, so a run of a
million steps keeps an evenly spaced thousand-odd rows.
"""

from __future__ import annotations

import numpy as np


class ThinnedSeries:
    """Rows of ``width`` floats, thinned by stride doubling to at most ``capacity`` rows."""

    def __init__(self, width: int, capacity: int = 10_000) -> None:
        if capacity < 2:
            raise ValueError("capacity must be at least 2")
        self._data = np.zeros((capacity, width))
        self._n = 0
        self._stride = 1
        self._seen = 0

    def append(self, row: tuple[float, ...] | list[float]) -> None:
        """Offer one row; kept if it falls on the current stride."""
        keep = self._seen % self._stride == 0
        self._seen += 1
        if not keep:
            return
        if self._n == self._data.shape[0]:
            half = self._data[::2].copy()
            self._data[: half.shape[0]] = half
            self._n = half.shape[0]
            self._stride *= 2
            if (self._seen - 1) % self._stride:
                return
        self._data[self._n] = row
        self._n += 1

    @property
    def stride(self) -> int:
        return self._stride

    def array(self) -> np.ndarray:
        """A copy of the kept rows, (rows, width)."""
        return self._data[: self._n].copy()

    def __len__(self) -> int:
        return self._n
