"""Seeded augmentation of image training batches: random shifts and horizontal flips.

An image dataset may carry ``"augment": {"shift": N, "flip": true}`` in its dataset dict
(:class:`Augmentation`). The trainer applies it to each training mini-batch only, never
to validation data, just before the step; each step draws from a generator made from
the run's seed and the step number (:func:`step_generator`), so two runs with one seed
are bit-identical and a continued run takes the same batches an uninterrupted one
would, with no extra random state to save.

A shift moves each image by a whole number of pixels in ``[-N, N]`` in each direction,
filling the uncovered border with 0 (black for image folders, whose pixels are scaled to
[0, 1]; the pixel's training mean for standardised sets such as the digits). A flip
mirrors the image left to right, with probability one half per image.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import DatasetError, Problem

__all__ = ["MAX_SHIFT", "Augmentation", "augment_batch", "augment_problems",
           "augmentation_for", "batch_augmenter", "step_generator"]

#: Largest shift in pixels a dataset may ask for.
MAX_SHIFT = 8

# The run's random streams: build uses 0 (weights) and 1 (dropout), shuffle 2.
_AUGMENT_STREAM = 3


@dataclass(frozen=True)
class Augmentation:
    """Augmentation of training images: shift by up to ``shift`` pixels (0: none) and
    random horizontal ``flip``."""

    shift: int = 0
    flip: bool = False

    @property
    def active(self) -> bool:
        """Whether it changes anything."""
        return self.shift > 0 or self.flip

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"shift": 2, "flip": true}``."""
        return {"shift": self.shift, "flip": self.flip}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Augmentation:
        """From :meth:`to_dict`'s form; check it with :func:`augment_problems` first."""
        return cls(int(data.get("shift", 0)), bool(data.get("flip", False)))


def augment_problems(value: object, where: str = "dataset.augment") -> list[Problem]:
    """Every problem of an ``augment`` value (a dict with ``shift`` and ``flip``)."""
    if not isinstance(value, Mapping):
        return [Problem(where, f'must be an object such as {{"shift": 2, "flip": true}}, '
                               f"got {value!r}")]
    problems = [Problem(f"{where}.{key}", "unknown key (known: shift, flip)")
                for key in value if key not in ("shift", "flip")]
    shift = value.get("shift", 0)
    if isinstance(shift, bool) or not isinstance(shift, int) or not 0 <= shift <= MAX_SHIFT:
        problems.append(Problem(f"{where}.shift", f"must be a whole number of pixels from 0 "
                                                  f"to {MAX_SHIFT}, got {shift!r}"))
    if not isinstance(value.get("flip", False), bool):
        problems.append(Problem(f"{where}.flip", f"must be true or false, got "
                                                 f"{value.get('flip')!r}"))
    return problems


def augmentation_for(choice: Mapping[str, Any] | None, image_shape: tuple[int, ...] | None
                     ) -> tuple[Augmentation, tuple[int, int, int]] | None:
    """The augmentation a design's dataset ``choice`` (its dict) asks for, with the
    (C, H, W) it applies to, or None when it asks for none. ``image_shape`` is the
    loaded dataset's ((H, W) is taken as one channel). Raises ``DatasetError`` for a bad
    ``augment`` value or augmentation of data that is not images."""
    value = choice.get("augment") if choice is not None else None
    if value is None:
        return None
    problems = augment_problems(value)
    if problems:
        raise DatasetError("; ".join(str(p) for p in problems))
    augmentation = Augmentation.from_dict(value)
    if not augmentation.active:
        return None
    if image_shape is None or len(image_shape) not in (2, 3):
        raise DatasetError("dataset.augment: shifts and flips apply to image data only; "
                           "this dataset is not images")
    c, h, w = image_shape if len(image_shape) == 3 else (1, *image_shape)
    return augmentation, (int(c), int(h), int(w))


def step_generator(seed: int, step: int) -> np.random.Generator:
    """The augmentation stream of step ``step`` (0-based) of a run with ``seed``."""
    return np.random.default_rng([seed, _AUGMENT_STREAM, step])


def augment_batch(x: np.ndarray, image_shape: tuple[int, int, int],
                  augmentation: Augmentation, rng: np.random.Generator) -> np.ndarray:
    """Shift and flip a batch of flat images.

    Parameters
    ----------
    x : ndarray, shape (batch, C*H*W)
        Flat images, channel-major (as datasets hold them); not modified.
    image_shape : (C, H, W)
    augmentation : Augmentation
    rng : numpy.random.Generator
        Draws the shifts (two per image) then the flips (one per image).

    Returns
    -------
    ndarray, shape (batch, C*H*W), the dtype of ``x``
        A new array (``x`` itself when the augmentation does nothing).
    """
    if not augmentation.active or len(x) == 0:
        return x
    c, h, w = image_shape
    b = x.shape[0]
    images = x.reshape(b, c, h, w)
    n = augmentation.shift
    if n > 0:
        shifts = rng.integers(-n, n + 1, size=(2, b)).tolist()
        padded = np.zeros((b, c, h + 2 * n, w + 2 * n), dtype=x.dtype)
        padded[:, :, n:n + h, n:n + w] = images
        shifted = np.empty((b, c, h, w), dtype=x.dtype)
        # Image k moves by (dy, dx): output pixel (i, j) reads padded pixel
        # (n + i - dy, n + j - dx), and what comes in from the border is the zero pad. One
        # slice copy per image is cheaper than one gather over the batch.
        for k, (dy, dx) in enumerate(zip(*shifts, strict=True)):
            shifted[k] = padded[k, :, n - dy:n - dy + h, n - dx:n - dx + w]
        images = shifted
    if augmentation.flip:
        flips = rng.random(b) < 0.5
        if n == 0:  # still a view of the caller's batch
            images = images.copy()
        images[flips] = images[flips, :, :, ::-1]
    return np.ascontiguousarray(images).reshape(b, c * h * w)


def batch_augmenter(choice: Mapping[str, Any] | None, image_shape: tuple[int, ...] | None,
                    seed: int) -> Callable[[np.ndarray, int], np.ndarray] | None:
    """What the trainer applies to the training batch of each step: ``augment(xb,
    step)`` (shifted and flipped copies of ``xb``, shape (batch, C*H*W), drawn from
    :func:`step_generator`), or None when the dataset ``choice`` asks for no
    augmentation. Raises ``DatasetError`` as :func:`augmentation_for`."""
    wanted = augmentation_for(choice, image_shape)
    if wanted is None:
        return None
    augmentation, shape = wanted

    def augment(xb: np.ndarray, step: int) -> np.ndarray:
        return augment_batch(xb, shape, augmentation, step_generator(seed, step))

    return augment
