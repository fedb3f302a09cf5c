"""Run names that say what made a run: a short diff against the previous run (``lr 0.3``,
``+dropout 0.2``, ``batch size 32``) instead of ``Run 7``.

A lesson's runs (``Lesson 5: dropout``) and a comparison's (``A: lr 0.1``) are named by
their makers (``core.teach.checks``, ``core.training.compare``); :func:`default_run_name`
names every other run from ``core.records.diff.design_changes``. :func:`unique_name`
keeps names apart in one run list (``lr 0.3 (2)``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from core.design.fields import field_infos
from core.design.spec import Design, TrainConfig
from core.records.diff import Change, design_changes, format_value
from core.records.record import RunRecord, next_run_name

__all__ = ["MAX_NAMED", "default_run_name", "short_changes", "short_label", "unique_name"]

# Short names of training settings in run names; other settings use their label.
_SHORT = {"learning_rate": "lr"}
MAX_NAMED = 3  # changes named in a run's name before "+N more"
_LABEL_TO_NAME = {info.label.lower(): name for name, info in field_infos(TrainConfig).items()}


def short_label(name: str) -> str:
    """How training setting ``name`` is called in a run's name: ``lr``, ``batch size``,
    ``L2``."""
    if name in _SHORT:
        return _SHORT[name]
    label = field_infos(TrainConfig)[name].label
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        label = label[0].lower() + label[1:]
    return label


def _short(change: Change) -> str | None:
    """One change in a run name's words; None for what the other changes already say
    (a layer count)."""
    k = change.kind
    if k == "field":
        value = format_value(change.new)
        if change.layer == "activation":
            return value  # "relu": the new function says it
        if change.layer:
            return f"{change.layer} {value}" if change.layer == "dropout" else \
                f"{change.layer} {change.label} {value}"
        name = _LABEL_TO_NAME.get(change.label)
        return f"{short_label(name) if name else change.label} {value}"
    if k == "layer":
        return f"{str(change.old).lower()} → {str(change.new).lower()}"
    if k == "added":
        return f"+{str(change.new).lower()}"
    if k == "removed":
        return f"−{str(change.old).lower()}"
    if k == "dataset":
        return f"data {change.new}"
    if k == "data":
        return f"{change.label} {format_value(change.new)}"
    return None


def short_changes(a: Design, b: Design) -> list[str]:
    """How ``b`` differs from ``a`` in run-name words, e.g. ``["lr 0.3", "+dropout 0.2"]``
    (empty when they train alike; the designs' names do not count)."""
    return [s for s in map(_short, design_changes(a, b)) if s]


def unique_name(name: str, taken: Iterable[str]) -> str:
    """``name``, or ``name (2)``, ``name (3)``... if a run in ``taken`` has it."""
    taken = set(taken)
    if name not in taken:
        return name
    n = 2
    while f"{name} ({n})" in taken:
        n += 1
    return f"{name} ({n})"


def default_run_name(design: Design, runs: Sequence[RunRecord]) -> str:
    """A name for a run of ``design`` recorded after ``runs``: what changed since the
    previous run (``lr 0.3``; ``+2 more`` past ``MAX_NAMED`` changes), else ``Run N``
    (the first run, or the same design again)."""
    if not runs:
        return next_run_name(list(runs))
    parts = short_changes(runs[-1].design, design)
    if not parts:
        return next_run_name(list(runs))
    rest = len(parts) - MAX_NAMED
    name = ", ".join(parts[:MAX_NAMED]) + (f", +{rest} more" if rest > 0 else "")
    return unique_name(name, (r.name for r in runs))
