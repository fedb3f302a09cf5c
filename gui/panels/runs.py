"""The run history panel: a sortable table of recorded runs (name, dataset, seed, epochs,
steps, final losses, best validation metric, duration, how it ended) with rename, notes,
delete, CSV export, "restore this design" and a pinned baseline run; selecting runs
overlays their curves and design differences in a :class:`gui.panels.run_overlay.RunCompareView`.

The runs belong to the document's model (``core.files.project_model.ProjectModel``): the
panel shows ``model.runs`` and sends every edit (rename, note, delete) to the model, as an
undoable step of the document's one history. It asks the window to restore a design
(``restore_requested``), says when the list changed (``runs_changed``) and which run is
the baseline (``baseline_changed``, for the live plots to draw it dashed; the pin is the
panel's view, not saved).
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.records.record import RunRecord
from core.records.table import RUN_COLUMNS, run_row, runs_to_csv
from core.storage.checked_io import atomic_write_bytes
from core.words import plural
from gui.panels.run_overlay import RunCompareView
from gui.plain_text import verbatim
from gui.project.document import Document, RunsChange

__all__ = ["RunTableModel", "RunsPanel"]

NAME_COLUMN = 0
WIDE_RATIO = 1.6  # wider than this times its height: the comparison goes beside the table
_NUMERIC = {"seed", "epochs", "steps", "final_train_loss", "final_val_loss",
            "best_val_metric", "duration"}
# Narrow headings so all columns fit a panel; the tooltips say the rest.
_SHORT_HEADINGS = {"final_train_loss": "Train loss", "final_val_loss": "Val loss",
                   "best_val_metric": "Best val", "duration": "Time"}
_COLUMN_HELP = {
    "name": "The run's name: double-click to rename it. Its tooltip shows the note.",
    "dataset": "The dataset the run trained on.",
    "seed": "The seed of the initial weights, dropout masks and shuffling.",
    "epochs": "Epochs completed.",
    "steps": "Mini-batch steps completed.",
    "final_train_loss": "Loss on the whole training set after the last epoch.",
    "final_val_loss": "Loss on the validation set after the last epoch.",
    "best_val_metric": "Best validation accuracy (classification) or R² (regression).",
    "duration": "Wall-clock time the run took.",
    "ended": "How the run ended: finished, stopped, target reached, stopped early, "
             "diverged, or unfinished (saved while it was still training).",
}


def _duration_text(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, s = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {s:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _metric_text(run: RunRecord, value: float) -> str:
    if not math.isfinite(value):
        return "–"
    if run.metric_name == "accuracy":
        return f"{100 * value:.1f} %"
    return f"R² {value:.3f}" if abs(value) < 1e4 else f"R² {value:.3g}"


class RunTableModel(QAbstractTableModel):
    """Adapts a list of ``RunRecord`` to a table; the name column is editable (an edit
    is a request, ``rename_requested(record, name)``: the project model renames)."""

    rename_requested = Signal(object, str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.records: list[RunRecord] = []
        self.baseline_id: str | None = None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.records)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(RUN_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        key, heading = RUN_COLUMNS[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return _SHORT_HEADINGS.get(key, heading)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _COLUMN_HELP[key]
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid() and index.column() == NAME_COLUMN:
            base |= Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        run = self.records[index.row()]
        key = RUN_COLUMNS[index.column()][0]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            value = run_row(run)[key]
            if role == Qt.ItemDataRole.EditRole or key in ("name", "dataset", "ended"):
                return value
            if key in ("seed", "epochs", "steps"):
                return f"{value:,}"
            if key == "best_val_metric":
                return _metric_text(run, value)
            if key == "duration":
                return _duration_text(value)
            return f"{value:.4g}" if math.isfinite(value) else "–"
        if role == Qt.ItemDataRole.UserRole:  # the sort key
            value = run_row(run)[key]
            if key in _NUMERIC:
                # NaN sorts after every number (the proxy compares floats plainly).
                return float(value) if math.isfinite(value) else math.inf
            return str(value).casefold()
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "ended":
                return verbatim(run.end_message or run.ended)
            if key == "name":
                tip = f"Started {run.started.replace('T', ' ')}" if run.started else run.name
                if run.id == self.baseline_id:
                    tip += "\nPinned as the baseline."
                return verbatim(f"{tip}\n{run.note}" if run.note else tip)  # user text
            return _COLUMN_HELP[key]
        if role == Qt.ItemDataRole.FontRole and run.id == self.baseline_id:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and key in _NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any,  # noqa: N802
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if (not index.isValid() or index.column() != NAME_COLUMN
                or role != Qt.ItemDataRole.EditRole):
            return False
        name = str(value).strip()
        run = self.records[index.row()]
        if not name or name == run.name:
            return False
        self.rename_requested.emit(run, name)
        return True

    # ----------------------------------------------------------------- edits
    def set_records(self, records: list[RunRecord]) -> None:
        self.beginResetModel()
        self.records = list(records)
        self.endResetModel()

    def append(self, record: RunRecord) -> None:
        n = len(self.records)
        self.beginInsertRows(QModelIndex(), n, n)
        self.records.append(record)
        self.endInsertRows()

    def insert(self, row: int, record: RunRecord) -> None:
        row = min(max(row, 0), len(self.records))
        self.beginInsertRows(QModelIndex(), row, row)
        self.records.insert(row, record)
        self.endInsertRows()

    def remove_rows(self, rows: list[int]) -> None:
        for row in sorted(set(rows), reverse=True):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self.records[row]
            self.endRemoveRows()

    def row_changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(RUN_COLUMNS) - 1))


class _SortProxy(QSortFilterProxyModel):
    def lessThan(self, left: QModelIndex | QPersistentModelIndex,  # noqa: N802
                 right: QModelIndex | QPersistentModelIndex) -> bool:
        a = left.data(Qt.ItemDataRole.UserRole)
        b = right.data(Qt.ItemDataRole.UserRole)
        return a < b if type(a) is type(b) else str(a) < str(b)


class RunsPanel(QWidget):
    """The table of runs, its actions, and the comparison of the selected runs.

    Signals: ``restore_requested(RunRecord)`` (restore its design in the editor),
    ``runs_changed()`` (added, renamed, annotated or deleted: the project is modified),
    ``baseline_changed(RunRecord | None)``.
    """

    restore_requested = Signal(object)
    runs_changed = Signal()
    baseline_changed = Signal(object)

    def __init__(self, document: Document | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # The project whose runs this shows (its own, headless one when used alone).
        self.document = document if document is not None else Document(self)
        self._baseline: RunRecord | None = None
        self._unpinned_id: str | None = None  # a baseline deleted (undo pins it again)
        self.model = RunTableModel(self)
        self.proxy = _SortProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # in recording order
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(
            self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        # Every column, the name first, takes the width it needs (whole names: they are
        # the comparison legend's); the last one the rest, and a narrow table scrolls.
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(40)
        # Room for about three runs before the table scrolls.
        self.table.setMinimumHeight(header.sizeHint().height()
                                    + 3 * self.table.verticalHeader().defaultSectionSize() + 4)
        self.table.setToolTip("Recorded runs. Ctrl/Shift+click to select several and compare "
                              "them alongside; double-click a name to rename it; Delete "
                              "removes the selected runs.")
        self._build_controls()
        self.compare = RunCompareView()
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.setSpacing(4)
        top_layout.addLayout(self._buttons)
        top_layout.addWidget(self.table, 1)
        top_layout.addLayout(self._note_row)
        # The table and the comparison side by side when the panel is wide (docked along
        # the bottom), one above the other when it is tall: both in view either way.
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.compare)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 0, 2, 0)  # every pixel of height for the comparison
        layout.addWidget(self.splitter)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.model.rename_requested.connect(self._on_rename_requested)
        self.model.rowsInserted.connect(self._on_model_count_changed)
        self.model.rowsRemoved.connect(self._on_model_count_changed)
        self.model.modelReset.connect(self._on_model_count_changed)
        self.document.runsChanged.connect(self._on_runs_changed)
        self.model.set_records(list(self.document.model.runs))
        self._on_selection_changed()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        size = event.size()
        wide = size.width() > WIDE_RATIO * size.height()
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if self.splitter.orientation() != orientation:
            self.splitter.setOrientation(orientation)

    def _build_controls(self) -> None:
        def button(text: str, tip: str, slot) -> QPushButton:
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(lambda _checked=False: slot())
            return b

        self.restore_button = button(
            "Restore design", "Put the selected run's design (network, training settings "
            "and dataset) back into the editor; Undo brings the current one back.",
            self._on_restore_clicked)
        self.baseline_button = QToolButton()
        self.baseline_button.setText("Pin as baseline")
        self.baseline_button.setCheckable(True)
        self.baseline_button.setToolTip(
            "Pin the selected run as the baseline: the live plots draw its curves dashed "
            "behind the next runs. Click again to unpin.")
        self.baseline_button.toggled.connect(self._on_baseline_toggled)
        self.delete_button = button("Delete", "Remove the selected runs from the history "
                                              "(Delete).", self.delete_selected)
        self.export_button = button("Export CSV…", "Save the table of all runs as a CSV file "
                                                   "(one row per run).", self.export_csv)
        self.delete_action = QAction("Delete runs", self.table)
        self.delete_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.delete_action.triggered.connect(lambda _checked=False: self.delete_selected())
        self.table.addAction(self.delete_action)
        self.count_label = QLabel()
        self._buttons = QHBoxLayout()
        self._buttons.setContentsMargins(0, 0, 0, 0)
        for w in (self.restore_button, self.baseline_button, self.delete_button,
                  self.export_button):
            self._buttons.addWidget(w)
        self._buttons.addStretch(1)
        self._buttons.addWidget(self.count_label)
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText("A note on the selected run (what you tried, what "
                                          "you saw)")
        self.note_edit.setToolTip("Annotate the selected run; saved with the project and "
                                  "exported in the CSV.")
        self.note_edit.editingFinished.connect(self._on_note_edit_finished)
        self._note_row = QHBoxLayout()
        self._note_row.setContentsMargins(0, 0, 0, 0)
        note_label = QLabel("Note:")
        note_label.setBuddy(self.note_edit)
        self._note_row.addWidget(note_label)
        self._note_row.addWidget(self.note_edit, 1)

    # -------------------------------------------------------------------- API
    def runs(self) -> list[RunRecord]:
        """Every run, in the order they were recorded (the project model's)."""
        return list(self.document.model.runs)

    def set_runs(self, records: list[RunRecord]) -> None:
        """Replace the project's runs without an undo step; does not emit
        ``runs_changed``. A pinned baseline not among them is unpinned."""
        self.document.model.set_runs(records)

    def add_run(self, record: RunRecord) -> None:
        """Record a finished run in the project (named ``Run N`` if it has no name; one
        undoable step) and select it."""
        self.document.model.add_run(record)

    def selected_runs(self) -> list[RunRecord]:
        """The selected runs in table order (as sorted)."""
        rows = sorted(self.table.selectionModel().selectedRows(), key=lambda i: i.row())
        return [self.model.records[self.proxy.mapToSource(i).row()] for i in rows]

    def select_runs(self, records: list[RunRecord]) -> None:
        """Select exactly these runs (by id)."""
        ids = {r.id for r in records}
        selection = self.table.selectionModel()
        selection.clearSelection()
        for row, run in enumerate(self.model.records):
            if run.id in ids:
                selection.select(self.proxy.mapFromSource(self.model.index(row, 0)),
                                 QItemSelectionModel.SelectionFlag.Select
                                 | QItemSelectionModel.SelectionFlag.Rows)

    def baseline(self) -> RunRecord | None:
        """The pinned baseline run, or None."""
        return self._baseline

    def set_baseline(self, record: RunRecord | None) -> None:
        """Pin ``record`` (one of ``runs()``) as the baseline, or unpin with None."""
        self._set_baseline(record)
        self._sync_buttons()

    # ---------------------------------------------------------------- actions
    def delete_selected(self) -> None:
        """Remove the selected runs from the project (one undoable step)."""
        runs = self.selected_runs()
        if runs:
            self.document.model.delete_runs(r.id for r in runs)

    def _on_runs_changed(self, change: RunsChange) -> None:
        """Follow the project's runs: the table, the baseline pin and the selection."""
        if change.kind == "reset":
            self.model.set_records(list(self.document.model.runs))
            ids = {r.id for r in self.model.records}
            self._unpinned_id = None
            if self._baseline is not None and self._baseline.id not in ids:
                self._set_baseline(None)
            self._on_selection_changed()
            return
        if change.kind == "inserted":
            for row, record in sorted(change.rows, key=lambda item: item[0]):
                self.model.insert(row, record)
                if record.id == self._unpinned_id:
                    self._set_baseline(record)
            self._select_new([r for _, r in change.rows])
        elif change.kind == "removed":
            ids = {r.id for _, r in change.rows}
            self.model.remove_rows([i for i, r in enumerate(self.model.records)
                                    if r.id in ids])
            if self._baseline is not None and self._baseline.id in ids:
                self._unpinned_id = self._baseline.id
                self._set_baseline(None)
            self._on_selection_changed()
        else:  # renamed or annotated
            for _, record in change.rows:
                self.model.row_changed(self.model.records.index(record))
            self._on_selection_changed()
        self.runs_changed.emit()

    def _select_new(self, records: list[RunRecord]) -> None:
        if len(records) != 1:
            self.select_runs(records)
            return
        row = self.proxy.mapFromSource(self.model.index(
            self.model.records.index(records[0]), 0))
        self.table.selectionModel().select(
            row, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.table.setCurrentIndex(row)
        self.table.scrollTo(row)

    def export_csv(self) -> None:
        """Ask for a file name and write every run's row (``core.records.table.runs_to_csv``)."""
        if not self.model.records:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export runs as CSV", "runs.csv",
                                              "CSV files (*.csv);;All files (*)")
        if not path:
            return
        try:
            # "replace": a character UTF-8 cannot hold (a lone surrogate) becomes "?"
            # instead of an exception out of this slot.
            data = runs_to_csv(self.model.records).encode("utf-8", "replace")
            atomic_write_bytes(path, data)
        except OSError as exc:
            QMessageBox.warning(self, "Export failed",
                                verbatim(f"Could not write {path}:\n{exc.strerror or exc}"))

    # ------------------------------------------------------------------ slots
    def _set_baseline(self, record: RunRecord | None) -> None:
        old = self._baseline
        self._baseline = record
        self.model.baseline_id = record.id if record is not None else None
        if self.model.records:
            self.model.dataChanged.emit(self.model.index(0, 0), self.model.index(
                len(self.model.records) - 1, len(RUN_COLUMNS) - 1))
        self._on_model_count_changed()
        if old is not record:
            self.baseline_changed.emit(record)

    def _on_restore_clicked(self) -> None:
        runs = self.selected_runs()
        if len(runs) == 1:
            self.restore_requested.emit(runs[0])

    def _on_baseline_toggled(self, checked: bool) -> None:
        runs = self.selected_runs()
        if checked and len(runs) == 1:
            self._set_baseline(runs[0])
        elif not checked and self._baseline is not None:
            self._set_baseline(None)
        self._sync_buttons()

    def _on_note_edit_finished(self) -> None:
        runs = self.selected_runs()
        if len(runs) == 1:
            self.document.model.set_note(runs[0].id, self.note_edit.text())

    def _on_rename_requested(self, run: RunRecord, name: str) -> None:
        self.document.model.rename_run(run.id, name)

    def _on_model_count_changed(self, *_args) -> None:
        n = len(self.model.records)
        text = plural(n, "run")
        if self._baseline is not None:
            text += f" · baseline: {self._baseline.name}"
        self.count_label.setText(text)
        self.export_button.setEnabled(n > 0)

    def _on_selection_changed(self, *_args) -> None:
        runs = self.selected_runs()
        self.compare.set_runs(runs)
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        runs = self.selected_runs()
        one = len(runs) == 1
        self.restore_button.setEnabled(one)
        self.delete_button.setEnabled(bool(runs))
        self.note_edit.setEnabled(one)
        with_blocked = self.note_edit.blockSignals(True)
        self.note_edit.setText(runs[0].note if one else "")
        self.note_edit.blockSignals(with_blocked)
        pinned = one and self._baseline is not None and runs[0].id == self._baseline.id
        self.baseline_button.setEnabled(one)
        blocked = self.baseline_button.blockSignals(True)
        self.baseline_button.setChecked(pinned)
        self.baseline_button.blockSignals(blocked)
        self._on_model_count_changed()
