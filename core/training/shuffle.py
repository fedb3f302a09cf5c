"""The order in which training visits the samples: one rule for the trainer and for
anything that must show the batches the trainer will take (the step-through).

The shuffle has its own random stream, derived from the run's seed, so adding a dropout
layer or changing the initialiser does not change the order; every epoch draws a fresh
permutation of the training rows from it, and mini-batches are consecutive slices of
that permutation.
"""

from __future__ import annotations

import numpy as np

_SHUFFLE_STREAM = 2  # build uses 0 (initial weights) and 1 (dropout masks)


def shuffle_generator(seed: int) -> np.random.Generator:
    """The shuffle stream of a run with ``seed``."""
    return np.random.default_rng([seed, _SHUFFLE_STREAM])


def epoch_order(rng: np.random.Generator, n: int) -> np.ndarray:
    """The next epoch's order of ``n`` rows, shape (n,), drawn from ``rng``."""
    return rng.permutation(n)


def first_batch_rows(seed: int, n: int, batch_size: int) -> np.ndarray:
    """The rows (indices, shape (min(batch_size, n),)) of a run's first mini-batch."""
    return epoch_order(shuffle_generator(seed), n)[:batch_size]
