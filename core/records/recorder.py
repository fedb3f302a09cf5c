"""The one recorder of training runs: snapshots (or progress batches) in, a ``RunRecord``
out, in bounded memory however long the run.

:class:`RunRecorder` keeps the step loss in at most ``LOSS_ROWS`` rows, per-layer
gradient norms in at most ``GRAD_ROWS`` and epochs in at most ``EPOCH_ROWS``, thinned by
``core.records.history.ThinnedSeries``. It takes a run's snapshots one at a time (the
command line, compare mode, lessons: ``core.training.session.run_session``) or gathered
into ``core.training.progress.ProgressBatch`` objects (the window, which receives the
training process's snapshots that way); both give the same record.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from core.design.spec import Design
from core.records.history import HISTORY_KEYS, ThinnedSeries
from core.records.record import EPOCH_ROWS, GRAD_ROWS, LOSS_ROWS, RunRecord
from core.records.snapshots import EpochSnapshot, RunEnd, RunWarning, StepSnapshot

__all__ = ["RunRecorder"]


class RunRecorder:
    """Collects one run in bounded memory: feed it every snapshot of the run, or every
    ``ProgressBatch`` the snapshots were gathered into, with :meth:`add`; call
    :meth:`finish` at the end. If the step counter goes back (the run was
    re-initialised), the history starts afresh.
    """

    def __init__(self, layer_names: tuple[str, ...]) -> None:
        self.layer_names = tuple(layer_names)
        self.reset()

    def reset(self) -> None:
        """Forget everything recorded (the run restarted at step 0)."""
        self._loss = ThinnedSeries(2, LOSS_ROWS)
        self._grads = ThinnedSeries(1 + len(self.layer_names), GRAD_ROWS)
        self._epochs = ThinnedSeries(len(HISTORY_KEYS), EPOCH_ROWS)
        self._last_epoch: np.ndarray | None = None
        self._last_loss: tuple[float, float] | None = None  # [step, loss] of the newest step
        self._last_step = -1.0
        self.metric_name = ""
        self.end: RunEnd | None = None

    def add(self, item) -> None:
        """Record one snapshot (``core.records.snapshots``) or a
        ``core.training.progress.ProgressBatch`` of them (its arrays are copied, not kept).
        A ``RunWarning`` changes nothing recorded."""
        if isinstance(item, StepSnapshot):
            self._add_step(item)
        elif isinstance(item, EpochSnapshot):
            self._add_epochs([item])
        elif isinstance(item, RunEnd):
            self.end = item
        elif not isinstance(item, RunWarning):
            self._add_batch(item)

    def _add_step(self, snap: StepSnapshot) -> None:
        if snap.step <= self._last_step:
            self.reset()
        self._loss.append((snap.step, snap.loss))
        self._last_step = float(snap.step)
        self._last_loss = (float(snap.step), snap.loss)
        if snap.grad_norms and len(snap.grad_norms) == len(self.layer_names):
            self._grads.append((snap.step, *snap.grad_norms))

    def _add_epochs(self, snaps: list[EpochSnapshot]) -> None:
        rows = np.array([[getattr(s, k) for k in HISTORY_KEYS] for s in snaps],
                        dtype=np.float64)
        self._epochs.extend(rows)
        self._last_epoch = rows[-1]
        self.metric_name = snaps[-1].metric_name

    def _add_batch(self, batch) -> None:
        """The same as adding the batch's snapshots one by one."""
        if batch.steps.size and batch.steps[0] <= self._last_step:
            self.reset()
        if batch.steps.size:
            self._loss.extend(np.column_stack([batch.steps, batch.losses]))
            self._last_step = float(batch.steps[-1])
            self._last_loss = (float(batch.steps[-1]), float(batch.losses[-1]))
        if batch.grad_norms.shape[0] and batch.grad_norms.shape[1] == len(self.layer_names):
            self._grads.extend(np.column_stack([batch.detail_steps, batch.grad_norms]))
        if batch.epoch_snapshots:
            self._add_epochs(batch.epoch_snapshots)
        if batch.end is not None:
            self.end = batch.end

    def curves(self) -> tuple[np.ndarray, np.ndarray]:
        """The run so far: (n, 2) [step, batch loss] and (m, 1 + layers) [step, gradient
        norm per layer], thinned as the record's (copies; a live view draws them)."""
        return self._loss.array(), self._grads.array()

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
            self._last_loss = (float(steps[-1][0]), float(steps[-1][1]))
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
                                   np.array([self._last_loss])])
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
