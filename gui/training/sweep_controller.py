"""One sweep at a time in the window: start, stop, resume, watch, and shutdown.

A sweep is driven by ``core.sweeps.driver.SweepDriver`` on ONE Python thread that this
controller starts (``SweepDriver.run()`` blocks until the budget, the time limit or a
stop; the driver itself starts the training processes that do the work). The GUI thread
never waits on it: on each tick of the window's frame clock (held while a sweep runs)
the controller takes the trials finished since the last tick (``take_results``) and
adds their run records to the project, and hands ``driver.status()`` (a cheap copy) to
whoever draws it through ``status_changed``. When the thread has returned, the next tick
ends the sweep here: the last results, then ``finished`` (or ``failed`` with the
driver's words: a locked or unreachable storage, a bad space).

Watching a study that workers on other machines run (a database URL) uses the same
signals: a watcher thread polls ``core.sweeps.storage.read_status`` every ``WATCH_INTERVAL``
(never on the GUI thread: a database over the network may be slow) and ``stop`` asks
those workers to stop (``request_stop``).

Trial records are added to the project model WITHOUT an undo step each
(``ProjectModel.append_runs``): a 30-trial sweep would otherwise bury the user's own
edits under 30 "Record …" steps. The project is marked modified; deleting the runs is
undoable as always. Optuna (through the driver and storage) is imported only when a
sweep starts, never at window start-up.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from core.errors import StudioError
from gui.training.frame_clock import FrameClock

if TYPE_CHECKING:
    from core.datasets import Dataset
    from core.datasets.source import DatasetSource
    from core.design.spec import Design
    from core.sweeps.plan import SweepPlan
    from core.sweeps.status import SweepStatus

IDLE, RUNNING, STOPPING, WATCHING = "idle", "running", "stopping", "watching"
WATCH_INTERVAL = 2.0  # seconds between two reads of a watched study (as its heartbeat)
WATCH_RETRIES = 3  # reads in a row that fail before watching gives up
CLOSE_TIMEOUT = 20.0  # seconds to wait for the driver's thread on close


def _words(exc: BaseException) -> str:
    """An exception as a sentence for the user (no traceback, no class name for ours)."""
    text = str(exc).strip() or type(exc).__name__
    return text if isinstance(exc, StudioError) else f"{type(exc).__name__}: {text}"


class _Watcher:
    """Reads a study others run every ``interval`` seconds on its own thread (until it
    has finished, or ``stop``); the same
    ``status``/``take_results``/``stop`` calls as a driver. ``steer_stop`` asks the
    study's workers to stop (on the watcher's thread, which owns the storage)."""

    def __init__(self, storage: str, study_name: str, interval: float = WATCH_INTERVAL) -> None:
        self.storage, self.study_name, self.interval = storage, study_name, interval
        self._lock = threading.Lock()
        self._status: SweepStatus | None = None
        self._quit = threading.Event()
        self._stop_asked = threading.Event()
        self.stop_sent = False

    def run(self) -> None:
        from core.sweeps.storage import read_status, request_stop

        failures = 0
        while not self._quit.is_set():
            try:
                if self._stop_asked.is_set() and not self.stop_sent:
                    request_stop(self.storage, self.study_name)
                    self.stop_sent = True
                status = read_status(self.storage, self.study_name)
            except Exception:  # noqa: BLE001 - the database's own errors too
                # Once it has been read, a network hiccup (or a database a worker is
                # still setting up) is tried again: only an error that lasts ends the
                # watch. A first read that fails (a study not there) ends it at once.
                failures += 1
                if failures >= WATCH_RETRIES or self.status() is None:
                    raise
                self._quit.wait(self.interval)
                continue
            failures = 0
            over = _over(status)
            if over and status.state != "finished":
                # read_status counts the retries a stop leaves waiting as still running.
                status = dataclasses.replace(status, state="finished", message=(
                    "stopped; the trials it cut short are tried again when it is resumed"))
            with self._lock:
                self._status = status
            if over:
                return
            self._quit.wait(self.interval)

    def status(self) -> SweepStatus | None:
        with self._lock:
            return self._status

    def take_results(self) -> list:
        return []  # the trials' runs are recorded where they train, not here

    def steer_stop(self) -> None:
        self._stop_asked.set()

    def stop(self) -> None:
        """Stop watching (the study goes on)."""
        self._quit.set()

    def close(self) -> None:
        self._quit.set()


def _over(status: SweepStatus) -> bool:
    """Whether a watched study has ended: finished, or stopped with nothing running (a
    stopped study keeps the trials it cut short waiting, for a resume)."""
    return status.state == "finished" or (
        status.state == "stopping" and not any(t.state == "running" for t in status.trials))


def _make_driver(design: Design, data: Dataset | DatasetSource, plan: SweepPlan,
                 in_process: bool, task: str) -> Any:
    from core.sweeps.driver import SweepDriver  # imports Optuna: only when a sweep starts

    return SweepDriver(design, data, plan, in_process=in_process, task=task)


class SweepController(QObject):
    """Owns the current sweep (or watched study). ``state``: idle, running, stopping or
    watching.

    ``add_records(records)`` puts finished trials' ``RunRecord``s into the project
    (the window passes ``ProjectModel.append_runs``). Signals (GUI thread):
    ``state_changed(str)``; ``status_changed(object)`` with the ``SweepStatus`` once per
    frame while a sweep runs; ``trials_recorded(int)`` how many records a frame added;
    ``finished(object)`` the last ``SweepStatus`` (None if none came); ``failed(str)``
    a sentence saying why the sweep could not go on.
    """

    state_changed = Signal(str)
    status_changed = Signal(object)
    trials_recorded = Signal(int)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, clock: FrameClock, add_records: Callable[[list], None],
                 parent: QObject | None = None,
                 make_driver: Callable[..., Any] = _make_driver) -> None:
        super().__init__(parent)
        self.state = IDLE
        self.clock = clock
        self.clock.deliver.connect(self._on_frame)
        self._add_records = add_records
        self._make_driver = make_driver
        self._driver: Any = None
        self._thread: threading.Thread | None = None
        self._error = ""
        self._last: SweepStatus | None = None
        self.plan: SweepPlan | None = None  # the running (or last) sweep's plan
        self.stopped = False  # the running (or last) sweep was stopped by ``stop``
        self.watched: tuple[str, str] | None = None  # (storage, study) while watching

    # ----------------------------------------------------------------- queries
    @property
    def active(self) -> bool:
        """True from start (or watch) until the sweep's end has been handled."""
        return self._driver is not None

    @property
    def last_status(self) -> SweepStatus | None:
        """The latest status drawn (kept after the sweep ends)."""
        return self._last

    # ---------------------------------------------------------------- commands
    def start(self, design: Design, data: Dataset | DatasetSource, plan: SweepPlan,
              in_process: bool = False, task: str = "") -> bool:
        """Start ``plan``'s sweep of ``design`` (fitted to ``data``, whose ``task`` is
        given when ``data`` is a description) on a thread of its own. False, with
        ``failed`` saying why, if it cannot start (one is running, or the driver refused
        the plan)."""
        if self.active:
            self.failed.emit("A sweep is already running: stop it first.")
            return False
        try:
            plan.check()
            driver = self._make_driver(design, data, plan, in_process, task)
        except Exception as exc:  # a bad plan or a driver that cannot be made: words
            self.failed.emit(f"The sweep could not start: {_words(exc)}")
            return False
        self.plan = plan
        self.watched = None
        self._begin(driver, RUNNING, "sweep-driver")
        return True

    def watch(self, storage: str, study_name: str,
              interval: float = WATCH_INTERVAL) -> bool:
        """Watch the study ``study_name`` in ``storage`` (run by workers elsewhere)."""
        if self.active:
            self.failed.emit("A sweep is running here: stop it before watching another.")
            return False
        self.plan = None
        self.watched = (storage, study_name)
        self._begin(_Watcher(storage, study_name, interval), WATCHING, "sweep-watcher")
        return True

    def _begin(self, driver: Any, state: str, name: str) -> None:
        self._driver = driver
        self.stopped = False
        self._error = ""
        self._last = None
        self._thread = threading.Thread(target=self._run, args=(driver,), name=name,
                                        daemon=True)
        self._thread.start()
        self.clock.hold(self)
        self._set_state(state)

    def _run(self, driver: Any) -> None:
        """The sweep's thread: the driver's (or watcher's) blocking run; its error is
        kept as words for the GUI thread (read after the thread has ended)."""
        try:
            driver.run()
        except Exception as exc:  # shown to the user as a sentence, never a traceback
            self._error = _words(exc)

    def stop(self) -> None:
        """Stop the sweep: no new trials; running ones end, are marked failed and are
        retried by a resume (returns at once; the end arrives on a later frame). While
        watching, ask the study's workers to stop."""
        driver = self._driver
        if driver is None:
            return
        if self.state == WATCHING:
            driver.steer_stop()
            return
        if self.state == RUNNING:
            self.stopped = True
            driver.stop()
            self._set_state(STOPPING)

    def stop_watching(self) -> None:
        """Stop watching (the watched study goes on elsewhere)."""
        if self.state == WATCHING:
            self._driver.stop()

    def close(self, timeout: float = CLOSE_TIMEOUT) -> bool:
        """Stop the sweep and wait for its thread (the window is closing, or another
        document opens); the driver's training processes are ended. The trials finished
        by then are recorded. False if the thread did not end within ``timeout``."""
        driver, thread = self._driver, self._thread
        if driver is None or thread is None:
            return True
        driver.stop()
        thread.join(timeout)
        ended = not thread.is_alive()
        try:
            driver.close()  # ends the worker processes even if the thread hangs
        finally:
            if not ended:
                thread.join(2.0)
                ended = not thread.is_alive()
            self._finish(closed=True)
        return ended

    def wait(self, timeout: float) -> bool:
        """Block until the sweep's thread has returned (tests, headless use); the end
        is handled by the next frame."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    # ------------------------------------------------------------------- frames
    def _on_frame(self) -> None:
        driver = self._driver
        if driver is None:
            return
        over = self._thread is None or not self._thread.is_alive()  # read first
        self._deliver(driver)
        if over:
            self._finish()

    def _deliver(self, driver: Any) -> None:
        results = driver.take_results()
        records = [r.record for r in results if r.record is not None]
        if records:
            self._add_records(records)
            self.trials_recorded.emit(len(records))
        status = driver.status()
        if status is not None:
            self._last = status
            self.status_changed.emit(status)

    def _finish(self, closed: bool = False) -> None:
        """The sweep's thread has returned (or was abandoned): the last results, then
        the end, once. The driver's training processes end here (``closed``: already)."""
        driver = self._driver
        if driver is None:
            return
        self._deliver(driver)
        if not closed:
            driver.close()
        watching = self.state == WATCHING
        self._driver = self._thread = None
        self.clock.release(self)
        self._set_state(IDLE)
        status = self._last
        error = self._error or (status.message if status is not None
                                and status.state == "failed" else "")
        if error and watching:
            name = self.watched[1] if self.watched else ""
            self.failed.emit(f"Stopped watching the sweep “{name}”: {error}"
                             if status is not None else
                             f"Cannot watch the sweep “{name}”: {error}")
        elif error:
            self.failed.emit(f"The sweep stopped: {error}" if status is not None
                             and status.trials else f"The sweep could not run: {error}")
        self.finished.emit(status)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)


def elapsed_words(seconds: float) -> str:
    """A duration for the status line: ``"42 s"``, ``"3 min 05 s"``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"


def status_words(status: SweepStatus) -> str:
    """The status line's readout of a sweep: ``"Sweep lr: 12/30 trials · best val_loss
    0.081 (#7) · 2 running · 1 min 05 s"``."""
    budget = f"/{status.budget}" if status.budget else ""
    best = status.best
    best_words = (f" · best {status.objective} {best.value:.4g} (#{best.number})"
                  if best is not None else "")
    running = sum(1 for t in status.trials if t.state == "running")
    live = f" · {running} running" if running else ""
    return (f"Sweep {status.study_name}: {status.finished_count()}{budget} trials"
            f"{best_words}{live} · {elapsed_words(status.elapsed)}")

