"""Reading a user's CSV file into a checked table of text cells.

This is the structural half of CSV import (``csv_import`` turns cells into numbers): size
limit, UTF-8 decoding, delimiter detection, quoting, header checks and row widths. Every
problem raises ``DatasetError`` naming the file, the 1-based line as a text editor shows
it and, where it applies, the column by number and header name. Nothing is skipped
silently; the only lines ignored are fully blank lines at the very end of the file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from core.errors import DatasetError, FileFormatError
from core.io import read_bytes

__all__ = ["DEFAULT_MAX_BYTES", "DELIMITERS", "CsvTable", "column_label", "read_csv_table"]

#: Largest CSV file accepted by default (50 MiB).
DEFAULT_MAX_BYTES = 50 * 1024 * 1024

#: Cell separators recognised, in tie-breaking order.
DELIMITERS: tuple[str, ...] = (",", ";", "\t")

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True)
class CsvTable:
    """A CSV file as text cells, after the structural checks.

    Attributes
    ----------
    path : pathlib.Path
    header : tuple of str, length n_columns
        Column names, surrounding whitespace removed; unique and non-empty.
    rows : tuple of tuple of str, shape (n_rows, n_columns)
        Data cells, surrounding whitespace removed; every row has ``n_columns`` cells.
    line_numbers : tuple of int, length n_rows
        The 1-based line on which each row starts (rows can span lines inside quotes).
    delimiter : str
        The separator detected: ``","``, ``";"`` or ``"\\t"``.
    truncated : bool
        True when reading stopped at ``max_rows`` and later rows were not read.
    """

    path: Path
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    line_numbers: tuple[int, ...]
    delimiter: str
    truncated: bool = False


def column_label(index: int, header: tuple[str, ...]) -> str:
    """Name a column for messages: ``column 3 "height"`` (1-based number, header name)."""
    return f'column {index + 1} "{header[index]}"'


def _size_text(n_bytes: int) -> str:
    return f"{n_bytes / (1024 * 1024):.1f} MB ({n_bytes:,} bytes)"


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    # The one bounded reader of user files: refuses /dev/zero, pipes and folders, and
    # reads at most max_bytes + 1 whatever the size on disk claims.
    try:
        size = path.stat().st_size if path.is_file() else 0  # a hint for an early refusal
        if size > max_bytes:
            raise DatasetError(
                f"{path.name} is {_size_text(size)}, larger than the limit of "
                f"{_size_text(max_bytes)}"
            )
        return read_bytes(path, max_bytes)
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except FileFormatError as exc:
        raise DatasetError(f"cannot read {exc}") from None


def _decode(data: bytes, name: str) -> str:
    if data.startswith(_UTF16_BOMS):
        raise DatasetError(f"{name}, line 1: the file is UTF-16 encoded; save it as UTF-8")
    # A UTF-8 byte-order mark (Excel writes one) is accepted and dropped.
    data = data.removeprefix(_UTF8_BOM)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        position = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DatasetError(
            f"{name}, line {line}: byte 0x{data[exc.start]:02X} at character {position} is "
            "not valid UTF-8; save the file with UTF-8 encoding"
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        # Python's csv module keeps NUL characters inside cells; they only mean a binary file.
        line = text.count("\n", 0, nul) + 1
        raise DatasetError(f"{name}, line {line}: contains a NUL character; is this a text file?")
    return text


def _detect_delimiter(header_line: str) -> str:
    """Pick the separator that occurs most often in the header line outside quotes.

    ``csv.Sniffer`` is not used: on rows such as ``1,5;2,5`` (semicolon-separated with
    decimal commas) it prefers ``,``, whereas the header line is unambiguous.
    """
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first of equals
    return best if counts[best] > 0 else ","


def _is_blank(cells: list[str]) -> bool:
    return not cells or (len(cells) == 1 and not cells[0].strip())


def _parse_records(text: str, delimiter: str, name: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[tuple[int, list[str]]] = []
    last_line = 0
    try:
        for cells in reader:
            records.append((last_line + 1, cells))
            last_line = reader.line_num
    except csv.Error as exc:
        start = last_line + 1
        if "end of data" in str(exc) or "EOF" in str(exc):
            raise DatasetError(
                f'{name}, line {start}: a quoted cell opened here is never closed (missing ")'
            ) from None
        raise DatasetError(f"{name}, line {reader.line_num}: {exc}") from None
    return records


def _looks_numeric(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _check_header(header: tuple[str, ...], name: str) -> None:
    for j, column in enumerate(header):
        if not column:
            raise DatasetError(
                f"{name}, line 1, column {j + 1}: the header cell is empty; every column "
                "needs a name"
            )
    first_seen: dict[str, int] = {}
    for j, column in enumerate(header):
        if column in first_seen:
            raise DatasetError(
                f'{name}, line 1: column name "{column}" is used by columns '
                f"{first_seen[column] + 1} and {j + 1}; column names must be unique"
            )
        first_seen[column] = j
    if all(_looks_numeric(column) for column in header):
        raise DatasetError(
            f"{name}, line 1: holds only numbers, so it looks like data; the first line "
            "must be a header row naming the columns"
        )


def _check_width(cells: list[str], line: int, header: tuple[str, ...], name: str) -> None:
    n = len(header)
    if len(cells) < n:
        raise DatasetError(
            f"{name}, line {line}: {len(cells)} cells but the header has {n} columns; "
            f"{column_label(len(cells), header)} is missing"
        )
    if len(cells) > n:
        raise DatasetError(
            f"{name}, line {line}: {len(cells)} cells but the header has {n} columns; "
            f'column {n + 1} ("{cells[n].strip()}") has no header'
        )


def read_csv_table(
    path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, max_rows: int | None = None
) -> CsvTable:
    """Read and structurally check a CSV file (header row required).

    Accepted: UTF-8 with or without a byte-order mark; ``,``, ``;`` or tab separators
    (whichever is most frequent in the header line); quoted cells with separators, quotes
    (doubled) or line breaks inside; ``\\n``, ``\\r\\n`` or ``\\r`` line endings. Fully blank
    lines at the end of the file are ignored; a blank line anywhere else is an error.

    Parameters
    ----------
    path : str or pathlib.Path
    max_bytes : int
        Files larger than this are refused before reading.
    max_rows : int, optional
        Stop after this many data rows (for a quick preview); rows after them are not
        checked.

    Returns
    -------
    CsvTable

    Raises
    ------
    DatasetError
        Empty file, header only, empty or duplicate column names, a first line of numbers,
        rows with too few or too many cells, blank lines between rows, an unclosed quote,
        bytes that are not UTF-8, or a file over ``max_bytes``.
    """
    path = Path(path)
    name = path.name
    text = _decode(_read_bytes(path, max_bytes), name)
    if not text.strip():
        raise DatasetError(
            f"{name} is empty; it needs a header row naming the columns, then data rows"
        )
    header_line = text.splitlines()[0]
    if not header_line.strip():
        raise DatasetError(f"{name}, line 1: is blank; the first line must be the header row")
    delimiter = _detect_delimiter(header_line)
    records = _parse_records(text, delimiter, name)
    while records and _is_blank(records[-1][1]):
        records.pop()

    header = tuple(cell.strip() for cell in records[0][1])
    _check_header(header, name)
    rows: list[tuple[str, ...]] = []
    lines: list[int] = []
    truncated = False
    for line, cells in records[1:]:
        if max_rows is not None and len(rows) >= max_rows:
            truncated = True
            break
        if _is_blank(cells):
            raise DatasetError(
                f"{name}, line {line}: blank line between data rows; remove it (only blank "
                "lines at the end of the file are ignored)"
            )
        _check_width(cells, line, header, name)
        rows.append(tuple(cell.strip() for cell in cells))
        lines.append(line)
    if not rows and not truncated:
        raise DatasetError(f"{name} has a header row (line 1) but no data rows")
    return CsvTable(
        path=path,
        header=header,
        rows=tuple(rows),
        line_numbers=tuple(lines),
        delimiter=delimiter,
        truncated=truncated,
    )
