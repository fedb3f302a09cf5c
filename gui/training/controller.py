"""One training run at a time: start, pause, step, resume, stop, reset, and shutdown.

The controller lives in the GUI thread and starts no thread of its own. The trainer
runs in a child process whose one handle, ``core.training.process.TrainingProcess``
(kept for later runs), also owns the thread that reads its progress. For each run the
controller sends the design and a description of the data (the child loads it), takes
the run's ``RunProgress`` and, on each tick of the window's frame clock, forwards what
has arrived as its own signals (so receivers run in the GUI thread) and notices when the
run is over. Commands
and live setting changes go to the process. On shutdown it stops the run cooperatively
and waits for its end; a child that does not answer is ended.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from core.datasets import Dataset
from core.datasets.source import DatasetSource
from core.design.spec import Design, TrainConfig
from core.training.process import TrainingProcess
from core.training.run_progress import RunProgress
from core.training.train_state import TrainState
from gui.training.frame_clock import FrameClock

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
        self.process = TrainingProcess()
        self._run: RunProgress | None = None
        # The window's frame clock (shared with the plots, which draw in the same frame):
        # held while a run is live; each tick hands over what arrived, and ends a run
        # that is over.
        self.clock = clock if clock is not None else FrameClock(self)
        self.clock.deliver.connect(self._on_frame)
        self.design: Design | None = None

    # ----------------------------------------------------------------- queries
    @property
    def active(self) -> bool:
        """True while a run exists (running, paused or stopping)."""
        return self._run is not None

    # ---------------------------------------------------------------- commands
    def start(self, design: Design, data: Dataset | DatasetSource, paused: bool = False,
              steps: int = 0, resume: TrainState | None = None) -> bool:
        """Start a new run of ``design`` on ``data``: a ``DatasetSource`` (the training
        process loads it; an error loading it ends the run with ``run_failed``) or a core
        ``Dataset`` with no description (sent whole). With ``paused`` it waits before the
        first step; ``steps`` lets that many run first. With ``resume`` the run continues
        from that state (see ``core.training.train_state``)."""
        if self.active:
            return False
        try:
            run = self.process.start_run(design, data, self.detail_every, paused, steps,
                                         resume)
        except Exception as exc:  # no process, or data that cannot be sent to one
            self.run_failed.emit(f"Training could not start: it could not be handed to the "
                                 f"training process: {exc}")
            return False
        self._run = run
        self.design = design
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
        run = self._run
        if run is None:
            return False
        run.expect_state()
        self._command("state")
        answered = run.state_arrived.wait(timeout)
        self._deliver(through_state=True)
        return answered and run.error == ""

    def apply_settings(self, config: TrainConfig) -> None:
        """Pass new training settings to the live run (taken at its next step)."""
        if self.active and self.state in (RUNNING, PAUSED):
            self._command("config", config)

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop any run and wait for its end (for closing the window, or an edit that
        needs a new run). The training process stays for the next run, unless it did not
        answer within ``timeout_ms``: then it is ended, which ends the run."""
        run = self._run
        if run is None:
            return True
        self.stop()
        self.clock.release(self)
        finished = run.done.wait(timeout_ms / 1000)
        if not finished:
            self.process.discard()  # its reader sees the pipe close and ends the run
            finished = run.done.wait(2.0)
        self._finish(run)
        return finished

    def close(self) -> bool:
        """``shutdown()``, then end the training process (the window is closing)."""
        finished = self.shutdown()
        self.process.close()
        return finished

    # ------------------------------------------------------------------- frames
    def _on_frame(self) -> None:
        """Each frame: hand over what arrived; once the run is over, end it here."""
        run = self._run
        if run is None:
            return
        over = run.done.is_set()  # read first: what arrived before the end is taken next
        self._deliver()
        if over:
            self._finish(run)

    def _deliver(self, through_state: bool = False) -> None:
        """Hand everything received since the last frame to the receivers (with
        ``through_state``, up to the batch answering a state request)."""
        run = self._run
        if run is None:
            return
        batch = run.take_batch(through_state)
        if batch is not None and (batch.steps.size or batch.epoch_snapshots
                                  or batch.end is not None or batch.weights is not None
                                  or batch.warning is not None):
            self.batch_received.emit(batch)

    def _finish(self, run: RunProgress) -> None:
        """Announce the end of ``run``, once, and only if it is the live run: an end
        that arrives for a run already ended (shutdown ended it) is ignored."""
        if run is not self._run:
            return
        self.clock.release(self)
        self._deliver()  # the last steps, before the end is announced
        self._run = None
        self._set_state(IDLE)
        if run.error:
            self.run_failed.emit(run.error)
        self.run_finished.emit(run.end)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)
