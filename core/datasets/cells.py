"""Values a network cannot train on, found and named by their line and column.

A CSV file can hold finite numbers so large that standardising their column overflows
(one ``1e200`` makes the column's spread infinite, so every standardised value becomes
0; ``1.7e308`` makes its mean infinite) or that stop being finite in the training
precision (a ``1e39`` target in float32). Such values are refused, never trained on:
:class:`StandardisedCells` checks the standardisation when a dataset is built, and
:func:`check_precision` checks a dataset against a precision (``float32``/``float64``),
called when a trainer is built and by the window when a CSV file is imported. Messages
name the cell as the other CSV errors do (``data.csv, line 7, column 2 "b": ...``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from core.errors import DatasetError

if TYPE_CHECKING:
    from core.datasets.dataset import Dataset

__all__ = ["TARGET_HEADROOM", "Cell", "CellOrigin", "StandardisedCells", "check_precision",
           "frozen", "precision_error", "precision_problem"]

#: Regression targets must stay this far below the square root of the precision's largest
#: number: the losses square the error and sum it over a batch.
TARGET_HEADROOM = 1e3


def frozen(a: np.ndarray) -> np.ndarray:
    """``a`` as a C-contiguous read-only array (no copy when it already is contiguous)."""
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class CellOrigin:
    """Where a dataset's rows came from in a file, so messages can name a line and column.

    Attributes
    ----------
    file_name : str
    feature_columns : tuple of str
        Per raw input feature, its column as messages name it (``column 2 "b"``).
    target_columns : tuple of str
        The same for the target column(s).
    lines : ndarray, shape (n_rows,), integer
        The 1-based file line of each row described.
    feature_numbers, target_numbers : tuple of int
        The 1-based file column of each raw input feature and target.
    """

    file_name: str
    feature_columns: tuple[str, ...]
    target_columns: tuple[str, ...]
    lines: np.ndarray
    feature_numbers: tuple[int, ...] = ()
    target_numbers: tuple[int, ...] = ()

    def rows(self, index: np.ndarray) -> CellOrigin:
        """The origin of the rows ``index`` (an integer array into ``lines``)."""
        return replace(self, lines=frozen(self.lines[index]))

    def where(self, row: int, column: str) -> str:
        """``data.csv, line 7, column 2 "b"`` for row ``row`` and a column label."""
        return f"{self.file_name}, line {int(self.lines[row])}, {column}"


Cell = tuple[int, int]  # (1-based file line, 1-based file column)


def _where(name: str, part: str, origin: CellOrigin | None, row: int, column: int,
           names: tuple[str, ...], target: bool = False) -> tuple[str, tuple[Cell, ...]]:
    """Name a cell: by file line and column when the origin is known, else by row.
    Returns the words and the (line, column) of the cell in its file, if known."""
    labels = (origin.target_columns if target else origin.feature_columns) if origin else ()
    if origin is not None and column < len(labels):
        numbers = origin.target_numbers if target else origin.feature_numbers
        cells = ((int(origin.lines[row]), numbers[column]),) if column < len(numbers) else ()
        return origin.where(row, labels[column]), cells
    what = "target" if target else "input"
    label = names[column] if column < len(names) else str(column + 1)
    return f'{name}, {part} row {row + 1}, {what} "{label}"', ()


def _first_bad(x: np.ndarray) -> tuple[int, int] | None:
    """(row, column) of the first non-finite entry in row order, else None."""
    bad = ~np.isfinite(x)
    if not bad.any():
        return None
    row = int(np.argmax(bad.any(axis=1)))
    return row, int(np.argmax(bad[row]))


@dataclass(frozen=True)
class StandardisedCells:
    """The raw rows a standardisation is fitted on, to name a value that breaks it.

    ``x_train_raw``/``x_val_raw`` (n, n_raw) float64; the standardised arrays may have
    derived columns after the raw ones (never from CSV files).
    """

    name: str
    feature_names: tuple[str, ...]
    x_train_raw: np.ndarray
    x_val_raw: np.ndarray
    train_origin: CellOrigin | None
    val_origin: CellOrigin | None

    def _cell(self, part: str, row: int, column: int
              ) -> tuple[str, tuple[Cell, ...], float | None]:
        raw = self.x_train_raw if part == "training" else self.x_val_raw
        origin = self.train_origin if part == "training" else self.val_origin
        value = float(raw[row, column]) if column < raw.shape[1] else None
        return (*_where(self.name, part, origin, row, column, self.feature_names), value)

    def check_statistics(self, mean: np.ndarray, std: np.ndarray) -> None:
        """Raise if a column's training mean or spread is not finite (overflowed).

        Names the column's largest value, the one that overflows.
        """
        bad = ~(np.isfinite(mean) & np.isfinite(std))
        if not bad.any():
            return
        column = int(np.argmax(bad))
        raw = self.x_train_raw
        if column >= raw.shape[1]:
            raise DatasetError(f"{self.name}: derived input {self.feature_names[column]!r} "
                               "overflows when standardised; rescale its inputs")
        row = int(np.argmax(np.abs(raw[:, column])))
        where, cells, value = self._cell("training", row, column)
        raise DatasetError(
            f"{where}: {value:.6g} is too large to standardise its column (the column's mean "
            "or spread overflows float64, which would turn the column into zeros or "
            "infinities); rescale the column, e.g. to other units, or remove the row",
            cells=cells)

    def check_finite(self, x_train: np.ndarray, x_val: np.ndarray) -> None:
        """Raise if a standardised value (n, n_features) is not finite."""
        for part, x in (("training", x_train), ("validation", x_val)):
            found = _first_bad(x)
            if found is not None:
                where, cells, value = self._cell(part, *found)
                shown = "this value" if value is None else f"{value:.6g}"
                raise DatasetError(
                    f"{where}: {shown} is not finite once standardised (it lies too far "
                    "from the column's training values); rescale the column or remove the row",
                    cells=cells)


def precision_problem(dataset: Dataset | Any, dtype: str | np.dtype) -> str:
    """Why ``dataset`` cannot be trained on in precision ``dtype``, or "" if it can
    (the message of :func:`precision_error`)."""
    error = precision_error(dataset, dtype)
    return "" if error is None else str(error)


def precision_error(dataset: Dataset | Any, dtype: str | np.dtype) -> DatasetError | None:
    """Why ``dataset`` cannot be trained on in precision ``dtype`` (an error naming the
    cell, with its ``line`` and ``column`` when the data came from a file), or None.

    Checks the standardised inputs (each must be finite once cast to ``dtype``) and, for
    regression, the targets (each at most ``sqrt(finfo(dtype).max) / TARGET_HEADROOM`` in
    size, as the losses square and sum errors). Reads only ``x_train``, ``x_val``,
    ``y_train``, ``y_val`` and ``task`` besides the optional names and origins, so any
    dataset-like object works. Cost: a pass over the arrays, no copies of them.
    """
    dt = np.dtype(dtype)
    if dt.kind != "f":
        return None
    finfo = np.finfo(dt)
    name = str(getattr(dataset, "name", "dataset"))
    features = tuple(getattr(dataset, "feature_names", ()))
    targets = tuple(getattr(dataset, "target_names", ()))
    parts = (("training", dataset.x_train, dataset.y_train,
              getattr(dataset, "train_origin", None), getattr(dataset, "x_train_raw", None)),
             ("validation", dataset.x_val, dataset.y_val,
              getattr(dataset, "val_origin", None), getattr(dataset, "x_val_raw", None)))
    for part, x, _, origin, raw in parts:
        if x.shape[0] == 0:
            continue
        # max of (max, -min): the same as abs().max() without a full-size temporary.
        largest = np.maximum(x.max(axis=0), -x.min(axis=0))
        with np.errstate(over="ignore"):
            bad = ~np.isfinite(largest.astype(dt))
        if bad.any():
            column = int(np.argmax(bad))
            row = int(np.argmax(np.abs(x[:, column])))
            where, cells = _where(name, part, origin, row, column, features)
            value = (f"{float(raw[row, column]):.6g}" if raw is not None
                     and column < raw.shape[1] else "this value")
            return DatasetError(
                f"{where}: {value} becomes {float(x[row, column]):.3g} once standardised, "
                f"beyond the largest {dt.name} number ({float(finfo.max):.3g}); train in "
                "float64 (Precision) or rescale the column", cells=cells)
    if getattr(dataset, "task", "") != "regression":
        return None
    limit = float(np.sqrt(finfo.max)) / TARGET_HEADROOM
    for part, _, y, origin, _ in parts:
        if y.shape[0] == 0:  # an empty validation split: reshape(0, -1) cannot be resolved
            continue
        y2 = np.asarray(y).reshape(y.shape[0], -1)
        largest = np.abs(y2).max(axis=0)
        if (largest > limit).any():
            column = int(np.argmax(largest > limit))
            row = int(np.argmax(np.abs(y2[:, column])))
            where, cells = _where(name, part, origin, row, column, targets, target=True)
            return DatasetError(
                f"{where}: the target {float(y2[row, column]):.6g} is too large for "
                f"{dt.name} training: the loss squares the error, which overflows for "
                f"targets above {limit:.2g}; rescale the column (e.g. other units)"
                + (" or train in float64 (Precision)" if dt != np.float64 else ""),
                cells=cells)
    return None


def check_precision(dataset: Dataset | Any, dtype: str | np.dtype) -> None:
    """Raise :func:`precision_error`'s error, if any."""
    error = precision_error(dataset, dtype)
    if error is not None:
        raise error
