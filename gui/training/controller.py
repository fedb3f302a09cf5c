"""One training run at a time: start, pause, step, resume, stop, reset, and shutdown.

The controller lives in the GUI thread. The trainer runs in a child process
(``core.training.process.TrainerProcess``, kept for later runs); for each run the controller sends
it the design and data, builds a ``TrainingWorker`` on a fresh QThread to receive the
progress, forwards it as its own signals once per frame (so receivers run in the GUI
thread), and passes commands and live setting changes to the process. On shutdown it
stops the run cooperatively and waits for the thread: a QThread is never destroyed
while running and never terminated.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from core.design.spec import Design, TrainConfig
from core.training.process import TrainerProcess
from core.training.train_state import TrainState
from gui.training.frame_clock import FrameClock
from gui.training.progress_reader import TrainingWorker

IDLE, RUNNING, PAUSED, STOPPING = "idle", "running", "paused", "stopping"
STATE_TIMEOUT = 5.0  # seconds to wait for a live run's state when saving


class TrainingController(QObject):
    """Owns the current run. ``state`` is idle, running, paused or stopping.

    Signals (all emitted in the GUI thread): ``state_changed(str)``,
    ``run_started(object)`` with the design being trained, ``batch_received(object)``
    with a ``ProgressBatch`` (at most once per frame, with everything since the last),
    ``run_finished(object)`` with the ``RunEnd`` (None if the run failed to start or
    broke off), ``run_failed(str)`` with a sentence for the user (whether the run
    started, at which step it stopped, and why).
    """

    state_changed = Signal(str)
    run_started = Signal(object)
    batch_received = Signal(object)
    run_finished = Signal(object)
    run_failed = Signal(str)

    def __init__(self, parent: QObject | None = None, detail_every: int = 1,
                 clock: FrameClock | None = None) -> None:
        super().__init__(parent)
        self.state = IDLE
        self.detail_every = detail_every
        self.process = TrainerProcess()
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        # The window's frame clock (shared with the plots, which draw in the same frame):
        # held while a run is live, it pulls the progress at the frame pace.
        self.clock = clock if clock is not None else FrameClock(self)
        self.clock.deliver.connect(self._deliver)
        self.design: Design | None = None

    # ----------------------------------------------------------------- queries
    @property
    def active(self) -> bool:
        """True while a run exists (running, paused or stopping)."""
        return self._thread is not None

    # ---------------------------------------------------------------- commands
    def start(self, design: Design, dataset, paused: bool = False, steps: int = 0,
              resume: TrainState | None = None) -> bool:
        """Start a new run of ``design`` on ``dataset`` (a core Dataset). With ``paused``
        it waits before the first step; ``steps`` lets that many run first. With
        ``resume`` the run continues from that state (see ``core.training.train_state``)."""
        if self.active:
            return False
        process = self.process
        message = ("run", design, dataset, self.detail_every, paused, steps, resume)
        try:
            process.ensure_started()
            if not process.send(message):
                process.discard()  # a child that died while idle: one more try, a new one
                process.ensure_started()
                if not process.send(message):
                    raise OSError("it does not accept work")
        except Exception as exc:  # no process, or data that cannot be sent to one
            self.run_failed.emit(f"Training could not start: it could not be handed to the "
                                 f"training process: {exc}")
            return False
        worker = TrainingWorker(process)
        thread = QThread(self)
        thread.setObjectName("training")
        worker.moveToThread(thread)
        queued = Qt.ConnectionType.QueuedConnection
        thread.started.connect(worker.run)
        thread.finished.connect(self._on_thread_finished, queued)
        self._thread, self._worker = thread, worker
        self.design = design
        thread.start()
        self.clock.hold(self)
        self._set_state(PAUSED if paused else RUNNING)
        self.run_started.emit(design)
        return True

    def _command(self, *message) -> None:
        self.process.send(message)

    def pause(self) -> None:
        if self.active and self.state == RUNNING:
            self._command("pause")
            self._set_state(PAUSED)

    def resume(self) -> None:
        if self.active and self.state == PAUSED:
            self._command("resume")
            self._set_state(RUNNING)

    def step(self, n: int = 1) -> None:
        """Run exactly ``n`` more mini-batches, then stay paused."""
        if self.active and self.state in (PAUSED, RUNNING):
            self._command("step", n)
            self._set_state(PAUSED)

    def stop(self) -> None:
        """Ask the run to stop before its next step (returns at once)."""
        if self.active and self.state != STOPPING:
            self._command("stop")
            self._set_state(STOPPING)

    def reinitialise(self) -> None:
        """Restart the live run from freshly drawn initial weights (same seed)."""
        if self.active and self.state in (RUNNING, PAUSED):
            self._command("reinit")

    def capture_state(self, timeout: float = STATE_TIMEOUT) -> bool:
        """Bring the live run's progress up to now, ending with a batch that carries its
        ``TrainState`` (delivered through ``batch_received`` before this returns).
        Blocks the GUI thread for about one training step; False if no answer came
        within ``timeout`` seconds (a training process that has died)."""
        worker = self._worker
        if worker is None:
            return False
        worker.state_arrived.clear()
        if worker.done.is_set():  # over already: its last batch carried the state
            worker.state_arrived.set()
        self._command("state")
        answered = worker.state_arrived.wait(timeout)
        self._deliver(through_state=True)
        return answered and worker.error == ""

    def apply_settings(self, config: TrainConfig) -> None:
        """Pass new training settings to the live run (taken at its next step)."""
        if self.active and self.state in (RUNNING, PAUSED):
            self._command("config", config)

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop any run and wait for its thread to end (for closing the window, or an
        edit that needs a new run). The training process stays for the next run."""
        thread = self._thread
        if thread is None:
            return True
        self.stop()
        self.clock.release(self)
        finished = thread.wait(timeout_ms)
        if not finished:  # a child that does not answer is ended, which ends the thread
            self.process.discard()
            finished = thread.wait(2000)
        self._on_thread_finished()
        return finished

    def close(self) -> bool:
        """``shutdown()``, then end the training process (the window is closing)."""
        finished = self.shutdown()
        self.process.close()
        return finished

    # ------------------------------------------------------------------- slots
    def _deliver(self, through_state: bool = False) -> None:
        """Hand everything received since the last frame to the receivers (with
        ``through_state``, up to the batch answering a state request)."""
        worker = self._worker
        if worker is None:
            return
        batch = worker.take_batch(through_state)
        if batch is not None and (batch.steps.size or batch.epoch_snapshots
                                  or batch.end is not None or batch.weights is not None
                                  or batch.warning is not None):
            self.batch_received.emit(batch)

    @Slot()
    def _on_thread_finished(self) -> None:
        thread, worker = self._thread, self._worker
        if thread is None:
            return
        self.clock.release(self)
        self._deliver()  # the last steps, before the end is announced
        self._thread = self._worker = None
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
