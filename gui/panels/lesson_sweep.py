"""A sweep lesson in the window ("Learning rate, measured"): its "Run the sweep" button
starts the lesson's sweep through the window's sweeps (``window.sweeps``, a
``gui.panels.sweep_runner.SweepRunner``: the same controller, live views and Runs panel
grouping as Train > Sweep…), and its check and plot follow the trials as they finish.

The sweep trains the lesson's design as the editor has it (loaded first, like a
variant), over the lesson's grid, in a study of its own (``Lesson 12 01:02:03``: the
project's sweep file keeps every study, and a finished one would not run again). Each
finished trial is a run of the project; the plot (``SweepLessonPlot``) and the check
(``core.teach.sweep_lesson.check_sweep``) read those runs, the latest per rate, so they
come back with a reopened project. A trial that failed without a run (its process died)
is taken from the sweep's status and counts as the worst.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QObject

from core.teach.checks import WATCH, lesson_number
from core.teach.lessons import Lesson
from core.teach.sweep_lesson import check_sweep, sweep_points, sweep_space
from gui.panels.lessons import LessonPanel

__all__ = ["LessonSweep"]


class LessonSweep(QObject):
    """Runs a sweep lesson's sweep and shows its measure in ``panel``.

    ``window`` has ``sweeps`` (the window's ``SweepRunner``) once its sweeps are built;
    ``runs`` lists the project's runs; ``load(lesson)`` puts the lesson's design in the
    editor (False if the user kept another document); ``can_start()`` is False while a
    run trains.
    """

    def __init__(self, window, panel: LessonPanel, runs: Callable[[], list],
                 load: Callable[[Lesson], bool], can_start: Callable[[], bool],
                 message: Callable[[str, int], None]) -> None:
        super().__init__(window)
        self._window = window
        self.panel = panel
        self._runs = runs
        self._load = load
        self._can_start = can_start
        self._message = message
        self.study = ""  # the study this lesson started last
        self._failed: dict[float, None] = {}  # values whose trials failed with no run
        self._connected = False

    # --------------------------------------------------------------- commands
    def request(self, lesson: Lesson) -> bool:
        """Run ``lesson``'s sweep, or stop it while it runs. False if nothing started."""
        sweeps = getattr(self._window, "sweeps", None)
        if sweeps is None:
            self._message("Sweeps are not available in this window.", 8000)
            return False
        self._connect(sweeps)
        if self.running:
            sweeps.stop()
            return False
        if not self._can_start():
            self._message("Stop the current run before running the sweep.", 8000)
            return False
        if not self._load(lesson):
            return False
        from core.sweeps.plan import SweepPlan, default_workers  # only when a sweep starts

        design = self._window.document.design
        sweep = lesson.sweep
        study = f"Lesson {lesson_number(lesson.key)} {datetime.now():%H:%M:%S}"
        plan = SweepPlan(sweep_space(lesson, design), trials=len(sweep.values),
                         workers=default_workers(), study_name=study)
        self.study, self._failed = study, {}
        started = bool(sweeps.start(plan))
        if not started:
            self.study = ""
        self.sync()
        return started

    # ---------------------------------------------------------------- queries
    @property
    def running(self) -> bool:
        """True while the sweep this lesson started runs."""
        sweeps = getattr(self._window, "sweeps", None)
        controller = getattr(sweeps, "controller", None)
        plan = getattr(controller, "plan", None)
        return bool(controller is not None and controller.active and self.study
                    and plan is not None and plan.study_name == self.study)

    def refresh(self, lesson: Lesson) -> None:
        """Show the lesson's check and plot from the project's runs."""
        points = sweep_points(lesson, self._runs(), self._failed)
        self.panel.show_check(WATCH[lesson.key], check_sweep(lesson, points))
        if points or self.running:
            self.panel.show_sweep(points)
        self.sync()

    def sync(self) -> None:
        """The panel's button: Run, or Stop while this lesson's sweep runs."""
        sweeps = getattr(self._window, "sweeps", None)
        controller = getattr(sweeps, "controller", None)
        busy = controller is not None and controller.active
        self.panel.set_sweeping(self.running, not busy and self._can_start())

    # -------------------------------------------------------------- internals
    def _connect(self, sweeps) -> None:
        if self._connected:
            return
        self._connected = True
        c = sweeps.controller
        c.state_changed.connect(lambda _state: self.sync())
        c.status_changed.connect(self._on_status)
        c.finished.connect(self._on_finished)

    def _on_status(self, status) -> None:
        lesson = self.panel.lesson
        if lesson is None or lesson.sweep is None or status.study_name != self.study:
            return
        failed = {float(row.params[lesson.sweep.parameter]): None for row in status.trials
                  if row.state == "fail" and lesson.sweep.parameter in row.params}
        if failed.keys() != self._failed.keys():
            self._failed = failed
            self.refresh(lesson)

    def _on_finished(self, status) -> None:
        lesson = self.panel.lesson
        if status is not None and status.study_name == self.study:
            self._on_status(status)
            if lesson is not None and lesson.sweep is not None:
                self.refresh(lesson)
                verdict = check_sweep(lesson, sweep_points(lesson, self._runs(),
                                                           self._failed))
                self._message(f"{lesson.title}: the sweep finished. {verdict.text}", 30000)
                self.panel.reveal_sweep()
        self.sync()
