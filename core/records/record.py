"""A run record: what one training run was (its design, seed, how it ended) and how it
went (per-epoch figures and thinned step curves), kept small enough to store dozens in a
project file and to overlay several in a plot.

Records round-trip through JSON-ready dicts (``to_dict``/``from_dict``), checked on the
way in (``FileFormatError`` naming the field). They are made by
``core.records.recorder.RunRecorder``, from a run's snapshots or progress batches.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from core.design.spec import Design
from core.errors import FileFormatError, StudioError
from core.records.history import HISTORY_KEYS

__all__ = [
    "END_REASONS", "EPOCH_ROWS", "GRAD_ROWS", "LOSS_ROWS", "RunRecord", "dataset_label",
    "next_run_name",
]

LOSS_ROWS = 2000  # most rows of a run's step-loss curve
GRAD_ROWS = 1000  # most rows of a run's per-layer gradient-norm curves
EPOCH_ROWS = 2000  # most per-epoch rows (longer runs keep every 2nd, 4th, ... epoch)
MAX_LAYERS = 1000
# RunEnd.reason -> the words the run table shows.
END_REASONS = {
    "finished": "finished",
    "stopped": "stopped",
    "target_reached": "target reached",
    "early_stopped": "stopped early",
    "diverged": "diverged",
    # Saved while it was still training; the file holds it as it stood then.
    "unfinished": "unfinished",
}
METRIC_NAMES = ("accuracy", "r2", "")


@dataclass
class RunRecord:
    """One finished run.

    ``history`` holds one dict per recorded epoch with ``HISTORY_KEYS`` (NaN where not
    measured); ``loss_curve`` is (n, 2) float64 of [step, batch loss] with n <=
    ``LOSS_ROWS``; ``grad_curves`` is (m, 1 + layers) of [step, gradient norm per layer]
    with m <= ``GRAD_ROWS``, columns in ``layer_names`` order. ``started`` is an ISO 8601
    time, ``duration`` seconds, ``end_reason`` a key of ``END_REASONS``.
    """

    design: Design
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    name: str = ""
    note: str = ""
    seed: int = 0
    started: str = ""
    duration: float = 0.0
    end_reason: str = "finished"
    end_message: str = ""
    steps: int = 0
    epochs: int = 0
    metric_name: str = ""
    history: list[dict[str, float]] = field(default_factory=list)
    loss_curve: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    grad_curves: np.ndarray = field(default_factory=lambda: np.zeros((0, 1)))
    layer_names: tuple[str, ...] = ()
    # A sweep's trial: the study's name and Optuna's trial number ("" and -1 otherwise).
    sweep: str = ""
    trial: int = -1

    # ------------------------------------------------------------- derived
    def _final(self, key: str) -> float:
        return float(self.history[-1][key]) if self.history else math.nan

    @property
    def final_train_loss(self) -> float:
        return self._final("train_loss")

    @property
    def final_val_loss(self) -> float:
        return self._final("val_loss")

    @property
    def final_train_metric(self) -> float:
        return self._final("train_metric")

    @property
    def final_val_metric(self) -> float:
        return self._final("val_metric")

    def _best(self, key: str, lowest: bool) -> float:
        values = [r[key] for r in self.history if math.isfinite(r[key])]
        if not values:
            return math.nan
        return float(min(values) if lowest else max(values))

    @property
    def best_val_loss(self) -> float:
        """Lowest validation loss over the recorded epochs (NaN without a validation set)."""
        return self._best("val_loss", lowest=True)

    @property
    def best_val_metric(self) -> float:
        """Highest validation accuracy or R² over the recorded epochs."""
        return self._best("val_metric", lowest=False)

    @property
    def ended(self) -> str:
        """How the run ended, in words (``finished``, ``stopped early``, ``diverged``...)."""
        return END_REASONS.get(self.end_reason, self.end_reason)

    @property
    def dataset(self) -> str:
        return dataset_label(self.design)

    # ---------------------------------------------------------------- dicts
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (non-finite numbers become null)."""
        return {
            "id": self.id, "name": self.name, "note": self.note,
            "design": self.design.to_dict(), "seed": self.seed, "started": self.started,
            "duration": _num(self.duration), "end_reason": self.end_reason,
            "end_message": self.end_message, "steps": self.steps, "epochs": self.epochs,
            "metric_name": self.metric_name,
            "history": [{k: _num(row.get(k, math.nan)) for k in HISTORY_KEYS}
                        for row in self.history],
            "layer_names": list(self.layer_names),
            "loss_curve": _rows(self.loss_curve),
            "grad_curves": _rows(self.grad_curves),
            # Only a sweep's trials carry these, so other runs are saved as before.
            **({"sweep": self.sweep, "trial": self.trial} if self.sweep else {}),
        }

    @classmethod
    def from_dict(cls, d: Any, path: str = "run") -> RunRecord:
        """Parse and check a dict from ``to_dict``; ``FileFormatError`` names the field
        (``run.loss_curve[3]: ...``)."""
        if not isinstance(d, dict):
            raise FileFormatError(f"{path}: must be an object")
        known = {"id", "name", "note", "design", "seed", "started", "duration", "end_reason",
                 "end_message", "steps", "epochs", "metric_name", "history", "layer_names",
                 "loss_curve", "grad_curves", "sweep", "trial"}
        for key in d:
            if key not in known:
                raise FileFormatError(f"{path}.{key}: unknown key")
        for key in ("id", "design", "end_reason"):
            if key not in d:
                raise FileFormatError(f"{path}.{key}: missing")

        def text(key: str, default: str = "", limit: int = 100_000) -> str:
            v = d.get(key, default)
            if not isinstance(v, str):
                raise FileFormatError(f"{path}.{key}: must be a string, got {_show(v)}")
            if len(v) > limit:
                raise FileFormatError(f"{path}.{key}: longer than {limit} characters")
            return v

        def count(key: str) -> int:
            v = d.get(key, 0)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise FileFormatError(f"{path}.{key}: must be a non-negative integer, got "
                                      f"{_show(v)}")
            return v

        try:
            design = Design.from_dict(d["design"])
        except StudioError as exc:
            raise FileFormatError(f"{path}.design: the design is invalid:\n{exc}") from None
        if design.dataset is not None:
            from core.datasets import DatasetSpec  # deferred: the datasets package is larger

            try:
                DatasetSpec.from_dict(design.dataset)
            except StudioError as exc:
                raise FileFormatError(f"{path}.design: the dataset choice is invalid:\n"
                                      f"{exc}") from None
        end_reason = text("end_reason")
        if end_reason not in END_REASONS:
            raise FileFormatError(f"{path}.end_reason: unknown reason {end_reason!r}; one of "
                                  f"{', '.join(END_REASONS)}")
        metric_name = text("metric_name")
        if metric_name not in METRIC_NAMES:
            raise FileFormatError(f"{path}.metric_name: must be accuracy, r2 or empty, got "
                                  f"{metric_name!r}")
        duration = d.get("duration", 0.0)
        if isinstance(duration, bool) or not isinstance(duration, int | float) \
                or not math.isfinite(duration) or duration < 0:
            raise FileFormatError(f"{path}.duration: must be a non-negative number of "
                                  f"seconds, got {_show(duration)}")
        started = text("started", limit=64)
        if started:
            try:
                datetime.fromisoformat(started)
            except ValueError:
                raise FileFormatError(f"{path}.started: not an ISO 8601 time: "
                                      f"{started!r}") from None
        names = d.get("layer_names", [])
        if not isinstance(names, list) or len(names) > MAX_LAYERS \
                or not all(isinstance(n, str) for n in names):
            raise FileFormatError(f"{path}.layer_names: must be a list of layer names")
        return cls(
            design=design, id=text("id", limit=64), name=text("name", limit=1000),
            note=text("note"), seed=count("seed"), started=started,
            duration=float(duration), end_reason=end_reason,
            end_message=text("end_message"), steps=count("steps"), epochs=count("epochs"),
            metric_name=metric_name,
            history=_parse_history(d.get("history", []), f"{path}.history"),
            loss_curve=_parse_rows(d.get("loss_curve", []), 2, LOSS_ROWS,
                                   f"{path}.loss_curve"),
            grad_curves=_parse_rows(d.get("grad_curves", []), 1 + len(names), GRAD_ROWS,
                                    f"{path}.grad_curves"),
            layer_names=tuple(names),
            sweep=text("sweep", limit=1000),
            trial=count("trial") if "trial" in d else -1,
        )


def _num(v: float) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def _rows(a: np.ndarray) -> list[list[float | None]]:
    a = np.asarray(a, dtype=np.float64)
    out = a.tolist()
    if not np.all(np.isfinite(a)):
        out = [[x if math.isfinite(x) else None for x in row] for row in out]
    return out


def _show(v: Any) -> str:
    if isinstance(v, dict):
        return "an object"
    if isinstance(v, list):
        return "a list"
    return json.dumps(v) if isinstance(v, str | bool) or v is None else repr(v)


def _number(v: Any, where: str) -> float:
    if v is None:
        return math.nan
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise FileFormatError(f"{where}: must be a number or null, got {_show(v)}")
    return float(v)


def _parse_history(rows: Any, path: str) -> list[dict[str, float]]:
    if not isinstance(rows, list):
        raise FileFormatError(f"{path}: must be a list")
    if len(rows) > EPOCH_ROWS:
        raise FileFormatError(f"{path}: {len(rows)} rows is more than {EPOCH_ROWS}")
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or set(row) != set(HISTORY_KEYS):
            raise FileFormatError(f"{path}[{i}]: must have exactly {', '.join(HISTORY_KEYS)}")
        out.append({k: _number(row[k], f"{path}[{i}].{k}") for k in HISTORY_KEYS})
    return out


def _parse_rows(rows: Any, width: int, limit: int, path: str) -> np.ndarray:
    if not isinstance(rows, list):
        raise FileFormatError(f"{path}: must be a list of rows")
    if len(rows) > limit:
        raise FileFormatError(f"{path}: {len(rows)} rows is more than {limit}")
    out = np.zeros((len(rows), width))
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            raise FileFormatError(f"{path}[{i}]: must be a list of {width} numbers")
        out[i] = [_number(v, f"{path}[{i}]") for v in row]
    return out


def dataset_label(design: Design) -> str:
    """A short name of the design's dataset: ``xor``, ``iris``, ``data.csv``, an image
    folder's name, or ``-``."""
    d = design.dataset
    if not d:
        return "-"
    if d.get("kind") in ("csv", "images"):
        path = str(d.get("path", ""))
        return path.replace("\\", "/").rsplit("/", 1)[-1] or "csv"
    return str(d.get("name", "?"))


def next_run_name(runs: list[RunRecord]) -> str:
    """``Run N`` with N one more than the highest N already used."""
    used = [int(r.name[4:]) for r in runs
            if r.name.startswith("Run ") and r.name[4:].isdigit() and len(r.name) < 14]
    return f"Run {max(used, default=0) + 1}"
