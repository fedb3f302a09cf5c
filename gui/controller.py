"""One training run at a time: start, pause, step, resume, stop, reset, and shutdown.

The controller lives in the GUI thread. It builds a ``TrainingWorker`` on a fresh
QThread for each run, forwards the worker's batches as its own signals (so receivers
run in the GUI thread), passes live setting changes to the run, and on shutdown stops
the worker cooperatively and waits for its thread: a QThread is never destroyed while
running and never terminated.
"""

from __future__ import annotations

import time

from PySide6.QtCore import (
    QCoreApplication,
    QEventLoop,
    QObject,
    Qt,
    QThread,
    QTimer,
    Signal,
    Slot,
)

from core.spec import Design, TrainConfig
from core.training import TrainingControl

from .worker import FrameGate, TrainingWorker

IDLE, RUNNING, PAUSED, STOPPING = "idle", "running", "paused", "stopping"
FRAME_MS = 37  # the window pulls and draws progress about 27 times a second
ASIDE_WAIT = 0.004  # seconds the GUI waits for the worker to park before drawing anyway


class TrainingController(QObject):
    """Owns the current run. ``state`` is idle, running, paused or stopping.

    Signals (all emitted in the GUI thread): ``state_changed(str)``,
    ``run_started(object)`` with the design being trained, ``batch_received(object)``
    with a ``ProgressBatch`` (once per frame with progress; receivers redraw then, while
    the worker is held aside), ``run_finished(object)`` with the ``RunEnd`` (None if the
    run failed to start), ``run_failed(str)``.
    """

    state_changed = Signal(str)
    run_started = Signal(object)
    batch_received = Signal(object)
    run_finished = Signal(object)
    run_failed = Signal(str)

    def __init__(self, parent: QObject | None = None, detail_every: int = 1) -> None:
        super().__init__(parent)
        self.state = IDLE
        self.detail_every = detail_every
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        self._control: TrainingControl | None = None
        self._gate = FrameGate()
        self._frame = QTimer(self)
        self._frame.setTimerType(Qt.TimerType.PreciseTimer)
        self._frame.setInterval(FRAME_MS)
        self._frame.timeout.connect(self._on_frame_timeout)
        self.frame_seconds = 0.0  # the GUI's time for the last frame (for measuring)
        self._in_frame = False
        self.design: Design | None = None

    # ----------------------------------------------------------------- queries
    @property
    def active(self) -> bool:
        """True while a run exists (running, paused or stopping)."""
        return self._thread is not None

    # ---------------------------------------------------------------- commands
    def start(self, design: Design, dataset, paused: bool = False, steps: int = 0) -> bool:
        """Start a new run of ``design`` on ``dataset`` (a core Dataset). With ``paused``
        it waits before the first step; ``steps`` lets that many run first."""
        if self.active:
            return False
        control = TrainingControl()
        if paused:
            control.pause()
            if steps:
                control.step(steps)
        worker = TrainingWorker(design, dataset, control, self._gate, self.detail_every)
        thread = QThread(self)
        thread.setObjectName("training")
        worker.moveToThread(thread)
        queued = Qt.ConnectionType.QueuedConnection
        thread.started.connect(worker.run)
        thread.finished.connect(self._on_thread_finished, queued)
        self._thread, self._worker, self._control = thread, worker, control
        self.design = design
        self._gate.release()
        thread.start()
        self._frame.start()
        self._set_state(PAUSED if paused else RUNNING)
        self.run_started.emit(design)
        return True

    def pause(self) -> None:
        if self._control is not None and self.state == RUNNING:
            self._control.pause()
            self._set_state(PAUSED)

    def resume(self) -> None:
        if self._control is not None and self.state == PAUSED:
            self._control.resume()
            self._set_state(RUNNING)

    def step(self, n: int = 1) -> None:
        """Run exactly ``n`` more mini-batches, then stay paused."""
        if self._control is not None and self.state in (PAUSED, RUNNING):
            self._control.step(n)
            self._set_state(PAUSED)

    def stop(self) -> None:
        """Ask the run to stop before its next step (returns at once)."""
        if self._control is not None and self.state != STOPPING:
            self._control.stop()
            self._gate.release()
            self._set_state(STOPPING)

    def reinitialise(self) -> None:
        """Restart the live run from freshly drawn initial weights (same seed)."""
        if self._control is not None and self.state in (RUNNING, PAUSED):
            self._control.reinitialise()

    def apply_settings(self, config: TrainConfig) -> None:
        """Pass new training settings to the live run (taken at its next step)."""
        if self._control is not None and self.state in (RUNNING, PAUSED):
            self._control.set_config(config)

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop any run and wait for its thread to end (for closing the window)."""
        thread = self._thread
        if thread is None:
            return True
        self.stop()
        self._frame.stop()
        self._gate.release()
        finished = thread.wait(timeout_ms)
        self._on_thread_finished()
        return finished

    # ------------------------------------------------------------------- slots
    def _on_frame_timeout(self) -> None:
        if not self._in_frame:
            self._deliver(hold_worker=True)

    def _deliver(self, hold_worker: bool) -> None:
        """Pull the worker's progress and hand it to the receivers, with the worker held
        between two steps (so the redraw has the interpreter to itself)."""
        worker = self._worker
        if worker is None:
            return
        t0 = time.perf_counter()
        if hold_worker and self.state == RUNNING:
            self._gate.request()
            self._gate.wait_aside(ASIDE_WAIT)
        self._in_frame = True
        try:
            batch = worker.take_batch()
            if batch is not None and (batch.steps.size or batch.epoch_snapshots
                                      or batch.end is not None or batch.weights is not None):
                self.batch_received.emit(batch)
                # Paint what the receivers changed now, while the worker is held: the
                # plots' scene updates and paint requests are posted events. Timers and
                # input wait for the normal loop (no re-entry into this frame).
                QCoreApplication.sendPostedEvents()
                QCoreApplication.processEvents(
                    QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents
                    | QEventLoop.ProcessEventsFlag.ExcludeSocketNotifiers)
        finally:
            self._in_frame = False
            self._gate.release()
        self.frame_seconds = time.perf_counter() - t0

    @Slot()
    def _on_thread_finished(self) -> None:
        thread, worker = self._thread, self._worker
        if thread is None:
            return
        if self._in_frame:  # arrived while a frame paints: finish right after it
            QTimer.singleShot(0, self._on_thread_finished)
            return
        self._frame.stop()
        self._deliver(hold_worker=False)  # the last steps, before the end is announced
        self._thread = self._worker = self._control = None
        end = worker.end if worker is not None else None
        error = worker.error if worker is not None else ""
        if worker is not None:
            worker.deleteLater()
        thread.deleteLater()
        self._set_state(IDLE)
        if error:
            self.run_failed.emit(error)
        self.run_finished.emit(end)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)
