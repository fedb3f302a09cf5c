"""The Import Image Folder dialog: choose a folder (one subfolder per class), the size,
grayscale or RGB and the validation share, and read it off the GUI thread.

The folder is read by ``core.datasets.load_dataset`` on a worker thread
(``BackgroundCall``), following an ``ImportProgress`` shown with a Cancel button
(``ImportProgressBar``). Files that are not images are listed in a question; only if
the user agrees is the folder read again without them. Any other refusal is shown in the
dialog, in plain text, and the options stay editable. Once the folder has loaded the
dialog accepts: ``spec`` and ``dataset`` are what the dataset panel makes the design's
(one undoable step). Closing the dialog while reading cancels the read.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core import StudioError
from core.datasets import Dataset, DatasetSpec, NonImageFiles, load_dataset
from core.datasets.image_folder import MAX_SIDE
from core.words import plural
from gui.editor.dataset_controls import error_label, option_spins, set_value
from gui.editor.import_progress_bar import ImportProgressBar
from gui.plain_text import verbatim
from gui.project.dataset_state import BackgroundCall, ImportProgress

__all__ = ["ImageFolderDialog", "ask_image_folder", "import_job", "non_image_question"]

_DEFAULT_SIZE = (28, 28)
_LISTED = 20  # non-image files named in the question before "and N more"

ImportResult = tuple[Dataset | None, str, tuple[str, ...]]


def import_job(spec: DatasetSpec, progress: ImportProgress) -> ImportResult:
    """Worker-thread job: (dataset, "", ()) or (None, message, the files that are not
    images when that is the refusal). Never raises."""
    try:
        return load_dataset(spec, None, progress), "", ()
    except NonImageFiles as exc:
        return None, str(exc), exc.files
    except StudioError as exc:
        return None, str(exc), ()
    except (MemoryError, OSError, ValueError) as exc:  # not expected; say so plainly
        return None, f"could not import the folder: {exc}", ()


def non_image_question(folder: str, files: tuple[str, ...],
                       parent: QWidget | None = None) -> QMessageBox:
    """The question whether to skip ``files`` (not images) of ``folder`` and import the
    rest: Yes or No (the default)."""
    shown = "\n".join(f"  {name}" for name in files[:_LISTED])
    more = f"\n  … and {len(files) - _LISTED} more" if len(files) > _LISTED else ""
    one = len(files) == 1
    what = "is not a PNG or JPEG image" if one else "are not PNG or JPEG images"
    box = QMessageBox(QMessageBox.Icon.Question, "Files that are not images",
                      verbatim(f"In {folder}, {plural(len(files), 'item')} {what}:\n\n"
                               f"{shown}{more}\n\nSkip {'it' if one else 'them'} and "
                               f"import the images?"),
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box


class ImageFolderDialog(QDialog):
    """Asks for an image folder and its options and imports it.

    Parameters
    ----------
    start : DatasetSpec, optional
        An image-folder spec to start from (its folder and options), e.g. the design's.
    val_fraction, seed : float, int
        The validation share and split seed to start with (the design's dataset's).
    """

    def __init__(self, start: DatasetSpec | None = None, val_fraction: float = 0.2,
                 seed: int = 0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import Image Folder")
        self.spec: DatasetSpec | None = None
        self.dataset: Dataset | None = None
        self._seed = start.seed if start is not None else seed
        self._call = BackgroundCall(self)
        self._build()
        if start is not None and start.kind == "images":
            self.folder_edit.setText(start.path)
            self.resize_box.setChecked(start.size is not None)
            height, width = start.size or _DEFAULT_SIZE
            set_value(self.height_spin, height)
            set_value(self.width_spin, width)
            self.colour_combo.setCurrentIndex(1 if start.grayscale else 0)
            val_fraction = start.val_fraction
        set_value(self.val_spin, val_fraction)
        self._update_buttons()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("a folder with one subfolder per class")
        self.folder_edit.setToolTip("The folder to import: each subfolder is a class, named "
                                    "after it, holding that class's PNG or JPEG images.")
        self.folder_edit.textChanged.connect(self._on_folder_text_changed)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.setToolTip("Choose the folder.")
        self.browse_button.clicked.connect(self._on_browse_clicked)
        folder_row = QWidget()
        row = QHBoxLayout(folder_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.folder_edit, 1)
        row.addWidget(self.browse_button)

        self.resize_box = QCheckBox("Resize to")
        self.resize_box.setToolTip("Scale every image to this height and width. Without "
                                   "it, all images must already have one size.")
        self.resize_box.setChecked(True)
        self.resize_box.toggled.connect(self._on_resize_toggled)
        self.height_spin, self.width_spin = QSpinBox(), QSpinBox()
        for spin, what in ((self.height_spin, "Height"), (self.width_spin, "Width")):
            spin.setRange(1, MAX_SIDE)
            spin.setSuffix(" px")
            spin.setToolTip(f"{what} of every image after resizing, in pixels.")
        self.height_spin.setValue(_DEFAULT_SIZE[0])
        self.width_spin.setValue(_DEFAULT_SIZE[1])
        size_row = QWidget()
        row = QHBoxLayout(size_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.resize_box)
        row.addWidget(self.height_spin)
        row.addWidget(QLabel("×"))
        row.addWidget(self.width_spin)
        row.addStretch(1)

        self.colour_combo = QComboBox()
        self.colour_combo.addItem("RGB (3 channels)", False)
        self.colour_combo.addItem("Grayscale (1 channel)", True)
        self.colour_combo.setToolTip("Colour images have three input channels; grayscale "
                                     "ones one, which trains faster.")
        self.val_spin = option_spins()["val"]

        self.form = QFormLayout()
        self.form.addRow("Folder", folder_row)
        self.form.addRow("Size", size_row)
        self.form.addRow("Colours", self.colour_combo)
        self.form.addRow("Validation", self.val_spin)

        self.error_label = error_label()
        self.progress_bar = ImportProgressBar()

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton(
            "Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setDefault(True)
        self.buttons.accepted.connect(self._on_import_clicked)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        note = QLabel("One subfolder per class, each holding PNG or JPEG images; the "
                      "subfolder names become the class names.")
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addLayout(self.form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.progress_bar)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)

    # ------------------------------------------------------------------ reading
    @property
    def importing(self) -> bool:
        """Whether a folder is being read."""
        return self._call.busy

    def current_spec(self, skip_non_images: bool = False) -> DatasetSpec | None:
        """The spec the controls describe, or None (with the reason shown) if invalid."""
        size = ((self.height_spin.value(), self.width_spin.value())
                if self.resize_box.isChecked() else None)
        try:
            return DatasetSpec.images(
                str(Path(self.folder_edit.text().strip()).absolute()), size,
                bool(self.colour_combo.currentData()), self._seed,
                round(self.val_spin.value(), 4), skip_non_images)
        except StudioError as exc:
            self._show_error(str(exc))
            return None

    def start_import(self, skip_non_images: bool = False) -> None:
        """Read the folder the controls name, off the GUI thread."""
        if not self.folder_edit.text().strip():
            self._show_error("Choose a folder first.")
            return
        spec = self.current_spec(skip_non_images)
        if spec is None:
            return
        self._show_error("")
        progress = ImportProgress()
        self.progress_bar.follow(progress, Path(spec.path).name)
        self._call.start(import_job, spec, progress,
                         done=lambda result: self._on_import_done(spec, progress, *result))
        self._update_buttons()

    def cancel_import(self) -> None:
        """Stop reading; the dialog stays open with its options."""
        self.progress_bar.cancel()

    def _on_import_done(self, spec: DatasetSpec, progress: ImportProgress,
                        dataset: Dataset | None, error: str,
                        non_images: tuple[str, ...]) -> None:
        self.progress_bar.finish()
        self._update_buttons()
        if progress.cancelled:
            self._show_error("Import cancelled; nothing was imported.")
            return
        if dataset is not None:
            self.spec, self.dataset = spec, dataset
            self.accept()
            return
        if non_images and self.ask_skip(spec, non_images):
            self.start_import(skip_non_images=True)
            return
        self._show_error(error)

    def ask_skip(self, spec: DatasetSpec, files: tuple[str, ...]) -> bool:
        """Ask whether to import the folder without ``files`` (the non-image files)."""
        box = non_image_question(Path(spec.path).name, files, self)
        try:
            return box.exec() == QMessageBox.StandardButton.Yes
        finally:
            box.deleteLater()

    # ------------------------------------------------------------------ showing
    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def _update_buttons(self) -> None:
        busy = self.importing
        self.import_button.setEnabled(not busy and bool(self.folder_edit.text().strip()))
        for widget in (self.folder_edit, self.browse_button, self.resize_box,
                       self.colour_combo, self.val_spin):
            widget.setEnabled(not busy)
        for spin in (self.height_spin, self.width_spin):
            spin.setEnabled(not busy and self.resize_box.isChecked())

    # ------------------------------------------------------------------ slots
    def _on_browse_clicked(self) -> None:
        start = self.folder_edit.text().strip()
        folder = QFileDialog.getExistingDirectory(self, "Choose an image folder", start)
        if folder:
            self.folder_edit.setText(folder)

    def _on_folder_text_changed(self, _text: str) -> None:
        self._update_buttons()

    def _on_resize_toggled(self, _checked: bool) -> None:
        self._update_buttons()

    def _on_import_clicked(self) -> None:
        self.start_import()

    def reject(self) -> None:
        """Close; a read under way is cancelled and its result dropped."""
        self.progress_bar.cancel()
        self.progress_bar.finish()
        self._call.cancel()
        super().reject()


def ask_image_folder(current: DatasetSpec | None,
                     parent: QWidget | None = None) -> tuple[DatasetSpec, Dataset] | None:
    """Show the dialog, starting from the design's dataset ``current`` (its folder and
    options if it is an image folder; its validation share and seed); the imported
    (spec, dataset), or None if the user cancelled."""
    dialog = ImageFolderDialog(current if current is not None and current.kind == "images"
                               else None,
                               current.val_fraction if current is not None else 0.2,
                               current.seed if current is not None else 0, parent)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.spec is None:
            return None
        assert dialog.dataset is not None
        return dialog.spec, dialog.dataset
    finally:
        dialog.deleteLater()
