"""What the Lessons panel's buttons do in the window: load a variant, train them all,
name their runs and show the lesson's measured check.

The first variant opened from elsewhere starts a new untitled document (asking about
unsaved changes first, before the panel changes). From then on the document is the
lesson's: switching variants, or lessons, is one undoable design edit ("Open lesson
variant “dropout”"; Ctrl+Z goes back) and never asks to save, and the runs stay in the
project model, so the Runs panel can overlay them. A run of a variant's design is named
``Lesson 5: dropout``. "Run all variants" loads and trains each variant in turn through
the shared ``gui.training.run_sequence.RunSequence`` (the button cancels it), then
selects their runs in the Runs panel. After every change to the runs the panel shows
``core.teach.checks.check_lesson`` on the latest run of each variant; a sweep lesson's
button, check and plot are ``gui.panels.lesson_sweep.LessonSweep``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QObject

from core.design.spec import Design
from core.records.run_names import unique_name
from core.teach.checks import WATCH, check_lesson, find_variant, lesson_run_name, variant_runs
from core.teach.lessons import LESSONS, Lesson, LessonVariant
from gui.panels.lesson_sweep import LessonSweep
from gui.panels.lessons import LessonPanel
from gui.training.run_sequence import DONE, RunSequence, SequenceStep

__all__ = ["LessonRunner"]


def variant_design(lesson: Lesson, variant: LessonVariant) -> Design:
    """The variant's design as the editor gets it, named after the lesson and variant."""
    return replace(variant.design, name=f"{lesson.title}: {variant.name}")


class LessonRunner(QObject):
    """Connects a ``LessonPanel`` to the window's document and training.

    ``document`` is the window's ``Document``; ``files`` (``FileActions``) starts a
    lesson's document;
    ``training`` (``TrainingUi``) trains; ``runs_panel`` lists the runs; ``show_message``
    writes the status bar; ``raise_lessons``/``raise_runs``/``raise_stepthrough`` bring
    those panels forward.
    """

    def __init__(self, window, panel: LessonPanel, document, files, training, runs_panel,
                 show_message: Callable[[str, int], None],
                 raise_lessons: Callable[[], None], raise_runs: Callable[[], None],
                 raise_stepthrough: Callable[[], None]) -> None:
        super().__init__(window)
        self.panel = panel
        self._files = files
        self._doc = document
        self._training = training
        self._runs = runs_panel
        self._message = show_message
        self._raise_lessons = raise_lessons
        self._raise_runs = raise_runs
        self._raise_stepthrough = raise_stepthrough
        self.lesson_document = False  # the open document was started by a lesson
        self._starting = False
        self.sequence = RunSequence(self, training)
        self.sequence.finished.connect(self._on_all_finished)
        self.sequence.step_started.connect(self._on_step_started)
        self._all_lesson: Lesson | None = None
        self.sweep = LessonSweep(window, panel, runs_panel.runs, self._load_sweep_lesson,
                                 lambda: not training.controller.active, show_message)
        panel.sweep_requested.connect(self.sweep.request)
        panel.variant_requested.connect(self.load_variant)
        panel.run_all_requested.connect(self.run_all)
        panel.lesson_opened.connect(lambda _lesson: self.refresh())
        files.opened.connect(self._on_document_opened)
        self._doc.runsChanged.connect(lambda _change: self._refresh_check())
        self._doc.designChanged.connect(self._mark_current)
        training.controller.state_changed.connect(lambda _state: self._sync_run_all())
        training.name_run = self.run_name

    # --------------------------------------------------------------- commands
    def open_lesson(self, key: str) -> bool:
        """Load lesson ``key``'s first variant, then show the lesson (False, and the
        panel unchanged, if the user kept the current document)."""
        lesson = LESSONS[key]
        if not self.load_variant(lesson, lesson.variants[0]):
            return False
        if self.panel.lesson is not lesson:
            self.panel.open_lesson(key)
        self._raise_lessons()
        if key == "forward_backward":
            self._raise_stepthrough()
        return True

    def load_variant(self, lesson: Lesson, variant: LessonVariant) -> bool:
        """Put ``variant``'s design in the editor: an undoable edit of the lesson's
        document, or a new document if the open one is not a lesson's."""
        design = variant_design(lesson, variant)
        if self.lesson_document:
            self._doc.set_design(design, f"Open lesson variant “{variant.name}”")
            if self._doc.design != design:
                return False  # a live run's guard kept the design
        else:
            self._starting = True
            try:
                if not self._files.new(design):
                    return False
            finally:
                self._starting = False
            self.lesson_document = True
        self._mark_current()
        if not self.sequence.active:
            then = "Run the sweep" if lesson.sweep is not None else "Run all variants"
            self._message(f"{lesson.title}: “{variant.name}” loaded. Press Train (F5), or "
                          f"{then}.", 10000)
        return True

    def run_all(self, lesson: Lesson | None = None) -> bool:
        """Train every variant of ``lesson`` (default: the open one) in turn; while that
        runs, cancel it instead. False if nothing started."""
        if self.sequence.active:
            self.cancel_all()
            return False
        lesson = lesson or self.panel.lesson
        if lesson is None:
            return False
        if self._training.controller.active:
            self._message("Stop the current run before running all variants.", 8000)
            return False
        taken = {r.name for r in self._runs.runs()}
        steps = []
        for variant in lesson.variants:
            name = unique_name(lesson_run_name(lesson.key, variant.name), taken)
            taken.add(name)
            steps.append(SequenceStep(variant_design(lesson, variant), name,
                                      lambda v=variant: self.load_variant(lesson, v)))
        self._all_lesson = lesson
        started = self.sequence.start(steps)
        self._sync_run_all()
        return started

    def cancel_all(self) -> None:
        """Stop the live run of "Run all variants" and start no more."""
        self.sequence.cancel()
        self._training.stop()

    # ---------------------------------------------------------------- queries
    def run_name(self, design: Design) -> str:
        """``Lesson 5: dropout`` for a run of a lesson variant's design while a lesson is
        open, else "" (an example that happens to equal a variant is not a lesson run)."""
        found = None if self.panel.lesson is None else find_variant(design, self.panel.lesson)
        if found is None:
            return ""
        lesson, variant = found
        return unique_name(lesson_run_name(lesson.key, variant.name),
                           (r.name for r in self._runs.runs()))

    def refresh(self) -> None:
        """Show the open lesson's check and current variant."""
        self._mark_current()
        self._refresh_check()
        self._sync_run_all()

    # -------------------------------------------------------------- internals
    def _load_sweep_lesson(self, lesson: Lesson) -> bool:
        return self.load_variant(lesson, lesson.variants[0])

    def _refresh_check(self) -> None:
        lesson = self.panel.lesson
        if lesson is None:
            return
        if lesson.sweep is not None:
            self.sweep.refresh(lesson)
            return
        runs = variant_runs(lesson, self._runs.runs())
        self.panel.show_check(WATCH[lesson.key], check_lesson(lesson.key, runs))

    def _mark_current(self) -> None:
        lesson = self.panel.lesson
        if lesson is None:
            return
        found = find_variant(self._doc.design, lesson)
        self.panel.set_current_variant(found[1].name if found and found[0] is lesson
                                       else None)

    def _sync_run_all(self) -> None:
        self.panel.set_running_all(self.sequence.active,
                                   not self._training.controller.active)
        if self.panel.lesson is not None and self.panel.lesson.sweep is not None:
            self.sweep.sync()

    def _on_document_opened(self) -> None:
        if not self._starting:
            self.lesson_document = False  # another file, or File > New

    def _on_step_started(self, index: int) -> None:
        lesson = self._all_lesson
        n = len(lesson.variants)
        self._message(f"Run all variants ({index + 1}/{n}): “{lesson.variants[index].name}”"
                      "… “Cancel run all” stops.", 0)
        self._sync_run_all()

    def _on_all_finished(self, records: list, why: str) -> None:
        lesson = self._all_lesson
        self._sync_run_all()
        listed = {r.id for r in self._runs.runs()}
        shown = [r for r in records if r is not None and r.id in listed]
        if shown:
            self._runs.select_runs(shown)
            self._raise_runs()
        if why == DONE and lesson is not None:
            verdict = check_lesson(lesson.key, variant_runs(lesson, self._runs.runs()))
            self._message(f"All {len(shown)} variants trained. {verdict.text}", 30000)
        else:
            self._message(f"Run all variants stopped after {len(shown)} of "
                          f"{len(lesson.variants) if lesson else 0} runs; they are in the "
                          "Runs panel.", 20000)
