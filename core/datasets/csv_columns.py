"""Parsing a CSV stream's cells into NumPy columns, chunk by chunk.

``csv_table.read_rows`` hands over rows in chunks; here each chunk's columns become
float64 values written into preallocated arrays, so the whole file never exists as
Python objects (a cell as a ``str`` costs about 50 bytes; as a float64 it costs 8). The
target column is kept both as numbers and, unless the task is regression, as codes of its
distinct texts, because whether the labels are numbers or text is known only at the end.

Every unusable cell (empty, not a number, NaN, infinity) is collected in file order with
its line and column; ``CellProblems`` keeps the first few for the message and counts the
rest. Nothing is dropped or replaced.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from core.datasets.csv_table import CsvRows, column_label
from core.errors import DatasetError

__all__ = ["MAX_TEXT_LABELS", "CellProblems", "ParsedCsv", "cell_problem", "parse_rows"]

#: Most distinct text labels a target column may have (a class per label).
MAX_TEXT_LABELS = 10_000

# Problem cells listed in one message; the rest are counted.
_MAX_LISTED = 5

_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")


def cell_problem(cell: str) -> tuple[str, str] | None:
    """Return (kind, message) for a stripped cell that is not a finite number, else None.

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


@dataclass
class CellProblems:
    """Unusable cells in file order: the first ``_MAX_LISTED`` messages and a count."""

    name: str
    header: tuple[str, ...]
    shown: list[str] = field(default_factory=list)
    cells: list[tuple[int, int]] = field(default_factory=list)  # (line, 1-based column)
    count: int = 0

    def add(self, found: list[tuple[int, int, str]]) -> None:
        """Add one chunk's problems as (line, column index, text); chunks come in order."""
        found.sort()
        self.count += len(found)
        for line, j, text in found[: _MAX_LISTED - len(self.shown)]:
            self.shown.append(f"{self.name}, line {line}, {column_label(j, self.header)}: {text}")
            self.cells.append((line, j + 1))

    def raise_if_any(self) -> None:
        if not self.count:
            return
        shown = list(self.shown)
        if self.count > _MAX_LISTED:
            shown.append(f"... and {self.count - _MAX_LISTED} more unusable cells")
        raise DatasetError("\n".join(shown), cells=self.cells)


@dataclass
class ParsedCsv:
    """A CSV file's columns as arrays.

    Attributes
    ----------
    name : str
    header : tuple of str
    target : int
        Index of the target column in ``header``.
    features : ndarray, shape (n_rows, n_columns - 1), float64
        Every other column, in file order.
    target_values : ndarray, shape (n_rows,), float64, or None
        The target as numbers; None when some target cell is text.
    target_codes : ndarray, shape (n_rows,), int64, or None
        With text labels: class index of each row into ``target_labels`` (sorted as text).
    target_labels : tuple of str
    lines : ndarray, shape (n_rows,), int32 or int64
        The 1-based line each row starts on.
    """

    name: str
    header: tuple[str, ...]
    target: int
    features: np.ndarray
    target_values: np.ndarray | None
    target_codes: np.ndarray | None
    target_labels: tuple[str, ...]
    lines: np.ndarray

    @property
    def n_rows(self) -> int:
        return int(self.lines.shape[0])

    def take_features(self) -> np.ndarray:
        """Hand over ``features`` and drop this object's reference to them."""
        features, self.features = self.features, np.empty((0, 0))
        return features


class _Columns:
    """Growable preallocated arrays: capacity estimated from the file size after the
    first chunk, grown in place (``ndarray.resize`` reallocates without a copy where the
    allocator can), trimmed at the end."""

    def __init__(self, n_features: int, labels: bool, line_dtype: type) -> None:
        self.n = 0
        self.capacity = 0
        self.features = np.empty((0, n_features))
        self.values = np.empty(0)
        self.codes = np.empty(0, dtype=np.int32) if labels else None
        self.lines = np.empty(0, dtype=line_dtype)

    def reserve(self, rows: int) -> None:
        if rows <= self.capacity:
            return
        self.features.resize((rows, self.features.shape[1]), refcheck=False)
        self.values.resize(rows, refcheck=False)
        if self.codes is not None:
            self.codes.resize(rows, refcheck=False)
        self.lines.resize(rows, refcheck=False)
        self.capacity = rows

    def trim(self) -> None:
        n = self.n
        self.features.resize((n, self.features.shape[1]), refcheck=False)
        self.values.resize(n, refcheck=False)
        if self.codes is not None:
            self.codes.resize(n, refcheck=False)
        self.lines.resize(n, refcheck=False)


def _parse_numbers(cells: tuple[str, ...]) -> np.ndarray | None:
    """The cells as float64 if every one is a finite number, else None."""
    try:
        values = np.array(cells, dtype=np.float64)
    except ValueError:
        return None
    return values if np.isfinite(values).all() else None


class _Labels:
    """Distinct target texts seen so far (by their raw cell text) and each row's code."""

    def __init__(self) -> None:
        self.index: dict[str, int] | None = {}

    def codes(self, cells: tuple[str, ...]) -> list[int] | None:
        index = self.index
        if index is None:
            return None
        codes = [index.setdefault(cell, len(index)) for cell in cells]
        if len(index) > MAX_TEXT_LABELS:
            self.index = None  # a numeric column with many values; stop keeping texts
            return None
        return codes


def parse_rows(rows: CsvRows, target: int, task: str, size_hint: int | None,
               max_bytes: int) -> ParsedCsv:
    """Parse every data row of ``rows`` into arrays (see :class:`ParsedCsv`).

    Parameters
    ----------
    rows : CsvRows
        A stream positioned after its header.
    target : int
        Index of the target column.
    task : {"auto", "classification", "regression"}
        With "regression" a text target cell is an unusable cell.
    size_hint : int, optional
        The file size in bytes, to preallocate the arrays.
    max_bytes : int
        The file size limit: below 2 GiB, line numbers fit int32.

    Raises
    ------
    DatasetError
        Any structural problem of the file, every unusable cell (first five listed), no
        data rows, or a text target with more than ``MAX_TEXT_LABELS`` labels.
    """
    name, header = rows.name, rows.header
    features_at = [j for j in range(len(header)) if j != target]
    labels = _Labels() if task != "regression" else None
    out = _Columns(len(features_at), labels is not None,
                   np.int32 if max_bytes < 2**31 else np.int64)
    problems = CellProblems(name, header)
    text_line = 0  # line of the first text target cell (text labels)
    for lines, chunk in rows.chunks:
        m = len(chunk)
        columns = list(zip(*chunk, strict=True))
        if out.n == 0 and size_hint:
            # Rows in the file, estimated from the first chunk's share of it.
            chars = sum(sum(map(len, column)) for column in columns) + len(header) * m
            bytes_per_row = max(1.0, chars / m)
            out.reserve(int(size_hint / bytes_per_row * 1.05) + m)
        if out.n + m > out.capacity:
            out.reserve(max(out.n + m, int(out.capacity * 1.25)))
        start, stop = out.n, out.n + m
        found: list[tuple[int, int, str]] = []
        for k, j in enumerate(features_at):
            values = _parse_numbers(columns[j])
            if values is None:
                found += [(lines[i], j, p[1]) for i, cell in enumerate(columns[j])
                          if (p := cell_problem(cell.strip())) is not None]
            elif not problems.count:
                out.features[start:stop, k] = values
        cells = columns[target]
        values = _parse_numbers(cells)
        if values is None:
            values = np.full(m, np.nan)
            for i, cell in enumerate(cells):
                p = cell_problem(cell.strip())
                if p is None:
                    values[i] = float(cell)
                elif p[0] == "text" and task != "regression":
                    text_line = text_line or lines[i]
                else:
                    found.append((lines[i], target, p[1]))
        out.values[start:stop] = values
        if labels is not None and out.codes is not None:
            codes = labels.codes(cells)
            if codes is None:
                out.codes = None
            else:
                out.codes[start:stop] = codes
        if text_line and out.codes is None:
            raise DatasetError(
                f"{name}, line {text_line}, {column_label(target, header)}: the target holds "
                f"text labels and more than {MAX_TEXT_LABELS:,} distinct values; is this the "
                "right target column?", line=text_line, column=target + 1
            )
        out.lines[start:stop] = lines
        out.n = stop
        problems.add(found)
    problems.raise_if_any()
    if out.n == 0:
        raise DatasetError(f"{name} has a header row (line 1) but no data rows")
    out.trim()
    codes, names = None, ()
    if text_line:
        assert labels is not None and labels.index is not None and out.codes is not None
        codes, names = _sorted_labels(labels.index, out.codes)
    # Numbers or text labels: only one of the two target forms is kept.
    return ParsedCsv(name, header, target, out.features,
                     None if text_line else out.values, codes, names, out.lines)


def _sorted_labels(index: dict[str, int], raw_codes: np.ndarray
                   ) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class codes sorted by label text; raw cells equal once stripped are one class."""
    texts = [cell.strip() for cell in index]  # in code order (dicts keep insertion order)
    names = sorted(set(texts))
    position = {text: i for i, text in enumerate(names)}
    remap = np.array([position[text] for text in texts], dtype=np.int64)
    return remap[raw_codes], tuple(names)
