"""Compare mode in the window: train design A to its end, then design B, one after the
other on the window's one background training run (``gui.training.training_ui.TrainingUi`` and its
controller), and show the two recorded runs overlaid in the Runs panel.

The sequence: A starts under the name ``A: ...`` (``core.training.compare.compare_names``); when
its record arrives, B starts under ``B: ...`` with A drawn dashed as the live plots'
baseline; when B's record arrives both runs are selected in the Runs panel (overlay and
design diff) and the panel is raised. A diverged A still runs B; a stopped run (the Stop
action, or a structural edit that stopped it) cancels the rest. Neither run touches the
document. The status bar says where the comparison is.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, QTimer, Signal

from core.design.spec import Design
from core.records.record import RunRecord
from core.training.compare import compare_names

__all__ = ["CompareRunner"]

IDLE_STAGE, STAGE_A, STAGE_B = "", "A", "B"


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name (2)``, ``name (3)``... if the Runs panel already has it."""
    if name not in taken:
        return name
    n = 2
    while f"{name} ({n})" in taken:
        n += 1
    return f"{name} ({n})"


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
        self._a: Design | None = None
        self._b: Design | None = None
        self._names = ("", "")
        self.record_a: RunRecord | None = None
        self.record_b: RunRecord | None = None
        self._baseline_shown = False  # the live plots show A, not the pinned baseline
        training.run_recorded.connect(self._on_run_recorded)
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
        name_a = _unique(name_a, taken)
        self._names = (name_a, _unique(name_b, taken | {name_a}))
        self._a, self._b = a, b
        self.record_a = self.record_b = None
        self._set_stage(STAGE_A)  # before starting: the run_started handler looks at it
        if not self._training.start_design(a, self._names[0]):
            self._set_stage(IDLE_STAGE)
            return False
        bar.showMessage(f"Compare: run A (1/2)… “{self._names[0]}”, then "
                        f"“{self._names[1]}”. Stop cancels the comparison.")
        return True

    def cancel(self) -> None:
        """Forget the comparison without starting what is left (closing the window); the
        live run, if any, is the caller's to stop."""
        self._set_stage(IDLE_STAGE)

    # ------------------------------------------------------------------- slots
    def _on_run_started(self, _design) -> None:
        # Any other run puts the pinned baseline (if any) back on the live plots.
        if not self.active and self._baseline_shown:
            self._baseline_shown = False
            self._plots.set_baseline(self._runs.baseline())

    def _on_run_recorded(self, record: RunRecord | None, end) -> None:
        if self.stage == STAGE_A:
            self.record_a = record
            if end is None or record is None:
                self._end("Compare cancelled: run A did not start, so B was not run.")
            elif end.reason == "stopped":
                self._end("Compare stopped during run A: run B was not started.")
            else:
                # After the rest of A's end handling (its messages, the final redraw).
                QTimer.singleShot(0, self._start_b)
        elif self.stage == STAGE_B:
            self.record_b = record
            if end is None or record is None:
                self._end("Compare cancelled: run B did not start.")
            elif end.reason == "stopped":
                self._end("Compare stopped during run B: both runs so far are in the Runs "
                          "panel.")
            else:
                self._end(self._summary())

    def _start_b(self) -> None:
        if self.stage != STAGE_A:
            return
        bar = self._window.statusBar()
        if self._training.controller.active:
            self._end("Compare cancelled: another run started before run B.")
            return
        self._set_stage(STAGE_B)
        if self.record_a is not None:
            self._plots.set_baseline(self.record_a)
            self._baseline_shown = True
        if not self._training.start_design(self._b, self._names[1]):
            self._end("Compare cancelled: the network or dataset in the editor changed, so "
                      "run B was not started.")
            return
        diverged = " (A diverged)" if self.record_a.end_reason == "diverged" else ""
        bar.showMessage(f"Compare: run B (2/2)… “{self._names[1]}”{diverged}; A is drawn "
                        "dashed on the plots.")

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
