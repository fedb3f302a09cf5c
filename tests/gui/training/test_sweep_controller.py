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

    def make(design, data, plan, in_process, task):
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


# --------------------------------------------------------------- in the window
@pytest.fixture
def shown_window(shown_window):
    """The window; any sweep still going at the end is stopped and joined."""
    yield shown_window
    shown_window.sweeps.close()


def _tiny(window, epochs: int):
    """The window on the XOR example trained for ``epochs`` epochs (a trial of a second
    or less at 5 epochs)."""
    from dataclasses import replace

    window.open_example("xor.json")
    design = window.document.design
    window.document.set_design(replace(design, training=replace(design.training,
                                                                epochs=epochs)),
                               "Fewer epochs")
    return window


def _plan(window, tmp_path, trials: int, name: str, workers: int = 2):
    from core.sweeps.plan import SweepPlan
    from core.sweeps.space import parse_space

    space = parse_space({"parameters": {"training.learning_rate": {
        "low": 0.01, "high": 1.0, "log": True}}, "objective": "val_loss",
        "sampler": "random"}, window.document.design)
    return SweepPlan(space, trials=trials, workers=workers, study_name=name,
                     storage=str(tmp_path / "xor.sweeps.db"))


def _sweep_runs(window, name: str) -> list:
    return [r for r in window.document.model.runs if r.sweep == name]


def test_a_sweep_in_the_window_runs_its_trials_and_records_them(shown_window, qtbot,
                                                                  tmp_path):
    from gui.panels.sweep_apply import UNDO_TEXT
    from gui.training.controller import IDLE as RUN_IDLE

    w = _tiny(shown_window, epochs=5)
    runner = w.sweeps
    steps_before = w.document.undo_stack.count()
    plan = _plan(w, tmp_path, trials=4, name="tiny")
    with qtbot.waitSignal(runner.controller.finished, timeout=120000) as ended:
        assert runner.start(plan)
        # While it runs, Train, Step and Compare are off and say why; the views show.
        assert not w.training.train_action.isEnabled()
        assert "sweep" in w.training.train_action.toolTip().lower()
        assert not w.compare_action.isEnabled() and runner.stop_action.isEnabled()
        assert w.train_centre.currentWidget() is runner.views
    status = ended.args[0]
    assert status.state == "finished" and status.finished_count() == 4
    assert w.statusBar().currentMessage().startswith("Sweep “tiny” ended: 4 trials")
    runs = _sweep_runs(w, "tiny")
    assert sorted(r.trial for r in runs) == sorted(
        t.number for t in status.trials if t.state in ("complete", "pruned"))
    assert len(runs) == 4 and all(r.name.startswith("Sweep tiny #") for r in runs)
    assert w.document.undo_stack.count() == steps_before  # no undo step per trial
    assert w.document.modified
    assert w.training.controller.state == RUN_IDLE and w.training.train_action.isEnabled()
    assert not runner.stop_action.isEnabled() and runner.sweep_action.isEnabled()
    # The Sweep page beside the live plots still lets the window fit a laptop screen.
    w.resize(1280, 720)
    qtbot.wait(50)
    assert w.size().toTuple() == (1280, 720)
    # Apply best (the page's button) is one undoable design edit.
    best = status.best
    runner.views.apply_best_requested.emit(best.params)
    assert w.document.design.training.learning_rate == pytest.approx(
        best.params["training.learning_rate"])
    assert w.document.undo_stack.undoText() == UNDO_TEXT
    # Sweep… opens the form with the last plan (under a fresh name: "tiny" is taken).
    dialog = runner.open_dialog()
    again = dialog.plan()
    assert again is not None and again.storage == plan.storage
    assert again.space.parameters == plan.space.parameters
    assert again.study_name.startswith("tiny") and again.study_name != "tiny"
    dialog.reject()


def test_stop_mid_sweep_then_resume_to_the_budget(shown_window, qtbot, tmp_path):
    from core.sweeps.storage import study_names

    w = _tiny(shown_window, epochs=60)
    runner = w.sweeps
    plan = _plan(w, tmp_path, trials=5, name="halt")
    with qtbot.waitSignal(runner.controller.finished, timeout=120000) as ended:
        assert runner.start(plan)
        qtbot.waitUntil(lambda: len(_sweep_runs(w, "halt")) >= 1, timeout=90000)
        runner.stop()
    first = ended.args[0]
    assert "stopped after" in w.statusBar().currentMessage()
    assert "Resume Sweep… (Ctrl+Shift+R)" in w.statusBar().currentMessage()
    done_first = len(_sweep_runs(w, "halt"))
    assert 1 <= done_first < 5
    assert not any(t.state == "running" for t in first.trials)  # ended, not left running
    (info,) = study_names(plan.storage)
    assert info.finished == done_first and info.finished < 5
    with qtbot.waitSignal(runner.controller.finished, timeout=120000) as ended:
        assert runner.resume(plan.storage, "halt")
    final = ended.args[0]
    assert final.state == "finished"
    runs = _sweep_runs(w, "halt")
    numbers = [r.trial for r in runs]
    assert len(numbers) == len(set(numbers)) == 5  # none lost, none repeated
    (info,) = study_names(plan.storage)
    assert info.finished == 5


def test_a_locked_storage_is_refused_in_the_banner(shown_window, qtbot, tmp_path):
    from core.sweeps.storage import open_storage

    w = _tiny(shown_window, epochs=5)
    plan = _plan(w, tmp_path, trials=2, name="locked")
    held = open_storage(plan.storage)  # another window's driver holds the file
    try:
        with qtbot.waitSignal(w.sweeps.controller.finished, timeout=60000):
            w.sweeps.start(plan)
    finally:
        held.close()
    assert w.banner.isVisible()
    assert "in use by another" in w.banner.text() and "Traceback" not in w.banner.text()
    assert w.training.train_action.isEnabled()


def test_no_sweep_while_a_run_trains(shown_window, qtbot, tmp_path):
    w = _tiny(shown_window, epochs=100000)
    with qtbot.waitSignal(w.training.controller.batch_received, timeout=20000):
        w.training.train()
    assert not w.sweeps.sweep_action.isEnabled()
    assert not w.sweeps.start(_plan(w, tmp_path, trials=2, name="busy"))
    assert "stop it" in w.statusBar().currentMessage()
    assert not w.sweeps.controller.active


def test_closing_the_window_mid_sweep_ends_it_and_resume_retries(shown_window, qtbot,
                                                                  tmp_path):
    from core.sweeps.storage import read_status

    w = _tiny(shown_window, epochs=3000)  # trials far longer than the test
    plan = _plan(w, tmp_path, trials=3, name="closing")
    assert w.sweeps.start(plan)
    qtbot.waitUntil(lambda: any(
        t.state == "running" for t in (w.sweeps.controller.last_status or
                                       SimpleNamespace(trials=())).trials), timeout=60000)
    w.close()
    assert not w.sweeps.controller.active
    status = read_status(plan.storage, "closing")
    states = [t.state for t in status.trials]
    # The trials cut short are failed and waiting again: a resume retries them.
    assert "running" not in states and "fail" in states and "waiting" in states


APP_SWEEP = """
import sys
from PySide6.QtWidgets import QApplication
from core.sweeps.plan import SweepPlan
from core.sweeps.space import parse_space
from gui.main_window import MainWindow

app = QApplication([])
w = MainWindow()
w.show()
w.open_path(sys.argv[1])
space = parse_space({"parameters": {"training.learning_rate": {
    "low": 0.01, "high": 1.0, "log": True}}, "sampler": "random"}, w.document.design)
assert w.sweeps.start(SweepPlan(space, trials=5, workers=1, study_name="killed"))
app.exec()
"""


def test_a_sweep_killed_with_the_app_resumes_from_the_reopened_project(shown_window, qtbot,
                                                                       tmp_path):
    """The app (a real window in a child process) is killed mid-trial; the project,
    reopened here, resumes the sweep from its sweep file: the trials finished before
    are kept and not trained again, the one cut short is tried again."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time
    from collections import Counter
    from pathlib import Path

    from core.resources import resource_path
    from core.sweeps.plan import default_storage
    from core.sweeps.storage import read_status

    design = json.loads(Path(resource_path("examples", "xor.json")).read_text())
    design["training"]["epochs"] = 60  # about a second a trial: time to kill one mid-way
    path = tmp_path / "xor.json"
    path.write_text(json.dumps(design))
    storage = default_storage(path)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    app = subprocess.Popen([sys.executable, "-c", APP_SWEEP, str(path)], env=env,
                           cwd=Path(__file__).resolve().parents[3], start_new_session=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def mid_trial() -> bool:
        try:
            states = [t.state for t in read_status(storage, "killed").trials]
        except Exception:  # the study is still being made
            return False
        return states.count("complete") >= 2 and states[-1] == "running"

    try:
        deadline = time.monotonic() + 120
        while not mid_trial():
            assert app.poll() is None, app.stdout.read().decode()
            assert time.monotonic() < deadline, "no trial ran in the app"
            time.sleep(0.1)
    finally:
        os.killpg(app.pid, signal.SIGKILL)  # the window and its worker, at once
        app.wait(10)
    before = read_status(storage, "killed").trials
    killed = before[-1]
    kept = {t.number: t.value for t in before if t.state == "complete"}

    w = shown_window
    assert w.open_path(path)
    runner = w.sweeps
    dialog = runner.open_resume_dialog()
    assert dialog.studies.storage.text() == storage
    assert dialog.studies.chosen() == "killed" and dialog.ok.isEnabled()
    with qtbot.waitSignal(runner.controller.finished, timeout=180000) as ended:
        dialog.ok.click()
    after = ended.args[0].trials
    assert Counter(t.state for t in after) == {"complete": 5, "fail": 1}
    assert after[killed.number].state == "fail"
    retried = [t for t in after if t.number > killed.number and t.params == killed.params]
    assert len(retried) == 1 and retried[0].state == "complete"
    assert all(after[n].value == v for n, v in kept.items())  # kept as they were
    # This window trained (and recorded) only what was left: nothing twice.
    recorded = sorted(r.trial for r in _sweep_runs(w, "killed"))
    assert recorded == sorted(t.number for t in after
                              if t.state == "complete" and t.number not in kept)


def test_watching_a_sweep_run_elsewhere_shows_it_and_stop_steers_it(shown_window, qtbot,
                                                                     tmp_path, monkeypatch):
    """A sweep driven by another process (the sweep command, as on another machine) is
    watched: its trials show, nothing is recorded here, and Stop ends it there."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from core.resources import resource_path
    from core.sweeps.storage import study_names
    from gui.training.sweep_controller import WATCHING

    design = json.loads(Path(resource_path("examples", "xor.json")).read_text())
    design["training"]["epochs"] = 60
    (tmp_path / "xor.json").write_text(json.dumps(design))
    (tmp_path / "space.json").write_text(json.dumps({"parameters": {
        "training.learning_rate": {"low": 0.01, "high": 1.0, "log": True}},
        "sampler": "random"}))
    storage = str(tmp_path / "shared.sweeps.db")
    worker = subprocess.Popen(
        [sys.executable, "main.py", "sweep", str(tmp_path / "xor.json"), "--space",
         str(tmp_path / "space.json"), "--trials", "40", "--workers", "1", "--storage",
         storage, "--study", "far", "--out", str(tmp_path / "out")],
        cwd=Path(__file__).resolve().parents[3], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT)
    try:
        def made() -> bool:
            try:
                return any(i.name == "far" for i in study_names(storage))
            except Exception:  # the worker is still making the database's tables
                return False

        qtbot.waitUntil(made, timeout=60000)
        w = shown_window
        w.open_example("xor.json")
        runner = w.sweeps
        runs_before = len(w.document.model.runs)
        assert runner.watch(storage, "far", interval=0.2)
        assert runner.controller.state == WATCHING and runner.stop_action.isEnabled()
        assert w.train_centre.currentWidget() is runner.views
        qtbot.waitUntil(lambda: (runner.controller.last_status is not None and
                                 runner.controller.last_status.finished_count() >= 1)
                        or not runner.controller.active, timeout=90000)
        assert runner.controller.active, w.banner.text()  # still watching
        assert w.training.train_action.isEnabled()  # watching trains nothing here
        monkeypatch.setattr(runner, "ask_stop_watched", lambda study: "stop")
        with qtbot.waitSignal(runner.controller.finished, timeout=90000) as ended:
            runner.stop()
        code = worker.wait(60)
        assert code == 0, worker.stdout.read().decode()  # it stopped, asked through the study
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
    final = ended.args[0]
    assert final.state == "finished" and final.finished_count() < 40
    assert not any(t.state == "running" for t in final.trials)
    assert len(w.document.model.runs) == runs_before  # its runs are recorded there
    (info,) = study_names(storage)
    assert info.stop_requested


def test_watching_a_study_that_is_not_there_says_so(shown_window, qtbot, tmp_path):
    w = shown_window
    w.open_example("xor.json")
    storage = str(tmp_path / "empty.sweeps.db")
    with qtbot.waitSignal(w.sweeps.controller.finished, timeout=30000):
        assert w.sweeps.watch(storage, "nobody")
    assert w.banner.isVisible()
    assert w.banner.text().startswith("Cannot watch the sweep “nobody”: ")
    assert str(storage) in w.banner.text()
    assert not w.sweeps.controller.active and w.sweeps.watch_action.isEnabled()


def test_opening_another_project_mid_sweep_stops_it_and_keeps_its_trials_out(
        shown_window, qtbot, tmp_path):
    w = _tiny(shown_window, epochs=3000)
    assert w.sweeps.start(_plan(w, tmp_path, trials=3, name="elsewhere"))
    qtbot.waitUntil(lambda: w.sweeps.controller.last_status is not None and any(
        t.state == "running" for t in w.sweeps.controller.last_status.trials),
        timeout=60000)
    with qtbot.waitSignal(w.sweeps.controller.finished, timeout=60000):
        w.open_example("spiral.json")
    assert "another project was opened" in w.statusBar().currentMessage()
    assert _sweep_runs(w, "elsewhere") == []
    assert w.training.train_action.isEnabled()
