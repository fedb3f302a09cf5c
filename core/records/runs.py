"""Run records, by job (this module gathers their names):

- ``core.records.snapshots``: what a run reports step by step (``StepSnapshot``, ...);
- ``core.records.history``: the one thinning rule (``ThinnedSeries``), ``HISTORY_KEYS``;
- ``core.records.record``: ``RunRecord`` and its JSON form, ``dataset_label``,
  ``next_run_name``;
- ``core.records.recorder``: ``RunRecorder``, the one maker of records from a run;
- ``core.records.diff``: ``design_diff``, how two designs differ in words;
- ``core.records.table``: the run table's columns and the CSV export.
"""

from __future__ import annotations

from core.records.diff import design_diff
from core.records.history import HISTORY_KEYS
from core.records.record import (
    END_REASONS,
    EPOCH_ROWS,
    GRAD_ROWS,
    LOSS_ROWS,
    RunRecord,
    dataset_label,
    next_run_name,
)
from core.records.recorder import RunRecorder
from core.records.table import RUN_COLUMNS, history_to_csv, run_row, runs_to_csv

__all__ = [
    "END_REASONS", "EPOCH_ROWS", "GRAD_ROWS", "HISTORY_KEYS", "LOSS_ROWS", "RUN_COLUMNS",
    "RunRecord", "RunRecorder", "dataset_label", "design_diff", "history_to_csv",
    "next_run_name", "run_row", "runs_to_csv",
]
