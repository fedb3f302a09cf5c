"""Compare mode, headless: one design trained with two sets of training settings, A (its
own) and B (A with a few settings changed), from the same seed on the same data.

:func:`settings_variant` makes design B from A and a dict of changed settings, checking
every value with its ``FieldInfo`` (a ``DesignError`` names the bad field) and refusing
to change what must stay equal for a fair comparison: the seed (initial weights,
shuffling, dropout masks), and with it the network and the dataset, which are not
training settings at all. :func:`compare_names` labels the two runs by what differs
(``A: lr 0.1`` / ``B: lr 1.0``); :func:`record_run` trains one design through
:func:`core.training.session.run_session` and records it with
:class:`core.records.recorder.RunRecorder`, as the window does; :func:`compare` does both
runs and returns the two records. The window
runs the same two designs in its training process (``gui.training.ab_runner``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from core.design.fields import field_infos
from core.design.spec import Design, TrainConfig
from core.errors import DesignError, Problem
from core.records.diff import format_value
from core.records.record import RunRecord
from core.records.recorder import RunRecorder
from core.records.run_names import MAX_NAMED, short_label
from core.training.session import run_session
from core.training.trainer import Trainer

__all__ = [
    "FIXED_FOR_COMPARE", "changed_settings", "compare", "compare_names", "record_run",
    "settings_variant", "short_label",
]

# Settings both runs must share: the same seed gives the same initial weights, the same
# shuffling of the mini-batches and the same dropout masks.
FIXED_FOR_COMPARE = ("seed",)
def settings_variant(design: Design, changes: Mapping[str, Any]) -> Design:
    """Design B: ``design`` with the training settings in ``changes`` (field name ->
    value) replaced; network, dataset and seed stay as they are.

    Raises ``DesignError`` naming the field (``training.learning_rate: Learning rate must
    be a number > 0 and <= 10000, got -1``) when a name is not a training setting, a value
    fails its field's check, a fixed setting (the seed) would change, or the new settings
    do not fit the network (a loss that needs another output layer).
    """
    infos = field_infos(TrainConfig)
    problems: list[Problem] = []
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        info = infos.get(name)
        if info is None:
            problems.append(Problem(f"training.{name}", "not a training setting; one of "
                                    f"{', '.join(infos)}"))
            continue
        if info.type == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        why = info.check(value)
        if why:
            problems.append(Problem(f"training.{name}", f"{info.label} {why}"))
            continue
        if name in FIXED_FOR_COMPARE and value != getattr(design.training, name):
            problems.append(Problem(f"training.{name}", f"{info.label} must stay "
                                    f"{getattr(design.training, name)}: both runs of a "
                                    "comparison start from the same seed"))
            continue
        clean[name] = value
    if problems:
        raise DesignError(problems)
    variant = dataclasses.replace(design,
                                  training=dataclasses.replace(design.training, **clean))
    # Only problems B's settings bring: an unfinished network is A's problem too and is
    # reported where A is trained.
    before = set(design.validate())
    new = [p for p in variant.validate() if p not in before]
    if new:
        raise DesignError(new)
    return variant


def changed_settings(a: Design, b: Design) -> dict[str, Any]:
    """The training settings of ``b`` that differ from ``a``'s, in declaration order."""
    return {name: getattr(b.training, name) for name in field_infos(TrainConfig)
            if getattr(a.training, name) != getattr(b.training, name)}


def compare_names(a: Design, b: Design) -> tuple[str, str]:
    """Names for the two runs saying what differs: ``("A: lr 0.1", "B: lr 1.0")``; with
    more than ``MAX_NAMED`` changes the rest are counted (``+2 more``)."""
    names = list(changed_settings(a, b))
    shown, rest = names[:MAX_NAMED], len(names) - MAX_NAMED

    def name(tag: str, design: Design) -> str:
        parts = [f"{short_label(n)} {format_value(getattr(design.training, n))}"
                 for n in shown]
        if rest > 0:
            parts.append(f"+{rest} more")
        return f"{tag}: {', '.join(parts)}" if parts else f"{tag}: same settings"

    return name("A", a), name("B", b)


def _load(design: Design, base_dir: str | Path | None):
    from core.datasets import DatasetSpec, load_dataset  # deferred: the datasets package is large

    if design.dataset is None:
        raise DesignError(Problem("dataset", "the design names no dataset"))
    return load_dataset(DatasetSpec.from_dict(design.dataset), base_dir)


def record_run(design: Design, dataset, name: str = "") -> RunRecord:
    """Train ``design`` on ``dataset`` (a core Dataset) to its end and record it as the
    window does (a ``RunRecord`` with thinned curves). A run that blows up ends as
    ``diverged``; the overflow on the way is not a warning."""
    started, t0 = datetime.now(), time.perf_counter()
    trainer = Trainer(design, dataset)  # DesignError names what does not fit
    recorder = RunRecorder(trainer.layer_names)
    end = run_session(trainer, recorder)
    return recorder.finish(end, design, started, time.perf_counter() - t0, name=name)


def compare(design: Design, changes: Mapping[str, Any], dataset=None,
            base_dir: str | Path | None = None) -> tuple[RunRecord, RunRecord]:
    """Train ``design`` (A) and then A with ``changes`` (B) from the same seed on the same
    data, and return their records, named by :func:`compare_names`.

    ``dataset`` is the loaded core Dataset (default: the design's own, loaded once for
    both runs; ``base_dir`` resolves a relative CSV path). Raises ``DesignError`` for a bad
    change (see :func:`settings_variant`) before anything is trained.
    """
    variant = settings_variant(design, changes)
    if variant == design:
        raise DesignError(Problem("training", "B has the same settings as A: change at "
                                  "least one setting"))
    data = dataset if dataset is not None else _load(design, base_dir)
    name_a, name_b = compare_names(design, variant)
    return record_run(design, data, name_a), record_run(variant, data, name_b)
