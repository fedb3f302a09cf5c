"""The window's side of training: the Train/Pause/Step/Stop/Reset actions, the status
bar figures, and what happens to each batch of snapshots (plots, diagram, gradient
diagnostics, card marks), to the end of a run (divergence message), and to edits made
while a run is live (settings pass through; structural edits ask to stop first).

A run normally trains the document's design; ``start_design`` trains another one (compare
mode's A and B runs) under a given run name. Such a run is detached from the document's
training settings: edits to them neither reach it nor stop it.

A reopened project's run is shown as it was saved (``show_saved``), and Train or Step then
asks whether to continue it or to start again from the seed. Runs and their weights go
to the document's project model (``core.files.project_model``) when they end; before a
save, a live run is brought up to the moment and captured there as unfinished.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import datetime

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox, QWidget

from core.datasets.source import to_send
from core.design.edit import all_paths, layer_at, runtime_name
from core.design.spec import Design
from core.files.project_model import Trained
from core.files.saved_run import SavedRun, plan_continue, replay_batch, saved_run
from core.records.record import RunRecord
from core.records.recorder import RunRecorder
from core.records.run_names import default_run_name
from core.records.snapshots import RunEnd
from core.training.diagnostics import WINDOW, gradient_health, health_hint
from core.training.progress import ProgressBatch
from core.training.train_state import TrainState
from core.training.trainer import FIXED_SETTINGS
from gui.plain_text import verbatim
from gui.project.dataset_state import DatasetState
from gui.project.document import Document
from gui.training.controller import IDLE, PAUSED, RUNNING, STOPPING, TrainingController
from gui.training.status_line import StatusLine

HEALTH_INTERVAL = 0.2  # seconds between gradient-health judgements during a run


def key_action(window: QWidget, text: str, keys: str, tip: str, slot) -> QAction:
    """An action with a shortcut, its key named in the tooltip, calling ``slot()``."""
    action = QAction(text, window)
    action.setShortcut(QKeySequence(keys))
    action.setToolTip(f"{tip} ({keys})")
    action.setStatusTip(tip)
    action.triggered.connect(lambda _checked=False: slot())
    return action


def layer_labels(design: Design, names: tuple[str, ...]) -> tuple[str, ...]:
    """Legend labels for runtime layer names: "layers.0 · Dense 8"."""
    by_name = {runtime_name(p): layer_at(design.network, p) for p in all_paths(design.network)}
    return tuple(f"{n} · {by_name[n].summary()}" if n in by_name else n for n in names)


class TrainingUi(QObject):
    """Connects a ``TrainingController`` to the window's widgets.

    ``run_recorded(record, end)`` fires at the end of every run, after the run (a
    ``RunRecord``, or None if it recorded nothing) and its weights went into the
    document's project model, with the ``RunEnd`` (None if the run failed to start).
    """

    run_recorded = Signal(object, object)

    def __init__(self, window, document: Document, dataset_state: DatasetState,
                 plots, diagram, editor, banner_setter, show_plots) -> None:
        super().__init__(window)
        self._window = window
        self._doc = document
        self._data = dataset_state
        self._plots = plots
        self._diagram = diagram
        self._editor = editor
        self._banner = banner_setter
        self._show_plots = show_plots
        self.controller = TrainingController(self, clock=plots.clock)  # one frame pace
        self._ready, self._reason = False, ""
        self._blocked = ""  # why no run may start now (a sweep runs), "" if none
        self._names: tuple[str, ...] = ()
        self._labels: dict[str, str] = {}
        self._recent: deque[np.ndarray] = deque(maxlen=WINDOW)
        self._first: np.ndarray | None = None
        self._last_health: dict[str, str] = {}
        self._health_at = 0.0  # when the gradient health was last judged
        self._recorder: RunRecorder | None = None
        self._run_started = (datetime.now(), 0.0)
        self._run_name = ""  # the name of the live run's record ("" -> named by its diff)
        # Names a run started without a name, from its design ("" if it has none): the
        # lessons name their variants' runs (gui.panels.lesson_runner).
        self.name_run: Callable[[Design], str] = lambda _design: ""
        self._run_id = ""  # the live run's record id (the same when saved mid-run)
        self._run_note = ""
        self._start_note = ""
        self._detached = False  # the live run trains a design other than the document's
        # The live run's latest weights and state as they stream in (its progress, not
        # the project's: they go to the model when the run ends or a save captures it).
        self._live_weights: dict | None = None
        self._live_state: TrainState | None = None
        # A reopened project's run, shown until a run starts; Train offers to continue it.
        self.saved: SavedRun | None = None
        self._saved_with_data = False  # its model view has been drawn (data loaded)
        self._build_actions(window)
        # One status line: messages on the left (elided), the readout on the right.
        self.status_line = StatusLine(window.statusBar())
        self.status = self.status_line.readout
        self.status.setText("Ready")
        self.status.setToolTip("Epoch, step, training speed and the latest batch loss")
        c = self.controller
        c.state_changed.connect(self._on_state_changed)
        c.batch_received.connect(self._on_batch_received)
        c.run_finished.connect(self._on_run_finished)
        c.run_failed.connect(self._on_run_failed)
        c.state_changed.connect(self._on_state_for_plots)
        document.designChanged.connect(self._on_design_changed)
        document.add_edit_guard(self._guard_edit)
        document.aboutToSnapshot.connect(self._capture_live)
        document.weightsChanged.connect(self._on_weights_changed)
        dataset_state.changed.connect(self._on_data_changed)
        # A sample chosen in the gallery of misclassified samples: its forward pass in the
        # diagram.
        plots.gallery.sample_chosen.connect(diagram.show_sample)
        self._on_state_changed(IDLE)

    # ---------------------------------------------------------------- actions
    def _build_actions(self, window: QWidget) -> None:
        self.train_action = key_action(window, "&Train", "F5",
                                       "Train the network from its initial weights", self.train)
        self.pause_action = key_action(window, "&Pause", "F6",
                                       "Pause the run; press again to resume",
                                       self.pause_or_resume)
        self.step_action = key_action(window, "&Step", "F10",
                                      "Run exactly one mini-batch, then pause", self.step)
        self.stop_action = key_action(window, "St&op", "Shift+F5", "Stop the run", self.stop)
        self.reset_action = key_action(window, "&Reset", "Ctrl+R",
                                       "Draw the initial weights again from the seed and "
                                       "clear the plots", self.reset)
        self.actions = (self.train_action, self.pause_action, self.step_action,
                        self.stop_action, self.reset_action)

    def set_readiness(self, ready: bool, reason: str, announce: bool = False) -> None:
        """From the network check: training may start only when there are no problems.
        With ``announce`` (the check changed) the status line says so: the problem for a
        while, and once the design is fixed, "Ready to train" takes the place of a
        problem still shown there (no stale "Cannot train: ...")."""
        self._ready, self._reason = ready, reason
        self._on_state_changed(self.controller.state)
        if not announce:
            return
        if ready:
            self.status_line.withdraw("readiness", reason, 4000)
        else:
            self.status_line.say(reason, 8000, key="readiness")

    def set_blocked(self, reason: str) -> None:
        """While ``reason`` is not "" no run starts (a sweep trains in the window's
        processes); Train and Step say why."""
        self._blocked = reason
        self._on_state_changed(self.controller.state)

    # --------------------------------------------------------------- commands
    def _start(self, paused: bool = False, steps: int = 0, design: Design | None = None,
               run_name: str = "") -> bool:
        dataset = self._data.dataset
        if self._blocked:
            self.status_line.say(self._blocked, 8000, key="readiness")
            return False
        if not self._ready or dataset is None:
            self.status_line.say(self._reason or "Choose a dataset first.", 8000,
                                 key="readiness")
            return False
        resume: TrainState | None = None
        saved = self.saved
        self._start_note = ""  # why a reopened run is not continued, if so
        if design is None and saved is not None:
            choice = self._continue_or_restart(saved)
            if choice is False:
                return False
            resume = choice or None
        self._detached = design is not None
        self._run_name = run_name
        self._run_id = uuid.uuid4().hex
        self._run_note = ""
        design = design if design is not None else self._doc.design
        self._run_name = run_name or self.name_run(design)
        self._banner("")
        self.saved = None
        self._live_state = None
        self._run_started = (datetime.now(), time.perf_counter())
        self._health_at = 0.0
        if resume is not None and saved is not None:
            # The plots keep the saved curves and the new steps follow them; the record
            # holds the whole history.
            self._recorder = RunRecorder(self._names)
            self._recorder.continue_from(saved.steps, saved.grad_curves, saved.history,
                                         saved.record.metric_name if saved.record else "")
            source = saved.record.name if saved.record is not None else "the saved weights"
            self._run_note = f"Continued from {source} at step {resume.step:,}."
        else:
            self._names = ()  # the first batch starts the plots afresh
            self._recorder = None
            self._live_weights = None
            self._recent.clear()
            self._first = None
            self._last_health = {}
            self._editor.set_notes({})
            self._diagram.set_weights(None)
            # The old curves go at once, so even a run that ends within a second is
            # seen drawing from step 0 (a rerun of the same design otherwise looks like
            # nothing happened).
            self._plots.start_run((), (), dataset.task, dataset)
        self._show_plots()
        self._plots.set_schedule(design.training.schedule)  # the rate strip
        if resume is not None:
            self._live_weights = resume.weights
        # The data's description, not its arrays: the training process loads them.
        data = to_send(dataset, self._doc.design.dataset, self._data.base_dir())
        started = self.controller.start(design, data, paused=paused, steps=steps,
                                        resume=resume)
        if started:
            self._doc.model.set_run_live(True)
            self.status_line.say(self._start_words(design), 10000, key="run")
        return started

    def _upcoming_name(self, design: Design) -> str:
        """The name the live run's record gets."""
        return self._run_name or default_run_name(design, self._doc.model.runs)

    def _start_words(self, design: Design) -> str:
        """What the status line says as a run starts: its name and seed, and whether it
        should repeat the previous run exactly (the same design from the same seed trains
        to the same curves, which can look as if Train did nothing)."""
        name, seed = self._upcoming_name(design), design.training.seed
        if not name.startswith("Run "):  # named by what made it: "lr 0.3", a variant
            name = f"Run “{name}”"
        if self._run_note:  # continued from a saved run
            return f"{name} started. {self._run_note}"
        if self._start_note:
            return f"{name} started from seed {seed}. {self._start_note}"
        runs = self._doc.model.runs
        if not runs:
            return f"{name} started from seed {seed}."
        last = runs[-1]
        if (last.design.network, last.design.dataset, last.design.training) == (
                design.network, design.dataset, design.training):
            return (f"{name} started: same design and seed ({seed}) as {last.name}, so "
                    "expect identical curves; another seed (Training settings) starts "
                    "elsewhere.")
        if last.design.training.seed == seed:
            return f"{name} started from seed {seed}, as {last.name}."
        return f"{name} started from seed {seed} ({last.name} had seed " \
               f"{last.design.training.seed})."

    def _continue_or_restart(self, saved: SavedRun) -> TrainState | None | bool:
        """Ask whether to continue the reopened run: its state, None (from the seed) or
        False (cancelled). A run the design cannot continue starts from the seed."""
        state, words = plan_continue(saved, self._doc.design)
        if state is None:
            self._start_note = f"Not continuing the saved run: {words}."
            return None
        answer = self.ask_continue(words)
        if answer is None:
            return False
        return state if answer == "continue" else None

    def ask_continue(self, words: str) -> str | None:
        """The question Train asks about a reopened run: "continue", "restart" or None
        (cancelled)."""
        box = QMessageBox(QMessageBox.Icon.Question, "Continue training?",
                          "This project holds a trained run. Continue training it, or "
                          "start again from the initial weights?", parent=self._window)
        box.setObjectName("continue_box")
        box.setInformativeText(
            f"{words}\n\nStart again draws the initial weights from the seed "
            f"({self._doc.design.training.seed}) and trains from step 0.")
        go_on = box.addButton("Continue", QMessageBox.ButtonRole.AcceptRole)
        again = box.addButton("Start again", QMessageBox.ButtonRole.ResetRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(go_on)
        box.exec()
        clicked = box.clickedButton()
        return "continue" if clicked is go_on else "restart" if clicked is again else None

    # ------------------------------------------------------------ saved runs
    def show_saved(self, project) -> None:
        """Show a reopened project's run as it ended: the diagram coloured by its
        weights, its curves in the plots, the model view computed from the weights; Train
        then offers to continue it. ``project``: a ``core.files.project.Project`` or None."""
        saved = saved_run(project) if project is not None else None
        self.saved = saved
        if saved is None:
            return
        self._draw_saved()
        self._on_state_changed(self.controller.state)

    def _draw_saved(self) -> None:
        saved, dataset = self.saved, self._data.dataset
        if saved is None:
            return
        self._saved_with_data = dataset is not None
        batch = replay_batch(saved, self._doc.design, dataset)
        self._names = batch.layer_names
        labels = layer_labels(self._doc.design, self._names)
        self._labels = dict(zip(self._names, labels, strict=True))
        self._plots.start_run(self._names, labels,
                              dataset.task if dataset else "classification", dataset,
                              self._doc.design)
        self._plots.add_batch(batch)
        self._plots.redraw()
        self._diagram.set_neuron_maps(batch.weights, batch.neurons)
        self._recent.clear()
        self._first = None
        if batch.grad_norms.shape[0]:
            self._first = batch.grad_norms[0].copy()
            self._recent.extend(batch.grad_norms[-WINDOW:])
            self._update_health()
        state = saved.state
        loss = f" · loss {batch.losses[-1]:.4g}" if batch.losses.size else ""
        ended = f" ({saved.record.ended})" if saved.record is not None else ""
        self.status.setText(f"saved run{ended} · epoch {state.epoch:,} · step "
                            f"{state.step:,}{loss}")

    def _on_data_changed(self) -> None:
        if self._ready and self._data.dataset is not None:
            self.status_line.withdraw("readiness")  # "Choose a dataset first."
        # A CSV dataset loads in the background: draw the model view once it is there.
        if (self.saved is not None and not self._saved_with_data
                and self._data.dataset is not None and self.controller.state == IDLE):
            self._draw_saved()

    def start_design(self, design: Design, run_name: str = "") -> bool:
        """Train ``design`` (not the document's) from its initial weights; its record is
        named ``run_name``. It must have the document's network and dataset (the loaded
        data and the diagram are the document's). False if it could not start (the
        status bar says why)."""
        doc = self._doc.design
        if self.controller.active:
            return False
        if design.network != doc.network or design.dataset != doc.dataset:
            self._window.statusBar().showMessage(
                "The design in the editor has another network or dataset now.", 8000)
            return False
        return self._start(design=design, run_name=run_name)

    def train(self) -> None:
        c = self.controller
        if c.state == PAUSED:
            c.resume()
        elif c.state == IDLE:
            self._start()

    def pause_or_resume(self) -> None:
        c = self.controller
        if c.state == RUNNING:
            c.pause()
        elif c.state == PAUSED:
            c.resume()

    def step(self) -> None:
        c = self.controller
        if c.state == IDLE:
            self._start(paused=True, steps=1)
        else:
            c.step()

    def stop(self) -> None:
        self.controller.stop()

    def reset(self) -> None:
        c = self.controller
        self._recent.clear()
        self._first = None
        self._editor.set_notes({})
        self._plots.set_diagnostics({})
        self._plots.set_hint("")
        if c.state in (RUNNING, PAUSED):
            self._plots.start_run(self._names, tuple(self._labels.get(n, n)
                                                     for n in self._names),
                                  self._data.dataset.task, self._data.dataset,
                                  self.controller.design or self._doc.design)
            c.reinitialise()
        elif c.state == IDLE:
            self.saved = None
            self._diagram.set_weights(None)
            self._plots.start_run((), (), self._data.dataset.task if self._data.dataset
                                  else "classification", self._data.dataset)
            self.status.setText("Ready")

    def shutdown(self) -> bool:
        """Stop a live run, wait for it, and end the training process (closing the
        window)."""
        self._doc.remove_edit_guard(self._guard_edit)
        return self.controller.close()

    # ------------------------------------------------------------------ edits
    def _guard_edit(self, old: Design, new: Design) -> bool:
        c = self.controller
        if c.state == IDLE:
            return True
        # A detached run (compare mode) does not take the document's settings at all.
        live_ok = (old.network == new.network and old.dataset == new.dataset and (
            self._detached or all(getattr(old.training, k) == getattr(new.training, k)
                                  for k in FIXED_SETTINGS)))
        if live_ok:
            return True
        answer = QMessageBox.question(
            self._window, "Stop training?",
            "This change needs a new run (the network, the dataset, or the loss, "
            "optimizer, batch size, precision or seed). Stop the current run and make the "
            "change?", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return False
        c.shutdown()
        return True

    def _on_weights_changed(self) -> None:
        # Between runs the diagram shows the project's latest weights (undoing a run's
        # recording takes its weights back), if they fit the network in the editor.
        if self.controller.state != IDLE:
            return
        latest = self._doc.model.latest
        fits = latest is not None and latest.network == self._doc.design.network
        self._diagram.set_weights(latest.weights if fits else None)

    def _on_design_changed(self) -> None:
        c = self.controller
        if c.state in (RUNNING, PAUSED) and not self._detached:
            c.apply_settings(self._doc.design.training)

    # ------------------------------------------------------------- run events
    def _on_state_changed(self, state: str) -> None:
        idle = state == IDLE
        can_train = self._ready and self._data.dataset is not None and not self._blocked
        paused = state == PAUSED
        # One Resume: while paused, Pause becomes Resume (F6, and F5 as Train's key) and
        # Train, which starts new runs, is disabled until the run is stopped.
        self.train_action.setEnabled(idle and can_train)
        tip = (self._blocked if self._blocked and idle else
               self._reason if not can_train and idle else
               "A run is paused: Resume (F6 or F5) continues it, Stop (Shift+F5) ends it"
               if paused else
               "A run is live: Stop it (Shift+F5) to train again" if not idle else
               "Continue the saved run, or train again from the initial weights"
               if self.saved is not None else
               "Train the network from its initial weights")
        self.train_action.setToolTip(verbatim(f"{tip} (F5)"))  # tip may quote the design
        self.pause_action.setEnabled(state in (RUNNING, PAUSED))
        self.pause_action.setText("Res&ume" if paused else "&Pause")
        self.pause_action.setToolTip("Continue the paused run (F6 or F5)" if paused else
                                     "Pause the run; press again to resume (F6)")
        self.pause_action.setShortcuts([QKeySequence("F6"), QKeySequence("F5")] if paused
                                       else [QKeySequence("F6")])
        self.step_action.setEnabled((idle and can_train) or state in (RUNNING, PAUSED))
        self.stop_action.setEnabled(state in (RUNNING, PAUSED))
        self.reset_action.setEnabled(state != STOPPING)
        if paused:
            self.status_line.say("Paused: Step (F10) runs one mini-batch, Resume (F6) "
                                 "continues", 8000, key="paused")
        else:
            self.status_line.withdraw("paused")

    def _on_state_for_plots(self, state: str) -> None:
        if state == IDLE:
            self._plots.redraw()  # everything left over, on every page

    def _on_batch_received(self, batch: ProgressBatch) -> None:
        if batch.layer_names != self._names:  # the first batch of a run
            self._names = batch.layer_names
            design = self.controller.design or self._doc.design
            labels = layer_labels(design, self._names)
            self._labels = dict(zip(self._names, labels, strict=True))
            dataset = self._data.dataset
            self._plots.start_run(self._names, labels,
                                  dataset.task if dataset else "classification", dataset,
                                  design)
        self._plots.add_batch(batch)
        if batch.warning is not None:  # the blow-up rule under "warn": the run goes on
            self._banner(batch.warning.message)
        if self._recorder is None:
            self._recorder = RunRecorder(batch.layer_names)
        self._recorder.add(batch)
        if batch.train_state is not None:
            self._live_state = batch.train_state
            self._live_weights = batch.train_state.weights
            self._diagram.set_neuron_maps(self._live_weights, batch.neurons)
        elif batch.weights is not None:
            self._live_weights = batch.weights
            self._diagram.set_neuron_maps(batch.weights, batch.neurons)
        if batch.grad_norms.shape[0]:
            if self._first is None:
                self._first = batch.grad_norms[0].copy()
            for row in batch.grad_norms[-WINDOW:]:
                self._recent.append(row)
            # A few checks a second are plenty for a judgement over WINDOW steps.
            now = time.perf_counter()
            if (now - self._health_at >= HEALTH_INTERVAL or batch.end is not None
                    or self.controller.state != RUNNING):
                self._health_at = now
                self._update_health()
        last = batch.last_step
        if last is not None:
            speed = (f" · {batch.samples_per_second:,.0f} samples/s"
                     if batch.samples_per_second else "")
            self.status.setText(f"epoch {last.epoch + 1} · step {last.step:,}{speed} · loss "
                                f"{last.loss:.4g}")

    def _update_health(self) -> None:
        health = gradient_health(self._names, np.array(self._recent), self._first)
        if health == self._last_health:
            return
        self._last_health = health
        self._plots.set_diagnostics(health)
        self._plots.set_hint(health_hint(health, self._labels))
        paths = {runtime_name(p): p for p in all_paths(self._doc.design.network)}
        notes = {paths[n]: f"gradient {s}: see the hint above the gradient plot"
                 for n, s in health.items() if s != "ok" and n in paths}
        self._editor.set_notes(notes)

    def _capture_live(self) -> None:
        """Before a save or autosave: a live run, brought up to this moment and recorded
        as it stands, "unfinished", becomes what the model saves as the latest run (it
        goes on, and is recorded again at its end under the same id)."""
        if self.controller.active:
            live = self._live_run()
            self._doc.model.capture_live(Trained.of_run(*live) if live is not None else None)

    def _live_run(self) -> tuple[RunRecord, dict, TrainState | None] | None:
        captured = self.controller.capture_state()
        design = self.controller.design
        if self._recorder is None or design is None or self._live_weights is None:
            return None
        state = self._live_state if captured else None
        step = state.step if state is not None else self._recorder.last_step
        epoch = state.epoch if state is not None else 0
        end = RunEnd("unfinished", epoch, step,
                     f"Saved while training, at step {step:,}; the run went on after that.")
        started, t0 = self._run_started
        name = self._upcoming_name(design)
        record = self._recorder.finish(end, design, started, time.perf_counter() - t0,
                                       name=name, note=self._run_note, run_id=self._run_id)
        return record, self._live_weights, state

    def _record_run(self, end: RunEnd | None) -> RunRecord | None:
        """The run that ended into the project model: its record and, as the latest
        weights, where it stood (one undoable step)."""
        model = self._doc.model
        model.set_run_live(False)
        if self._recorder is None or self.controller.design is None:
            return None
        started, t0 = self._run_started
        record = self._recorder.finish(end, self.controller.design, started,
                                       time.perf_counter() - t0, name=self._run_name,
                                       note=self._run_note, run_id=self._run_id)
        self._recorder = None
        model.add_run(record, self._live_weights, self._live_state)
        self._live_weights = self._live_state = None  # the model has them now
        return record

    def _on_run_finished(self, end: RunEnd | None) -> None:
        bar = self._window.statusBar()
        record = self._record_run(end)
        self._detached = False
        if end is not None and end.reason == "diverged":
            self._banner(end.message)
            if end.what == "gradient" and end.layer:
                health = dict.fromkeys(self._names, "ok")
                health[end.layer] = "exploding"
                self._plots.set_diagnostics(health)
        elif end is not None:
            bar.showMessage(end.message, 15000)
        self.run_recorded.emit(record, end)

    def _on_run_failed(self, message: str) -> None:
        self._banner(message)  # a whole sentence: whether the run started, and why not
