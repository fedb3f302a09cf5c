"""What Train > Sweep…, Stop Sweep, Resume Sweep… and Watch Sweep… do in the window.

A sweep trains the document's design (as Train would: the loaded dataset's description
goes to the training processes) with each trial's settings, through a
``gui.training.sweep_controller.SweepController``; its views (``SweepViews``, built when
the first sweep starts: they hold plots) are the second page of the Train workspace's
centre, beside the live plots. While a sweep runs, Train, Step and Compare are off (the
sweep's workers use the cores), and a sweep cannot start while a run trains. Finished
trials become runs of the project (grouped under their sweep in the Runs panel).

Resume lists the studies of the project's sweep file (``default_storage``) and continues
the chosen one with the design, space and budget the study holds (``load_sweep``); a study
cut short when the app was killed continues the same way (its running trials were marked
failed and are tried again). Watch reads a study that workers on other machines run, from
a database URL, and steers it: Stop asks its workers to stop; Apply best works as for a
local sweep.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMessageBox, QTabWidget, QWidget

from core.datasets.source import to_send
from core.errors import StudioError
from core.sweeps.plan import default_storage
from core.words import plural
from gui.plain_text import verbatim
from gui.training.controller import IDLE as RUN_IDLE
from gui.training.sweep_controller import (
    RUNNING,
    STOPPING,
    WATCHING,
    SweepController,
    status_words,
)
from gui.training.training_ui import key_action

if TYPE_CHECKING:
    from core.design.spec import Design
    from core.sweeps.plan import SweepPlan
    from core.sweeps.status import SweepStatus

__all__ = ["SweepRunner"]

SWEEP_BLOCKS_TRAIN = "A sweep is running: Stop Sweep (Ctrl+Shift+F5) to train again."


class SweepRunner(QObject):
    """The window's sweep actions and their sweep.

    ``window`` is the main window (its document, dataset state, ``training``
    (``TrainingUi``), ``compare_runner``, ``train_centre`` (the Train workspace's
    centre pages) and ``show_banner``); ``show_train`` shows the Train workspace.
    """

    def __init__(self, window, show_train: Callable[[], None]) -> None:
        super().__init__(window)
        self._window = window
        self._doc = window.document
        self._data = window.dataset_state
        self._training = window.training
        self._compare = window.compare_runner
        self._centre: QTabWidget = window.train_centre
        self._show_train = show_train
        self._banner = window.show_banner
        self._say = self._training.status_line.say
        self.controller = SweepController(self._training.controller.clock,
                                          self._add_records, self)
        self.views = None  # a gui.training.sweep_views.SweepViews once a sweep started
        self.last_plan: SweepPlan | None = None  # the dialog opens with it
        self._watch_choice = ("", "")
        self._orphaned = False  # another document opened mid-sweep: drop its records
        self._readout = ""
        self._build_actions(window)
        c = self.controller
        c.state_changed.connect(self._on_state_changed)
        c.status_changed.connect(self._on_status)
        c.failed.connect(self._on_failed)
        c.finished.connect(self._on_finished)
        self._training.train_action.changed.connect(self._sync_actions)
        self._training.controller.state_changed.connect(lambda _s: self._sync_actions())
        self._compare.stage_changed.connect(lambda *_: self._sync_actions())
        window.files.opened.connect(self._on_document_opened)
        self._sync_actions()

    # ---------------------------------------------------------------- actions
    def _build_actions(self, window: QWidget) -> None:
        self.sweep_action = key_action(
            window, "S&weep…", "Ctrl+Shift+W",
            "Search the settings: train the design with many settings in parallel and "
            "watch which work best", self.open_dialog)
        self.stop_action = key_action(
            window, "Stop S&weep", "Ctrl+Shift+F5",
            "Stop the sweep: no new trials; the running ones are tried again on Resume",
            self.stop)
        self.resume_action = key_action(
            window, "Res&ume Sweep…", "Ctrl+Shift+R",
            "Continue a sweep of this project that was stopped or cut short",
            self.open_resume_dialog)
        self.watch_action = key_action(
            window, "W&atch Sweep…", "Ctrl+Alt+W",
            "Watch and steer a sweep that workers on other machines run on a shared "
            "database", self.open_watch_dialog)
        self.actions = (self.sweep_action, self.stop_action, self.resume_action,
                        self.watch_action)

    def _why_not(self) -> str:
        """Why no sweep can start now ("" if one can)."""
        if self.controller.active:
            return "A sweep is running already: stop it first."
        if self._training.controller.state != RUN_IDLE or self._compare.active:
            return ("A run is training: stop it (Shift+F5) before starting a sweep; a "
                    "sweep's trials use the same cores.")
        if self._data.dataset is None:
            return self._data.error or "Choose a dataset first."
        if not self._training.train_action.isEnabled():
            return self._training.train_action.toolTip().removesuffix(" (F5)")
        return ""

    def _sync_actions(self, *_args) -> None:
        why = self._why_not()
        state = self.controller.state
        for action in (self.sweep_action, self.resume_action):
            action.setEnabled(not why)
        self.watch_action.setEnabled(not self.controller.active)
        self.stop_action.setEnabled(state in (RUNNING, WATCHING))
        self.stop_action.setText("Stop S&weep" if state != WATCHING else
                                 "Stop Watched S&weep…")

    # --------------------------------------------------------------- commands
    def open_dialog(self):
        """Train > Sweep…: the sweep dialog (window-modal); Start in it starts the
        sweep. Returns the dialog, or None (the status line says why)."""
        why = self._why_not()
        if why:
            self._say(why, 8000)
            return None
        from gui.panels.sweep_dialog import SweepDialog

        dialog = SweepDialog(self._doc.design, self._doc.path, self._window,
                             last_plan=self.last_plan, task=self._data.dataset.task)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._on_dialog_accepted(dialog))
        dialog.open()
        return dialog

    def _on_dialog_accepted(self, dialog) -> None:
        plan = dialog.plan()
        if plan is not None:
            self.start(plan)

    def start(self, plan: SweepPlan, design: Design | None = None,
              in_process: bool = False) -> bool:
        """Start ``plan`` on ``design`` (the document's by default) and the loaded
        dataset. False, with the reason in the status line or banner, if it cannot."""
        why = self._why_not()
        if why:
            self._say(why, 8000)
            return False
        design = design if design is not None else self._doc.design
        dataset = self._data.dataset
        if design.dataset != self._doc.design.dataset:
            self._banner(f"The sweep “{plan.study_name}” trains on another dataset than "
                         "the one loaded now: open the project it was started in to "
                         "resume it.")
            return False
        if not plan.storage:
            plan = dataclasses.replace(plan, storage=default_storage(self._doc.path))
        self.last_plan = plan
        data = to_send(dataset, design.dataset, self._data.base_dir())
        self._orphaned = False
        self._banner("")
        if not self.controller.start(design, data, plan, in_process=in_process,
                                     task=dataset.task):
            return False
        self._show_views()
        self._say(f"Sweep “{plan.study_name}” started: {plural(plan.workers, 'worker')}, "
                  f"study in {plan.where}", 10000, key="sweep")
        return True

    def stop(self) -> None:
        """Stop Sweep: a local sweep stops (running trials are retried on Resume); a
        watched one asks whether to stop it on every machine or only stop watching."""
        c = self.controller
        if c.state == RUNNING:
            c.stop()
            self._say("Stopping the sweep: the running trials end and will be tried "
                      "again on Resume.", 10000, key="sweep")
        elif c.state == WATCHING:
            self._ask_stop_watched()

    def _ask_stop_watched(self) -> None:
        _storage, study = self.controller.watched or ("", "")
        answer = self.ask_stop_watched(study)
        if answer == "stop":
            self.controller.stop()
            self._say(f"Asked the workers of “{study}” to stop.", 10000, key="sweep")
        elif answer == "leave":
            self.controller.stop_watching()

    def ask_stop_watched(self, study: str) -> str | None:
        """The question Stop asks about a watched sweep: "stop" (every worker),
        "leave" (stop watching) or None (cancelled)."""
        box = QMessageBox(QMessageBox.Icon.Question, "Stop the watched sweep?",
                          verbatim(f"The sweep “{study}” runs on other machines."),
                          parent=self._window)
        box.setObjectName("stop_watched_box")
        box.setInformativeText("Stop sweep asks every worker to start no new trial and "
                               "end its running one (tried again when the sweep is "
                               "resumed). Stop watching leaves it running.")
        stop = box.addButton("Stop sweep", QMessageBox.ButtonRole.DestructiveRole)
        leave = box.addButton("Stop watching", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        return "stop" if clicked is stop else "leave" if clicked is leave else None

    def open_resume_dialog(self):
        """Train > Resume Sweep…: the studies of this project's sweep file."""
        why = self._why_not()
        if why:
            self._say(why, 8000)
            return None
        from gui.panels.sweep_pick import ResumeDialog

        dialog = ResumeDialog(default_storage(self._doc.path), self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._resume_choice(dialog.choice()))
        dialog.open()
        return dialog

    def _resume_choice(self, choice: tuple[str, str] | None) -> None:
        if choice is not None:
            self.resume(*choice)

    def resume(self, storage: str, study_name: str, in_process: bool = False) -> bool:
        """Continue ``study_name`` in ``storage`` with the design, space and budget it
        holds."""
        from core.sweeps.storage import load_sweep  # Optuna: only when asked

        try:
            design, space, plan = load_sweep(storage, study_name)
        except StudioError as exc:
            self._banner(f"Cannot resume the sweep “{study_name}” in {storage}: {exc}")
            return False
        plan = dataclasses.replace(plan, space=space, storage=storage,
                                   study_name=study_name)
        return self.start(plan, design, in_process=in_process)

    def open_watch_dialog(self):
        """Train > Watch Sweep…: a database URL and a study to watch."""
        if self.controller.active:
            self._say("A sweep is running here: stop it before watching another.", 8000)
            return None
        from gui.panels.sweep_pick import WatchDialog

        dialog = WatchDialog(*self._watch_choice, parent=self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._watch_choice_made(dialog.choice()))
        dialog.open()
        return dialog

    def _watch_choice_made(self, choice: tuple[str, str] | None) -> None:
        if choice is not None:
            self.watch(*choice)

    def watch(self, storage: str, study_name: str, interval: float | None = None) -> bool:
        """Watch ``study_name`` in ``storage`` (run by workers elsewhere)."""
        self._watch_choice = (storage, study_name)
        started = (self.controller.watch(storage, study_name) if interval is None
                   else self.controller.watch(storage, study_name, interval))
        if started:
            self._banner("")
            self._show_views()
            self._say(f"Watching the sweep “{study_name}” in {storage}.", 10000,
                      key="sweep")
        return started

    def close(self) -> bool:
        """Stop the sweep and wait for it (the window is closing)."""
        return self.controller.close()

    # ------------------------------------------------------------------ views
    def _show_views(self) -> None:
        """The sweep's page in the Train workspace's centre, built on first use."""
        if self.views is None:
            from gui.training.sweep_views import SweepViews  # plots: not at start-up

            self.views = SweepViews()
            self.views.setObjectName("sweep_views")
            self.views.apply_best_requested.connect(self.apply_best)
            self.views.stop_requested.connect(self.stop)
            self._centre.addTab(self.views, "Sweep")
            self._centre.setTabToolTip(self._centre.indexOf(self.views),
                                       "The sweep's trials, best-so-far curve, settings "
                                       "against objective and the running trials' curves")
        self._show_train()
        self._centre.setCurrentWidget(self.views)

    def apply_best(self, params: dict) -> None:
        """Put the best trial's settings into the design (one undoable step)."""
        from gui.panels.sweep_apply import apply_best

        apply_best(self._doc, params)

    # ------------------------------------------------------------------ events
    def _add_records(self, records: list) -> None:
        if not self._orphaned:
            self._doc.model.append_runs(records)

    def _on_status(self, status: SweepStatus) -> None:
        if self.views is not None:
            self.views.show_status(status)
        words = status_words(status)
        if words != self._readout:
            self._readout = words
            self._training.status.setText(words)

    def _on_state_changed(self, state: str) -> None:
        self._training.set_blocked(SWEEP_BLOCKS_TRAIN if state in (RUNNING, STOPPING)
                                   else "")
        self._sync_actions()

    def _on_failed(self, message: str) -> None:
        self._banner(message)

    def _on_finished(self, status: SweepStatus | None) -> None:
        self._readout = ""
        if status is None:
            return
        best = status.best
        best_words = (f"; best {status.objective} {best.value:.4g} (#{best.number})"
                      if best is not None else "")
        done = plural(status.finished_count(), "trial")
        if self._orphaned:
            self._say(f"Sweep “{status.study_name}” stopped after {done}: another project "
                      "was opened. Resume it from the project it started in.", 15000,
                      key="sweep")
        elif self.controller.stopped:
            self._say(f"Sweep “{status.study_name}” stopped after {done}{best_words}: "
                      "Resume Sweep… (Ctrl+Shift+R) continues it.", 15000, key="sweep")
        else:
            self._say(f"Sweep “{status.study_name}” ended: {done}{best_words}.", 15000,
                      key="sweep")

    def _on_document_opened(self) -> None:
        # The trials belong to the project the sweep started in: a newly opened one
        # does not get them (the study keeps them; Resume there continues it).
        if self.controller.state in (RUNNING, STOPPING):
            self._orphaned = True
            self.controller.stop()
