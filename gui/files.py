"""Opening and saving documents: designs (.json) and projects (.bpsproj), recent files,
and the unsaved-changes question. Every failure is shown as a message and leaves the
open document exactly as it was.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from core import Design, StudioError
from core.io import load_design, save_design
from core.project import PROJECT_SUFFIX, Project, load_project, save_project

from .document import Document

MAX_RECENT = 8
FILE_FILTER = (f"Backprop Studio files (*.json *{PROJECT_SUFFIX});;Designs (*.json);;"
               f"Projects (*{PROJECT_SUFFIX});;All files (*)")


def read_document(path: str | Path) -> tuple[Design, Project | None]:
    """Read a design or project file; ``StudioError`` says why it cannot be opened."""
    p = Path(path)
    if p.suffix == PROJECT_SUFFIX:
        project = load_project(p)
        return project.design, project
    return load_design(p), None


class FileActions(QObject):
    """File operations for one window. ``project`` holds the weights and history that
    came with an opened project (kept when the project is saved again)."""

    recentChanged = Signal()
    opened = Signal()

    def __init__(self, document: Document, parent_widget: QWidget) -> None:
        super().__init__(parent_widget)
        self._doc = document
        self._parent = parent_widget
        self.project: Project | None = None
        self.last_error = ""
        # The window's run history, saved into project files, and the latest run's
        # (network spec, weights, epoch history, step losses) (both set by the window).
        self.runs_provider = lambda: []
        self.trained_provider = lambda: None

    # ------------------------------------------------------------ recent files
    def recent_files(self) -> list[str]:
        value = QSettings().value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _remember(self, path: Path) -> None:
        files = [str(path.resolve())] + [f for f in self.recent_files()
                                         if f != str(path.resolve())]
        QSettings().setValue("recent_files", files[:MAX_RECENT])
        self.recentChanged.emit()

    def clear_recent(self) -> None:
        QSettings().setValue("recent_files", [])
        self.recentChanged.emit()

    # --------------------------------------------------------------- questions
    def maybe_save(self) -> bool:
        """Ask to save unsaved changes; False if the user cancels (or saving failed)."""
        if not self._doc.modified:
            return True
        name = self._doc.path.name if self._doc.path else "Untitled"
        answer = QMessageBox.question(
            self._parent, "Unsaved changes",
            f"“{name}” has unsaved changes. Save them first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    # ---------------------------------------------------------------- opening
    def new(self, design: Design) -> bool:
        if not self.maybe_save():
            return False
        self.project = None
        self._doc.load(design, None)
        self.opened.emit()
        return True

    def open_dialog(self) -> bool:
        if not self.maybe_save():
            return False
        start = str(self._doc.path.parent) if self._doc.path else ""
        path, _ = QFileDialog.getOpenFileName(self._parent, "Open", start, FILE_FILTER)
        return bool(path) and self.open_path(path, ask=False)

    def open_path(self, path: str | Path, ask: bool = True, as_copy: bool = False) -> bool:
        """Open ``path``; on failure show why and keep the current document. With
        ``as_copy`` (examples) the document stays untitled, so Save asks where."""
        if ask and not self.maybe_save():
            return False
        try:
            design, project = read_document(path)
        except StudioError as exc:
            self.last_error = str(exc)
            QMessageBox.warning(self._parent, "Could not open the file", str(exc))
            return False
        self.project = project
        self._doc.load(design, None if as_copy else Path(path))
        if not as_copy:
            self._remember(Path(path))
        self.opened.emit()
        return True

    def open_recovered(self, project: Project, original: Path | None) -> None:
        """Open a crash-recovery copy: its design, runs and weights, as an unsaved
        document that still saves to ``original`` (its file before the crash, if any)."""
        self.project = project
        self._doc.load(project.design, original)
        self.opened.emit()
        self._doc.mark_modified()

    # ----------------------------------------------------------------- saving
    def save(self) -> bool:
        if self._doc.path is None:
            return self.save_as()
        return self._write(self._doc.path)

    def save_as(self) -> bool:
        name = self._doc.path.name if self._doc.path else (
            (self._doc.design.name or "untitled").replace(" ", "_") + ".json")
        start = str(self._doc.path.parent / name) if self._doc.path else name
        path, chosen = QFileDialog.getSaveFileName(self._parent, "Save As", start, FILE_FILTER)
        if not path:
            return False
        p = Path(path)
        if not p.suffix:
            p = p.with_suffix(PROJECT_SUFFIX if "Projects" in chosen else ".json")
        return self._write(p)

    def _write(self, path: Path) -> bool:
        design = self._doc.design
        try:
            if path.suffix == PROJECT_SUFFIX:
                save_project(self._project_for(design), path)
            else:
                save_design(design, path)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            self.last_error = f"Could not save {path.name}: {reason}"
            QMessageBox.warning(self._parent, "Could not save", f"{self.last_error}\n\nThe "
                                "document is still open and unsaved; try another folder.")
            return False
        self._doc.mark_saved(path)
        self._remember(path)
        return True

    def _project_for(self, design: Design) -> Project:
        self.project = self.current_project(design)
        return self.project

    def current_project(self, design: Design) -> Project:
        """What saving ``design`` as a project writes now (the autosave writes the same);
        changes nothing."""
        old = self.project
        trained = self.trained_provider()
        if trained is not None and trained[0] == design.network:
            _, weights, history, steps = trained  # the latest run in this window
        elif old is not None and old.weights is not None \
                and old.design.network == design.network:
            weights, history, steps = old.weights, old.history, old.steps
        else:
            weights, history, steps = None, [], np.zeros((0, 2))
        return Project(design, weights, history, steps, list(self.runs_provider()))
