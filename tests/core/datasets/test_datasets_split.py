"""Splitting and scaling: stratification, empty validation, train-only statistics, transform."""

from __future__ import annotations

import numpy as np
import pytest

from core.datasets import build_dataset, load_builtin, make_synthetic, train_val_split
from core.datasets.features import fit_standardizer
from core.errors import DatasetError


def test_split_is_a_seeded_partition() -> None:
    a = train_val_split(100, 0.3, seed=4)
    b = train_val_split(100, 0.3, seed=4)
    c = train_val_split(100, 0.3, seed=5)
    np.testing.assert_array_equal(a.train, b.train)
    assert not np.array_equal(a.train, c.train)
    assert len(a.val) == 30 and len(a.train) == 70
    assert sorted(np.concatenate([a.train, a.val]).tolist()) == list(range(100))


def test_stratified_split_keeps_class_proportions() -> None:
    labels = np.repeat([0, 1, 2], [60, 30, 10])
    split = train_val_split(100, 0.2, seed=0, labels=labels)
    assert np.bincount(labels[split.val]).tolist() == [12, 6, 2]
    assert np.bincount(labels[split.train]).tolist() == [48, 24, 8]
    # Training order is shuffled, not grouped by class.
    assert not np.all(np.diff(labels[split.train]) >= 0)


def test_iris_and_digits_validation_keep_class_shares() -> None:
    iris = load_builtin("iris", val_fraction=0.2, seed=3)
    assert np.bincount(iris.y_val).tolist() == [10, 10, 10]
    digits = load_builtin("digits", val_fraction=0.25, seed=3)
    full = np.bincount(np.concatenate([digits.y_train, digits.y_val]))
    np.testing.assert_allclose(np.bincount(digits.y_val), full * 0.25, atol=0.5)


def test_single_sample_class_stays_in_training_with_a_note() -> None:
    labels = np.array([0] * 9 + [1])
    split = train_val_split(10, 0.5, seed=0, labels=labels, class_names=("a", "rare"))
    assert 9 in split.train and 9 not in split.val
    assert len(split.val) == 5  # round(9 * 0.5) with halves up; the rare class gives none
    assert split.notes and "'rare'" in split.notes[0] and "training split only" in split.notes[0]


def test_val_fraction_zero_gives_empty_arrays_of_right_shape() -> None:
    clf = make_synthetic("moons", samples=40, val_fraction=0.0, features=["x1^2"])
    assert clf.x_val.shape == (0, 3) and clf.y_val.shape == (0,) and clf.y_val.dtype == np.int64
    assert clf.x_val_raw.shape == (0, 2) and clf.n_train == 40
    reg = make_synthetic("plane", samples=40, val_fraction=0.0)
    assert reg.x_val.shape == (0, 2) and reg.y_val.shape == (0, 1)


def test_val_fraction_limits() -> None:
    ds = make_synthetic("xor", samples=100, val_fraction=0.9)
    assert ds.n_val == 90 and ds.n_train == 10
    for bad in (-0.1, 0.91, True, "0.2"):
        with pytest.raises(DatasetError, match="val_fraction"):
            train_val_split(10, bad, seed=0)  # type: ignore[arg-type]


def test_standardisation_uses_training_statistics_only() -> None:
    ds = make_synthetic("gaussians", samples=400, noise=0.3, seed=11, val_fraction=0.3)
    np.testing.assert_allclose(ds.x_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(ds.x_train.std(axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(ds.feature_mean, ds.x_train_raw.mean(axis=0))
    all_raw = np.concatenate([ds.x_train_raw, ds.x_val_raw])
    assert not np.allclose(ds.feature_mean, all_raw.mean(axis=0))
    assert np.all(np.abs(ds.x_val.mean(axis=0)) > 1e-6)


def test_transform_reproduces_prepared_inputs() -> None:
    ds = make_synthetic("spiral", samples=300, noise=0.2, features=["x1*x2", "sin(x2)"])
    np.testing.assert_allclose(ds.transform(ds.x_train_raw), ds.x_train, atol=1e-12)
    np.testing.assert_allclose(ds.transform(ds.x_val_raw), ds.x_val, atol=1e-12)
    grid = np.stack(np.meshgrid(np.linspace(-6, 6, 5), np.linspace(-6, 6, 4)), -1).reshape(-1, 2)
    assert ds.transform(grid).shape == (20, 4)
    with pytest.raises(DatasetError, match=r"shape \(n, 2\)"):
        ds.transform(np.zeros((3, 4)))


def test_zero_variance_columns_do_not_produce_nan() -> None:
    x = np.column_stack([np.arange(10.0), np.full(10, 3.0), np.full(10, 1e6)])
    mean, std = fit_standardizer(x)
    assert std[1] == 1.0 and std[2] == 1.0
    ds = build_dataset(
        name="flat",
        task="regression",
        x_raw=x,
        y=np.arange(10.0),
        raw_feature_names=("a", "b", "c"),
        target_names=("y",),
        val_fraction=0.2,
    )
    assert np.isfinite(ds.x_train).all() and np.isfinite(ds.x_val).all()
    np.testing.assert_array_equal(ds.x_train[:, 1:], 0.0)
    digits = load_builtin("digits", val_fraction=0.1)
    assert np.isfinite(digits.x_train).all()
    always_blank = digits.x_train_raw.max(axis=0) == 0
    assert always_blank.any()
    np.testing.assert_array_equal(digits.x_train[:, always_blank], 0.0)


def test_arrays_are_read_only() -> None:
    ds = make_synthetic("circle", samples=20)
    with pytest.raises(ValueError, match="read-only"):
        ds.x_train[0, 0] = 1.0


def test_build_dataset_rejects_inconsistent_inputs() -> None:
    common = {"name": "t", "raw_feature_names": ("a",), "target_names": ("y",)}
    with pytest.raises(DatasetError, match="inputs must have shape"):
        build_dataset(task="regression", x_raw=np.zeros((4, 2)), y=np.zeros(4), **common)
    with pytest.raises(DatasetError, match="labels must lie in"):
        build_dataset(
            task="classification",
            x_raw=np.zeros((4, 1)),
            y=np.array([0, 1, 2, 0]),
            class_names=("a", "b"),
            **common,
        )
    with pytest.raises(DatasetError, match="task must be"):
        build_dataset(task="ranking", x_raw=np.zeros((4, 1)), y=np.zeros(4), **common)  # type: ignore[arg-type]
