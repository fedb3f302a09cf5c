"""Run history: what one training run was (its design, seed, how it ended) and how it went
(per-epoch figures and thinned step curves), kept small enough to store dozens in a
project file and to overlay several in a plot.

A :class:`RunRecorder` consumes the ``core.training.progress.ProgressBatch`` objects a window
receives during a run and keeps bounded histories (the step loss in at most
``LOSS_ROWS`` rows, per-layer gradient norms in at most ``GRAD_ROWS``, epochs in at most
``EPOCH_ROWS``) however long the run; ``finish`` turns them into an immutable-by-
convention :class:`RunRecord`. Records round-trip through JSON-ready dicts, checked on the
way in (``FileFormatError`` naming the field). :func:`design_diff` says in words how two
designs differ; :func:`runs_to_csv` and :func:`history_to_csv` export a comparison table.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from core.design.fields import field_infos
from core.design.spec import (
    LAYER_KINDS,
    Design,
    LayerSpec,
    NetworkSpec,
    ResidualSpec,
    TrainConfig,
)
from core.errors import FileFormatError, StudioError

__all__ = [
    "END_REASONS", "EPOCH_ROWS", "GRAD_ROWS", "HISTORY_KEYS", "LOSS_ROWS", "RUN_COLUMNS",
    "RunRecord", "RunRecorder", "dataset_label", "design_diff", "history_to_csv",
    "next_run_name", "run_row", "runs_to_csv",
]

LOSS_ROWS = 2000  # most rows of a run's step-loss curve
GRAD_ROWS = 1000  # most rows of a run's per-layer gradient-norm curves
EPOCH_ROWS = 2000  # most per-epoch rows (longer runs keep every 2nd, 4th, ... epoch)
MAX_LAYERS = 1000
HISTORY_KEYS = ("epoch", "step", "train_loss", "val_loss", "train_metric", "val_metric")
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
# The run table's columns (also the CSV's), as (key, heading).
RUN_COLUMNS = (
    ("name", "Name"), ("dataset", "Dataset"), ("seed", "Seed"), ("epochs", "Epochs"),
    ("steps", "Steps"), ("final_train_loss", "Final train loss"),
    ("final_val_loss", "Final val loss"), ("best_val_metric", "Best val metric"),
    ("duration", "Duration (s)"), ("ended", "Ended"),
)


# ------------------------------------------------------------------ thinning


class _Thinned:
    """Rows of ``width`` floats in at most ``capacity`` rows, thinned by stride doubling
    (the ``core.records.history.ThinnedSeries`` rule, vectorised per batch): of the rows offered,
    those whose index is a multiple of the stride are kept, and when full every other
    kept row is dropped and the stride doubles."""

    def __init__(self, width: int, capacity: int) -> None:
        self.capacity = capacity - capacity % 2
        self._data = np.zeros((0, width))
        self._stride = 1
        self._seen = 0

    def extend(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, self._data.shape[1])
        offset = self._seen
        self._seen += rows.shape[0]
        while True:
            idx = np.arange(offset, offset + rows.shape[0])
            kept = rows[idx % self._stride == 0]
            if self._data.shape[0] + kept.shape[0] <= self.capacity:
                self._data = np.concatenate([self._data, kept])
                return
            # Over capacity: halve what is kept (indices 0, s, 2s... become 0, 2s, ...)
            # and offer the new rows again at the doubled stride.
            self._data = self._data[::2].copy()
            self._stride *= 2

    def array(self) -> np.ndarray:
        return self._data.copy()

    @property
    def last(self) -> np.ndarray | None:
        return self._data[-1] if self._data.shape[0] else None


# -------------------------------------------------------------------- record


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
        }

    @classmethod
    def from_dict(cls, d: Any, path: str = "run") -> RunRecord:
        """Parse and check a dict from ``to_dict``; ``FileFormatError`` names the field
        (``run.loss_curve[3]: ...``)."""
        if not isinstance(d, dict):
            raise FileFormatError(f"{path}: must be an object")
        known = {"id", "name", "note", "design", "seed", "started", "duration", "end_reason",
                 "end_message", "steps", "epochs", "metric_name", "history", "layer_names",
                 "loss_curve", "grad_curves"}
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


# ------------------------------------------------------------------- recorder


class RunRecorder:
    """Collects one run's progress batches in bounded memory.

    Feed every ``ProgressBatch`` to :meth:`add`; call :meth:`finish` at the end. If the
    step counter goes back (the run was re-initialised), the history starts afresh.
    """

    def __init__(self, layer_names: tuple[str, ...]) -> None:
        self.layer_names = tuple(layer_names)
        self.reset()

    def reset(self) -> None:
        """Forget everything recorded (the run restarted at step 0)."""
        self._loss = _Thinned(2, LOSS_ROWS)
        self._grads = _Thinned(1 + len(self.layer_names), GRAD_ROWS)
        self._epochs = _Thinned(len(HISTORY_KEYS), EPOCH_ROWS)
        self._last_epoch: np.ndarray | None = None
        self._last_loss: np.ndarray | None = None  # [step, loss] of the newest step
        self._last_step = -1.0
        self.metric_name = ""
        self.end = None

    def add(self, batch) -> None:
        """Record a ``core.training.progress.ProgressBatch`` (its arrays are copied, not kept)."""
        if batch.steps.size and batch.steps[0] <= self._last_step:
            self.reset()
        if batch.steps.size:
            self._loss.extend(np.column_stack([batch.steps, batch.losses]))
            self._last_step = float(batch.steps[-1])
            self._last_loss = np.array([batch.steps[-1], batch.losses[-1]], dtype=np.float64)
        if batch.grad_norms.shape[0] and batch.grad_norms.shape[1] == len(self.layer_names):
            self._grads.extend(np.column_stack([batch.detail_steps, batch.grad_norms]))
        if batch.epoch_snapshots:
            rows = np.array([[s.epoch, s.step, s.train_loss, s.val_loss, s.train_metric,
                              s.val_metric] for s in batch.epoch_snapshots], dtype=np.float64)
            self._epochs.extend(rows)
            self._last_epoch = rows[-1]
            self.metric_name = batch.epoch_snapshots[-1].metric_name
        if batch.end is not None:
            self.end = batch.end

    @property
    def last_step(self) -> int:
        """The newest step recorded (0 before any)."""
        return int(max(self._last_step, 0))

    def continue_from(self, steps: np.ndarray, grad_curves: np.ndarray,
                      history: list[dict[str, float]], metric_name: str) -> None:
        """Start with a saved run's curves (``RunRecord`` fields): a run continued from
        it records on from there, and its record holds the whole history."""
        self._loss.extend(steps)
        if grad_curves.ndim == 2 and grad_curves.shape[1] == 1 + len(self.layer_names):
            self._grads.extend(grad_curves)
        rows = np.array([[row[k] for k in HISTORY_KEYS] for row in history],
                        dtype=np.float64).reshape(-1, len(HISTORY_KEYS))
        self._epochs.extend(rows)
        if rows.shape[0]:
            self._last_epoch = rows[-1]
        if np.shape(steps)[0]:
            self._last_step = float(steps[-1][0])
            self._last_loss = np.asarray(steps[-1], dtype=np.float64)
        self.metric_name = metric_name

    def finish(self, end, design: Design, started: str | datetime, duration: float,
               name: str = "", note: str = "", run_id: str = "") -> RunRecord:
        """The run as a record. ``end`` is the ``core.training.trainer.RunEnd`` (None: the one
        seen in the batches, else "stopped"); ``started`` an ISO time or a datetime;
        ``run_id`` the record's id (default: a new one). Does not change the recorder,
        so a live run can be recorded as it stands and recorded again at its end."""
        end = end if end is not None else self.end
        epochs = self._epochs.array()
        if self._last_epoch is not None and (
                epochs.shape[0] == 0 or epochs[-1, 1] != self._last_epoch[1]):
            # Thinning may have skipped the last epoch; the final figures need it.
            epochs = np.concatenate([epochs[1:] if epochs.shape[0] >= EPOCH_ROWS else epochs,
                                     self._last_epoch[None, :]])
        history = [dict(zip(HISTORY_KEYS, map(float, row), strict=True)) for row in epochs]
        if isinstance(started, datetime):
            started = started.isoformat(timespec="seconds")
        loss = self._loss.array()
        if self._last_loss is not None and (loss.shape[0] == 0
                                            or loss[-1, 0] != self._last_loss[0]):
            # Likewise the last step: a reopened run shows where it ended.
            loss = np.concatenate([loss[1:] if loss.shape[0] >= LOSS_ROWS else loss,
                                   self._last_loss[None, :]])
        return RunRecord(
            design=design, **({"id": run_id} if run_id else {}), name=name, note=note,
            seed=int(design.training.seed),
            started=started, duration=float(duration),
            end_reason=end.reason if end is not None else "stopped",
            end_message=end.message if end is not None else "",
            steps=int(end.step) if end is not None else int(max(self._last_step, 0)),
            epochs=int(end.epoch) if end is not None else len(history),
            metric_name=self.metric_name, history=history, loss_curve=loss,
            grad_curves=self._grads.array(), layer_names=self.layer_names)


# ----------------------------------------------------------------- labels


def dataset_label(design: Design) -> str:
    """A short name of the design's dataset: ``xor``, ``iris``, ``data.csv`` or ``-``."""
    d = design.dataset
    if not d:
        return "-"
    if d.get("kind") == "csv":
        path = str(d.get("path", ""))
        return path.replace("\\", "/").rsplit("/", 1)[-1] or "csv"
    return str(d.get("name", "?"))


def next_run_name(runs: list[RunRecord]) -> str:
    """``Run N`` with N one more than the highest N already used."""
    used = [int(r.name[4:]) for r in runs
            if r.name.startswith("Run ") and r.name[4:].isdigit() and len(r.name) < 14]
    return f"Run {max(used, default=0) + 1}"


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    if v is None:
        return "none"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_fmt(x) for x in v) + "]" if v else "none"
    return str(v)


# ------------------------------------------------------------------- diff


def _field_diffs(a: Any, b: Any, where: str, out: list[str]) -> None:
    """Field-by-field differences of two specs of the same class."""
    kind = getattr(type(a), "kind", "")
    for name, info in field_infos(a).items():
        va, vb = getattr(a, name), getattr(b, name)
        if va == vb:
            continue
        label = info.label.lower()
        if kind:
            label = f"{LAYER_KINDS[kind].label.lower()} {label}"
        suffix = f" ({where})" if where else ""
        out.append(f"{label}{suffix}: {_fmt(va)} -> {_fmt(vb)}")


def _layer_diffs(a: tuple[LayerSpec, ...], b: tuple[LayerSpec, ...], path: str,
                 out: list[str]) -> None:
    if len(a) != len(b):
        out.append(f"{path}: {len(a)} -> {len(b)}")
    keys_a = [json.dumps(x.to_dict(), sort_keys=True) for x in a]
    keys_b = [json.dumps(x.to_dict(), sort_keys=True) for x in b]
    matcher = difflib.SequenceMatcher(a=keys_a, b=keys_b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        pairs = min(i2 - i1, j2 - j1) if op == "replace" else 0
        for k in range(pairs):
            la, lb = a[i1 + k], b[j1 + k]
            where = f"{path}[{j1 + k}]"
            if la.kind != lb.kind:
                out.append(f"{where}: {la.summary()} -> {lb.summary()}")
                continue
            _field_diffs(la, lb, where, out)
            if isinstance(la, ResidualSpec) and isinstance(lb, ResidualSpec):
                _layer_diffs(la.layers, lb.layers, f"{where}.layers", out)
        for i in range(i1 + pairs, i2):
            out.append(f"removed {path}[{i}]: {a[i].summary()}")
        for j in range(j1 + pairs, j2):
            out.append(f"added {path}[{j}]: {b[j].summary()}")


def design_diff(a: Design, b: Design) -> list[str]:
    """How design ``b`` differs from ``a``, one readable line per difference, e.g.
    ``activation function (layers[1]): sigmoid -> relu``, ``learning rate: 0.1 -> 1.0``,
    ``layers: 6 -> 8``, ``dataset noise: 0.1 -> 0.3``. Layer positions are ``b``'s
    (``a``'s for removed layers). Empty when the designs train alike."""
    out: list[str] = []
    na, nb = a.network, b.network
    _field_diffs(NetworkSpec(na.inputs, (), na.default_init),
                 NetworkSpec(nb.inputs, (), nb.default_init), "", out)
    _layer_diffs(na.layers, nb.layers, "layers", out)
    ta, tb = a.training, b.training
    if isinstance(ta, TrainConfig) and isinstance(tb, TrainConfig):
        _field_diffs(ta, tb, "", out)
    da, db = a.dataset, b.dataset
    if da != db:
        if not da or not db or da.get("kind") != db.get("kind"):
            words = [f"{dataset_label(x)} ({x.dataset.get('kind', '?')})" if x.dataset
                     else "none" for x in (a, b)]
            out.append(f"dataset: {words[0]} -> {words[1]}")
        else:
            for key in dict.fromkeys([*da, *db]):
                va, vb = da.get(key), db.get(key)
                if va != vb:
                    out.append(f"dataset {key.replace('_', ' ')}: {_fmt(va)} -> {_fmt(vb)}")
    return out


# -------------------------------------------------------------------- CSV


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
