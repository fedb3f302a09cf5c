"""Weight initialisers keyed by name.

Each draws a (fan_in, fan_out) weight matrix from a seeded NumPy generator; the scale
follows the fan-in/fan-out rules that keep signals from growing or shrinking layer by
layer (Glorot for tanh/sigmoid, He for ReLU).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class _Draw(Protocol):
    def __call__(self, rng: np.random.Generator, fan_in: int, fan_out: int,
                 shape: tuple[int, ...] | None = None) -> np.ndarray: ...


@dataclass(frozen=True)
class InitializerInfo:
    """One initialiser: ``draw(rng, fan_in, fan_out, shape=None)`` -> float64 weights of
    ``shape`` (default ``(fan_in, fan_out)``, a Dense weight), scaled by the fans."""

    name: str
    label: str
    description: str
    draw: _Draw


def _uniform(limit: float, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(-limit, limit, size=shape)


INITIALIZERS: dict[str, InitializerInfo] = {
    i.name: i
    for i in (
        InitializerInfo(
            "glorot_uniform", "Glorot (Xavier) uniform",
            "Uniform in +/- sqrt(6 / (fan_in + fan_out)): keeps the signal's variance steady "
            "through tanh and sigmoid layers.",
            lambda rng, fi, fo, shape=None: _uniform(
                math.sqrt(6.0 / (fi + fo)), rng, shape or (fi, fo)),
        ),
        InitializerInfo(
            "glorot_normal", "Glorot (Xavier) normal",
            "Normal with std sqrt(2 / (fan_in + fan_out)).",
            lambda rng, fi, fo, shape=None: rng.normal(
                0.0, math.sqrt(2.0 / (fi + fo)), size=shape or (fi, fo)),
        ),
        InitializerInfo(
            "he_uniform", "He uniform",
            "Uniform in +/- sqrt(6 / fan_in): the scale that suits ReLU layers.",
            lambda rng, fi, fo, shape=None: _uniform(math.sqrt(6.0 / fi), rng, shape or (fi, fo)),
        ),
        InitializerInfo(
            "he_normal", "He normal",
            "Normal with std sqrt(2 / fan_in): the scale that suits ReLU layers.",
            lambda rng, fi, fo, shape=None: rng.normal(
                0.0, math.sqrt(2.0 / fi), size=shape or (fi, fo)),
        ),
        InitializerInfo(
            "lecun_normal", "LeCun normal",
            "Normal with std sqrt(1 / fan_in).",
            lambda rng, fi, fo, shape=None: rng.normal(
                0.0, math.sqrt(1.0 / fi), size=shape or (fi, fo)),
        ),
        InitializerInfo(
            "small_normal", "Small normal",
            "Normal with std 0.01, ignoring the layer's size: in deep networks the signal "
            "fades layer by layer (a way to show vanishing gradients).",
            lambda rng, fi, fo, shape=None: rng.normal(0.0, 0.01, size=shape or (fi, fo)),
        ),
        InitializerInfo(
            "zeros", "Zeros",
            "All weights zero: every unit in a layer stays identical (symmetry is never "
            "broken). Shown for teaching; do not use for hidden layers.",
            lambda rng, fi, fo, shape=None: np.zeros(shape or (fi, fo)),
        ),
    )
}
