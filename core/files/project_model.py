"""The open project, headless: the design, the runs, the latest run's weights and where
it stood, and one undo history over all of them.

``ProjectModel`` is the only owner of this state; a window observes it through a thin Qt
adapter (``gui.project.document.Document``) and sends every edit to it, and the command
line and tests use it directly::

    model = ProjectModel.open("xor.bpsproj")
    model.add_run(record, weights, state)   # one undoable step: the run and its weights
    model.history.undo()
    model.save("xor.bpsproj")               # core.files.project, the one serialiser

Every edit is a ``core.files.undo.Command`` on ``history``: design edits, recording a run
(with its weights replacing the latest ones), deleting runs, renaming them, their notes,
and replacing the weights. ``listeners`` are called as ``listener(kind, detail)`` after
each change: kind "design", "runs" (detail: a ``RunsChange``), "weights", or "state"
(path, modified flag or history changed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.design.spec import Design, NetworkSpec
from core.files.design_file import load_design, save_design
from core.files.project import PROJECT_SUFFIX, Project, load_project, save_project
from core.files.undo import Command, UndoStack
from core.records.record import RunRecord
from core.records.run_names import default_run_name
from core.training.train_state import TrainState
from core.words import plural

Listener = Callable[[str, Any], None]


@dataclass(frozen=True)
class Trained:
    """Weights of the latest run and what goes with them in a project file.

    ``network``: the network they fit (saved only while the design still has it);
    ``history``: one dict per epoch; ``steps``: (n, 2) float64 of [step, batch loss];
    ``state``: where the run stood (to continue it), None if unknown; ``record``: the
    run they came from, None for weights opened from a file."""

    weights: dict[str, np.ndarray]
    network: NetworkSpec
    history: list[dict[str, float]] = field(default_factory=list)
    steps: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    state: TrainState | None = None
    record: RunRecord | None = None

    @classmethod
    def of_run(cls, record: RunRecord, weights: dict[str, np.ndarray],
               state: TrainState | None) -> Trained:
        """The weights a run left, with its history; ``state`` is kept only if it is
        where this record ended."""
        if state is not None and (state.step != record.steps
                                  or state.run_id not in ("", record.id)):
            state = None  # not where this record ended (never expected)
        if state is not None:
            state = replace(state, weights=weights, run_id=record.id)
        return cls(weights, record.design.network, [dict(row) for row in record.history],
                   record.loss_curve, state, record)

    @classmethod
    def of_project(cls, project: Project) -> Trained | None:
        """The weights a project file holds, as saved; None if it has none."""
        if project.weights is None:
            return None
        return cls(project.weights, project.design.network, list(project.history),
                   project.steps, project.train_state)


@dataclass(frozen=True)
class RunsChange:
    """How the run list changed: ``kind`` "reset" (a new list), "inserted" or "removed"
    (``rows``: (index, record) pairs, indices in the list with them present) or
    "changed" (``rows``: the records renamed or annotated, at their index)."""

    kind: str
    rows: tuple[tuple[int, RunRecord], ...] = ()


class ProjectModel:
    """The design, the runs and the latest weights of one open project."""

    def __init__(self, design: Design | None = None, path: Path | None = None) -> None:
        self.history = UndoStack()
        self.history.listeners.append(lambda: self._emit("state", None))
        self.listeners: list[Listener] = []
        self._design = design if design is not None else Design()
        self._runs: list[RunRecord] = []
        self._latest: Trained | None = None
        self._live: Trained | None = None  # a live run as it stood at the last capture
        self._run_live = False
        self._extra_modified = False
        self.path = path

    # ---------------------------------------------------------------- opening
    @classmethod
    def open(cls, path: str | Path) -> ProjectModel:
        """A model of the design (``.json``) or project (``.bpsproj``) file at ``path``;
        ``StudioError`` says why it cannot be opened."""
        model = cls()
        p = Path(path)
        if p.suffix == PROJECT_SUFFIX:
            model.load_project(load_project(p), p)
        else:
            model.load(load_design(p), p)
        return model

    def load(self, design: Design, path: Path | None = None,
             runs: Iterable[RunRecord] = (), latest: Trained | None = None) -> None:
        """Start over with ``design`` and ``runs``: empty history, unmodified."""
        self.history.clear()
        self.path = path
        self._extra_modified = False
        self._design = design
        self._runs = list(runs)
        self._latest = latest
        self._live = None
        self._emit("design", None)
        self._emit("runs", RunsChange("reset"))
        self._emit("weights", None)
        self._emit("state", None)

    def load_project(self, project: Project, path: Path | None = None) -> None:
        """Start over with what ``project`` holds."""
        self.load(project.design, path, project.runs, Trained.of_project(project))

    # ---------------------------------------------------------------- queries
    @property
    def design(self) -> Design:
        return self._design

    @property
    def runs(self) -> tuple[RunRecord, ...]:
        """Every run, in the order they were recorded."""
        return tuple(self._runs)

    @property
    def latest(self) -> Trained | None:
        """The weights the latest run left (or that came with the opened file)."""
        return self._latest

    @property
    def modified(self) -> bool:
        return not self.history.is_clean() or self._extra_modified

    @property
    def run_live(self) -> bool:
        return self._run_live

    def design_after_undo(self) -> Design | None:
        """The design ``history.undo()`` would make current, None if it leaves the
        design as it is (a window asks a live run before changing it)."""
        cmd = self.history.next_undo()
        return cmd.old if isinstance(cmd, _DesignEdit) else None

    def design_after_redo(self) -> Design | None:
        """The design ``history.redo()`` would make current, None if it leaves it."""
        cmd = self.history.next_redo()
        return cmd.new if isinstance(cmd, _DesignEdit) else None

    def has_work(self) -> bool:
        """Whether there are runs or trained weights (what a design file loses)."""
        return bool(self._runs) or self._run_live or self._latest is not None

    def project(self) -> Project:
        """Everything as a ``Project``: the design, every run, and the latest (or live)
        run's weights and state if they fit the design's network (a live run appended to
        the runs, as unfinished). Nothing in it is changed in place afterwards, so a
        worker thread may serialise it."""
        trained = self._live if self._live is not None else self._latest
        runs = list(self._runs)
        if trained is None or trained.network != self._design.network:
            return Project(self._design, None, [], np.zeros((0, 2)), runs, None)
        record = trained.record
        if record is not None and all(run.id != record.id for run in runs):
            runs.append(record)  # live: not among the runs before it ends
        return Project(self._design, trained.weights, [dict(r) for r in trained.history],
                       trained.steps, runs, trained.state)

    # ----------------------------------------------------------------- saving
    def save(self, path: str | Path) -> None:
        """Write a project (``.bpsproj``) or the design only (other suffixes), then
        mark the model saved there; ``OSError``/``ValueError`` leave it unsaved."""
        p = Path(path)
        if p.suffix == PROJECT_SUFFIX:
            save_project(self.project(), p)
        else:
            save_design(self._design, p)
        self.mark_saved(p)

    def mark_saved(self, path: Path) -> None:
        self.path = path
        self._extra_modified = False
        self.history.set_clean()  # emits "state"

    def mark_modified(self) -> None:
        """Record a change that is not an undoable step (a restored crash copy)."""
        if not self._extra_modified:
            self._extra_modified = True
            self._emit("state", None)

    # ------------------------------------------------------------ design edits
    def set_design(self, design: Design, text: str, merge_key: str | None = None) -> None:
        """Make ``design`` current as one undoable step described by ``text``."""
        if design != self._design:
            self.history.push(_DesignEdit(self, self._design, design, text, merge_key))

    # -------------------------------------------------------------- run edits
    def add_run(self, record: RunRecord, weights: dict[str, np.ndarray] | None = None,
                state: TrainState | None = None) -> RunRecord:
        """Append ``record`` as one undoable step, named by what changed since the
        previous run if it has no name (``lr 0.3``, else ``Run N``: see
        ``core.records.run_names``); with ``weights`` they become the latest (the run's
        ``state`` with them)."""
        if not record.name:
            record.name = default_run_name(record.design, self._runs)
        trained = Trained.of_run(record, weights, state) if weights is not None else None
        self.history.push(_AddRun(self, record, trained))
        return record

    def delete_runs(self, ids: Iterable[str]) -> None:
        """Remove the runs with these ids as one undoable step (undo puts them back
        where they were)."""
        wanted = set(ids)
        removed = tuple((i, r) for i, r in enumerate(self._runs) if r.id in wanted)
        if removed:
            self.history.push(_DeleteRuns(self, removed))

    def rename_run(self, run_id: str, name: str) -> None:
        """Rename a run (undoable); a blank or unchanged name is ignored."""
        name = name.strip()
        record = self._run(run_id)
        if name and name != record.name:
            self.history.push(_RunText(self, record, "name", name, f"Rename {record.name}"))

    def set_note(self, run_id: str, note: str) -> None:
        """Set a run's note (undoable)."""
        record = self._run(run_id)
        if note != record.note:
            self.history.push(_RunText(self, record, "note", note,
                                       f"Edit note of {record.name}"))

    def append_runs(self, records: Iterable[RunRecord]) -> None:
        """Append ``records`` without an undo step, marking the project modified (a
        sweep's trials arrive by the dozen; an undo step each would bury the user's
        own edits). Deleting them afterwards is undoable as usual."""
        records = list(records)
        if not records:
            return
        start = len(self._runs)
        self._insert(tuple((start + i, r) for i, r in enumerate(records)))
        self.mark_modified()

    def set_runs(self, runs: Iterable[RunRecord]) -> None:
        """Replace the run list without an undo step (a lesson keeps its variants' runs
        across designs; the caller says whether that is a modification)."""
        self._runs = list(runs)
        self._emit("runs", RunsChange("reset"))

    # ---------------------------------------------------------------- weights
    def replace_weights(self, trained: Trained | None, text: str = "Replace weights") -> None:
        """Make ``trained`` the latest weights (None: forget them) as one undoable step."""
        if trained is not self._latest:
            self.history.push(_ReplaceWeights(self, self._latest, trained, text))

    def set_run_live(self, live: bool) -> None:
        """A run started (True) or ended (False): while it is live it is unsaved work,
        and the last ``capture_live`` stands for it; at its end the capture is dropped."""
        self._run_live = live
        self._live = None

    def capture_live(self, trained: Trained | None) -> None:
        """Where the live run stands now (saved as its weights until it ends); not an
        undoable step."""
        self._live = trained

    # -------------------------------------------------------------- internals
    def _run(self, run_id: str) -> RunRecord:
        for record in self._runs:
            if record.id == run_id:
                return record
        raise KeyError(f"no run with id {run_id!r}")

    def _emit(self, kind: str, detail: Any) -> None:
        for listener in list(self.listeners):
            listener(kind, detail)

    def _put_design(self, design: Design) -> None:
        self._design = design
        self._emit("design", None)

    def _put_latest(self, trained: Trained | None) -> None:
        self._latest = trained
        self._emit("weights", None)

    def _insert(self, rows: tuple[tuple[int, RunRecord], ...]) -> None:
        for row, record in sorted(rows, key=lambda item: item[0]):
            self._runs.insert(min(row, len(self._runs)), record)
        self._emit("runs", RunsChange("inserted", rows))

    def _remove(self, rows: tuple[tuple[int, RunRecord], ...]) -> None:
        ids = {r.id for _, r in rows}
        self._runs = [r for r in self._runs if r.id not in ids]
        self._emit("runs", RunsChange("removed", rows))

    def _changed(self, record: RunRecord) -> None:
        self._emit("runs", RunsChange("changed", ((self._runs.index(record), record),)))


class _DesignEdit(Command):
    def __init__(self, model: ProjectModel, old: Design, new: Design, text: str,
                 merge_key: str | None) -> None:
        self.model, self.old, self.new = model, old, new
        self.text, self.merge_key = text, merge_key

    def do(self) -> None:
        self.model._put_design(self.new)

    def undo(self) -> None:
        self.model._put_design(self.old)

    def merge(self, other: Command) -> bool:
        if not isinstance(other, _DesignEdit):
            return False
        self.new = other.new
        return True


class _AddRun(Command):
    def __init__(self, model: ProjectModel, record: RunRecord, trained: Trained | None) -> None:
        self.model, self.record, self.trained = model, record, trained
        self.before = model.latest
        self.text = f"Record {record.name}"

    def do(self) -> None:
        self.model._insert(((len(self.model._runs), self.record),))
        if self.trained is not None:
            self.model._put_latest(self.trained)

    def undo(self) -> None:
        self.model._remove(((self.model._runs.index(self.record), self.record),))
        if self.trained is not None:
            self.model._put_latest(self.before)


class _DeleteRuns(Command):
    def __init__(self, model: ProjectModel, rows: tuple[tuple[int, RunRecord], ...]) -> None:
        self.model, self.rows = model, rows
        n = len(rows)
        self.text = f"Delete {plural(n, 'run')}"

    def do(self) -> None:
        self.model._remove(self.rows)

    def undo(self) -> None:
        self.model._insert(self.rows)


class _RunText(Command):
    """A run's name or note; records are changed in place (the panels hold them)."""

    def __init__(self, model: ProjectModel, record: RunRecord, attr: str, value: str,
                 text: str) -> None:
        self.model, self.record, self.attr = model, record, attr
        self.old, self.new, self.text = getattr(record, attr), value, text

    def do(self) -> None:
        setattr(self.record, self.attr, self.new)
        self.model._changed(self.record)

    def undo(self) -> None:
        setattr(self.record, self.attr, self.old)
        self.model._changed(self.record)


class _ReplaceWeights(Command):
    def __init__(self, model: ProjectModel, old: Trained | None, new: Trained | None,
                 text: str) -> None:
        self.model, self.old, self.new, self.text = model, old, new, text

    def do(self) -> None:
        self.model._put_latest(self.new)

    def undo(self) -> None:
        self.model._put_latest(self.old)


__all__ = ["ProjectModel", "RunsChange", "Trained"]
