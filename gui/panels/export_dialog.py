"""File > Export Model…: choose a format and a target, export the design with its trained
weights off the GUI thread, and show the verification (overall and per layer) and the
files written.

The work is ``core.export.run.export_model``, as on the command line, run through the
project's pattern for slow calls (``gui.project.dataset_state.BackgroundCall``: a worker
thread, its result picked up on the GUI thread by polling); progress and Cancel go
through :class:`ExportState`, a plain object both threads share. Nothing crosses threads
through Qt signals. The dialog is window-modal and opened, never ``exec``-ed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QDialog,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core import Design, StudioError
from core.export.formats import EXPORT_FORMATS, ExportFormat
from core.export.run import ExportCancelled, ExportResult, default_target, export_model
from core.export.run import layer_labels as _layer_labels
from core.export.source import ExportError, source_of
from core.export.verify import ATOL, RTOL
from gui.colors import ERROR
from gui.plain_text import plain
from gui.project.dataset_state import BackgroundCall

__all__ = ["ExportDialog", "ExportRequest", "ExportState", "export_job"]

_POLL_MS = 100
VERIFIED, FAILED, UNVERIFIED = "#1E7B34", ERROR.name(), "#6B6B6B"


class ExportState:
    """Shared by the GUI thread and the worker: the stage the worker reached
    (``fraction``, ``words``) and ``cancelled`` (set by the GUI thread)."""

    def __init__(self) -> None:
        self.fraction, self.words = 0.0, "Starting…"
        self.cancelled = False

    def __call__(self, fraction: float, words: str) -> None:
        self.fraction, self.words = fraction, words

    def is_cancelled(self) -> bool:
        return self.cancelled


@dataclass(frozen=True)
class ExportRequest:
    """One export as the dialog asks for it: the design, its trained weights (None:
    export the initial ones), the format's key, the target, and the verification
    inputs (n, inputs) with words for where they came from (None: seeded inputs,
    ``x_words`` saying why)."""

    design: Design
    weights: dict[str, np.ndarray] | None
    fmt: str
    target: Path
    x: np.ndarray | None
    x_words: str


def export_job(request: ExportRequest, state: ExportState) -> ExportResult | StudioError:
    """Worker-thread job: the export's result, or the error saying why it could not be
    made (``ExportCancelled`` when cancelled before writing). Never raises."""
    try:
        source = source_of(request.design, request.weights, allow_initial=True)
        return export_model(source, request.fmt, request.target, request.x, state,
                            state.is_cancelled, request.x_words)
    except StudioError as exc:  # ExportError, ExportCancelled: words for the user
        return exc
    except (OSError, ValueError, MemoryError) as exc:  # not expected; say so plainly
        return ExportError(f"the export failed: {exc}")


class ExportDialog(QDialog):
    """Exports ``design`` with ``weights`` (None: it has no trained weights; the user
    may tick to export the initial ones). ``beside``: the project file, whose folder
    and name the default target takes (without one: the home folder).
    ``x``/``x_words``: the verification inputs.
    ``finished_export`` (on the GUI thread) carries the ``ExportResult`` or the error."""

    finished_export = Signal(object)

    def __init__(self, design: Design, weights: dict[str, np.ndarray] | None,
                 beside: Path | None, x: np.ndarray | None, x_words: str,
                 parent: QWidget | None = None, no_weights_why: str = "") -> None:
        super().__init__(parent)
        self.design, self.weights, self.beside = design, weights, beside
        self.x, self.x_words = x, x_words
        self.state = ExportState()
        self.result: ExportResult | None = None
        self._target_edited = False
        self.setWindowTitle("Export Model")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        layout = QVBoxLayout(self)
        layout.addWidget(self._format_box())
        layout.addLayout(self._target_row())
        self.initial = QCheckBox("Export the initial (untrained) weights")
        self.initial.setToolTip("The weights the design starts training from, drawn "
                                "from its seed: the exported model computes, but has "
                                "learned nothing.")
        self.no_weights = plain(QLabel(no_weights_why or "This design has no trained "
                                       "weights yet: train it first, or export its "
                                       "initial weights."))
        self.no_weights.setWordWrap(True)
        self.no_weights.setStyleSheet(f"color: {ERROR.name()};")
        layout.addWidget(self.no_weights)
        layout.addWidget(self.initial)
        self.no_weights.setVisible(weights is None)
        self.initial.setVisible(weights is None)
        self.initial.toggled.connect(self._on_initial_toggled)
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setVisible(False)
        layout.addWidget(self.bar)
        layout.addWidget(self._result_area(), 1)
        layout.addLayout(self._buttons())
        self._timer = QTimer(self)
        self._timer.setInterval(_POLL_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._call = BackgroundCall(self)
        self._on_format_changed()
        self._sync_buttons()
        self._show_status(self._plan(), UNVERIFIED, bold=False)

    # ------------------------------------------------------------ building
    def _format_box(self) -> QGroupBox:
        box = QGroupBox("Format")
        grid = QVBoxLayout(box)
        grid.setSpacing(2)
        self.formats = QButtonGroup(self)
        self.format_buttons: dict[str, QRadioButton] = {}
        for i, fmt in enumerate(EXPORT_FORMATS.values()):
            button = QRadioButton(fmt.label)
            button.setToolTip(fmt.description)
            note = plain(QLabel(fmt.description))
            note.setWordWrap(True)
            note.setIndent(22)  # under the button's text, past its circle
            note.setStyleSheet(f"color: {UNVERIFIED};")
            self.formats.addButton(button, i)
            self.format_buttons[fmt.key] = button
            grid.addWidget(button)
            grid.addWidget(note)
        next(iter(self.format_buttons.values())).setChecked(True)
        self.formats.buttonToggled.connect(self._on_format_toggled)
        return box

    def _target_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.target_label = QLabel("Save to:")
        self.target = QLineEdit()
        self.target.setToolTip("The folder (PyTorch, NumPy) or .onnx file to write; an "
                               "earlier export there is replaced, other files never are.")
        self.target.textEdited.connect(self._on_target_edited)
        self.target.textChanged.connect(self._sync_buttons)
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._on_browse_clicked)
        self.target_label.setBuddy(self.target)
        row.addWidget(self.target_label)
        row.addWidget(self.target, 1)
        row.addWidget(self.browse)
        return row

    def _result_area(self) -> QWidget:
        area = QWidget()
        col = QVBoxLayout(area)
        col.setContentsMargins(0, 0, 0, 0)
        self.status = plain(QLabel(""))
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Layer", "Kind", "Max abs difference",
                                              "Max rel difference"])
        self.table.setToolTip(f"Each layer's output, exported against the app's own, on "
                              f"the same inputs; a value fails beyond {ATOL:g} + "
                              f"{RTOL:g}·|value| (float32).")
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.files = plain(QLabel(""))
        self.files.setWordWrap(True)
        self.files.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        col.addWidget(self.status)
        col.addWidget(self.table, 1)
        col.addWidget(self.files)
        col.addStretch(0)  # keeps the lines at the top while there is no table
        self.table.setVisible(False)
        return area

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.open_folder = QPushButton("Open Folder")
        self.open_folder.setToolTip("Show the exported files in the file manager")
        self.open_folder.clicked.connect(self._on_open_folder_clicked)
        self.open_folder.setVisible(False)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self._on_close_clicked)
        row.addWidget(self.open_folder)
        row.addStretch(1)
        row.addWidget(self.export_button)
        row.addWidget(self.close_button)
        return row

    # ------------------------------------------------------------- state
    @property
    def fmt(self) -> ExportFormat:
        checked = self.formats.checkedId()
        return list(EXPORT_FORMATS.values())[max(0, checked)]

    def choose_format(self, key: str) -> None:
        self.format_buttons[key].setChecked(True)

    @property
    def busy(self) -> bool:
        return self._call.busy

    def _sync_buttons(self, *_args) -> None:
        ready = (bool(self.target.text().strip()) and not self.busy
                 and (self.weights is not None or self.initial.isChecked()))
        self.export_button.setEnabled(ready)
        for w in (*self.format_buttons.values(), self.target, self.browse, self.initial):
            w.setEnabled(not self.busy)
        self.close_button.setText("Cancel" if self.busy else "Close")
        self.close_button.setEnabled(not (self.busy and self.state.cancelled))

    def _on_format_toggled(self, _button, checked: bool) -> None:
        if checked:
            self._on_format_changed()

    def _on_format_changed(self) -> None:
        fmt = self.fmt
        self.target_label.setText("Folder:" if fmt.folder else "File:")
        if not self._target_edited:
            self.target.setText(str(default_target(fmt, self.beside, self.design.name,
                                                   Path.home())))
        elif not fmt.folder and not self.target.text().lower().endswith(fmt.suffix):
            self.target.setText(str(Path(self.target.text()).with_suffix(fmt.suffix)))

    def _on_target_edited(self, _text: str) -> None:
        self._target_edited = True

    def _on_initial_toggled(self, _checked: bool) -> None:
        self._sync_buttons()

    def _on_browse_clicked(self) -> None:
        fmt, current = self.fmt, self.target.text()
        if fmt.folder:
            path = QFileDialog.getExistingDirectory(self, "Export to folder",
                                                    str(Path(current).parent))
        else:
            path, _ = QFileDialog.getSaveFileName(self, "Export to file", current,
                                                  f"{fmt.label} (*{fmt.suffix})")
        if path:
            self._target_edited = True
            self.target.setText(path)

    # ------------------------------------------------------------ running
    def start(self) -> None:
        """Export as chosen, off the GUI thread; the result shows when it ends."""
        if not self.export_button.isEnabled():
            return
        self.state = ExportState()
        self.result = None
        request = ExportRequest(self.design, self.weights, self.fmt.key,
                                Path(self.target.text().strip()).expanduser(),
                                self.x, self.x_words)
        self._show_status("", UNVERIFIED)
        self.table.setVisible(False)
        self.files.setText("")
        self.open_folder.setVisible(False)
        self.bar.setValue(0)
        self.bar.setVisible(True)
        self._call.start(export_job, request, self.state, done=self._on_job_done)
        self._timer.start()
        self._on_timer_timeout()
        self._sync_buttons()

    def cancel(self) -> None:
        """Stop before the files are written (nothing is), or skip verifying them."""
        if self.busy and not self.state.cancelled:
            self.state.cancelled = True
            self.bar.setFormat("Cancelling after this step…")
            self._sync_buttons()

    def reject(self) -> None:  # Escape, the close button: cancel a running export first
        if self.busy:
            self.cancel()
        else:
            super().reject()

    def _on_close_clicked(self) -> None:
        self.reject()

    def _on_timer_timeout(self) -> None:
        if not self.state.cancelled:
            self.bar.setValue(round(100 * self.state.fraction))
            self.bar.setFormat(self.state.words)

    def _on_job_done(self, result: ExportResult | StudioError) -> None:
        self._timer.stop()
        self.bar.setVisible(False)
        if isinstance(result, ExportCancelled):
            self._show_status("Cancelled: nothing was written.", UNVERIFIED)
        elif isinstance(result, StudioError):
            self._show_status(f"Could not export: {result}", FAILED)
        else:
            self.show_result(result)
        self._sync_buttons()
        self.finished_export.emit(result)

    def _plan(self) -> str:
        """What Export will do, shown until it has."""
        n = min(256, len(self.x)) if self.x is not None and len(self.x) else 256
        inputs = (f"the first {n:,} {self.x_words}" if self.x is not None and len(self.x)
                  else f"{n} seeded random inputs ({self.x_words})")
        return (f"Export writes the files, then runs the exported model on {inputs} and "
                f"compares each layer's output with the app's own; it fails beyond "
                f"{ATOL:g} + {RTOL:g}·|value| (float32).")

    def _show_status(self, text: str, color: str, bold: bool = True) -> None:
        self.status.setText(text)
        weight = "bold" if bold else "normal"
        self.status.setStyleSheet(f"color: {color}; font-weight: {weight};")

    def show_result(self, result: ExportResult) -> None:
        """The overall verification line, the per-layer table and the files written."""
        self.result = result
        v = result.verification
        fmt = EXPORT_FORMATS[result.format].label if result.format in EXPORT_FORMATS \
            else result.format
        if result.ok is None:
            color, head = UNVERIFIED, f"{fmt} export written, not verified: {v.skipped}."
        else:
            assert v.output is not None
            worst = max((v.output, *v.layers), key=lambda d: d.max_abs)
            numbers = (f"largest difference {worst.max_abs:.2g} (relative "
                       f"{worst.max_rel:.2g})")
            if result.ok:
                color, head = VERIFIED, f"{fmt} export verified: {numbers}."
            else:
                color, head = FAILED, (f"{fmt} export FAILED verification: {numbers}. The "
                                       "exported model does not compute what the app "
                                       "does; its files are kept to inspect, not to use.")
        inputs = "" if v.skipped else (f"\nCompared on {result.inputs}; a value fails "
                                       f"beyond {ATOL:g} + {RTOL:g}·|value| (float32).")
        initial = "" if result.trained else "\nThe initial (untrained) weights were exported."
        self._show_status(head + inputs + initial, color)
        labels = _layer_labels(self.design)
        rows = (*v.layers, *((v.output,) if v.output else ()))
        self.table.setRowCount(len(rows))
        for r, d in enumerate(rows):
            cells = (d.name, labels.get(d.name, "model output" if d.name == "output" else ""),
                     f"{d.max_abs:.2e}", f"{d.max_rel:.2e}")
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if not d.ok:
                    item.setForeground(ERROR)
                self.table.setItem(r, c, item)
        self.table.setVisible(bool(rows))
        self.files.setText("Files written:\n" + "\n".join(str(p) for p in result.paths))
        self.open_folder.setVisible(bool(result.paths))

    def folder(self) -> Path | None:
        """The folder holding the exported files, None before an export."""
        if self.result is None or not self.result.paths:
            return None
        return self.result.paths[0].parent

    def _on_open_folder_clicked(self) -> None:
        folder = self.folder()
        if folder is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
