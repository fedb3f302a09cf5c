"""The run table (its columns, one row per run) and the CSV export of runs and of their
per-epoch histories."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from core.records.history import HISTORY_KEYS
from core.records.record import RunRecord

__all__ = ["RUN_COLUMNS", "history_to_csv", "run_row", "runs_to_csv"]

# The run table's columns (also the CSV's), as (key, heading).
RUN_COLUMNS = (
    ("name", "Name"), ("dataset", "Dataset"), ("seed", "Seed"), ("epochs", "Epochs"),
    ("steps", "Steps"), ("final_train_loss", "Final train loss"),
    ("final_val_loss", "Final val loss"), ("best_val_metric", "Best val metric"),
    ("duration", "Duration (s)"), ("ended", "Ended"),
)


def _cell(v: Any) -> Any:
    if isinstance(v, float):
        return "" if not math.isfinite(v) else repr(v)
    return v


def _int_cell(v: float) -> Any:
    return int(v) if math.isfinite(v) else ""


def run_row(run: RunRecord) -> dict[str, Any]:
    """The values of the run table's columns (``RUN_COLUMNS`` keys) for one run."""
    return {
        "name": run.name, "dataset": run.dataset, "seed": run.seed, "epochs": run.epochs,
        "steps": run.steps, "final_train_loss": run.final_train_loss,
        "final_val_loss": run.final_val_loss, "best_val_metric": run.best_val_metric,
        "duration": run.duration, "ended": run.ended,
    }


def runs_to_csv(runs: list[RunRecord]) -> str:
    """One row per run: the table's columns, then metric, started, note and id."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    keys = [k for k, _ in RUN_COLUMNS]
    writer.writerow([*keys, "metric", "started", "note", "id"])
    for run in runs:
        row = run_row(run)
        writer.writerow([_cell(row[k]) for k in keys]
                        + [run.metric_name, run.started, run.note, run.id])
    return buf.getvalue()


def history_to_csv(runs: list[RunRecord]) -> str:
    """One row per recorded epoch of every run: run name and id, then ``HISTORY_KEYS``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["run", "run_id", *HISTORY_KEYS])
    for run in runs:
        for row in run.history:
            writer.writerow([run.name, run.id, *(_int_cell(row[k]) if k in ("epoch", "step")
                                                 else _cell(row[k]) for k in HISTORY_KEYS)])
    return buf.getvalue()
