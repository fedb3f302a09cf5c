"""How a weight becomes a line style in the network diagram: its sign and its size
relative to its layer's largest |w| pick one of ``2 * LEVELS`` style buckets (and
``NEUTRAL`` grey for no weight). Pure (no Qt): ``gui.diagram.painting.weight_pen`` turns
a bucket into a pen. The widget recomputes the buckets on every ``set_weights``.
"""

from __future__ import annotations

import numpy as np

LEVELS = 6  # line-style buckets per weight sign
NEUTRAL = 0  # bucket of a connection without a weight (grey)


def weight_buckets(w: np.ndarray, max_abs: float) -> np.ndarray:
    """Style bucket of each weight: ``1..LEVELS`` positive, ``-1..-LEVELS`` negative,
    larger magnitude = larger |bucket|, relative to ``max_abs`` (the layer's largest
    |w|). Non-finite weights and a zero ``max_abs`` give ``NEUTRAL``."""
    w = np.asarray(w, dtype=np.float64)
    if not np.isfinite(max_abs) or max_abs <= 0:
        return np.zeros(w.shape, dtype=np.int8)
    finite = np.isfinite(w)
    rel = np.abs(np.where(finite, w, 0.0)) / max_abs
    level = np.minimum((rel * LEVELS).astype(np.int64), LEVELS - 1) + 1
    out = np.where(w < 0, -level, level)
    out[~finite] = NEUTRAL
    return out.astype(np.int8)


def weight_bucket(w: float, max_abs: float) -> int:
    """``weight_buckets`` for one weight."""
    return int(weight_buckets(np.array([w]), max_abs)[0])


def bucket_style(bucket: int) -> tuple[int, float, int]:
    """``(sign, width in px, alpha 0-255)`` of a bucket; sign 0 means neutral grey."""
    if bucket == NEUTRAL:
        return 0, 0.8, 110
    level = abs(bucket)
    frac = level / LEVELS
    # Convex curves: most initial weights are mid-sized, and only the large ones should
    # stand out.
    return (1 if bucket > 0 else -1), 0.4 + 3.0 * frac ** 2, int(30 + 225 * frac ** 1.5)


def layer_max_abs(w: np.ndarray) -> float:
    """The largest finite |w| of a weight matrix (0 if none)."""
    a = np.abs(np.asarray(w))
    finite = a[np.isfinite(a)]
    return float(finite.max()) if finite.size else 0.0
