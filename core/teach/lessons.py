"""The seed's lessons: each claim of the backpropagation text as runnable experiments.

``LESSONS`` maps a key to a :class:`Lesson`: the claim quoted from the seed text, a short
plain-words explanation for a side panel, and a few :class:`LessonVariant` designs that
differ in one setting (a learning rate, an activation, a remedy). The content is data, in
``core.teach.lesson_table``; this module builds it into designs. :func:`run_variant`
trains one variant headless (``core.training.session.run_session``) and returns a
:class:`LessonResult` with the epoch histories, the first/last layer gradient norms of
every step, how the run ended and its ``RunRecord``; the GUI shows these, the tests
assert the effects. Every design is small enough to train in a few seconds.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np

from core.datasets import DatasetSpec, load_dataset
from core.design.spec import (
    ActivationSpec,
    BatchNormSpec,
    Conv2DSpec,
    DenseSpec,
    Design,
    DropoutSpec,
    FlattenSpec,
    LayerSpec,
    MaxPool2DSpec,
    NetworkSpec,
    ResidualSpec,
    TrainConfig,
)
from core.records.record import RunRecord
from core.records.recorder import RunRecorder
from core.records.snapshots import EpochSnapshot, RunEnd, Snapshot, StepSnapshot
from core.teach.lesson_table import DATASETS, LESSON_ROWS, SHIPPED, Net, SweepRow, Variant
from core.training.session import run_session
from core.training.trainer import Trainer

__all__ = [
    "LESSONS",
    "Lesson",
    "LessonResult",
    "LessonVariant",
    "run_variant",
    "with_seed",
]


@dataclass(frozen=True)
class LessonVariant:
    """One runnable experiment of a lesson: a complete design (dataset included)."""

    name: str
    design: Design
    note: str


@dataclass(frozen=True)
class Lesson:
    """One claim of the seed text and the experiments that show it; a sweep lesson has
    one variant and the ``sweep`` that varies one of its settings
    (``core.teach.sweep_lesson``)."""

    key: str
    title: str
    claim: str
    explanation: str
    variants: tuple[LessonVariant, ...]
    sweep: SweepRow | None = None

    def variant(self, name: str) -> LessonVariant:
        """The variant called ``name``; ``KeyError`` names the choices."""
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(f"no variant {name!r}; choose one of "
                       f"{', '.join(v.name for v in self.variants)}")


@dataclass(frozen=True)
class LessonResult:
    """What one training run of a variant measured.

    ``epochs`` holds one snapshot per finished epoch. ``first_grad``/``last_grad`` are the
    gradient norms of the first and last layer with parameters (``layer_names[0]`` and
    ``layer_names[-1]``) at every step, before clipping. ``steps_per_epoch`` counts the
    steps of the first epoch (0 if it never finished). ``record`` is the run as the
    Runs panel keeps it (``core.records.recorder.RunRecorder``).
    """

    variant: str
    epochs: tuple[EpochSnapshot, ...]
    first_grad: tuple[float, ...]
    last_grad: tuple[float, ...]
    step_losses: tuple[float, ...]
    layer_names: tuple[str, ...]
    steps_per_epoch: int
    n_train: int
    batch_size: int
    end: RunEnd
    record: RunRecord | None = None

    @property
    def reason(self) -> str:
        return self.end.reason

    @property
    def diverged(self) -> bool:
        return self.end.reason == "diverged"

    @property
    def train_losses(self) -> tuple[float, ...]:
        return tuple(e.train_loss for e in self.epochs)

    @property
    def val_losses(self) -> tuple[float, ...]:
        return tuple(e.val_loss for e in self.epochs)

    @property
    def val_metrics(self) -> tuple[float, ...]:
        return tuple(e.val_metric for e in self.epochs)

    @property
    def final_train_loss(self) -> float:
        """Training loss after the last finished epoch (inf if none finished)."""
        return self.epochs[-1].train_loss if self.epochs else math.inf

    @property
    def final_val_loss(self) -> float:
        return self.epochs[-1].val_loss if self.epochs else math.inf

    @property
    def final_val_metric(self) -> float:
        return self.epochs[-1].val_metric if self.epochs else math.nan

    @property
    def best_val_loss(self) -> float:
        return min(self.val_losses, default=math.inf)

    @property
    def gap(self) -> float:
        """Final validation loss minus final training loss: the overfitting gap."""
        return self.final_val_loss - self.final_train_loss

    def epochs_to(self, loss: float) -> int | None:
        """First epoch (1-based) whose training loss is at most ``loss``; None if never."""
        for e in self.epochs:
            if e.train_loss <= loss:
                return e.epoch
        return None

    def grad_ratio(self, steps: int | None = None) -> float:
        """Median over the first ``steps`` steps (all if None) of first-layer / last-layer
        gradient norm: about 1 when the gradient reaches the input layer intact, tiny when
        it vanishes on the way back."""
        first = np.asarray(self.first_grad[:steps], dtype=np.float64)
        last = np.asarray(self.last_grad[:steps], dtype=np.float64)
        ok = np.isfinite(first) & np.isfinite(last) & (last > 0)
        if not np.any(ok):
            return math.nan
        return float(np.median(first[ok] / last[ok]))


def with_seed(design: Design, seed: int | None) -> Design:
    """``design`` with ``seed`` as both its training seed (initial weights, shuffling,
    dropout) and its generated dataset's seed; unchanged for None."""
    if seed is None:
        return design
    dataset: dict[str, Any] = dict(design.dataset or {})
    if dataset.get("kind") in ("synthetic", "builtin"):
        dataset["seed"] = seed
    return replace(design, training=replace(design.training, seed=seed), dataset=dataset)


def run_variant(variant: LessonVariant, epochs: int | None = None,
                seed: int | None = None) -> LessonResult:
    """Train ``variant`` headless and return what it measured.

    ``epochs`` overrides the design's epoch count; ``seed`` overrides both the training
    seed (initial weights, shuffling, dropout) and the dataset's seed. Runs that blow up
    are expected in some lessons: floating-point overflow is silenced here and the run
    ends with reason ``diverged``.
    """
    design = with_seed(variant.design, seed)
    training = design.training
    if epochs is not None:
        training = replace(training, epochs=epochs)
        design = replace(design, training=training)
    data = load_dataset(DatasetSpec.from_dict(dict(design.dataset or {})))
    started, t0 = datetime.now(), time.perf_counter()
    trainer = Trainer(design, data, detail_every=1)
    trace = _Trace()
    recorder = RunRecorder(trainer.layer_names)
    end = run_session(trainer, trace, recorder)
    record = recorder.finish(end, design, started, time.perf_counter() - t0,
                             name=variant.name)
    return LessonResult(
        variant.name, tuple(trace.epochs), tuple(trace.first), tuple(trace.last),
        tuple(trace.losses), trainer.layer_names,
        trace.steps_per_epoch if trace.epochs else 0, int(data.x_train.shape[0]),
        training.batch_size, end, record)


class _Trace:
    """What a lesson measures of a run, every step unthinned (a run's consumer, see
    ``core.training.session``)."""

    def __init__(self) -> None:
        self.epochs: list[EpochSnapshot] = []
        self.first: list[float] = []
        self.last: list[float] = []
        self.losses: list[float] = []
        self.steps_per_epoch = 0

    def add(self, snap: Snapshot) -> None:
        if isinstance(snap, StepSnapshot):
            self.losses.append(snap.loss)
            if snap.grad_norms:
                self.first.append(snap.grad_norms[0])
                self.last.append(snap.grad_norms[-1])
            if snap.epoch == 0:
                self.steps_per_epoch = snap.step
        elif isinstance(snap, EpochSnapshot):
            self.epochs.append(snap)


# ------------------------------------------------------------- from the table


def _network(net: Net) -> NetworkSpec:
    """The ``NetworkSpec`` a table's ``Net`` describes."""
    layers: list[LayerSpec] = []
    if net.kind == "mlp":
        for units in net.widths:
            layers.append(DenseSpec(units=units, init=net.init, gain=net.gain))
            if net.batchnorm:
                layers.append(BatchNormSpec())
            layers.append(ActivationSpec(net.activation))
            if net.dropout:
                layers.append(DropoutSpec(rate=net.dropout))
        layers.append(DenseSpec(units=net.outputs, init=net.init, gain=net.gain))
    elif net.kind == "conv":
        for filters in net.widths:
            layers += [Conv2DSpec(filters=filters, kernel=net.kernel, padding=net.padding,
                                  init=net.init, gain=net.gain),
                       ActivationSpec(net.activation),
                       MaxPool2DSpec(size=net.pool, stride=net.pool)]
        layers += [FlattenSpec(), DenseSpec(units=net.outputs, init=net.init, gain=net.gain)]
    else:
        width = net.widths[0]
        layers += [DenseSpec(units=width, init=net.init), ActivationSpec(net.activation)]
        for _ in range(net.blocks):
            block: tuple[LayerSpec, ...] = (DenseSpec(units=width, init=net.init),
                                            ActivationSpec(net.activation))
            if net.kind == "residual_pairs":
                block += (DenseSpec(units=width, gain=net.branch_gain),)
            layers.append(ResidualSpec(layers=block))
        layers.append(DenseSpec(units=net.outputs, init=net.init))
    if net.final:
        layers.append(ActivationSpec(net.final))
    return NetworkSpec(inputs=net.inputs, layers=tuple(layers),
                       input_shape=net.image or ())


def _variant(row: Variant) -> LessonVariant:
    if row.example:
        from core.files.design_file import load_design
        from core.resources import resource_path

        design = load_design(resource_path("examples", row.example))
    else:
        assert row.network is not None, row.name
        dataset = (DatasetSpec.builtin(*SHIPPED[row.dataset]) if row.dataset in SHIPPED
                   else DatasetSpec.synthetic(*DATASETS[row.dataset]))
        design = Design(_network(row.network), TrainConfig(**row.training),
                        dataset.to_dict(), row.title)
    return LessonVariant(row.name, design, row.note)


def _lessons() -> dict[str, Lesson]:
    return {row.key: Lesson(row.key, row.title, row.claim, row.explanation,
                            tuple(_variant(v) for v in row.variants), row.sweep)
            for row in LESSON_ROWS}


LESSONS: dict[str, Lesson] = _lessons()
