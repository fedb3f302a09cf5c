"""Synthetic 2-D sets: determinism, shapes, balance, geometry and derived features."""

from __future__ import annotations

import numpy as np
import pytest

from core.datasets import DERIVED_FEATURES, generate, make_synthetic
from core.datasets.synthetic import SYNTHETIC
from core.errors import DatasetError

CLASSIFICATION = [n for n, s in SYNTHETIC.items() if s.task == "classification"]
REGRESSION = [n for n, s in SYNTHETIC.items() if s.task == "regression"]


def test_all_named_sets_exist() -> None:
    assert set(CLASSIFICATION) == {"circle", "xor", "gaussians", "spiral", "moons"}
    assert set(REGRESSION) == {"plane", "multi_gaussian", "sine"}


@pytest.mark.parametrize("name", list(SYNTHETIC))
def test_same_seed_same_data_other_seed_other_data(name: str) -> None:
    a = make_synthetic(name, samples=120, noise=0.2, seed=7)
    b = make_synthetic(name, samples=120, noise=0.2, seed=7)
    c = make_synthetic(name, samples=120, noise=0.2, seed=8)
    for field in ("x_train", "y_train", "x_val", "y_val", "x_train_raw"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.x_train_raw, c.x_train_raw)


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_shapes_dtypes_and_exact_balance(name: str) -> None:
    x, y = generate(name, 301, 0.5, seed=3)
    assert x.shape == (301, 2) and x.dtype == np.float64
    assert y.shape == (301,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [151, 150]

    ds = make_synthetic(name, samples=200, noise=0.1, seed=1, val_fraction=0.25)
    assert ds.task == "classification"
    assert ds.x_train.shape == (150, 2) and ds.x_val.shape == (50, 2)
    assert ds.y_train.dtype == np.int64 and ds.y_train.shape == (150,)
    assert ds.n_classes == 2 and ds.n_outputs == 2 and len(ds.class_names) == 2
    assert ds.feature_names == ("x1", "x2") and ds.target_names == ("class",)
    # Stratified: the 25% validation share is 25 + 25.
    assert np.bincount(ds.y_val).tolist() == [25, 25]


@pytest.mark.parametrize("name", REGRESSION)
def test_regression_shapes_and_dtypes(name: str) -> None:
    ds = make_synthetic(name, samples=100, noise=0.1, seed=0, val_fraction=0.3)
    n_raw = 1 if name == "sine" else 2
    assert ds.task == "regression"
    assert ds.x_train.shape == (70, n_raw) and ds.x_val.shape == (30, n_raw)
    assert ds.y_train.shape == (70, 1) and ds.y_train.dtype == np.float64
    assert ds.n_classes == 0 and ds.class_names == () and ds.n_outputs == 1


@pytest.mark.parametrize("name", list(SYNTHETIC))
def test_clean_points_lie_in_playground_square(name: str) -> None:
    x, _ = generate(name, 2000, 0.0, seed=0)
    assert np.all(np.abs(x) <= 6.0)
    # The sets fill a good part of the square rather than a corner of it.
    assert np.ptp(x[:, 0]) > 4.0


def test_circle_geometry_without_noise() -> None:
    x, y = generate("circle", 1000, 0.0, seed=2)
    r = np.hypot(x[:, 0], x[:, 1])
    assert r[y == 1].max() <= 2.5 and r[y == 0].min() >= 3.5


def test_xor_labels_follow_sign_product_without_noise() -> None:
    x, y = generate("xor", 1000, 0.0, seed=2)
    np.testing.assert_array_equal(y, (x[:, 0] * x[:, 1] > 0).astype(np.int64))
    assert np.abs(x).min() >= 0.3


def test_gaussians_centres_and_noise_spread() -> None:
    x, y = generate("gaussians", 4000, 0.0, seed=2)
    np.testing.assert_allclose(x[y == 1].mean(axis=0), [2, 2], atol=0.1)
    np.testing.assert_allclose(x[y == 0].mean(axis=0), [-2, -2], atol=0.1)
    noisy, _ = generate("gaussians", 4000, 1.0, seed=2)
    assert noisy[y == 1].std() > 2 * x[y == 1].std()


def test_spiral_and_moons_classes_overlap_more_with_noise() -> None:
    for name in ("spiral", "moons"):
        clean, y = generate(name, 1000, 0.0, seed=4)
        noisy, _ = generate(name, 1000, 0.8, seed=4)
        assert np.abs(noisy - clean).mean() > 0.3, name


def test_regression_targets_without_noise() -> None:
    x, y = generate("plane", 500, 0.0, seed=1)
    np.testing.assert_allclose(y[:, 0], (x[:, 0] + x[:, 1]) / 10)
    x, y = generate("sine", 500, 0.0, seed=1)
    assert x.shape == (500, 1)
    np.testing.assert_allclose(y, np.sin(x))
    x, y = generate("multi_gaussian", 3000, 0.0, seed=1)
    assert y.min() >= -1 and y.max() <= 1
    near_positive_bump = np.hypot(x[:, 0] + 4, x[:, 1] - 2.5) < 0.5
    near_negative_bump = np.hypot(x[:, 0], x[:, 1] - 2.5) < 0.5
    assert np.all(y[near_positive_bump] > 0.7) and np.all(y[near_negative_bump] < -0.7)


def test_regression_noise_moves_targets() -> None:
    x, y = generate("sine", 4000, 0.6, seed=1)
    assert 0.25 < np.std(y - np.sin(x)) < 0.35  # documented: sd 0.5 * noise
    x, y = generate("plane", 2000, 0.5, seed=1)
    assert np.abs(y[:, 0] - (x[:, 0] + x[:, 1]) / 10).max() > 0.2


def test_derived_features_are_appended_and_standardised() -> None:
    ds = make_synthetic("circle", samples=200, seed=5, features=list(DERIVED_FEATURES))
    assert ds.feature_names == ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
    assert ds.raw_feature_names == ("x1", "x2") and ds.n_features == 7
    unscaled = ds.x_train * ds.feature_std + ds.feature_mean
    x1, x2 = ds.x_train_raw[:, 0], ds.x_train_raw[:, 1]
    expected = np.stack([x1, x2, x1**2, x2**2, x1 * x2, np.sin(x1), np.sin(x2)], axis=1)
    np.testing.assert_allclose(unscaled, expected, atol=1e-12)


def test_sine_accepts_only_x1_features() -> None:
    ds = make_synthetic("sine", samples=50, features=["sin(x1)", "x1^2"])
    assert ds.feature_names == ("x1", "sin(x1)", "x1^2")
    with pytest.raises(DatasetError, match=r"'x2\^2' needs input x2"):
        make_synthetic("sine", samples=50, features=["x2^2"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "donut"}, "unknown synthetic dataset 'donut'"),
        ({"name": "xor", "samples": 5}, "samples must be between 10 and 100000, got 5"),
        ({"name": "xor", "samples": 50.0}, "samples must be an integer"),
        ({"name": "xor", "noise": 1.5}, "noise must be between 0 and 1, got 1.5"),
        ({"name": "xor", "noise": -0.1}, "noise must be between 0 and 1"),
        ({"name": "xor", "seed": -1}, "seed must be a non-negative integer"),
        ({"name": "xor", "val_fraction": 0.95}, "val_fraction must be between 0 and 0.9"),
        ({"name": "xor", "features": ["x3^2"]}, "unknown derived feature 'x3\\^2'"),
        ({"name": "xor", "features": ["x1^2", "x1^2"]}, "listed twice"),
    ],
)
def test_bad_arguments_raise_dataset_error(kwargs: dict, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        make_synthetic(**kwargs)
