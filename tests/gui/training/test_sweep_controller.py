"""A sweep driven from the window: the controller's thread, frames, records, errors and
close (with a scripted driver), then real sweeps in the window (tiny design, real
training processes): to the end, stopped and resumed, and a study killed mid-sweep.

Every wait is on a signal the controller emits from the GUI thread, or on state the GUI
thread reads (see the platform notes)."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from gui.training.frame_clock import FrameClock
from gui.training.sweep_controller import IDLE, RUNNING, STOPPING, SweepController


class ScriptedDriver:
    """Stands in for ``SweepDriver``: ``run`` hands out one result per ``release()``
    until ``n`` are out or ``stop()``; ``error`` is raised from ``run``."""

    def __init__(self, n: int = 3, error: Exception | None = None) -> None:
        self.n, self.error = n, error
        self.results: list = []
        self.done = 0
        self.lock = threading.Lock()
        self.go = threading.Semaphore(0)
        self.stopped = threading.Event()
        self.closed = 0

    def run(self) -> None:
        if self.error is not None:
            raise self.error
        while self.done < self.n and not self.stopped.is_set():
            if not self.go.acquire(timeout=0.05):
                continue
            with self.lock:
                self.done += 1
                self.results.append(SimpleNamespace(record=f"record {self.done}"))

    def release(self) -> None:
        self.go.release()

    def stop(self) -> None:
        self.stopped.set()

    def status(self):
        with self.lock:
            return SimpleNamespace(state="running", message="", trials=(1,) * self.done,
                                   done=self.done)

    def take_results(self) -> list:
        with self.lock:
            out, self.results = self.results, []
        return out

    def close(self) -> None:
        self.closed += 1


class Plan:
    def __init__(self, bad: str = "") -> None:
        self.bad = bad

    def check(self) -> None:
        from core.sweeps.space import SpaceError

        if self.bad:
            raise SpaceError(self.bad)


@pytest.fixture
def rig(qtbot):
    """A controller on its own frame clock with a scripted driver; records land in
    ``rig.records``."""
    clock = FrameClock()
    records: list = []
    drivers: list[ScriptedDriver] = []

    def make(design, data, plan, in_process):
        return drivers[-1]

    c = SweepController(clock, records.extend, make_driver=make)
    yield SimpleNamespace(c=c, clock=clock, records=records, drivers=drivers)
    c.close(timeout=5)


def test_results_become_records_on_frames_and_the_end_is_announced_once(qtbot, rig):
    driver = ScriptedDriver(n=3)
    rig.drivers.append(driver)
    states, statuses, ends = [], [], []
    rig.c.state_changed.connect(states.append)
    rig.c.status_changed.connect(statuses.append)
    rig.c.finished.connect(ends.append)
    assert rig.c.start("design", "data", Plan())
    assert rig.c.state == RUNNING and rig.clock.active
    for _ in range(3):
        driver.release()
    with qtbot.waitSignal(rig.c.finished, timeout=10000):
        pass
    assert rig.records == ["record 1", "record 2", "record 3"]  # each once, in order
    assert ends[0].done == 3 and len(ends) == 1
    assert statuses and statuses[-1].done == 3
    assert states == [RUNNING, IDLE] and not rig.c.active
    assert driver.closed == 1  # its training processes end with the sweep
    qtbot.waitUntil(lambda: not rig.clock.active, timeout=2000)  # the clock rests


def test_stop_ends_the_sweep_through_stopping(qtbot, rig):
    driver = ScriptedDriver(n=100)
    rig.drivers.append(driver)
    rig.c.start("design", "data", Plan())
    driver.release()
    qtbot.waitUntil(lambda: rig.records == ["record 1"], timeout=5000)
    with qtbot.waitSignal(rig.c.finished, timeout=10000):
        rig.c.stop()
        assert rig.c.state == STOPPING
    assert driver.stopped.is_set() and rig.c.state == IDLE


def test_an_error_in_run_is_words_in_failed_never_a_traceback(qtbot, rig):
    from core.sweeps.space import SpaceError

    rig.drivers.append(ScriptedDriver(error=SpaceError(
        "the storage /tmp/x.sweeps.db is in use by another window")))
    failures: list[str] = []
    rig.c.failed.connect(failures.append)
    with qtbot.waitSignal(rig.c.finished, timeout=10000):
        assert rig.c.start("design", "data", Plan())
    assert failures == ["The sweep could not run: the storage /tmp/x.sweeps.db is in use "
                        "by another window"]
    rig.drivers.append(ScriptedDriver(error=OSError("disk full")))
    with qtbot.waitSignal(rig.c.finished, timeout=10000):
        rig.c.start("design", "data", Plan())
    assert failures[-1] == "The sweep could not run: OSError: disk full"
    assert "Traceback" not in "".join(failures)


def test_a_plan_refused_by_its_check_does_not_start(qtbot, rig):
    rig.drivers.append(ScriptedDriver())
    failures: list[str] = []
    rig.c.failed.connect(failures.append)
    assert not rig.c.start("design", "data", Plan(bad="a grid of 12 settings needs at "
                                                      "least 12 trials, not 5"))
    assert failures == ["The sweep could not start: a grid of 12 settings needs at least "
                        "12 trials, not 5"]
    assert rig.c.state == IDLE and not rig.c.active and not rig.clock.active


def test_close_stops_a_running_sweep_records_what_finished_and_returns(qtbot, rig):
    driver = ScriptedDriver(n=100)
    rig.drivers.append(driver)
    ends = []
    rig.c.finished.connect(ends.append)
    rig.c.start("design", "data", Plan())
    driver.release()
    driver.release()
    qtbot.waitUntil(lambda: driver.done == 2, timeout=5000)
    assert rig.c.close(timeout=5)  # no frame in between: close takes the last results
    assert rig.records == ["record 1", "record 2"]
    assert len(ends) == 1 and rig.c.state == IDLE and driver.closed == 1
