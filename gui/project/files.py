"""Opening and saving documents: designs (.json) and projects (.bpsproj), recent files,
and the unsaved-changes question. An ONNX model (.onnx) opens as a new untitled document
with its weights (``core.export.onnx_import``), ready to train further. Every failure
is shown as a message and leaves the open document exactly as it was.

A design file keeps the network and settings only; a project also keeps the runs, the
latest run's weights and where it stood (to continue it). Once a document has runs or
weights, Save As proposes a project, and saving one as a design asks first. What is
saved is the document's model (``core.files.project_model``); this module only asks.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from core import Design, StudioError
from core.files.design_file import load_design
from core.files.project import PROJECT_SUFFIX, Project, load_project
from gui.plain_text import verbatim
from gui.project.document import Document

MAX_RECENT = 8
ONNX_SUFFIX = ".onnx"
FILE_FILTER = (f"Backprop Studio files (*.json *{PROJECT_SUFFIX} *{ONNX_SUFFIX});;"
               f"Designs (*.json);;Projects (*{PROJECT_SUFFIX});;"
               f"ONNX models (*{ONNX_SUFFIX});;All files (*)")
PROJECT_FILTER = f"Project with runs and weights (*{PROJECT_SUFFIX})"
DESIGN_FILTER = "Design only: network and settings, no runs or weights (*.json)"
SAVE_FILTER = f"{PROJECT_FILTER};;{DESIGN_FILTER}"


def save_as_default(path: Path | None, design_name: str, has_work: bool) -> tuple[str, str]:
    """What Save As proposes: (file name or path, selected filter). A document with runs
    or weights is proposed as a project (also when it was opened from a design file);
    otherwise the format it has, a design for a new one."""
    project = has_work or (path is not None and path.suffix == PROJECT_SUFFIX)
    suffix = PROJECT_SUFFIX if project else ".json"
    if path is not None:
        name = str(path.with_suffix(suffix))
    else:
        name = (design_name or "untitled").replace(" ", "_") + suffix
    return name, PROJECT_FILTER if project else DESIGN_FILTER


def read_document(path: str | Path) -> tuple[Design, Project | None]:
    """Read a design or project file; ``StudioError`` says why it cannot be opened."""
    p = Path(path)
    if p.suffix == PROJECT_SUFFIX:
        project = load_project(p)
        return project.design, project
    if p.suffix.lower() == ONNX_SUFFIX:
        from core.export.onnx_import import import_onnx  # onnx loads only when needed

        design, weights = import_onnx(p)
        return design, Project(design, weights)
    return load_design(p), None


class FileActions(QObject):
    """File operations for one window's document. ``opened`` fires after a file (or a
    new design) became the document."""

    recentChanged = Signal()
    opened = Signal()

    def __init__(self, document: Document, parent_widget: QWidget) -> None:
        super().__init__(parent_widget)
        self._doc = document
        self._parent = parent_widget
        self.last_error = ""
        self._design_only_ok: Path | None = None  # the user chose to drop runs here

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
        answer = QMessageBox.question(
            self._parent, "Unsaved changes",
            verbatim(f"“{self._doc.display_name}” has unsaved changes. Save them first?"),
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    # ---------------------------------------------------------------- opening
    def new(self, design: Design) -> bool:
        if not self.maybe_save():
            return False
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
            QMessageBox.warning(self._parent, "Could not open the file", verbatim(str(exc)))
            return False
        # An imported model is a new document: Save must not write over the .onnx file.
        where = None if as_copy or Path(path).suffix.lower() == ONNX_SUFFIX else Path(path)
        if project is not None:
            self._doc.load_project(project, where)
        else:
            self._doc.load(design, where)
        if not as_copy:
            self._remember(Path(path))
        self.opened.emit()
        return True

    def open_recovered(self, project: Project, original: Path | None) -> None:
        """Open a crash-recovery copy: its design, runs and weights, as an unsaved
        document that still saves to ``original`` (its file before the crash, if any)."""
        self._doc.load_project(project, original)
        self.opened.emit()
        self._doc.mark_modified()

    # ----------------------------------------------------------------- saving
    def save(self) -> bool:
        if self._doc.path is None:
            return self.save_as()
        return self._write(self._doc.path)

    def has_work(self) -> bool:
        """Whether the document has runs or trained weights (what a design file loses)."""
        return self._doc.model.has_work()

    def save_as(self) -> bool:
        start, selected = save_as_default(self._doc.path, self._doc.design.name,
                                          self.has_work())
        path, chosen = QFileDialog.getSaveFileName(self._parent, "Save As", start,
                                                   SAVE_FILTER, selected)
        if not path:
            return False
        p = Path(path)
        if not p.suffix:
            p = p.with_suffix(".json" if chosen == DESIGN_FILTER else PROJECT_SUFFIX)
        return self._write(p)

    def ask_design_only(self, path: Path) -> str | None:
        """Saving a document with runs or weights as a design: "project" (save a project
        next to it instead), "design" (drop them) or None (cancel)."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Runs and weights will not be saved",
                          f"“{path.name}” is a design file: it keeps the network and the "
                          "settings, but not the runs or the trained weights.",
                          parent=self._parent)
        box.setObjectName("design_only_box")
        box.setInformativeText(f"Save a project (“{path.with_suffix(PROJECT_SUFFIX).name}”) "
                               "to keep them.")
        project = box.addButton("Save as Project", QMessageBox.ButtonRole.AcceptRole)
        design = box.addButton("Save Design Only", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(project)
        box.exec()
        clicked = box.clickedButton()
        return "project" if clicked is project else "design" if clicked is design else None

    def _write(self, path: Path) -> bool:
        if path.suffix != PROJECT_SUFFIX and path != self._design_only_ok and self.has_work():
            answer = self.ask_design_only(path)
            if answer is None:
                return False
            if answer == "project":
                path = path.with_suffix(PROJECT_SUFFIX)
            else:
                self._design_only_ok = path  # asked once per file, not on every Ctrl+S
        try:
            self._doc.save(path)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            self.last_error = f"Could not save {path.name}: {reason}"
            QMessageBox.warning(self._parent, "Could not save", verbatim(
                f"{self.last_error}\n\nThe document is still open and unsaved; try another "
                "folder."))
            return False
        self._remember(path)
        return True
