"""What the dataset panel runs off the GUI thread for a CSV file.

``import_job`` reads the preview rows and then the whole file (following an
``ImportProgress`` that can cancel it); ``read_preview_table`` only the first rows;
``target_index`` finds the target column in them.
Both return messages rather than raising, so they can run on a worker thread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core import StudioError
from core.datasets import CsvTable, Dataset, DatasetSpec, read_csv_table
from gui.project.dataset_state import Cells, ImportProgress, load_quietly, resolve_csv_path

PREVIEW_ROWS = 20


def read_preview_table(path: Path) -> tuple[CsvTable | None, str]:
    """The first ``PREVIEW_ROWS`` rows of a CSV file: (table, "") or (None, message)."""
    try:
        return read_csv_table(path, max_rows=PREVIEW_ROWS), ""
    except StudioError as exc:
        return None, str(exc)


def import_job(spec: DatasetSpec, base_dir: str | None, need_table: bool,
               progress: ImportProgress
               ) -> tuple[CsvTable | None, str, Dataset | None, str, Cells]:
    """Worker-thread job: read the preview rows (if wanted), then load the whole file.
    Returns (table, table error, dataset, load error, the cells the load error names)."""
    table, table_error = None, ""
    if need_table:
        table, table_error = read_preview_table(resolve_csv_path(spec, base_dir))
        if table is None:
            return None, table_error, None, table_error, frozenset()
    dataset, error, cells = load_quietly(spec, base_dir, progress)
    return table, table_error, dataset, error, cells


def target_index(spec: DatasetSpec, table: CsvTable) -> int | None:
    """The column of ``table`` that ``spec``'s target names (None: not in the table)."""
    n = len(table.header)
    target = spec.target
    if target is None:
        return n - 1
    if isinstance(target, int):
        return target % n if -n <= target < n else None
    return table.header.index(target) if target in table.header else None


def file_stamp(path: Path) -> tuple:
    """(path, size, modification time): a file read again once it changes."""
    try:
        st = os.stat(path)
    except OSError:
        return (str(path), None)
    return (str(path), st.st_size, st.st_mtime_ns)


@dataclass
class PendingImport:
    """A CSV file or image folder being imported, or that failed to import: not in the
    design (the dataset panel shows it until it loads or another choice replaces it)."""

    spec: DatasetSpec
    loading: bool = True
    error: str = ""
    error_cells: Cells = frozenset()
