"""The open design and its undo history.

The design is immutable data (``core.Design``); every edit replaces it whole through an
undo command, so undo/redo restore exactly the design that was there. Panels never
change the design any other way: they call ``Document.set_design`` and refresh on
``designChanged``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from core import Design
from core.design.edit import LayerPath


class _ReplaceDesign(QUndoCommand):
    """Swap the document's design; consecutive edits with the same ``merge_key`` (typing
    in one field) merge into one undo step."""

    _ids: dict[str, int] = {}

    def __init__(self, doc: Document, old: Design, new: Design, text: str,
                 merge_key: str | None) -> None:
        super().__init__(text)
        self._doc, self._old, self._new = doc, old, new
        self._merge_key = merge_key

    def id(self) -> int:  # noqa: A003 - Qt's name
        if self._merge_key is None:
            return -1
        return self._ids.setdefault(self._merge_key, len(self._ids) + 1)

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, _ReplaceDesign) or other._merge_key != self._merge_key:
            return False
        self._new = other._new
        return True

    def redo(self) -> None:
        self._doc._replace(self._new)

    def undo(self) -> None:
        self._doc._replace(self._old)


class Document(QObject):
    """The design being edited, where it is saved, and its undo stack."""

    designChanged = Signal()
    pathChanged = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self._design = Design()
        self.path: Path | None = None
        self._extra_modified = False
        # Asked before any change (edit, undo, redo): (old, new) -> allowed? A live
        # training run uses it to ask before the network changes under it.
        self.edit_guard: Callable[[Design, Design], bool] | None = None
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)

    @property
    def design(self) -> Design:
        return self._design

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean() or self._extra_modified

    def mark_modified(self) -> None:
        """Record a change that is not a design edit (a new or renamed run)."""
        if not self._extra_modified:
            self._extra_modified = True
            self.pathChanged.emit()

    def set_design(self, design: Design, text: str, merge_key: str | None = None) -> None:
        """Make ``design`` current as one undoable step described by ``text``."""
        if design == self._design:
            return
        if not self._allowed(design):
            self.designChanged.emit()  # editors fall back to the design as it is
            return
        self.undo_stack.push(_ReplaceDesign(self, self._design, design, text, merge_key))

    def _allowed(self, design: Design) -> bool:
        return self.edit_guard is None or self.edit_guard(self._design, design)

    def undo(self) -> None:
        """Undo the last step (a design edit only if the guard allows the design it
        returns to; other steps, such as deleting runs, always)."""
        cmd = self.undo_stack.command(self.undo_stack.index() - 1)
        if cmd is not None and (not isinstance(cmd, _ReplaceDesign)
                                or self._allowed(cmd._old)):
            self.undo_stack.undo()

    def redo(self) -> None:
        """Redo the next step (a design edit only if the guard allows it)."""
        cmd = self.undo_stack.command(self.undo_stack.index())
        if cmd is not None and (not isinstance(cmd, _ReplaceDesign)
                                or self._allowed(cmd._new)):
            self.undo_stack.redo()

    def load(self, design: Design, path: Path | None) -> None:
        """Start over with ``design`` (opened or new): empty history, unmodified."""
        self.undo_stack.clear()
        self.path = path
        self._extra_modified = False
        self._replace(design)
        self.undo_stack.setClean()
        self.pathChanged.emit()

    def mark_saved(self, path: Path) -> None:
        self.path = path
        self._extra_modified = False
        self.undo_stack.setClean()
        self.pathChanged.emit()

    def _on_clean_changed(self, _clean: bool) -> None:
        self.pathChanged.emit()

    def _replace(self, design: Design) -> None:
        self._design = design
        self.designChanged.emit()


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
