"""Seeded synthetic toy datasets in the style of TensorFlow Playground.

Five 2-D classification sets (``circle``, ``xor``, ``gaussians``, ``spiral``, ``moons``)
and three regression sets (``plane`` and ``multi_gaussian`` over two inputs, ``sine`` over
one). Points lie roughly in [-6, 6] per axis, as in the Playground. Every set is a pure
function of (samples, noise, seed): randomness comes only from a ``numpy.random.Generator``
seeded with ``seed``.

Noise is a number in [0, 1]. For classification it jitters the point coordinates with
Gaussian noise while each label stays that of the clean pattern, so the two classes are
exactly balanced (``samples // 2`` and ``samples - samples // 2``) and overlap more as
noise grows. ``plane`` and ``multi_gaussian`` compute the target at a jittered position,
as the Playground does; ``sine`` adds Gaussian noise to the target.

Unlike the Playground, inputs are standardised with training statistics (the networks
train much better that way); the raw coordinates stay in ``Dataset.x_train_raw`` and
``Dataset.transform`` maps a plotting grid through the same scaling.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from core.datasets.dataset import Dataset, Task, build_dataset
from core.datasets.features import check_derived
from core.datasets.split import check_seed, check_val_fraction
from core.errors import DatasetError

__all__ = [
    "MAX_SAMPLES",
    "MIN_SAMPLES",
    "SYNTHETIC",
    "SyntheticSet",
    "generate",
    "make_synthetic",
]

MIN_SAMPLES = 10
MAX_SAMPLES = 100_000

Generator = Callable[[int, float, np.random.Generator], tuple[np.ndarray, np.ndarray]]


def _class_sizes(samples: int) -> tuple[int, int]:
    return samples - samples // 2, samples // 2


def _labels(samples: int) -> np.ndarray:
    n0, n1 = _class_sizes(samples)
    return np.concatenate([np.zeros(n0, np.int64), np.ones(n1, np.int64)])


def _polar(r: np.ndarray, angle: np.ndarray) -> np.ndarray:
    return np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)


def _circle(samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n0, n1 = _class_sizes(samples)
    outer = _polar(rng.uniform(3.5, 5.0, n0), rng.uniform(0, 2 * np.pi, n0))
    inner = _polar(rng.uniform(0.0, 2.5, n1), rng.uniform(0, 2 * np.pi, n1))
    x = np.concatenate([outer, inner]) + rng.normal(0.0, 1.5 * noise, (samples, 2))
    return x, _labels(samples)


def _xor(samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    labels = _labels(samples)
    # A 0.3 gap around the axes, as in the Playground, keeps the clean set separable.
    magnitude = rng.uniform(0.3, 5.0, (samples, 2))
    sign1 = rng.choice([-1.0, 1.0], samples)
    sign2 = np.where(labels == 1, sign1, -sign1)
    x = magnitude * np.stack([sign1, sign2], axis=1)
    return x + rng.normal(0.0, 1.5 * noise, (samples, 2)), labels


def _gaussians(
    samples: int, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    labels = _labels(samples)
    centres = np.where(labels[:, None] == 1, 2.0, -2.0)
    return centres + rng.normal(0.0, 0.7 + 2.3 * noise, (samples, 2)), labels


def _spiral(samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    labels = _labels(samples)
    u = rng.uniform(0.0, 1.0, samples)
    angle = 1.75 * 2 * np.pi * u + np.pi * labels
    x = _polar(5.0 * u, angle)
    return x + rng.normal(0.0, 1.0 * noise, (samples, 2)), labels


def _moons(samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    labels = _labels(samples)
    t = rng.uniform(0.0, np.pi, samples)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    # Centre the unit-size moons on the origin and blow them up to Playground scale.
    x = 3.0 * (np.where(labels[:, None] == 0, upper, lower) - [0.5, 0.25])
    return x + rng.normal(0.0, 1.5 * noise, (samples, 2)), labels


def _plane(samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-6.0, 6.0, (samples, 2))
    shifted = x + noise * rng.uniform(-6.0, 6.0, (samples, 2))
    return x, (shifted.sum(axis=1) / 10.0)[:, None]


_BUMPS = np.array(
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]],
    dtype=np.float64,
)


def _multi_gaussian(
    samples: int, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-6.0, 6.0, (samples, 2))
    shifted = x + noise * rng.uniform(-6.0, 6.0, (samples, 2))
    dist = np.linalg.norm(shifted[:, None, :] - _BUMPS[None, :, :2], axis=2)
    # Each bump falls linearly from +-1 at its centre to 0 at distance 2; the bump with
    # the largest magnitude wins, as in the Playground.
    values = _BUMPS[:, 2] * np.clip(1.0 - dist / 2.0, 0.0, 1.0)
    winner = np.argmax(np.abs(values), axis=1)
    return x, values[np.arange(samples), winner][:, None]


def _sine(samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-6.0, 6.0, (samples, 1))
    return x, np.sin(x) + rng.normal(0.0, 0.5 * noise, (samples, 1))


@dataclass(frozen=True)
class SyntheticSet:
    """Description of one synthetic set: its task, inputs, names and generator."""

    task: Task
    generator: Generator
    description: str
    class_names: tuple[str, ...] = ()
    raw_feature_names: tuple[str, ...] = ("x1", "x2")


#: Every synthetic set by name; the registry and the spec validation read this table.
SYNTHETIC: dict[str, SyntheticSet] = {
    "circle": SyntheticSet(
        "classification", _circle, "a disc inside a ring", ("outer ring", "inner disc")
    ),
    "xor": SyntheticSet(
        "classification",
        _xor,
        "quadrants: same-sign vs opposite-sign coordinates",
        ("opposite signs", "same sign"),
    ),
    "gaussians": SyntheticSet(
        "classification", _gaussians, "two Gaussian blobs", ("lower left", "upper right")
    ),
    "spiral": SyntheticSet(
        "classification", _spiral, "two interleaved spirals", ("spiral A", "spiral B")
    ),
    "moons": SyntheticSet(
        "classification", _moons, "two interlocking half-moons", ("upper moon", "lower moon")
    ),
    "plane": SyntheticSet("regression", _plane, "a tilted plane: y = (x1 + x2) / 10"),
    "multi_gaussian": SyntheticSet(
        "regression", _multi_gaussian, "six positive and negative bumps"
    ),
    "sine": SyntheticSet("regression", _sine, "one input: y = sin(x1)", raw_feature_names=("x1",)),
}


def _check_name(name: str) -> SyntheticSet:
    if name not in SYNTHETIC:
        raise DatasetError(f"unknown synthetic dataset {name!r} (known: {', '.join(SYNTHETIC)})")
    return SYNTHETIC[name]


def _check_samples_noise(samples: object, noise: object) -> None:
    if isinstance(samples, bool) or not isinstance(samples, int | np.integer):
        raise DatasetError(f"samples must be an integer, got {samples!r}")
    if not MIN_SAMPLES <= samples <= MAX_SAMPLES:
        raise DatasetError(
            f"samples must be between {MIN_SAMPLES} and {MAX_SAMPLES}, got {samples}"
        )
    if isinstance(noise, bool) or not isinstance(noise, int | float):
        raise DatasetError(f"noise must be a number, got {noise!r}")
    if not 0.0 <= noise <= 1.0:
        raise DatasetError(f"noise must be between 0 and 1, got {noise}")


def generate(name: str, samples: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Generate the raw points of a synthetic set, without splitting or scaling.

    Parameters
    ----------
    name : str
        A key of :data:`SYNTHETIC`.
    samples : int
        Number of points, in [10, 100000].
    noise : float
        Noise level in [0, 1] (see the module docstring for its meaning per set).
    seed : int
        Non-negative seed.

    Returns
    -------
    x : ndarray, shape (samples, n_raw), float64
        Raw coordinates (``n_raw`` is 2, or 1 for ``sine``).
    y : ndarray
        Classification: shape (samples,), int64 in {0, 1}, class 0 first.
        Regression: shape (samples, 1), float64.
    """
    info = _check_name(name)
    _check_samples_noise(samples, noise)
    rng = np.random.default_rng(check_seed(seed))
    x, y = info.generator(int(samples), float(noise), rng)
    return x.astype(np.float64), y


def make_synthetic(
    name: str,
    samples: int = 500,
    noise: float = 0.0,
    seed: int = 0,
    val_fraction: float = 0.2,
    features: Sequence[str] = (),
) -> Dataset:
    """Generate, split and standardise a synthetic set.

    Parameters
    ----------
    name, samples, noise, seed
        See :func:`generate`; ``seed`` also seeds the (stratified) split.
    val_fraction : float
        Validation share in [0, 0.9].
    features : sequence of str
        Derived features to append, e.g. ``("x1^2", "x2^2")`` (see ``DERIVED_FEATURES``).

    Returns
    -------
    Dataset
        With ``x_train_raw``/``x_val_raw`` holding the unscaled coordinates.
    """
    info = _check_name(name)
    check_val_fraction(val_fraction)
    problems = check_derived(tuple(features), len(info.raw_feature_names))
    if problems:
        raise DatasetError(f"{name}: " + "; ".join(message for _, message in problems))
    x, y = generate(name, samples, noise, seed)
    return build_dataset(
        name=name,
        task=info.task,
        x_raw=x,
        y=y,
        raw_feature_names=info.raw_feature_names,
        target_names=("class",) if info.task == "classification" else ("y",),
        class_names=info.class_names,
        val_fraction=val_fraction,
        seed=seed,
        derived_features=tuple(features),
        description=info.description,
    )
