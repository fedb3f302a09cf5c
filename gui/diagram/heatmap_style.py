"""How a neuron's output becomes a colour in the network diagram (its heatmap over the
input plane, or its value for one sample). Pure NumPy (no Qt), so the colours are tested
without a display; ``gui.diagram.heatmaps`` turns them into images.

- Inputs and hidden neurons: a diverging scale, the weights' colours (blue positive,
  red negative, as the connections) with white at 0, relative to the column's largest
  |value| (``column_scale``), so a dead ReLU is white and the strongest neuron saturated.
- The output neurons of a classifier show class probabilities: with two classes from
  the other class's colour through white (0.5, the decision boundary) to the neuron's
  class colour, as the decision-surface view; with more, from white to the neuron's
  class colour.
"""

from __future__ import annotations

import functools

import numpy as np

RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
NEGATIVE: RGB = (0xD1, 0x49, 0x5B)  # gui.colors.NEGATIVE
POSITIVE: RGB = (0x2E, 0x6F, 0xBA)  # gui.colors.POSITIVE


LEVELS = 257  # colours per scale; odd, so its middle (white, zero) is exact


@functools.cache
def _table(stops: tuple[RGB, ...]) -> np.ndarray:
    """``LEVELS`` colours (LEVELS, 3) uint8 evenly over the piecewise-linear scale
    through ``stops``, so colouring a map is one lookup per point."""
    table = np.asarray(stops, dtype=np.float64)
    t = np.linspace(0.0, 1.0, LEVELS) * (len(stops) - 1)
    lo = np.minimum(t.astype(np.int64), len(stops) - 2)
    frac = (t - lo)[:, None]
    return np.rint(table[lo] * (1.0 - frac) + table[lo + 1] * frac).astype(np.uint8)


def ramp(t: np.ndarray, stops: list[RGB]) -> np.ndarray:
    """Colours of ``t`` (any shape, 0..1, clipped; NaN as 0.5) on a piecewise-linear
    scale through ``stops`` (evenly spaced, in ``LEVELS`` steps): uint8 array of shape
    ``t.shape + (3,)``."""
    t = np.asarray(t, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        index = np.rint(np.clip(t, 0.0, 1.0) * (LEVELS - 1))
    index = np.where(np.isnan(index), (LEVELS - 1) // 2, index).astype(np.intp)
    return _table(tuple(stops))[index]


def column_scale(values: np.ndarray) -> float:
    """The largest finite |value| of a column (its maps or sample values), at least a
    tiny positive number so an all-zero column is white, not a division by zero."""
    a = np.abs(np.asarray(values, dtype=np.float64))
    finite = a[np.isfinite(a)]
    return max(float(finite.max()) if finite.size else 0.0, 1e-12)


def signed_rgb(values: np.ndarray, scale: float) -> np.ndarray:
    """Diverging colours of raw outputs: red at -``scale``, white at 0, blue at
    +``scale`` (beyond: clipped). Shape ``values.shape + (3,)``, uint8."""
    t = 0.5 + 0.5 * np.asarray(values, dtype=np.float64) / scale
    return ramp(t, [NEGATIVE, WHITE, POSITIVE])


def probability_stops(neuron: int, outputs: int, classes: list[RGB]) -> list[RGB]:
    """The scale of output neuron ``neuron`` of ``outputs`` showing a probability:
    ``classes`` are the class colours. One sigmoid output is P(class 1); two outputs are
    P(class ``neuron``) against the other class; more go from white to the class colour."""
    def colour(i: int) -> RGB:
        return classes[i % len(classes)] if classes else POSITIVE

    if outputs == 1:
        return [colour(0), WHITE, colour(1)]
    if outputs == 2:
        return [colour(1 - neuron), WHITE, colour(neuron)]
    return [WHITE, colour(neuron)]


def neuron_rgb(values: np.ndarray, neuron: int, outputs: int, probability: bool,
               scale: float, classes: list[RGB]) -> np.ndarray:
    """The colours of neuron ``neuron``'s ``values`` (any shape): a probability scale
    for the output column of a classifier (``probability``; ``outputs`` its width),
    else ``signed_rgb`` with the column's ``scale``."""
    if probability:
        return ramp(values, probability_stops(neuron, outputs, classes))
    return signed_rgb(values, scale)
