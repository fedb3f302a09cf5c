"""The sweep views' words: column labels for parameters, values, durations, trial states
and their colours, and why a trial was pruned. Qt only for colours; no pyqtgraph."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtGui import QColor

from core.sweeps.space import Parameter
from core.sweeps.status import SweepStatus, TrialRow
from gui.colors import ERROR, WARNING

#: Our words for a trial's state, and their colours (table text, plot markers).
STATE_COLORS = {
    "waiting": QColor("#888888"),
    "running": QColor("#2E6FBA"),
    "complete": QColor("#228833"),
    "pruned": WARNING,
    "fail": ERROR,
}
STATE_WORDS = {"waiting": "waiting", "running": "running", "complete": "complete",
               "pruned": "pruned", "fail": "failed"}
OBJECTIVE_WORDS = {"val_loss": "validation loss", "val_accuracy": "validation accuracy",
                   "r2": "R²"}
# What the pruner compared against, by space.pruner.
THRESHOLD_WORDS = {"median": "median", "halving": "rung cut-off"}
STATE_TEXT = {"starting": "starting", "running": "running", "stopping": "stopping…",
              "finished": "finished", "failed": "failed"}


def parameter_labels(parameters: tuple[Parameter, ...]) -> dict[str, str]:
    """A short label per parameter name: the setting's field (``learning_rate``), with
    its layer (``layers[2].units``) where two parameters share a field."""
    fields = [p.field for p in parameters]
    return {p.name: p.field if fields.count(p.field) == 1 else
            p.name.removeprefix("network.").removeprefix("training.") for p in parameters}


def value_text(value: Any) -> str:
    """A parameter or objective value, briefly (``0.0123``, ``16``, ``adam``, ``–``)."""
    if isinstance(value, bool) or value is None:
        return "–" if value is None else str(value)
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def duration_text(seconds: float) -> str:
    """``4.2 s``, ``1:05``, ``1:02:03``."""
    if not math.isfinite(seconds) or seconds < 0:
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s"
    s = int(seconds)
    return f"{s // 60}:{s % 60:02d}" if s < 3600 else \
        f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def settings_text(params: dict[str, Any], labels: dict[str, str]) -> str:
    """``learning_rate 0.01, units 16``: a trial's settings in the views' labels."""
    return ", ".join(f"{labels.get(name, name)} {value_text(v)}" for name, v in params.items())


def pruned_value(row: TrialRow) -> float:
    """The value a pruned trial had at the step it was pruned (its last reported value
    when the step is unknown)."""
    for step, value in row.values:
        if step == row.pruned_step:
            return value
    return row.value


def prune_text(row: TrialRow, status: SweepStatus) -> str:
    """Why ``row`` was pruned: ``#7 pruned at epoch 3: val_loss 0.92 > median 0.41``
    ("" for a trial that was not pruned)."""
    if row.state != "pruned":
        return ""
    where = f" at epoch {row.pruned_step}" if row.pruned_step is not None else ""
    head = f"#{row.number} pruned{where}"
    value = pruned_value(row)
    if row.threshold is None or not math.isfinite(value):
        return f"{head}: {status.objective} {value_text(value)} (no threshold recorded)"
    words = THRESHOLD_WORDS.get(status.pruner, "threshold")
    worse = ">" if status.direction == "minimize" else "<"
    return (f"{head}: {status.objective} {value_text(value)} {worse} {words} "
            f"{value_text(row.threshold)}")


def summary_text(status: SweepStatus) -> str:
    """The views' header: the study, how far it is, its best trial."""
    trials = status.trials
    finished = status.finished_count()
    counts = {s: sum(t.state == s for t in trials) for s in ("running", "pruned", "fail")}
    budget = f" of {status.budget}" if status.budget is not None else ""
    parts = [f"Sweep {status.study_name}: {finished}{budget} trials finished"]
    extra = [f"{counts['pruned']} pruned" if counts["pruned"] else "",
             f"{counts['fail']} failed" if counts["fail"] else "",
             f"{counts['running']} running" if counts["running"] else ""]
    extra = [e for e in extra if e]
    if extra:
        parts[0] += f" ({', '.join(extra)})"
    best = status.best
    if best is not None:
        parts.append(f"best {status.objective} {value_text(best.value)} (#{best.number})")
    elapsed = duration_text(status.elapsed)
    if status.time_limit is not None:
        elapsed += f" of {duration_text(status.time_limit)}"
    parts.append(elapsed)
    parts.append(STATE_TEXT.get(status.state, status.state))
    return " · ".join(parts)



_POOR, _GOOD = QColor("#C6DBEF"), QColor("#08306B")


def goodness_color(g: float) -> QColor:
    """The colour of a trial whose objective is ``g`` of the way (0..1) from the worst
    finished trial's to the best's: light blue for poor, dark blue for good."""
    g = min(max(g, 0.0), 1.0) if math.isfinite(g) else 0.0
    return QColor.fromRgbF(*(a + (b - a) * g for a, b in zip(_POOR.getRgbF()[:3],
                                                              _GOOD.getRgbF()[:3],
                                                              strict=True)))
