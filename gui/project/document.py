"""The window's view of the open project: a thin Qt adapter over
``core.files.project_model.ProjectModel``, which owns the design, the runs, the latest
weights and the one undo history.

The design is immutable data (``core.Design``); every edit replaces it whole through an
undo step, so undo/redo restore exactly the design that was there. Panels never change
the project any other way: they call ``Document.set_design`` (or the model's run edits)
and refresh on ``designChanged``, ``runsChanged`` and ``weightsChanged``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from core import Design
from core.design.edit import LayerPath
from core.files.project import Project
from core.files.project_model import ProjectModel, RunsChange, Trained
from core.files.undo import UndoStack

EditGuard = Callable[[Design, Design], bool]


class UndoHistory(QObject):
    """The model's ``UndoStack`` with Qt signals for the Edit menu, under the names of
    QUndoStack's (``undo``, ``redo``, ``count``, ``undoText``, ...), so the window's
    actions and the tests read it as they would a QUndoStack."""

    canUndoChanged = Signal(bool)
    canRedoChanged = Signal(bool)
    undoTextChanged = Signal(str)
    redoTextChanged = Signal(str)
    cleanChanged = Signal(bool)
    indexChanged = Signal(int)

    def __init__(self, stack: UndoStack, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.stack = stack
        self._seen = self._status()
        stack.listeners.append(self._on_changed)

    def _status(self) -> tuple[bool, bool, str, str, bool, int]:
        s = self.stack
        return (s.can_undo(), s.can_redo(), s.undo_text(), s.redo_text(), s.is_clean(),
                s.index())

    def _on_changed(self) -> None:
        now, before = self._status(), self._seen
        self._seen = now
        signals = (self.canUndoChanged, self.canRedoChanged, self.undoTextChanged,
                   self.redoTextChanged, self.cleanChanged, self.indexChanged)
        for signal, old, new in zip(signals, before, now, strict=True):
            if old != new:
                signal.emit(new)

    def detach(self) -> None:
        """Stop listening (the adapter goes away before the model)."""
        if self._on_changed in self.stack.listeners:
            self.stack.listeners.remove(self._on_changed)

    # QUndoStack's names, so the window's actions and the tests read it alike.
    def undo(self) -> None:
        self.stack.undo()

    def redo(self) -> None:
        self.stack.redo()

    def count(self) -> int:
        return self.stack.count()

    def index(self) -> int:
        return self.stack.index()

    def canUndo(self) -> bool:  # noqa: N802
        return self.stack.can_undo()

    def canRedo(self) -> bool:  # noqa: N802
        return self.stack.can_redo()

    def undoText(self) -> str:  # noqa: N802
        return self.stack.undo_text()

    def redoText(self) -> str:  # noqa: N802
        return self.stack.redo_text()

    def isClean(self) -> bool:  # noqa: N802
        return self.stack.is_clean()

    def clear(self) -> None:
        self.stack.clear()

    def setClean(self) -> None:  # noqa: N802
        self.stack.set_clean()


class Document(QObject):
    """The open project as the window sees it: ``model`` (the state, headless) with
    Qt signals for its changes.

    Signals: ``designChanged()``; ``runsChanged(RunsChange)``; ``weightsChanged()``
    (the latest run's weights); ``pathChanged()`` (the file, or whether it is
    modified); ``aboutToSnapshot()`` just before ``snapshot`` reads the model (a live
    run captures where it stands then, through ``model.capture_live``).
    """

    designChanged = Signal()
    runsChanged = Signal(object)
    weightsChanged = Signal()
    pathChanged = Signal()
    aboutToSnapshot = Signal()

    def __init__(self, parent: QObject | None = None,
                 model: ProjectModel | None = None) -> None:
        super().__init__(parent)
        self.model = model if model is not None else ProjectModel()
        self.undo_stack = UndoHistory(self.model.history, self)
        self._guards: list[EditGuard] = []
        self.model.listeners.append(self._on_model_changed)
        # A model handed in may outlive this QObject: stop forwarding to deleted signals.
        model, forward, history = self.model, self._on_model_changed, self.undo_stack
        self.destroyed.connect(lambda *_: (
            forward in model.listeners and model.listeners.remove(forward),
            history.detach()))

    def _on_model_changed(self, kind: str, detail: Any) -> None:
        if kind == "design":
            self.designChanged.emit()
        elif kind == "runs":
            self.runsChanged.emit(detail)
        elif kind == "weights":
            self.weightsChanged.emit()
        else:
            self.pathChanged.emit()

    # ----------------------------------------------------------------- state
    @property
    def design(self) -> Design:
        return self.model.design

    @property
    def path(self) -> Path | None:
        return self.model.path

    @property
    def modified(self) -> bool:
        return self.model.modified

    @property
    def display_name(self) -> str:
        """The one name the window gives the document (title bar, unsaved-changes
        question, status messages): the file's name, else the design's name (an example
        or lesson opened as an untitled copy), else "Untitled"."""
        path = self.model.path
        return path.name if path is not None else (self.model.design.name or "Untitled")

    def snapshot(self) -> Project:
        """The whole document as a project (what Save and the autosave write), a live
        run as it stands now; changes nothing."""
        self.aboutToSnapshot.emit()
        return self.model.project()

    # ------------------------------------------------------------------ edits
    def add_edit_guard(self, guard: EditGuard) -> None:
        """Ask ``guard(old, new)`` before any design change (edit, undo, redo): a live
        run uses it to ask before the network changes under it."""
        self._guards.append(guard)

    def remove_edit_guard(self, guard: EditGuard) -> None:
        if guard in self._guards:
            self._guards.remove(guard)

    def set_design(self, design: Design, text: str, merge_key: str | None = None) -> None:
        """Make ``design`` current as one undoable step described by ``text``."""
        if design == self.model.design:
            return
        if not self._allowed(design):
            self.designChanged.emit()  # editors fall back to the design as it is
            return
        self.model.set_design(design, text, merge_key)

    def _allowed(self, design: Design) -> bool:
        old = self.model.design
        return all(guard(old, design) for guard in list(self._guards))

    def undo(self) -> None:
        """Undo the last step (a design edit only if the guards allow the design it
        returns to; other steps, such as deleting runs, always)."""
        design = self.model.design_after_undo()
        if design is None or self._allowed(design):
            self.model.history.undo()

    def redo(self) -> None:
        """Redo the next step (a design edit only if the guards allow it)."""
        design = self.model.design_after_redo()
        if design is None or self._allowed(design):
            self.model.history.redo()

    # ------------------------------------------------------ opening and saving
    def load(self, design: Design, path: Path | None) -> None:
        """Start over with ``design`` (opened or new): no runs, empty history,
        unmodified."""
        self.model.load(design, path)

    def load_project(self, project: Project, path: Path | None) -> None:
        """Start over with ``project``'s design, runs and weights."""
        self.model.load_project(project, path)

    def save(self, path: Path) -> None:
        """Write the document to ``path`` (a project or the design only, by suffix), a
        live run as it stands now; ``OSError``/``ValueError`` leave it unsaved."""
        self.aboutToSnapshot.emit()
        self.model.save(path)

    def mark_saved(self, path: Path) -> None:
        self.model.mark_saved(path)

    def mark_modified(self) -> None:
        """Record a change that is not an undoable step."""
        self.model.mark_modified()


__all__ = ["Document", "LayerSelection", "RunsChange", "Trained", "UndoHistory"]


class LayerSelection(QObject):
    """Which layer is selected (a path into the design, or None); shared by the editor,
    the inspector and the diagram."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._path: LayerPath | None = None

    @property
    def path(self) -> LayerPath | None:
        return self._path

    def select(self, path: LayerPath | None) -> None:
        if path != self._path:
            self._path = path
            self.changed.emit()
