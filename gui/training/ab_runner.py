"""Compare mode in the window: train design A to its end, then design B, one after the
other on the window's one background training run (a two-step
``gui.training.run_sequence.RunSequence`` through ``TrainingUi``), and show the two
recorded runs overlaid in the Runs panel.

The sequence: A starts under the name ``A: ...`` (``core.training.compare.compare_names``); when
its record arrives, B starts under ``B: ...`` with A drawn dashed as the live plots'
baseline; when B's record arrives both runs are selected in the Runs panel (overlay and
design diff) and the panel is raised. A diverged A still runs B; a stopped run (the Stop
action, or a structural edit that stopped it) cancels the rest. Neither run touches the
document. The status bar says where the comparison is.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, Signal

from core.design.spec import Design
from core.records.record import RunRecord
from core.records.run_names import unique_name
from core.training.compare import compare_names
from gui.training.run_sequence import DONE, STOPPED, RunSequence, SequenceStep

__all__ = ["CompareRunner"]

IDLE_STAGE, STAGE_A, STAGE_B = "", "A", "B"


class CompareRunner(QObject):
    """Runs comparisons through ``training`` (a ``TrainingUi``) into ``runs_panel``.

    ``raise_runs`` is called to bring the Runs panel forward at the end. Signals:
    ``finished(record_a, record_b)`` when a comparison ends (``record_b`` None if B did
    not run; ``record_a`` None if A recorded nothing), ``stage_changed(str)`` with "A",
    "B" or "" (idle).
    """

    finished = Signal(object, object)
    stage_changed = Signal(str)

    def __init__(self, window, training, runs_panel, plots, raise_runs=None) -> None:
        super().__init__(window)
        self._window = window
        self._training = training
        self._runs = runs_panel
        self._plots = plots
        self._raise_runs = raise_runs
        self.stage = IDLE_STAGE
        self._names = ("", "")
        self.record_a: RunRecord | None = None
        self.record_b: RunRecord | None = None
        self._baseline_shown = False  # the live plots show A, not the pinned baseline
        self._sequence = RunSequence(self, training)
        self._sequence.step_started.connect(self._on_step_started)
        self._sequence.finished.connect(self._on_finished)
        training.controller.run_started.connect(self._on_run_started)

    # ----------------------------------------------------------------- queries
    @property
    def active(self) -> bool:
        """True from the start of run A to the end of run B."""
        return self.stage != IDLE_STAGE

    # ---------------------------------------------------------------- commands
    def start(self, a: Design, b: Design) -> bool:
        """Compare ``a`` (the document's design) with ``b`` (the same design with other
        training settings). False if a run is live or A could not start."""
        bar = self._window.statusBar()
        if self.active or self._training.controller.active:
            bar.showMessage("Stop the current run before starting a comparison.", 8000)
            return False
        taken = {r.name for r in self._runs.runs()}
        name_a, name_b = compare_names(a, b)
        name_a = unique_name(name_a, taken)
        self._names = (name_a, unique_name(name_b, taken | {name_a}))
        self.record_a = self.record_b = None
        self._set_stage(STAGE_A)  # before starting: the run_started handler looks at it
        steps = [SequenceStep(a, self._names[0]),
                 SequenceStep(b, self._names[1], self._before_b)]
        if not self._sequence.start(steps):
            self._set_stage(IDLE_STAGE)
            return False
        return True

    def cancel(self) -> None:
        """Forget the comparison without starting what is left (closing the window); the
        live run, if any, is the caller's to stop."""
        self._set_stage(IDLE_STAGE)
        self._sequence.cancel()

    # ------------------------------------------------------------------- slots
    def _on_run_started(self, _design) -> None:
        # Any other run puts the pinned baseline (if any) back on the live plots.
        if not self.active and self._baseline_shown:
            self._baseline_shown = False
            self._plots.set_baseline(self._runs.baseline())

    def _before_b(self) -> bool:
        """Run A is recorded: B starts with A drawn dashed as the live plots' baseline."""
        self.record_a = self._sequence.records[0]
        self._set_stage(STAGE_B)
        if self.record_a is not None:
            self._plots.set_baseline(self.record_a)
            self._baseline_shown = True
        return True

    def _on_step_started(self, index: int) -> None:
        bar = self._window.statusBar()
        if index == 0:
            bar.showMessage(f"Compare: run A (1/2)… “{self._names[0]}”, then "
                            f"“{self._names[1]}”. Stop cancels the comparison.")
            return
        diverged = " (A diverged)" if self.record_a.end_reason == "diverged" else ""
        bar.showMessage(f"Compare: run B (2/2)… “{self._names[1]}”{diverged}; A is drawn "
                        "dashed on the plots.")

    def _on_finished(self, records: list, why: str) -> None:
        if not self.active:
            return  # cancelled (the window is closing)
        in_a = self.stage == STAGE_A
        self.record_a = records[0] if records else None
        self.record_b = records[1] if len(records) > 1 else None
        if why == DONE:
            message = self._summary()
        elif why == STOPPED:
            message = ("Compare stopped during run A: run B was not started." if in_a else
                       "Compare stopped during run B: both runs so far are in the Runs "
                       "panel.")
        elif in_a and records and records[0] is not None:
            message = ("Compare cancelled: the network or dataset in the editor changed, "
                       "or another run started, so run B was not started.")
        else:
            message = (f"Compare cancelled: run {self.stage} did not start"
                       f"{', so B was not run' if in_a else ''}.")
        self._end(message)

    def _end(self, message: str) -> None:
        a, b = self.record_a, self.record_b
        self._set_stage(IDLE_STAGE)
        listed = {r.id for r in self._runs.runs()}
        shown = [r for r in (a, b) if r is not None and r.id in listed]
        if shown:
            self._runs.select_runs(shown)
        if len(shown) == 2 and self._raise_runs is not None:
            self._raise_runs()
        self._window.statusBar().showMessage(message, 20000)
        self.finished.emit(a, b)

    def _summary(self) -> str:
        a, b = self.record_a, self.record_b
        val = all(math.isfinite(r.final_val_loss) for r in (a, b))

        def result(r: RunRecord) -> str:
            if r.end_reason == "diverged":
                return "diverged"
            return f"{r.final_val_loss if val else r.final_train_loss:.4g}"

        what = "final validation loss" if val else "final training loss"
        return (f"Compare finished: {what} {result(a)} for “{a.name}”, {result(b)} for "
                f"“{b.name}”. The Runs panel shows them overlaid.")

    def _set_stage(self, stage: str) -> None:
        if stage != self.stage:
            self.stage = stage
            self.stage_changed.emit(stage)
