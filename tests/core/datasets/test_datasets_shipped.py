"""Shipped real datasets: documented sizes, value ranges, licences and the resource locator."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np
import pytest

from core import resources
from core.datasets import load_builtin, read_raw
from core.datasets import shipped as shipped_module
from core.errors import DatasetError
from core.resources import resource_path


def test_digits_size_classes_and_pixel_range() -> None:
    raw = read_raw("digits")
    assert raw.x.shape == (1797, 64) and raw.y.shape == (1797,)
    assert raw.x.min() == 0 and raw.x.max() == 16
    np.testing.assert_array_equal(raw.x, np.round(raw.x))
    assert np.bincount(raw.y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert raw.class_names == tuple("0123456789")
    ds = load_builtin("digits", val_fraction=0.2)
    assert ds.image_shape == (1, 8, 8) and ds.n_classes == 10 and ds.n_features == 64
    assert ds.n_train + ds.n_val == 1797
    assert ds.x_train_raw.min() == 0 and ds.x_train_raw.max() == 16


def test_digit_image_looks_like_a_zero() -> None:
    raw = read_raw("digits")
    zero = raw.x[0].reshape(8, 8)
    assert raw.y[0] == 0
    # A zero has ink around a hollow middle.
    assert zero[3:5, 3:5].mean() < zero[1:7, 1:7].mean()


def test_iris_size_and_classes() -> None:
    raw = read_raw("iris")
    assert raw.x.shape == (150, 4)
    assert raw.class_names == ("setosa", "versicolor", "virginica")
    assert np.bincount(raw.y).tolist() == [50, 50, 50]
    assert raw.x[0].tolist() == [5.1, 3.5, 1.4, 0.2]
    assert raw.feature_names[2] == "petal length (cm)"
    ds = load_builtin("iris", val_fraction=0.0)
    assert ds.x_train.shape == (150, 4) and ds.x_val.shape == (0, 4) and ds.n_outputs == 3


def test_diabetes_size_and_target() -> None:
    raw = read_raw("diabetes")
    assert raw.x.shape == (442, 10) and raw.y.shape == (442, 1)
    assert raw.feature_names == ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")
    assert raw.y.min() == 25 and raw.y.max() == 346
    assert set(np.unique(raw.x[:, 1])) == {1.0, 2.0}
    ds = load_builtin("diabetes", val_fraction=0.2, seed=1)
    assert ds.task == "regression" and ds.n_outputs == 1 and ds.n_features == 10
    assert ds.y_train.shape == (354, 1) and ds.y_val.shape == (88, 1)
    # Targets stay in their own units; inputs are standardised.
    assert ds.y_train.max() > 300
    np.testing.assert_allclose(ds.x_train.mean(axis=0), 0.0, atol=1e-12)


def test_builtin_seed_changes_only_the_split() -> None:
    a, b = load_builtin("iris", seed=1), load_builtin("iris", seed=2)
    assert not np.array_equal(a.x_train_raw, b.x_train_raw)
    np.testing.assert_array_equal(
        np.sort(np.concatenate([a.x_train_raw, a.x_val_raw]), axis=0),
        np.sort(np.concatenate([b.x_train_raw, b.x_val_raw]), axis=0),
    )


def test_unknown_builtin_name() -> None:
    with pytest.raises(DatasetError, match=r"unknown built-in dataset 'mnist' \(known: digits"):
        load_builtin("mnist")


def test_data_files_have_licence_and_readme() -> None:
    folder = resource_path("datasets")
    licence = (folder / "COPYING-scikit-learn").read_text(encoding="utf-8")
    assert licence.startswith("BSD 3-Clause License")
    readme = (folder / "README.md").read_text(encoding="utf-8")
    for name in ("digits.csv.gz", "iris.csv", "diabetes_data_raw.csv.gz", "diabetes_target.csv.gz"):
        assert (folder / name).is_file()
        assert name in readme
    assert "BSD 3-Clause" in readme


def test_damaged_data_file_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "datasets").mkdir()
    with gzip.open(tmp_path / "datasets" / "digits.csv.gz", "wt") as handle:
        handle.write("1,2,3\n4,5,6\n")
    monkeypatch.setattr(shipped_module, "resource_path", lambda *p: tmp_path.joinpath(*p))
    with pytest.raises(DatasetError, match=r"digits.csv.gz has shape \(2, 3\), expected"):
        read_raw("digits")
    with pytest.raises(DatasetError, match="cannot read shipped data file .*iris.csv"):
        read_raw("iris")


def test_resource_path_from_checkout() -> None:
    root = Path(resources.__file__).resolve().parent.parent
    assert resource_path("datasets", "iris.csv") == root / "resources" / "datasets" / "iris.csv"


def test_resource_path_from_pyinstaller_bundle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resource_path("datasets", "iris.csv") == tmp_path / "resources" / "datasets" / "iris.csv"
