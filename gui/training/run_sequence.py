"""Several runs one after the other on the window's one training run: the sequencing
that compare mode (``gui.training.ab_runner``) and a lesson's "Run all variants"
(``gui.panels.lesson_runner``) share.

Each ``SequenceStep`` names a design and its run's name, and may ``prepare`` the window
first (load the design into the document, pin a baseline); the step's run starts through
``TrainingUi.start_design``. When its record arrives the next step starts, after the rest
of the run's end handling. A stopped run (the Stop action, or an edit that stopped it),
a run that did not start or record, or ``cancel()`` ends the sequence: ``finished``
reports the records so far and why it ended.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal

from core.design.spec import Design
from core.records.record import RunRecord

__all__ = ["CANCELLED", "DONE", "FAILED", "STOPPED", "RunSequence", "SequenceStep"]

# Why a sequence ended (``RunSequence.finished``'s second argument).
DONE, STOPPED, FAILED, CANCELLED = "done", "stopped", "failed", "cancelled"


@dataclass(frozen=True)
class SequenceStep:
    """One run of a sequence: ``design`` trained under ``name`` (it must have the
    document's network and dataset when it starts); ``prepare()`` runs just before the
    start and may refuse (False ends the sequence as failed)."""

    design: Design
    name: str
    prepare: Callable[[], bool] | None = None


class RunSequence(QObject):
    """Runs ``SequenceStep`` s through ``training`` (a ``TrainingUi``), one at a time.

    Signals: ``step_started(index)`` once a step's run has started;
    ``finished(records, why)`` with the records of the steps that ran (None for a run
    that recorded nothing) and one of ``DONE``, ``STOPPED``, ``FAILED``, ``CANCELLED``.
    """

    step_started = Signal(int)
    finished = Signal(object, str)

    def __init__(self, parent: QObject, training) -> None:
        super().__init__(parent)
        self._training = training
        self._steps: list[SequenceStep] = []
        self.index = -1  # the step whose run is live or next; -1 when idle
        self.records: list[RunRecord | None] = []
        training.run_recorded.connect(self._on_run_recorded)

    @property
    def active(self) -> bool:
        return self.index >= 0

    def start(self, steps: list[SequenceStep]) -> bool:
        """Start the first step; False (nothing started) if a run or a sequence is live,
        or the first step could not start (``finished`` is then emitted too)."""
        if self.active or self._training.controller.active or not steps:
            return False
        self._steps = list(steps)
        self.records = []
        self.index = 0
        return self._start_current()

    def cancel(self) -> None:
        """Start nothing more; the live run, if any, is the caller's to stop."""
        if self.active:
            self._end(CANCELLED)

    # ------------------------------------------------------------- internals
    def _start_current(self) -> bool:
        step = self._steps[self.index]
        if step.prepare is not None and not step.prepare():
            self._end(FAILED)
            return False
        if not self._training.start_design(step.design, step.name):
            self._end(FAILED)
            return False
        self.step_started.emit(self.index)
        return True

    def _on_run_recorded(self, record: RunRecord | None, end) -> None:
        if not self.active:
            return
        self.records.append(record)
        if end is None or record is None:
            self._end(FAILED)
        elif end.reason == "stopped":
            self._end(STOPPED)
        elif self.index + 1 >= len(self._steps):
            self._end(DONE)
        else:
            # After the rest of this run's end handling (its messages, the final redraw).
            QTimer.singleShot(0, self._next)

    def _next(self) -> None:
        if not self.active:
            return  # cancelled meanwhile
        if self._training.controller.active:  # another run started in between
            self._end(FAILED)
            return
        self.index += 1
        self._start_current()

    def _end(self, why: str) -> None:
        self.index = -1
        self.finished.emit(list(self.records), why)
