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
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from core.datasets.csv_table import DEFAULT_MAX_BYTES, CsvTable, column_label, read_csv_table
from core.datasets.dataset import Dataset, build_dataset
from core.datasets.split import check_seed, check_val_fraction
from core.errors import DatasetError

__all__ = ["CSV_TASKS", "MAX_AUTO_CLASSES", "detect_task", "load_csv"]

CSV_TASKS: tuple[str, ...] = ("auto", "classification", "regression")

#: Most distinct integer values an automatically detected classification target may have.
MAX_AUTO_CLASSES = 20

# Problem cells listed in one message; the rest are counted.
_MAX_LISTED = 5

_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")


def _cell_problem(cell: str) -> tuple[str, str] | None:
    """Return (kind, message) for a cell that is not a finite number, else None.

    ``kind`` is ``"empty"``, ``"text"`` or ``"non-finite"``.
    """
    if not cell:
        return "empty", "empty cell (missing values are not supported)"
    try:
        value = float(cell)
    except ValueError:
        if _DECIMAL_COMMA.fullmatch(cell):
            return "text", f'"{cell}" is not a number (use "." as the decimal point)'
        return "text", f'"{cell}" is not a number'
    if not math.isfinite(value):
        return "non-finite", f'"{cell}" is not a finite number (NaN and infinity are not allowed)'
    return None


def _parse_column(cells: list[str]) -> tuple[np.ndarray | None, list[tuple[int, str, str]]]:
    """Return the column as float64, or None plus (row, kind, message) per bad cell."""
    try:
        values = np.array(cells, dtype=np.float64)
    except ValueError:
        values = None
    if values is not None and np.isfinite(values).all():
        return values, []
    problems = [(i, *p) for i, cell in enumerate(cells) if (p := _cell_problem(cell)) is not None]
    return None, problems


def _raise_cell_problems(table: CsvTable, problems: list[tuple[int, int, str]]) -> None:
    problems.sort()
    shown = [
        f"{table.path.name}, line {table.line_numbers[i]}, {column_label(j, table.header)}: {text}"
        for i, j, text in problems[:_MAX_LISTED]
    ]
    if len(problems) > _MAX_LISTED:
        shown.append(f"... and {len(problems) - _MAX_LISTED} more unusable cells")
    raise DatasetError("\n".join(shown))


def _resolve_target(table: CsvTable, target: str | int | None) -> int:
    n = len(table.header)
    available = ", ".join(f'"{c}"' for c in table.header)
    if target is None:
        return n - 1
    if isinstance(target, bool) or not isinstance(target, str | int):
        raise DatasetError(f"target must be a column name or index, got {target!r}")
    if isinstance(target, int):
        if not -n <= target < n:
            raise DatasetError(
                f"{table.path.name}: target column index {target} is out of range; the file "
                f"has {n} columns: {available}"
            )
        return target % n
    if target.strip() not in table.header:
        raise DatasetError(
            f'{table.path.name}: there is no column named "{target}"; available columns: '
            f"{available}"
        )
    return table.header.index(target.strip())


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
    values, problems = _parse_column(cells)
    if values is None:
        return "classification" if problems else "regression"
    distinct = np.unique(values)
    is_integer = bool(np.all(distinct == np.round(distinct)))
    few = len(distinct) <= MAX_AUTO_CLASSES and len(distinct) <= len(cells) / 2
    return "classification" if is_integer and few else "regression"


def _class_labels(cells: list[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    values, _ = _parse_column(cells)
    if values is not None:
        distinct, indices = np.unique(values, return_inverse=True)
        names = tuple(str(int(v)) if v == round(v) else repr(float(v)) for v in distinct)
        return indices.astype(np.int64), names
    labels, indices = np.unique(np.array(cells, dtype=object), return_inverse=True)
    return indices.astype(np.int64), tuple(str(label) for label in labels)


def load_csv(
    path: str | Path,
    target: str | int | None = None,
    task: str = "auto",
    val_fraction: float = 0.2,
    seed: int = 0,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Dataset:
    """Load a CSV file with a header row as a dataset.

    Parameters
    ----------
    path : str or pathlib.Path
        The file; see :func:`read_csv_table` for the accepted formats.
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

    Returns
    -------
    Dataset
        Inputs standardised with training statistics; ``x_train_raw``/``x_val_raw`` hold
        the values as written in the file. Regression targets have shape (n, 1).

    Raises
    ------
    DatasetError
        Any structural problem (see ``read_csv_table``), an unknown target column, an
        unusable cell (with its line and column), a regression target that is not
        numeric, or a classification target with a single class.
    """
    if task not in CSV_TASKS:
        raise DatasetError(f"task must be one of {', '.join(CSV_TASKS)}, got {task!r}")
    check_val_fraction(val_fraction)
    check_seed(seed)
    table = read_csv_table(path, max_bytes=max_bytes)
    name = table.path.name
    if len(table.header) < 2:
        raise DatasetError(
            f'{name}: only one column ("{table.header[0]}"); a dataset needs at least one '
            "input column and a target column"
        )
    t = _resolve_target(table, target)
    columns = [list(column) for column in zip(*table.rows, strict=True)]
    feature_indices = [j for j in range(len(table.header)) if j != t]

    problems: list[tuple[int, int, str]] = []
    features: list[np.ndarray] = []
    for j in feature_indices:
        values, bad = _parse_column(columns[j])
        problems.extend((i, j, text) for i, _, text in bad)
        if values is not None:
            features.append(values)
    target_cells = columns[t]
    # The target may hold text labels; empty, NaN and infinite cells are always wrong.
    _, target_bad = _parse_column(target_cells)
    problems.extend(
        (i, t, text) for i, kind, text in target_bad if kind != "text" or task == "regression"
    )
    if problems:
        _raise_cell_problems(table, problems)

    notes: list[str] = []
    if task == "auto":
        task = detect_task(target_cells)
        notes.append(f"task detected as {task} from the target column (pass task to override)")
    target_label = column_label(t, table.header)
    x = np.stack(features, axis=1)
    if task == "classification":
        y, class_names = _class_labels(target_cells)
        if len(class_names) < 2:
            raise DatasetError(
                f"{name}: target {target_label} has only one class ({class_names[0]!r}); "
                "classification needs at least two"
            )
    else:
        y, class_names = np.array(target_cells, dtype=np.float64)[:, None], ()
    return build_dataset(
        name=table.path.stem,
        task=task,  # type: ignore[arg-type]
        x_raw=x,
        y=y,
        raw_feature_names=tuple(table.header[j] for j in feature_indices),
        target_names=(table.header[t],),
        class_names=class_names,
        val_fraction=val_fraction,
        seed=seed,
        description=f"{name}: {len(table.rows)} rows, target {target_label}",
        notes=notes,
    )
