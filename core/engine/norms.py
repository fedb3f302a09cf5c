"""L2 norms that do not overflow for finite vectors.

A float32 gradient whose elements are finite but above about 1.8e19 has a sum of squares
beyond float32's range: ``sqrt(dot(x, x))`` says ``inf`` although nothing is infinite,
and a divergence check built on it blames the wrong thing. ``stable_norm`` divides by
the largest magnitude first (as LAPACK's ``nrm2`` does), in float64. It costs a few
more passes than ``dot``, so the training step takes its fast sum of squares first and
calls this only when that sum is not finite.
"""

from __future__ import annotations

import math

import numpy as np


def stable_norm(x: np.ndarray) -> float:
    """The L2 norm of ``x`` (n,) as a float: finite whenever every element is finite and
    the norm itself fits in float64 (always, for float32 data); inf if an element is
    infinite, NaN if one is NaN."""
    if x.size == 0:
        return 0.0
    if np.isnan(x).any():
        return math.nan
    top = float(np.max(np.abs(x)))
    if top == 0.0 or not math.isfinite(top):
        return top
    scaled = np.divide(x, top, dtype=np.float64)  # every element in [-1, 1]
    with np.errstate(over="ignore"):
        return float(top * math.sqrt(float(np.dot(scaled, scaled))))


def combine_norms(norms: np.ndarray) -> float:
    """The norm of a vector from the norms (k,) of its disjoint parts, without overflow."""
    return stable_norm(np.asarray(norms, dtype=np.float64))
