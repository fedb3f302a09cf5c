"""Training in a child process, beside the window's interpreter rather than inside it.

Why a process: one Python interpreter runs one thread's Python code at a time (the GIL).
A trainer thread making many small NumPy calls and a window redrawing live plots then
take turns on one core, and every millisecond the window spends drawing is a
millisecond of training lost. Measured in ``bench/gui_latency.py`` with the trainer on a
background thread: even with the window's work per frame cut to a few milliseconds, the
small networks trained at about 0.5-0.7 times their headless speed. In a child process
the trainer has an interpreter (and a core) of its own.

The window keeps one child (``TrainingProcess``, the one handle on it) and reuses it for
later runs. The protocol, over two one-way pipes:

- commands, parent to child: ``("run", design, data, detail_every, paused, steps,
  resume, views)`` (``data``: a ``core.datasets.source.DatasetSource`` that the child loads
  itself, so a large CSV file is never pickled on the window's thread, or a ``Dataset``
  sent whole for data that has no description; ``resume``: a ``TrainState`` to continue
  from, or None; ``views``: False for a run nobody watches closely, a sweep's trial,
  which then gets no model views, misclassified samples or final state; both may be left
  out), ``("pause",)``, ``("resume",)``, ``("step", n)``,
  ``("stop",)``, ``("config", TrainConfig)``, ``("reinit",)``, ``("state",)`` (send the
  run's ``TrainState`` before the next step, also when paused), ``("quit",)``;
- progress, child to parent: ``("batch", ProgressBatch)`` about ``PUSH_INTERVAL`` apart
  (the model views and the misclassified samples every ``VIEW_INTERVAL``;
  ``train_state`` set in the batch answering a "state" command and in the run's last
  batch), and ``("done", RunEnd | None, error)`` when a run is over (error is "" or why
  the run could not start or went wrong, data that could not be loaded included).

The parent's side is ``TrainingProcess``: it owns the child, the pipes, the thread that
reads the progress pipe and the lock they share, and hands each run's progress to its
owner as a ``core.training.run_progress.RunProgress``. Everything here is NumPy and the
standard library; the window's side is ``gui.training.controller``.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import threading
import time
from multiprocessing.connection import Connection

import numpy as np

from core.datasets import Dataset
from core.datasets.source import DatasetSource
from core.errors import StudioError
from core.records.snapshots import RunEnd, StepSnapshot
from core.training.model_views import model_views
from core.training.progress import ProgressBatch, ProgressBatcher
from core.training.run_progress import RunProgress
from core.training.session import run_session
from core.training.train_state import TrainState
from core.training.trainer import Trainer, TrainingControl

PUSH_INTERVAL = 0.02  # seconds between progress messages (the window draws ~27 a second)
VIEW_INTERVAL = 0.25  # seconds between weight copies and decision-surface updates
IDLE_EXIT = 30.0  # a child with no run for this long ends (the next run starts another)
SPEED_WINDOW = 0.5  # seconds over which samples per second are measured


# ------------------------------------------------------------------ child side


def _apply(control: TrainingControl, message: tuple) -> None:
    kind = message[0]
    if kind == "pause":
        control.pause()
    elif kind == "resume":
        control.resume()
    elif kind == "step":
        control.step(int(message[1]))
    elif kind == "stop":
        control.stop()
    elif kind == "config":
        control.set_config(message[1])
    elif kind == "reinit":
        control.reinitialise()
    elif kind == "state":
        control.request_state()


def _read_commands(commands: Connection, jobs: queue.Queue) -> None:
    """The child's command thread: passes each command to the current run's control.

    The control of a run is made here, when its "run" arrives, so commands sent right
    after it (a pause, a stop) reach it even before the run has started."""
    control: TrainingControl | None = None
    while True:
        try:
            message = commands.recv()
        except (EOFError, OSError):  # the window has gone
            message = ("quit",)
        if message[0] == "quit":
            if control is not None:
                control.stop()
            jobs.put(None)
            return
        if message[0] == "run":
            if control is not None:
                control.stop()
            control = TrainingControl()
            paused, steps = message[4], message[5]
            if paused:
                control.pause()
                if steps:
                    control.step(int(steps))
            jobs.put((message, control))
        elif control is not None:
            _apply(control, message)


class _LoadedData:
    """The child's data: a ``Dataset`` sent whole is used as it is; a ``DatasetSource``
    is loaded here (off the window's thread), and the last one kept, so training the same
    CSV file again does not read it again."""

    def __init__(self) -> None:
        self._last: tuple[DatasetSource, Dataset] | None = None

    def get(self, data: Dataset | DatasetSource) -> Dataset:
        """The arrays to train on; raises ``DatasetError`` if a source cannot be loaded."""
        if not isinstance(data, DatasetSource):
            return data
        if self._last is None or self._last[0] != data:
            self._last = None  # let the old arrays go before reading the new ones
            self._last = (data, data.load())
        return self._last[1]


def serve(commands: Connection, progress: Connection) -> None:
    """The child process: runs the runs it is sent until told to quit, the window's end
    of the pipes closes, or it has had nothing to do for ``IDLE_EXIT`` seconds."""
    jobs: queue.Queue = queue.Queue()
    loaded = _LoadedData()
    threading.Thread(target=_read_commands, args=(commands, jobs), daemon=True,
                     name="commands").start()
    while True:
        try:
            job = jobs.get(timeout=IDLE_EXIT)
        except queue.Empty:
            progress.close()  # the window sees the end and starts a new child next time
            return
        if job is None:
            return
        message, control = job
        design, data, detail_every = message[1:4]
        resume = message[6] if len(message) > 6 else None
        views = message[7] if len(message) > 7 else True
        end: RunEnd | None = None
        error = ""
        try:
            dataset = loaded.get(data)
            end = _train(design, dataset, detail_every, control, progress, resume, views)
        except StudioError as exc:
            error = str(exc)
        except (BrokenPipeError, EOFError, ConnectionError):
            return  # the window has gone
        except Exception as exc:  # a bug must end the run with a message, not hang it
            error = f"an internal error ({exc!r})"
        try:
            progress.send(("done", end, error))
        except (BrokenPipeError, OSError):
            return


class _Delivery:
    """The child's consumer of the run (``core.training.session.run_session``): gathers
    the snapshots into progress batches and sends one about every ``PUSH_INTERVAL``,
    with the weights and model views every ``VIEW_INTERVAL``."""

    def __init__(self, trainer: Trainer, dataset, progress: Connection,
                 views: bool = True) -> None:
        self._trainer, self._dataset, self._progress = trainer, dataset, progress
        self._views = views
        self._batcher = ProgressBatcher(trainer.layer_names)
        self._batch_size = trainer.config.batch_size
        self._samples = 0
        self._view = 0.0  # when the model views were last sent
        self._listed: np.ndarray | None = None  # val_outputs the last list came from
        self._t0, self._s0, self._speed = time.perf_counter(), 0, 0.0
        self._next = time.perf_counter() + PUSH_INTERVAL

    def add(self, snap) -> None:
        self._batcher.add(snap)
        if isinstance(snap, RunEnd):
            return  # the last batch is sent with the run's state (see _train)
        if isinstance(snap, StepSnapshot):
            self._samples += self._batch_size
        now = time.perf_counter()
        if now >= self._next:
            self.push(self._views and now - self._view >= VIEW_INTERVAL)
            self._next = time.perf_counter() + PUSH_INTERVAL

    def push(self, with_views: bool, with_state: bool = False) -> None:
        now = time.perf_counter()
        if now - self._t0 >= SPEED_WINDOW:
            self._speed = (self._samples - self._s0) / (now - self._t0)
            self._t0, self._s0 = now, self._samples
        batch: ProgressBatch = self._batcher.take()
        if with_views:
            views = model_views(self._trainer, self._dataset)
            batch.weights, batch.surface, batch.fit = (views["weights"], views["surface"],
                                                       views["fit"])
            batch.neurons = views["neurons"]
            # From the latest epoch's validation outputs (no pass of its own), once per
            # epoch; where the run stands (its end, a save) from the weights as they
            # are, as a reopened project shows them.
            out_v = self._trainer.val_outputs
            if with_state:
                batch.misclassified = self._trainer.misclassified()
            elif out_v is not None and out_v is not self._listed:
                batch.misclassified = self._trainer.misclassified(out_v)
            self._listed = out_v
            self._view = time.perf_counter()
        if with_state:
            batch.train_state = self._trainer.state()
        batch.samples_per_second = self._speed
        self._progress.send(("batch", batch))


def _train(design, dataset, detail_every: int, control: TrainingControl,
           progress: Connection, resume: TrainState | None = None,
           views: bool = True) -> RunEnd | None:
    trainer = Trainer(design, dataset, detail_every, resume=resume)
    delivery = _Delivery(trainer, dataset, progress, views)
    # While paused, deliver what was gathered (a single step shows at once).
    control.before_wait = lambda: delivery.push(True)
    control.state_hook = lambda: delivery.push(True, with_state=True)
    end = run_session(trainer, delivery, control=control)
    control.before_wait = control.state_hook = None
    # Overflow warnings are expected from a diverged run's views; the trainer said so.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # Where the run ended: a project continues it.
        delivery.push(views, with_state=views)
    return end


# ----------------------------------------------------------------- parent side


def describe_exit(code: int | None) -> str:
    """An exit status in words; multiprocessing reports death by signal N as -N."""
    if code is None:
        return ""
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class TrainingProcess:
    """The window's one handle on its training child, thread-safe by construction.

    It owns the child process, both pipes and the one thread that reads the progress
    pipe (started with the child, ending when the child's end of the pipe closes). That
    reader is the only thread that receives from the pipe or closes it; it files each
    message into the live run's ``RunProgress``. Every other method may be called from
    any thread (the window calls them from its GUI thread); the fields they share with the
    reader are written under one lock (which is never held while waiting for progress)
    and read under it or as one reference. A child that does not answer is ended
    (``discard``), which closes its end of the pipe and so ends the reader: nothing is
    closed under a thread blocked in it.

    Why a reader thread rather than the window polling the pipe on its frame timer:
    measured with ``bench/gui_latency.py``, polling let the pipe fill between frames, so
    the child waited to send (the small network trained at 0.73x headless against 0.90x,
    and the event loop's p99 lateness rose from about 7 to 12 ms).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards every field below
        self._process: multiprocessing.process.BaseProcess | None = None
        self._commands: Connection | None = None
        self._reader: threading.Thread | None = None
        self._run: RunProgress | None = None  # the run the reader files messages into
        self._run_owner: multiprocessing.process.BaseProcess | None = None  # its child
        self._used = 0.0  # when a run last started or ended

    def touch(self) -> None:
        """Note that a run started or ended now (see ``ensure_started``)."""
        with self._lock:
            self._used = time.monotonic()

    @property
    def alive(self) -> bool:
        process = self._process
        return process is not None and process.is_alive()

    @property
    def exitcode(self) -> int | None:
        process = self._process
        return None if process is None else process.exitcode

    def ensure_started(self) -> None:
        """Start a child unless a live one is waiting. One idle for most of ``IDLE_EXIT``
        is replaced rather than reused: it may be ending on its own."""
        with self._lock:
            fresh = time.monotonic() - self._used < 0.8 * IDLE_EXIT
        if self.alive and fresh:
            self.touch()
            return
        self.discard()
        # One BLAS thread in the child: the window needs the machine's other core.
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")
        # "spawn": a fresh interpreter; forking a process with Qt's threads is unsafe.
        ctx = multiprocessing.get_context("spawn")
        child_commands, commands = ctx.Pipe(duplex=False)
        progress, child_progress = ctx.Pipe(duplex=False)
        process = ctx.Process(target=serve, args=(child_commands, child_progress),
                              name="backprop-studio-trainer", daemon=True)
        process.start()
        child_commands.close()
        child_progress.close()
        reader = threading.Thread(target=self._read, args=(progress, process), daemon=True,
                                  name="progress-reader")
        with self._lock:
            self._process, self._commands, self._reader = process, commands, reader
            self._used = time.monotonic()
        reader.start()

    def start_run(self, design, data, detail_every: int = 1, paused: bool = False,
                  steps: int = 0, resume: TrainState | None = None,
                  views: bool = True) -> RunProgress:
        """Start a run in the child (starting the child if needed) and return its
        progress, which the reader fills from now on. ``data``: a ``DatasetSource`` (the
        child loads it) or a ``Dataset`` (sent whole). Raises ``OSError`` if no child
        takes the run, or the pickling error of data that cannot be sent. ``views``: False
        for a sweep's trial (no model views, misclassified samples or final state)."""
        message = ("run", design, data, detail_every, paused, steps, resume, views)
        for attempt in range(2):  # a child that died while idle: one more try, a new one
            self.ensure_started()
            run = RunProgress()
            with self._lock:
                previous = self._run
                self._run, self._run_owner = run, self._process
            if previous is not None:  # never left live by the window; end it only once
                previous.break_off("")
            try:
                if self.send(message):
                    return run
            except BaseException:  # data that cannot be pickled: nothing was sent
                self._forget_run(run)
                raise
            self._forget_run(run)
            if attempt == 0:
                self.discard()
        raise OSError("it does not accept work")

    def _forget_run(self, run: RunProgress) -> None:
        with self._lock:
            if self._run is run:
                self._run = self._run_owner = None

    def send(self, message: tuple) -> bool:
        """Send a command (see the module's docstring; a run starts with ``start_run``);
        False if the child has gone."""
        with self._lock:  # one sender at a time, and never a closed pipe
            commands = self._commands
            if commands is None:
                return False
            try:
                commands.send(message)
                return True
            except (BrokenPipeError, OSError):
                return False

    def _read(self, progress: Connection, process: multiprocessing.process.BaseProcess
              ) -> None:
        """The reader thread: files every message into the live run until the child's
        end of the pipe closes, then closes the pipe and forgets the child."""
        try:
            while True:
                message = progress.recv()
                with self._lock:
                    run = self._run
                if run is not None and run.receive(message):
                    with self._lock:
                        if self._run is run:
                            self._run = self._run_owner = None
                        self._used = time.monotonic()
        except (EOFError, OSError):
            pass
        finally:
            progress.close()
            with self._lock:
                run = self._run if self._run_owner is process else None
                if run is not None:
                    self._run = self._run_owner = None
                if self._process is process:  # not replaced meanwhile: forget it
                    commands, self._commands = self._commands, None
                    self._process = self._reader = None
                    if commands is not None:
                        commands.close()
            if run is not None:
                # Its end of the pipe closes as it dies, a moment before its exit status
                # can be read: polling exitcode at once often found None, so join it.
                process.join(2.0)
                run.break_off(describe_exit(process.exitcode))

    def discard(self) -> None:
        """End the child (if any) and wait for its reader to see the pipe close."""
        with self._lock:
            process, commands, reader = self._process, self._commands, self._reader
            self._process = self._commands = self._reader = None
        if commands is not None:
            commands.close()  # the child's command thread sees the end and quits
        if process is not None and process.is_alive():
            process.terminate()
            process.join(2.0)
            if process.is_alive():
                process.kill()
                process.join(2.0)
        if reader is not None and reader is not threading.current_thread():
            reader.join(5.0)

    def close(self, timeout: float = 3.0) -> None:
        """Ask the child to quit and wait for it; end it if it does not."""
        process = self._process
        if process is not None and process.is_alive():
            self.send(("quit",))
            process.join(timeout)
        self.discard()
