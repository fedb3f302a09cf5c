"""Readers for the real datasets shipped in ``resources/datasets/``.

The files are scikit-learn's own copies (BSD-3-Clause, see ``resources/datasets/README.md``)
in their original formats: ``digits.csv.gz`` (64 pixel columns then the digit, no
header), ``iris.csv`` (a first line ``150,4,<class names>``, then four measurements and
a class index per row) and the diabetes pair ``diabetes_data_raw.csv.gz`` (ten
space-separated raw columns) plus ``diabetes_target.csv.gz`` (one value per line).
Readers check the sizes they expect and raise ``DatasetError`` naming the file if an
installation is damaged.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.datasets.dataset import Dataset, Task, build_dataset
from core.datasets.split import check_seed, check_val_fraction
from core.errors import DatasetError
from core.resources import resource_path

__all__ = ["SHIPPED", "RawData", "ShippedSet", "load_builtin", "read_raw"]


@dataclass(frozen=True)
class RawData:
    """A shipped dataset as read from disk, before splitting and scaling.

    Attributes
    ----------
    x : ndarray, shape (n, n_features), float64
    y : ndarray
        Class indices, shape (n,), int64; or regression targets, shape (n, 1), float64.
    feature_names, class_names, target_names : tuple of str
    """

    x: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    target_names: tuple[str, ...]


def _load_text(path: Path, delimiter: str | None, ndmin: int = 2, skiprows: int = 0) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            return np.loadtxt(
                handle, delimiter=delimiter, ndmin=ndmin, skiprows=skiprows, dtype=np.float64
            )
    except (OSError, ValueError, EOFError) as exc:
        raise DatasetError(f"cannot read shipped data file {path}: {exc}") from exc


def _expect_shape(path: Path, array: np.ndarray, shape: tuple[int, ...]) -> None:
    if array.shape != shape:
        raise DatasetError(f"shipped data file {path} has shape {array.shape}, expected {shape}")


def _read_digits() -> RawData:
    path = resource_path("datasets", "digits.csv.gz")
    table = _load_text(path, ",")
    _expect_shape(path, table, (1797, 65))
    names = tuple(f"pixel_{r}_{c}" for r in range(8) for c in range(8))
    return RawData(
        x=table[:, :64],
        y=table[:, 64].astype(np.int64),
        feature_names=names,
        class_names=tuple(str(d) for d in range(10)),
        target_names=("digit",),
    )


def _read_iris() -> RawData:
    path = resource_path("datasets", "iris.csv")
    try:
        first_line = path.read_text(encoding="utf-8").splitlines()[0]
    except (OSError, UnicodeDecodeError, IndexError) as exc:
        raise DatasetError(f"cannot read shipped data file {path}: {exc}") from exc
    class_names = tuple(cell.strip() for cell in first_line.split(",")[2:])
    table = _load_text(path, ",", skiprows=1)
    _expect_shape(path, table, (150, 5))
    if class_names != ("setosa", "versicolor", "virginica"):
        raise DatasetError(f"shipped data file {path} has unexpected classes {class_names}")
    return RawData(
        x=table[:, :4],
        y=table[:, 4].astype(np.int64),
        feature_names=(
            "sepal length (cm)",
            "sepal width (cm)",
            "petal length (cm)",
            "petal width (cm)",
        ),
        class_names=class_names,
        target_names=("species",),
    )


def _read_diabetes() -> RawData:
    data_path = resource_path("datasets", "diabetes_data_raw.csv.gz")
    target_path = resource_path("datasets", "diabetes_target.csv.gz")
    x = _load_text(data_path, None)
    y = _load_text(target_path, None, ndmin=1)
    _expect_shape(data_path, x, (442, 10))
    _expect_shape(target_path, y, (442,))
    return RawData(
        x=x,
        y=y[:, None],
        feature_names=("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"),
        class_names=(),
        target_names=("disease progression",),
    )


@dataclass(frozen=True)
class ShippedSet:
    """How to read one shipped dataset and what it is."""

    task: Task
    reader: Callable[[], RawData]
    description: str
    n_samples: int
    n_features: int
    n_outputs: int
    image_shape: tuple[int, int, int] | None = None


#: Every shipped dataset by name; the registry and the spec validation read this table.
SHIPPED: dict[str, ShippedSet] = {
    "digits": ShippedSet(
        task="classification",
        reader=_read_digits,
        description="8x8 images of handwritten digits 0-9, pixel values 0..16",
        n_samples=1797,
        n_features=64,
        n_outputs=10,
        image_shape=(1, 8, 8),
    ),
    "iris": ShippedSet(
        task="classification",
        reader=_read_iris,
        description="Fisher's iris flowers: four measurements, three species",
        n_samples=150,
        n_features=4,
        n_outputs=3,
    ),
    "diabetes": ShippedSet(
        task="regression",
        reader=_read_diabetes,
        description="disease progression of 442 diabetes patients from ten baseline variables",
        n_samples=442,
        n_features=10,
        n_outputs=1,
    ),
}


def _lookup(name: str) -> ShippedSet:
    if name not in SHIPPED:
        raise DatasetError(f"unknown built-in dataset {name!r} (known: {', '.join(SHIPPED)})")
    return SHIPPED[name]


def read_raw(name: str) -> RawData:
    """Read a shipped dataset without splitting or scaling.

    Parameters
    ----------
    name : {"digits", "iris", "diabetes"}

    Returns
    -------
    RawData
        digits: x (1797, 64) pixel counts 0..16, y (1797,) digits 0-9;
        iris: x (150, 4) centimetres, y (150,) in {0, 1, 2};
        diabetes: x (442, 10) raw (unscaled) variables, y (442, 1).
    """
    return _lookup(name).reader()


def load_builtin(name: str, val_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """Load a shipped dataset, split it (stratified for classification) and standardise it.

    Parameters
    ----------
    name : {"digits", "iris", "diabetes"}
    val_fraction : float
        Validation share in [0, 0.9].
    seed : int
        Seed of the split.

    Returns
    -------
    Dataset
        Inputs standardised with training statistics (constant pixel columns stay 0);
        regression targets are left in their own units.
    """
    info = _lookup(name)
    check_val_fraction(val_fraction)
    check_seed(seed)
    raw = info.reader()
    return build_dataset(
        name=name,
        task=info.task,
        x_raw=raw.x,
        y=raw.y,
        raw_feature_names=raw.feature_names,
        target_names=raw.target_names,
        class_names=raw.class_names,
        val_fraction=val_fraction,
        seed=seed,
        image_shape=info.image_shape,
        description=info.description,
    )
