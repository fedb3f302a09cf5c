"""A sweep as its recorded runs show it: the settings a design offers to a sweep, the best
trial among a sweep's runs, and the settings its trials varied (what "Apply best" puts
into the design with ``core.sweeps.space.apply``).

Pure and Optuna-free, so the window's Runs panel can use it without loading Optuna.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.design.edit import LayerPath, all_paths, layer_at
from core.design.fields import FieldInfo, field_infos
from core.design.spec import Design
from core.records.record import RunRecord
from core.sweeps.space import OBJECTIVES

__all__ = ["Setting", "best_trial", "record_objective", "sweep_settings", "varied_params"]

_SWEEPABLE = ("int", "float", "choice", "bool")
# A pruned trial's run ends "pruned" ("stopped" in projects saved before the reason
# existed); a blown-up one ("diverged") failed in the study.
_PRUNED, _FAILED = ("pruned", "stopped"), ("diverged", "unfinished")


@dataclass(frozen=True)
class Setting:
    """A setting a sweep can vary: its SPACE.json ``name`` (``training.learning_rate``,
    ``layers[3].layers[0].units``), its layer path (None for training), ``FieldInfo``
    and value in the design."""

    name: str
    layer: LayerPath | None
    info: FieldInfo
    value: Any


def layer_name(path: LayerPath) -> str:
    """``layers[3].layers[0]``: how SPACE.json names the layer at ``path``."""
    return ".".join(f"layers[{i}]" for i in path)


def sweep_settings(design: Design) -> list[Setting]:
    """Every number, choice and on/off setting of ``design``'s training and of each layer
    (a residual block's children after it), in that order."""
    out = [Setting(f"training.{name}", None, info, getattr(design.training, name))
           for name, info in field_infos(design.training).items() if info.type in _SWEEPABLE]
    for path in all_paths(design.network):
        layer = layer_at(design.network, path)
        out += [Setting(f"{layer_name(path)}.{name}", path, info, getattr(layer, name))
                for name, info in field_infos(layer).items() if info.type in _SWEEPABLE]
    return out


def record_objective(record: RunRecord, objective: str) -> float:
    """A run's objective after its last epoch, as the sweep driver reports it: the
    validation value, the training set's where there is no validation split."""
    if not record.history:
        return math.nan
    last = record.history[-1]
    val, train = ("val_loss", "train_loss") if objective == "val_loss" else \
        ("val_metric", "train_metric")
    value = float(last.get(val, math.nan))
    return value if not math.isnan(value) else float(last.get(train, math.nan))


def best_trial(records: Sequence[RunRecord], objective: str = "val_loss") -> RunRecord | None:
    """The run with the best ``objective`` among a sweep's runs (its completed trials;
    pruned ones only when none completed, failed ones never); None when none has one."""
    direction = OBJECTIVES.get(objective, "minimize")
    complete = [r for r in records if r.end_reason not in _PRUNED + _FAILED]
    pruned = [r for r in records if r.end_reason in _PRUNED]
    best, best_value = None, math.nan
    for record in complete or pruned:
        value = record_objective(record, objective)
        if math.isnan(value):
            continue
        if best is None or (value < best_value if direction == "minimize"
                            else value > best_value):
            best, best_value = record, value
    return best


def varied_params(records: Sequence[RunRecord], best: RunRecord) -> dict[str, Any]:
    """The settings that differ among a sweep's runs' designs, with ``best``'s values:
    the trial's parameters (a record keeps the design it trained, not the parameters).
    Empty for a single run."""
    values: dict[str, set[str]] = {}
    for record in records:
        for s in sweep_settings(record.design):
            values.setdefault(s.name, set()).add(repr(s.value))
    return {s.name: s.value for s in sweep_settings(best.design)
            if len(values.get(s.name, ())) > 1}
