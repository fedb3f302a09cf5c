"""The ``Dataset`` type every trainer, plot and CLI command consumes, and its one builder.

A :class:`Dataset` holds a training and a validation split ready for the network
(derived features appended, inputs standardised with training statistics) together with
what a preview needs: the raw, unscaled inputs for scatter plots, the image shape of
image data, and :meth:`Dataset.transform` to push new raw points (a plotting grid)
through exactly the same preparation. Every loader (synthetic, shipped, CSV) ends in
:func:`build_dataset`, so splitting and scaling follow one rule everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from core.datasets.cells import CellOrigin, StandardisedCells, frozen
from core.datasets.features import derive_features, fit_standardizer, standardize
from core.datasets.split import train_val_split
from core.errors import DatasetError

__all__ = ["TASKS", "CellOrigin", "Dataset", "Task", "build_dataset"]

Task = Literal["classification", "regression"]
TASKS: tuple[str, ...] = ("classification", "regression")


_frozen = frozen


@dataclass(frozen=True, eq=False)
class Dataset:
    """A dataset split into training and validation parts, ready for training.

    Attributes
    ----------
    name : str
        Short name (``"circle"``, ``"iris"``, a CSV file's stem).
    task : {"classification", "regression"}
    x_train : ndarray, shape (n_train, n_features), float64
        Network inputs: raw columns then derived ones, standardised.
    y_train : ndarray
        Classification: shape (n_train,), int64 class indices in ``[0, n_classes)``.
        Regression: shape (n_train, n_targets), float64, in the data's own units.
    x_val, y_val : ndarray
        The same for the validation part; ``n_val`` may be 0.
    feature_names : tuple of str, length n_features
    class_names : tuple of str
        One name per class; empty for regression.
    target_names : tuple of str
        Name of the target column(s) (classification: one name, the label column).
    x_train_raw, x_val_raw : ndarray, shape (n, n_raw), float64
        The same rows before derived features and scaling, for plots.
    raw_feature_names : tuple of str, length n_raw
    derived_features : tuple of str
        Derived features appended after the raw columns (see ``DERIVED_FEATURES``).
    feature_mean, feature_std : ndarray, shape (n_features,), float64
        The standardisation fitted on the training part (0 and 1 when not scaled).
    image_shape : tuple of int, optional
        ``(channels, height, width)`` when every input row is an image, its values in
        channel-first order (``(1, 8, 8)`` for digits, ``(1, 28, 28)`` for MNIST).
    description : str
        One line saying what the data is.
    notes : tuple of str
        Remarks made while building, e.g. a class that is missing from validation.
    task_detected : bool
        The task was detected from the data (a CSV file's target column with task
        "auto"), not chosen.
    train_origin, val_origin : CellOrigin, optional
        The file line of every training and validation row (CSV data); None otherwise.

    Notes
    -----
    All arrays are read-only; take a copy before modifying one.
    """

    name: str
    task: Task
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    target_names: tuple[str, ...]
    x_train_raw: np.ndarray
    x_val_raw: np.ndarray
    raw_feature_names: tuple[str, ...]
    feature_mean: np.ndarray
    feature_std: np.ndarray
    derived_features: tuple[str, ...] = ()
    image_shape: tuple[int, int, int] | None = None
    description: str = ""
    notes: tuple[str, ...] = ()
    task_detected: bool = False
    train_origin: CellOrigin | None = None
    val_origin: CellOrigin | None = None

    @property
    def n_features(self) -> int:
        """Number of network inputs (raw plus derived columns)."""
        return int(self.x_train.shape[1])

    @property
    def n_classes(self) -> int:
        """Number of classes; 0 for regression."""
        return len(self.class_names) if self.task == "classification" else 0

    @property
    def n_targets(self) -> int:
        """Number of regression targets; 1 (the label) for classification."""
        return int(self.y_train.shape[1]) if self.task == "regression" else 1

    @property
    def n_outputs(self) -> int:
        """Width of the network's output layer: ``n_classes`` or ``n_targets``."""
        return self.n_classes if self.task == "classification" else self.n_targets

    @property
    def n_train(self) -> int:
        """Number of training rows."""
        return int(self.x_train.shape[0])

    @property
    def n_val(self) -> int:
        """Number of validation rows."""
        return int(self.x_val.shape[0])

    def transform(self, x_raw: np.ndarray) -> np.ndarray:
        """Prepare new raw inputs exactly as the training inputs were prepared.

        Parameters
        ----------
        x_raw : array_like, shape (n, n_raw)
            Points in raw units, e.g. a grid over the plotted area.

        Returns
        -------
        ndarray, shape (n, n_features), float64
            Derived features appended, then standardised with the training statistics.
        """
        x = np.asarray(x_raw, dtype=np.float64)
        n_raw = len(self.raw_feature_names)
        if x.ndim != 2 or x.shape[1] != n_raw:
            raise DatasetError(
                f"transform of {self.name!r} expects raw inputs of shape (n, {n_raw}), "
                f"got {x.shape}"
            )
        return standardize(
            derive_features(x, self.derived_features), self.feature_mean, self.feature_std
        )


def build_dataset(
    *,
    name: str,
    task: Task,
    x_raw: np.ndarray,
    y: np.ndarray,
    raw_feature_names: Sequence[str],
    target_names: Sequence[str],
    class_names: Sequence[str] = (),
    val_fraction: float = 0.2,
    seed: int = 0,
    derived_features: Sequence[str] = (),
    standardize_inputs: bool = True,
    image_shape: tuple[int, int, int] | None = None,
    description: str = "",
    notes: Sequence[str] = (),
    task_detected: bool = False,
    origin: CellOrigin | None = None,
) -> Dataset:
    """Split, derive features, standardise and wrap everything in a :class:`Dataset`.

    Parameters
    ----------
    name, task, raw_feature_names, target_names, class_names, image_shape, description
        Copied into the dataset (see :class:`Dataset`).
    x_raw : ndarray, shape (n, n_raw)
        All rows, raw units.
    y : ndarray
        Classification: shape (n,) integer class indices into ``class_names``.
        Regression: shape (n,) or (n, n_targets) numbers.
    val_fraction : float
        Validation share in [0, 0.9]; the split is stratified for classification.
    seed : int
        Seed of the split.
    derived_features : sequence of str
        Derived features to append (see ``DERIVED_FEATURES``).
    standardize_inputs : bool
        Standardise inputs with training statistics (True for every built-in loader).
    notes : sequence of str
        Remarks from the loader, kept before the split's own notes.
    task_detected : bool
        Whether the loader detected ``task`` from the data (see :class:`Dataset`).
    origin : CellOrigin, optional
        The file line of every row of ``x_raw`` (CSV data), split with the rows.

    Returns
    -------
    Dataset

    Raises
    ------
    DatasetError
        Bad shapes or labels, or a column whose standardisation is not finite (a value
        too large to standardise; named by its line and column when ``origin`` is given).
    """
    if task not in TASKS:
        raise DatasetError(f"task must be 'classification' or 'regression', got {task!r}")
    x_raw = np.asarray(x_raw, dtype=np.float64)
    if x_raw.ndim != 2 or x_raw.shape[1] != len(raw_feature_names):
        raise DatasetError(
            f"{name}: inputs must have shape (n, {len(raw_feature_names)}), got {x_raw.shape}"
        )
    n = x_raw.shape[0]
    if image_shape is not None and (len(image_shape) != 3 or
                                    int(np.prod(image_shape)) != x_raw.shape[1]):
        raise DatasetError(f"{name}: image shape {image_shape} (channels, height, width) "
                           f"does not hold {x_raw.shape[1]} input values")
    if task == "classification":
        labels = np.asarray(y).astype(np.int64, copy=False)
        if labels.shape != (n,):
            raise DatasetError(f"{name}: labels must have shape ({n},), got {labels.shape}")
        if len(class_names) < 2:
            raise DatasetError(f"{name}: classification needs at least two classes")
        if n and (labels.min() < 0 or labels.max() >= len(class_names)):
            raise DatasetError(f"{name}: labels must lie in [0, {len(class_names)})")
        split = train_val_split(n, val_fraction, seed, labels, tuple(class_names))
        targets = labels
    else:
        targets = np.asarray(y, dtype=np.float64)
        targets = targets.reshape(n, -1) if targets.ndim == 1 else targets
        if targets.ndim != 2 or targets.shape[0] != n:
            raise DatasetError(f"{name}: targets must have {n} rows, got shape {targets.shape}")
        split = train_val_split(n, val_fraction, seed)

    derived = tuple(derived_features)
    x_all = derive_features(x_raw, derived)
    feature_names = tuple(raw_feature_names) + derived
    train_origin = origin.rows(split.train) if origin is not None else None
    val_origin = origin.rows(split.val) if origin is not None else None
    x_train_raw, x_val_raw = x_raw[split.train], x_raw[split.val]
    # Copies in split order, standardised in place: no further full-size temporaries.
    x_train, x_val = x_all[split.train], x_all[split.val]
    del x_all, x_raw  # the caller may have handed them over: free them before scaling
    if standardize_inputs:
        mean, std = fit_standardizer(x_train)
        cells = StandardisedCells(name, feature_names, x_train_raw, x_val_raw,
                                  train_origin, val_origin)
        cells.check_statistics(mean, std)
        standardize(x_train, mean, std, out=x_train)
        standardize(x_val, mean, std, out=x_val)
        cells.check_finite(x_train, x_val)
    else:
        mean, std = np.zeros(x_train.shape[1]), np.ones(x_train.shape[1])
    return Dataset(
        name=name,
        task=task,
        x_train=_frozen(x_train),
        y_train=_frozen(targets[split.train]),
        x_val=_frozen(x_val),
        y_val=_frozen(targets[split.val]),
        feature_names=feature_names,
        class_names=tuple(class_names) if task == "classification" else (),
        target_names=tuple(target_names),
        x_train_raw=_frozen(x_train_raw),
        x_val_raw=_frozen(x_val_raw),
        raw_feature_names=tuple(raw_feature_names),
        feature_mean=_frozen(mean),
        feature_std=_frozen(std),
        derived_features=derived,
        image_shape=image_shape,
        description=description,
        notes=tuple(notes) + split.notes,
        task_detected=task_detected,
        train_origin=train_origin,
        val_origin=val_origin,
    )
