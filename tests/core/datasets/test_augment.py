"""Seeded shifts and flips of flat image batches (core.datasets.augment)."""

from __future__ import annotations

import numpy as np
import pytest

from core.datasets.augment import (
    Augmentation,
    augment_batch,
    augmentation_for,
    batch_augmenter,
    step_generator,
)
from core.errors import DatasetError

SHAPE = (2, 5, 7)  # (C, H, W)


def batch(n: int = 16, dtype=np.float32) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.uniform(0.1, 1.0, (n, int(np.prod(SHAPE)))).astype(dtype)


def test_same_generator_seed_gives_bit_identical_batches_and_another_differs() -> None:
    x = batch()
    aug = Augmentation(shift=2, flip=True)
    a = augment_batch(x, SHAPE, aug, step_generator(5, 3))
    b = augment_batch(x, SHAPE, aug, step_generator(5, 3))
    c = augment_batch(x, SHAPE, aug, step_generator(5, 4))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shift_keeps_shape_and_dtype_and_moves_pixels_with_zero_fill(dtype) -> None:
    x = batch(dtype=dtype)
    out = augment_batch(x, SHAPE, Augmentation(shift=2), step_generator(1, 0))
    assert out.shape == x.shape and out.dtype == dtype
    assert np.array_equal(x, batch(dtype=dtype))  # the input is not modified
    images, shifted = x.reshape(-1, *SHAPE), out.reshape(-1, *SHAPE)
    moved = 0
    for k in range(len(x)):
        # Find the shift that reproduces image k: exactly one (dy, dx) in [-2, 2]^2.
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if np.array_equal(shifted[k], _shift(images[k], dy, dx))]
        assert len(found) == 1
        moved += found[0] != (0, 0)
    assert moved > len(x) // 2  # most images move (1 in 25 stays)


def _shift(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    out = np.zeros_like(image)
    h, w = image.shape[1:]
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        image[:, max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


def test_flip_mirrors_left_to_right_about_half_the_images() -> None:
    x = batch(200)
    out = augment_batch(x, SHAPE, Augmentation(flip=True), step_generator(2, 0))
    images, flipped = x.reshape(-1, *SHAPE), out.reshape(-1, *SHAPE)
    mirrored = np.array([np.array_equal(flipped[k], images[k, :, :, ::-1])
                         for k in range(len(x))])
    same = np.array([np.array_equal(flipped[k], images[k]) for k in range(len(x))])
    assert np.all(mirrored ^ same)  # each image is either mirrored or untouched
    assert 60 < mirrored.sum() < 140
    assert np.array_equal(x, batch(200))


def test_no_augmentation_returns_the_batch_itself() -> None:
    x = batch()
    assert augment_batch(x, SHAPE, Augmentation(), step_generator(0, 0)) is x
    assert augmentation_for({"kind": "builtin", "name": "digits"}, (8, 8)) is None
    assert augmentation_for({"augment": {"shift": 0, "flip": False}}, (8, 8)) is None
    assert batch_augmenter(None, None, 0) is None


def test_augmentation_for_reads_the_choice_and_refuses_what_does_not_fit() -> None:
    found = augmentation_for({"augment": {"shift": 1}}, (8, 8))
    assert found == (Augmentation(shift=1), (1, 8, 8))
    with pytest.raises(DatasetError, match="image data only"):
        augmentation_for({"augment": {"flip": True}}, None)
    with pytest.raises(DatasetError, match="dataset.augment.shift"):
        augmentation_for({"augment": {"shift": -1}}, (8, 8))
    augment = batch_augmenter({"augment": {"shift": 1, "flip": True}}, SHAPE, seed=4)
    assert augment is not None
    x = batch()
    assert np.array_equal(augment(x, 7), augment_batch(x, SHAPE, Augmentation(1, True),
                                                       step_generator(4, 7)))
