"""What a training run reports, step by step: the snapshots ``Trainer.run`` yields.

``StepSnapshot`` after every step, ``EpochSnapshot`` after every epoch, ``RunWarning``
when the loss blows up under ``blow_up="warn"``, and one ``RunEnd`` last. They are the
raw material of every record of a run (``core.records.recorder.RunRecorder``), so they
live here, below the trainer that makes them (``core.training.trainer`` re-exports them).
Snapshots hold Python floats and tuples, never live arrays, so they can cross threads
and be kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["EpochSnapshot", "RunEnd", "RunWarning", "Snapshot", "StepSnapshot"]


@dataclass(frozen=True)
class StepSnapshot:
    """After one mini-batch. Norm tuples follow ``layer_names`` (layers with parameters).

    ``grad_norms``/``weight_norms``/``update_ratios`` are empty on steps where detail was
    not recorded (see ``Trainer(detail_every=...)``). ``update_ratios`` are
    ||Δw|| / ||w|| per layer: around 1e-3 is the classic sign of a well-chosen rate.
    """

    epoch: int
    step: int
    loss: float
    penalty: float
    learning_rate: float
    grad_norm: float
    grad_norms: tuple[float, ...] = ()
    weight_norms: tuple[float, ...] = ()
    update_ratios: tuple[float, ...] = ()


@dataclass(frozen=True)
class EpochSnapshot:
    """After one epoch: losses and the task's metric on the whole training and validation
    sets (evaluation mode: dropout off, batch-norm running statistics).

    ``metric_name`` is ``accuracy`` (classification) or ``r2`` (regression); validation
    values are NaN when there is no validation split.
    """

    epoch: int
    step: int
    train_loss: float
    val_loss: float
    train_metric: float
    val_metric: float
    metric_name: str
    learning_rate: float
    elapsed: float
    # Multi-class classification with a validation split: counts (classes, classes) of
    # true (rows) against predicted (columns) validation classes, from the same outputs.
    val_confusion: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class RunEnd:
    """The run is over. ``reason``: finished, stopped, target_reached, early_stopped or
    diverged (or unfinished: a window saved a live run as it stood). For divergence
    ``what`` says what went non-finite, ``layer`` where first, and ``hint`` what to try;
    the weights are left at their last finite values."""

    reason: str
    epoch: int
    step: int
    message: str
    what: str = ""
    layer: str = ""
    hint: str = ""


@dataclass(frozen=True)
class RunWarning:
    """The run goes on but is diverging (the blow-up rule, ``blow_up="warn"``): the
    message says since which step, the layer with the largest relative weight updates,
    and what to try (``hint``)."""

    epoch: int
    step: int
    message: str
    layer: str = ""
    hint: str = ""


Snapshot = StepSnapshot | EpochSnapshot | RunWarning | RunEnd
