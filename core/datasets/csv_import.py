"""Turning a user's CSV file into a :class:`Dataset`.

``csv_table`` has already checked the file's structure; this module reads the cells as
numbers, picks the target column, decides classification or regression and maps class
labels to indices. Any unusable cell (empty, not a number, NaN, infinity) raises
``DatasetError`` naming its line and column; nothing is dropped or replaced.

Task detection when ``task="auto"``: the target is *classification* if any of its cells
is not a number, or if every cell is an integer value (``3`` or ``3.0``) and there are at
most 20 distinct values and at most half as many distinct values as rows (so, on
average, at least two rows per class). Otherwise it is *regression*. Pass ``task``
explicitly to override. Class labels are sorted: numerically when all are numbers
(``2`` before ``10``), otherwise as text; class ``i`` is the ``i``-th label.

Values too large to train on (standardisation that overflows, targets too large for the
training precision) are refused by ``core.datasets.cells`` with their line and column.
The file is parsed in chunks straight into arrays (``csv_columns``), and a progress
callback can follow and cancel the import.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np

from core.datasets.cells import CellOrigin
from core.datasets.csv_columns import ParsedCsv, cell_problem, parse_rows
from core.datasets.csv_table import (
    DEFAULT_MAX_BYTES,
    ImportCancelled,
    Progress,
    column_label,
    open_csv,
    read_rows,
    stream_size,
)
from core.datasets.dataset import Dataset, build_dataset
from core.datasets.split import check_seed, check_val_fraction
from core.errors import DatasetError

__all__ = ["CSV_TASKS", "MAX_AUTO_CLASSES", "detect_task", "load_csv", "read_csv_dataset"]

CSV_TASKS: tuple[str, ...] = ("auto", "classification", "regression")

#: Most distinct integer values an automatically detected classification target may have.
MAX_AUTO_CLASSES = 20


def _resolve_target(name: str, header: tuple[str, ...], target: str | int | None) -> int:
    n = len(header)
    available = ", ".join(f'"{c}"' for c in header)
    if target is None:
        return n - 1
    if isinstance(target, bool) or not isinstance(target, str | int):
        raise DatasetError(f"target must be a column name or index, got {target!r}")
    if isinstance(target, int):
        if not -n <= target < n:
            raise DatasetError(
                f"{name}: target column index {target} is out of range; the file "
                f"has {n} columns: {available}"
            )
        return target % n
    if target.strip() not in header:
        raise DatasetError(
            f'{name}: there is no column named "{target}"; available columns: {available}'
        )
    return header.index(target.strip())


def _task_of_numbers(values: np.ndarray, distinct: np.ndarray | None = None) -> str:
    """The detection rule for a target column of finite numbers (n,); ``distinct`` is
    ``np.unique(values)`` when already known."""
    distinct = np.unique(values) if distinct is None else distinct
    is_integer = bool(np.all(distinct == np.round(distinct)))
    few = len(distinct) <= MAX_AUTO_CLASSES and len(distinct) <= len(values) / 2
    return "classification" if is_integer and few else "regression"


def detect_task(cells: list[str]) -> str:
    """Decide classification or regression for a target column (rule in the module doc).

    Parameters
    ----------
    cells : list of str
        The target column's cells (all non-empty).

    Returns
    -------
    {"classification", "regression"}
    """
    if any(cell_problem(cell.strip()) is not None for cell in cells):
        return "classification"
    return _task_of_numbers(np.array(cells, dtype=np.float64))


def _numeric_classes(distinct: np.ndarray) -> tuple[str, ...]:
    return tuple(str(int(v)) if v == round(v) else repr(float(v)) for v in distinct)


def _dataset_of(parsed: ParsedCsv, task: str, val_fraction: float, seed: int,
                stem: str) -> Dataset:
    """Decide the task, map labels, split and standardise (``build_dataset``)."""
    name, header, t = parsed.name, parsed.header, parsed.target
    values = parsed.target_values
    unique: tuple[np.ndarray, np.ndarray] | None = None
    if values is not None and task != "regression":
        unique = np.unique(values, return_inverse=True)
    # Detected, not chosen: ``Dataset.task_detected`` says so, and each front end says
    # in its own words how to choose otherwise.
    detected = task == "auto"
    if detected:
        task = ("classification" if values is None or unique is None
                else _task_of_numbers(values, unique[0]))
    target_label = column_label(t, header)
    if task == "classification":
        if parsed.target_codes is not None:
            y, class_names = parsed.target_codes, parsed.target_labels
        else:
            assert unique is not None
            y, class_names = unique[1], _numeric_classes(unique[0])
        if len(class_names) < 2:
            raise DatasetError(
                f"{name}: target {target_label} has only one class ({class_names[0]!r}); "
                "classification needs at least two"
            )
    else:
        assert parsed.target_values is not None  # text in a regression target was refused
        y, class_names = values[:, None], ()
    del values, unique
    feature_indices = [j for j in range(len(header)) if j != t]
    origin = CellOrigin(name, tuple(column_label(j, header) for j in feature_indices),
                        (target_label,), parsed.lines,
                        tuple(j + 1 for j in feature_indices), (t + 1,))
    return build_dataset(
        name=stem,
        task=task,  # type: ignore[arg-type]
        x_raw=parsed.take_features(),  # build_dataset may free it once split
        y=y,
        raw_feature_names=tuple(header[j] for j in feature_indices),
        target_names=(header[t],),
        class_names=class_names,
        val_fraction=val_fraction,
        seed=seed,
        description=f"{name}: {parsed.n_rows} rows, target {target_label}",
        task_detected=detected,
        origin=origin,
    )


def read_csv_dataset(
    stream: BinaryIO,
    name: str,
    target: str | int | None = None,
    task: str = "auto",
    val_fraction: float = 0.2,
    seed: int = 0,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Progress | None = None,
) -> Dataset:
    """Read a dataset from an open binary CSV stream; see :func:`load_csv`.

    ``name`` is the file name used in messages (its stem names the dataset); ``max_bytes``
    only chooses the line-number width here (the caller limits what the stream holds).
    """
    if task not in CSV_TASKS:
        raise DatasetError(f"task must be one of {', '.join(CSV_TASKS)}, got {task!r}")
    check_val_fraction(val_fraction)
    check_seed(seed)
    rows = read_rows(stream, name, progress=progress)
    if len(rows.header) < 2:
        raise DatasetError(
            f'{name}: only one column ("{rows.header[0]}"); a dataset needs at least one '
            "input column and a target column"
        )
    t = _resolve_target(name, rows.header, target)
    parsed = parse_rows(rows, t, task, stream_size(stream), max_bytes)
    if progress is not None and not progress(1.0):
        raise ImportCancelled(f"reading {name} was cancelled")
    return _dataset_of(parsed, task, val_fraction, seed, Path(name).stem)


def load_csv(
    path: str | Path,
    target: str | int | None = None,
    task: str = "auto",
    val_fraction: float = 0.2,
    seed: int = 0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Progress | None = None,
) -> Dataset:
    """Load a CSV file with a header row as a dataset.

    Parameters
    ----------
    path : str or pathlib.Path
        The file; see :func:`core.datasets.csv_table.read_rows` for the accepted formats.
    target : str or int, optional
        The target column: a header name, or a 0-based index (negative counts from the
        end). Default: the last column. Every other column is a numeric input feature.
    task : {"auto", "classification", "regression"}
        ``"auto"`` applies the detection rule of the module docstring.
    val_fraction : float
        Validation share in [0, 0.9]; stratified by class for classification. A class
        with a single row stays in training only (``Dataset.notes`` says so).
    seed : int
        Seed of the split.
    max_bytes : int
        Larger files are refused.
    progress : callable, optional
        ``progress(fraction) -> bool``, called every few ten thousand rows with the share
        of the file read; returning False stops the import with ``ImportCancelled``.

    Returns
    -------
    Dataset
        Inputs standardised with training statistics; ``x_train_raw``/``x_val_raw`` hold
        the values as written in the file. Regression targets have shape (n, 1).
        ``train_origin``/``val_origin`` give every row's line in the file.

    Raises
    ------
    DatasetError
        Any structural problem (see ``read_rows``), an unknown target column, an
        unusable cell (with its line and column), a regression target that is not
        numeric, a classification target with a single class, or a value too large to
        standardise (with its line and column).
    ImportCancelled
        ``progress`` returned False.
    """
    if task not in CSV_TASKS:
        raise DatasetError(f"task must be one of {', '.join(CSV_TASKS)}, got {task!r}")
    check_val_fraction(val_fraction)
    check_seed(seed)
    path = Path(path)
    with open_csv(path, max_bytes) as stream:
        return read_csv_dataset(stream, path.name, target, task, val_fraction, seed,
                                max_bytes=max_bytes, progress=progress)
