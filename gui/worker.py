"""The training worker: drives ``core.training.Trainer`` on a QThread; the window pulls
what it has gathered a few dozen times a second.

Responsiveness with the GIL: a trainer thread making many small NumPy calls starves the
GUI thread (see the platform notes). The design, measured in ``bench/gui_latency.py``:
1. no signal per step: the worker gathers snapshots in a ``ProgressBatcher`` and the
   GUI *pulls* a batch on its own frame timer (``take_batch``);
2. for each frame the GUI asks the worker to *step aside* (``FrameGate``): the worker
   blocks between two steps, releasing the GIL, until the GUI has redrawn and painted,
   so a redraw never fights the trainer for the interpreter;
3. between frames the worker sleeps for a fraction of a millisecond every few
   milliseconds of work, so mouse and keyboard events are served promptly.
The worker only reads the network it trains; everything it hands over is a copy.
"""

from __future__ import annotations

import threading
import time

import numpy as np
from PySide6.QtCore import QObject, QThread, Slot

from core import StudioError
from core.progress import (
    ProgressBatch,
    ProgressBatcher,
    fit_curve,
    surface_grid,
)
from core.spec import Design
from core.training import EpochSnapshot, RunEnd, Trainer, TrainingControl

VIEW_INTERVAL = 0.25  # seconds between weight copies and decision-surface updates
SLICE = 0.004  # seconds of work between short sleeps
NAP = 0.0002  # the short sleep that lets the GUI thread take the GIL
ASIDE_LIMIT = 0.25  # the worker never stays aside longer than this


class FrameGate:
    """The GUI's request that the worker pause between steps while it draws a frame.

    GUI thread: ``request()``, then ``wait_aside(t)`` (blocks until the worker is parked
    or ``t`` passes), draw, ``release()``. Worker: ``park_if_requested()`` between steps.
    """

    def __init__(self) -> None:
        self.requested = False  # read by the worker every step: a plain attribute
        self._parked = threading.Event()
        self._go = threading.Event()
        self._go.set()

    def request(self) -> None:
        self._go.clear()
        self._parked.clear()
        self.requested = True

    def wait_aside(self, limit: float) -> bool:
        return self._parked.wait(limit)

    def release(self) -> None:
        self.requested = False
        self._go.set()

    def park_if_requested(self) -> None:
        if self.requested:
            self._parked.set()
            self._go.wait(ASIDE_LIMIT)
            self.requested = False


class TrainingWorker(QObject):
    """Runs one training run. Create, move to a QThread, connect, then start the thread.

    The GUI pulls progress with ``take_batch()`` (thread-safe). When the thread has
    finished, ``end`` holds the ``RunEnd`` (None if the run could not start, and then
    ``error`` says why).
    """

    def __init__(self, design: Design, dataset, control: TrainingControl, gate: FrameGate,
                 detail_every: int = 1) -> None:
        super().__init__()
        self._design = design
        self._dataset = dataset
        self._control = control
        self._gate = gate
        self._detail_every = detail_every
        self._lock = threading.Lock()
        self._trainer: Trainer | None = None
        self._batcher: ProgressBatcher | None = None
        self._views: dict | None = None
        self._last_view = 0.0
        self._samples = 0
        self._rate = (0.0, 0)  # (time, samples) at the last speed reading
        self._speed = 0.0
        self.end: RunEnd | None = None
        self.error = ""

    # --------------------------------------------------------------- GUI side
    def take_batch(self) -> ProgressBatch | None:
        """Everything gathered since the last call (None before the run has started)."""
        with self._lock:
            batcher = self._batcher
            if batcher is None:
                return None
            batch = batcher.take()
            views, self._views = self._views, None
            speed = self._speed
        if views is not None:
            batch.weights = views.get("weights")
            batch.surface = views.get("surface")
            batch.fit = views.get("fit")
        batch.samples_per_second = speed
        return batch

    # ------------------------------------------------------------ worker side
    @Slot()
    def run(self) -> None:
        try:
            self._run()
        finally:
            # End the thread's event loop from here: the GUI thread may be blocked in
            # QThread.wait() (closing the window) and unable to run a quit() slot.
            thread = QThread.currentThread()
            if thread is not None:
                thread.quit()

    def _run(self) -> None:
        from threadpoolctl import threadpool_limits

        # One BLAS thread: two collapse when the GUI keeps the other core busy. Overflow
        # warnings are expected when a run diverges; the trainer detects divergence.
        with threadpool_limits(1), np.errstate(over="ignore", invalid="ignore",
                                               divide="ignore"):
            try:
                trainer = Trainer(self._design, self._dataset, self._detail_every)
            except StudioError as exc:
                self.error = str(exc)
                return
            with self._lock:
                self._trainer = trainer
                self._batcher = ProgressBatcher(trainer.layer_names)
            try:
                self.end = self._loop(trainer)
            except Exception as exc:  # a bug must end the run with a message, not hang it
                self.error = f"Training stopped by an internal error: {exc!r}"

    def _loop(self, trainer: Trainer) -> RunEnd | None:
        batcher, lock, gate, control = self._batcher, self._lock, self._gate, self._control
        assert batcher is not None
        # While paused, keep the views fresh for the window (a single step shows at once).
        control.before_wait = self._publish_views
        batch_size = trainer.config.batch_size
        now = time.perf_counter()
        next_nap = now + SLICE
        self._rate = (now, 0)
        end: RunEnd | None = None
        try:
            for snap in trainer.run(control):
                with lock:
                    batcher.add(snap)
                if isinstance(snap, RunEnd):
                    end = snap
                    break
                if isinstance(snap, EpochSnapshot):
                    continue  # it carries the validation confusion counts itself
                self._samples += batch_size
                gate.park_if_requested()
                now = time.perf_counter()
                if now - self._last_view >= VIEW_INTERVAL:
                    self._publish_views()
                    now = time.perf_counter()
                if now >= next_nap:
                    time.sleep(NAP)
                    next_nap = time.perf_counter() + SLICE
        finally:
            control.before_wait = None
        self._publish_views()
        return end

    def _publish_views(self) -> None:
        """Copy the weights and compute the model views for the next frame."""
        trainer = self._trainer
        if trainer is None:
            return
        now = time.perf_counter()
        t0, s0 = self._rate
        speed = (self._samples - s0) / (now - t0) if now - t0 > 0.5 else None
        net, data = trainer.network, self._dataset
        logits = trainer.stepper.logits
        views = {"weights": {k: v.copy() for k, v in net.parameters().items()},
                 "surface": surface_grid(net, data, logits), "fit": fit_curve(net, data)}
        with self._lock:
            self._views = views
            if speed is not None:
                self._speed = speed
                self._rate = (now, self._samples)
        self._last_view = time.perf_counter()
