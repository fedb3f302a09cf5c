"""The one run loop: a trainer's snapshots, fed to whatever consumes them.

Everything that trains iterates ``Trainer.run`` through :func:`run_session`: the training
process the window trains in (``core.training.process``), the command line
(``core.cli.train``), compare mode (``core.training.compare``), the lessons
(``core.teach.lessons``) and the sweeps to come. A consumer is any object with
``add(snapshot)``: ``core.records.recorder.RunRecorder`` (the run's record; the only
maker of records), ``core.training.progress.ProgressBatcher`` (batches for a window), a
CSV writer, a progress line.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from core.records.snapshots import RunEnd, Snapshot
from core.training.trainer import Trainer, TrainingControl

__all__ = ["SnapshotConsumer", "run_session"]


class SnapshotConsumer(Protocol):
    """What :func:`run_session` feeds: every snapshot of the run, in order."""

    def add(self, snap: Snapshot) -> None: ...


def run_session(trainer: Trainer, *consumers: SnapshotConsumer,
                control: TrainingControl | None = None) -> RunEnd:
    """Train until ``trainer`` ends (or ``control`` stops it), giving each snapshot to
    every consumer in the order given; returns the ``RunEnd``, which the consumers have
    had too.

    A run that diverges overflows on the way; the trainer detects that and ends the run
    with "diverged", so NumPy's overflow warnings are silenced here. Exceptions from the
    trainer or a consumer (a ``KeyboardInterrupt``) pass through; what the consumers got
    until then stays with them.
    """
    end: RunEnd | None = None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for snap in trainer.run(control):
            for consumer in consumers:
                consumer.add(snap)
            if isinstance(snap, RunEnd):
                end = snap
    if end is None:  # Trainer.run always ends with a RunEnd
        raise RuntimeError("the run ended without a RunEnd")
    return end
