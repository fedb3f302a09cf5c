"""Reading a user's CSV file: its structure, streamed, and a table of text cells.

This is the structural half of CSV import (``csv_import`` turns cells into numbers): size
limit, UTF-8 decoding, delimiter detection, quoting, header checks and row widths. Every
problem raises ``DatasetError`` naming the file, the 1-based line as a text editor shows
it and, where it applies, the column by number and header name. Nothing is skipped
silently; the only lines ignored are fully blank lines at the very end of the file.

The file is read as a stream, decoded line by line and handed on in chunks of rows
(:func:`read_rows`), so a large file is never held whole, neither as bytes nor as a
list of every cell. A progress callback sees the fraction read after every chunk and can
cancel the read (:class:`ImportCancelled`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import BinaryIO

from core.errors import DatasetError, FileFormatError
from core.storage.checked_io import open_user_file

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DELIMITERS",
    "CsvRows",
    "CsvTable",
    "ImportCancelled",
    "Progress",
    "column_label",
    "open_csv",
    "read_csv_table",
    "read_rows",
    "stream_size",
]

#: Largest CSV file accepted by default (50 MiB).
DEFAULT_MAX_BYTES = 50 * 1024 * 1024

#: Cell separators recognised, in tie-breaking order.
DELIMITERS: tuple[str, ...] = (",", ";", "\t")

#: Rows handed on per chunk (and between two progress calls) by :func:`read_rows`.
CHUNK_ROWS = 8_192

#: ``progress(fraction) -> keep_going``: called with the share of the file read so far
#: (0 to 1); returning False cancels the read.
Progress = Callable[[float], bool]


class ImportCancelled(DatasetError):
    """The progress callback asked to stop; nothing was imported."""


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


class _Bounded(io.RawIOBase):
    """Reads a file and refuses more than ``limit`` bytes, whatever its size on disk says."""

    def __init__(self, fh: BinaryIO, limit: int, name: str) -> None:
        super().__init__()
        self._fh, self._limit, self._name, self._read = fh, limit, name, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        n = self._fh.readinto(buffer)  # type: ignore[attr-defined]
        self._read += n or 0
        if self._read > self._limit:
            raise DatasetError(f"{self._name} is larger than the limit of "
                               f"{_size_text(self._limit)}")
        return n

    def tell(self) -> int:
        return self._read

    def fileno(self) -> int:
        return self._fh.fileno()


@contextlib.contextmanager
def open_csv(path: Path, max_bytes: int) -> Iterator[BinaryIO]:
    """Open ``path`` as a binary stream that ends with an error past ``max_bytes``.

    The one place a CSV file is opened, through the bounded reader of user files
    (``core.storage.checked_io.open_user_file``): folders, devices (``/dev/zero``) and
    pipes are refused before any byte is read, and the size on disk is only a hint for an early
    refusal.
    Everything after it reads from the stream, so the file is never held whole.
    """
    try:
        with open_user_file(path) as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > max_bytes:
                raise DatasetError(
                    f"{path.name} is {_size_text(size)}, larger than the limit of "
                    f"{_size_text(max_bytes)}"
                )
            with io.BufferedReader(_Bounded(fh, max_bytes, path.name)) as stream:
                yield stream  # type: ignore[misc]
    except FileFormatError as exc:
        raise DatasetError(f"cannot read {exc}") from None


def stream_size(stream: BinaryIO) -> int | None:
    """The byte size of the file behind ``stream`` (None when it has none)."""
    try:
        return os.fstat(stream.fileno()).st_size
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return None


# Undecodable byte b becomes the lone surrogate U+DC00+b (errors="surrogateescape");
# valid UTF-8 never decodes to one.
_BAD_BYTE = re.compile("[\udc80-\udcff]")
_UTF16_BOM_TEXT = ("\udcff\udcfe", "\udcfe\udcff")


def _check_line(line: str, number: int, name: str) -> None:
    """Raise for undecodable bytes or a NUL character in one decoded line."""
    if not line.isascii():
        if number == 1 and line.startswith(_UTF16_BOM_TEXT):
            raise DatasetError(f"{name}, line 1: the file is UTF-16 encoded; save it as UTF-8",
                               line=1)
        bad = _BAD_BYTE.search(line)
        if bad is not None:
            byte = ord(bad.group()) - 0xDC00
            raise DatasetError(
                f"{name}, line {number}: byte 0x{byte:02X} at character {bad.start() + 1} "
                "is not valid UTF-8; save the file with UTF-8 encoding", line=number
            )
    if "\x00" in line:
        # Python's csv module keeps NUL characters inside cells; they only mean a binary file.
        raise DatasetError(f"{name}, line {number}: contains a NUL character; is this a text "
                           "file?", line=number)


def _decoded_lines(stream: BinaryIO, name: str) -> Iterator[str]:
    """The stream's lines as text with their endings (``\n``, ``\r\n`` or ``\r``).

    Decoded incrementally; a UTF-8 byte-order mark (Excel writes one) is dropped.
    """
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape",
                            newline="")
    for number, line in enumerate(text, 1):
        if not line.isascii() or "\x00" in line:  # the common case costs two C calls
            _check_line(line, number, name)
        yield line


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


def _csv_error(exc: csv.Error, start: int, current: int, name: str) -> DatasetError:
    if "end of data" in str(exc) or "EOF" in str(exc):
        return DatasetError(
            f'{name}, line {start}: a quoted cell opened here is never closed (missing ")',
            line=start)
    return DatasetError(f"{name}, line {current}: {exc}", line=current)


@dataclass
class CsvRows:
    """A CSV stream after its header: the data rows still to come, in chunks.

    Attributes
    ----------
    name : str
        The file name, for messages.
    header : tuple of str, length n_columns
        Column names, stripped; unique and non-empty.
    delimiter : str
    chunks : iterator of (list of int, list of list of str)
        Per chunk (up to ``CHUNK_ROWS`` rows): the 1-based line each row starts on, and
        the rows' cells as the csv module gives them (not stripped); every row has
        ``n_columns`` cells. Structural errors are raised while iterating.
    """

    name: str
    header: tuple[str, ...]
    delimiter: str
    chunks: Iterator[tuple[list[int], list[list[str]]]]


def _chunks(reader: Iterator[list[str]], header: tuple[str, ...], name: str, chunk_rows: int,
            tell: Callable[[], float] | None, progress: Progress | None
            ) -> Iterator[tuple[list[int], list[list[str]]]]:
    n = len(header)
    last = reader.line_num  # type: ignore[attr-defined]
    blank_at = 0  # first line of a run of blank lines (an error unless nothing follows)
    lines: list[int] = []
    rows: list[list[str]] = []
    try:
        for cells in reader:
            line, last = last + 1, reader.line_num  # type: ignore[attr-defined]
            blank = len(cells) <= 1 and _is_blank(cells)
            if blank_at and not blank:
                raise DatasetError(
                    f"{name}, line {blank_at}: blank line between data rows; remove it (only "
                    "blank lines at the end of the file are ignored)", line=blank_at
                )
            if blank:
                blank_at = blank_at or line
                continue
            if len(cells) != n:
                _check_width(cells, line, header, name)
            lines.append(line)
            rows.append(cells)
            if len(rows) >= chunk_rows:
                if progress is not None and tell is not None and not progress(tell()):
                    raise ImportCancelled(f"reading {name} was cancelled")
                yield lines, rows
                lines, rows = [], []
    except csv.Error as exc:
        raise _csv_error(exc, last + 1, reader.line_num, name) from None  # type: ignore[attr-defined]
    if rows:
        yield lines, rows


def read_rows(stream: BinaryIO, name: str, *, chunk_rows: int = CHUNK_ROWS,
              progress: Progress | None = None) -> CsvRows:
    """Start reading a CSV stream: decode, detect the separator, read and check the header.

    Accepted: UTF-8 with or without a byte-order mark; ``,``, ``;`` or tab separators
    (whichever is most frequent in the header line); quoted cells with separators, quotes
    (doubled) or line breaks inside; ``\n``, ``\r\n`` or ``\r`` line endings. Fully blank
    lines at the end of the file are ignored; a blank line anywhere else is an error.

    Parameters
    ----------
    stream : binary file object
        Read from its current position to its end; not closed here.
    name : str
        The file name used in messages.
    chunk_rows : int
        Rows per chunk.
    progress : callable, optional
        ``progress(fraction) -> bool`` after every chunk; False raises ImportCancelled.

    Returns
    -------
    CsvRows
        The header now; the data rows as its ``chunks`` are iterated.

    Raises
    ------
    DatasetError
        Empty file, empty or duplicate column names, a first line of numbers, bytes that
        are not UTF-8, a NUL character; while iterating, rows with too few or too many
        cells, blank lines between rows or an unclosed quote.
    """
    lines = _decoded_lines(stream, name)
    first = next(lines, None)
    if first is not None and not first.strip():
        if any(line.strip() for line in lines):
            raise DatasetError(f"{name}, line 1: is blank; the first line must be the header "
                               "row", line=1)
        first = None
    if first is None:
        raise DatasetError(
            f"{name} is empty; it needs a header row naming the columns, then data rows"
        )
    delimiter = _detect_delimiter(first)
    reader = csv.reader(chain([first], lines), delimiter=delimiter, strict=True)
    try:
        header = tuple(cell.strip() for cell in next(reader))
    except csv.Error as exc:
        raise _csv_error(exc, 1, reader.line_num, name) from None
    _check_header(header, name)
    size = stream_size(stream)
    tell = (lambda: min(1.0, stream.tell() / size)) if size else None
    return CsvRows(name, header, delimiter, _chunks(reader, header, name, chunk_rows, tell,
                                                    progress))


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
                "needs a name", line=1, column=j + 1
            )
    first_seen: dict[str, int] = {}
    for j, column in enumerate(header):
        if column in first_seen:
            raise DatasetError(
                f'{name}, line 1: column name "{column}" is used by columns '
                f"{first_seen[column] + 1} and {j + 1}; column names must be unique",
                line=1, cells=((1, first_seen[column] + 1), (1, j + 1))
            )
        first_seen[column] = j
    if all(_looks_numeric(column) for column in header):
        raise DatasetError(
            f"{name}, line 1: holds only numbers, so it looks like data; the first line "
            "must be a header row naming the columns", line=1
        )


def _check_width(cells: list[str], line: int, header: tuple[str, ...], name: str) -> None:
    n = len(header)
    if len(cells) < n:
        raise DatasetError(
            f"{name}, line {line}: {len(cells)} cells but the header has {n} columns; "
            f"{column_label(len(cells), header)} is missing", line=line
        )
    if len(cells) > n:
        raise DatasetError(
            f"{name}, line {line}: {len(cells)} cells but the header has {n} columns; "
            f'column {n + 1} ("{cells[n].strip()}") has no header', line=line
        )


def read_csv_table(
    path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, max_rows: int | None = None
) -> CsvTable:
    """Read and structurally check a CSV file (header row required) into text cells.

    For previews and small files; ``load_csv`` parses large files without this table.
    The accepted formats are those of :func:`read_rows`.

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
        As :func:`read_rows`, a file with a header but no data rows, or one over
        ``max_bytes``.
    """
    path = Path(path)
    name = path.name
    rows: list[tuple[str, ...]] = []
    lines: list[int] = []
    truncated = False
    chunk = max(1, min(max_rows or CHUNK_ROWS, CHUNK_ROWS))
    with open_csv(path, max_bytes) as stream:
        source = read_rows(stream, name, chunk_rows=chunk)
        for chunk_lines, chunk_rows in source.chunks:
            rows.extend(tuple(cell.strip() for cell in cells) for cells in chunk_rows)
            lines.extend(chunk_lines)
            if max_rows is not None and len(rows) >= max_rows:
                break
        if max_rows is not None and len(rows) >= max_rows:
            # Anything after the preview rows, even a row with a mistake, means "more".
            try:
                truncated = next(source.chunks, None) is not None
            except DatasetError:
                truncated = True
    if not rows and not truncated:
        raise DatasetError(f"{name} has a header row (line 1) but no data rows")
    return CsvTable(
        path=path,
        header=source.header,
        rows=tuple(rows),
        line_numbers=tuple(lines),
        delimiter=source.delimiter,
        truncated=truncated,
    )
