"""The run history panel: a sortable table of recorded runs (name, dataset, seed, epochs,
steps, final losses, best validation metric, duration, how it ended) with rename, notes,
delete, CSV export, "restore this design" and a pinned baseline run; selecting runs
overlays their curves and design differences in a :class:`gui.panels.run_overlay.RunCompareView`.
A sweep's trials sit under one expandable row per sweep (``gui.panels.run_tree``);
selecting that row selects all its trials, and its menu applies the best trial's settings
to the design (``gui.panels.sweep_apply.apply_best``).

The runs belong to the document's model (``core.files.project_model.ProjectModel``): the
panel shows ``model.runs`` and sends every edit (rename, note, delete) to the model, as an
undoable step of the document's one history. It asks the window to restore a design
(``restore_requested``), says when the list changed (``runs_changed``) and which run is
the baseline (``baseline_changed``, for the live plots to draw it dashed; the pin is the
panel's view, not saved).
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from core.records.record import RunRecord
from core.records.table import runs_to_csv
from core.storage.checked_io import atomic_write_bytes
from core.sweeps.best import varied_params
from core.words import plural
from gui.panels.run_overlay import RunCompareView
from gui.panels.run_tree import RunTreeModel, SortProxy, SweepGroup
from gui.panels.sweep_apply import apply_best
from gui.plain_text import verbatim
from gui.project.document import Document, RunsChange

__all__ = ["RunsPanel"]

WIDE_RATIO = 1.6  # wider than this times its height: the comparison goes beside the table


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
        self.model = RunTreeModel(self)
        self.proxy = SortProxy(self)
        self.proxy.setSourceModel(self.model)
        # A tree: plain runs are top-level rows, a sweep's trials sit under its row.
        self.table = QTreeView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # in recording order
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.table.setAlternatingRowColors(True)
        self.table.setUniformRowHeights(True)
        self.table.setAllColumnsShowFocus(True)
        self.table.setExpandsOnDoubleClick(True)
        self.table.setIndentation(14)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_context_menu)
        row_height = self.table.fontMetrics().height() + 8
        header = self.table.header()
        # Every column, the name first, takes the width it needs (whole names: they are
        # the comparison legend's); the last one the rest, and a narrow table scrolls.
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(40)
        # Room for about three runs before the table scrolls.
        self.table.setMinimumHeight(header.sizeHint().height() + 3 * row_height + 4)
        self.table.setToolTip("Recorded runs. Ctrl/Shift+click to select several and compare "
                              "them alongside; double-click a name to rename it; Delete "
                              "removes the selected runs. A sweep's trials are under its "
                              "row: select the row to compare them all, right-click it to "
                              "apply the best settings.")
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
        """The selected runs in table order (as sorted); a selected sweep row stands for
        all its trials."""
        def place(index: QModelIndex) -> tuple[int, int]:
            parent = index.parent()
            return (parent.row(), index.row()) if parent.isValid() else (index.row(), -1)

        out: list[RunRecord] = []
        seen: set[str] = set()
        for index in sorted(self.table.selectionModel().selectedRows(), key=place):
            item = self.model.item(self.proxy.mapToSource(index))
            if isinstance(item, SweepGroup):
                runs = [self.model.item(self.proxy.mapToSource(self.proxy.index(r, 0, index)))
                        for r in range(self.proxy.rowCount(index))]
            else:
                runs = [item]
            for run in runs:
                if isinstance(run, RunRecord) and run.id not in seen:
                    seen.add(run.id)
                    out.append(run)
        return out

    def selected_group(self) -> SweepGroup | None:
        """The sweep whose row is selected, or whose trials alone are (None otherwise)."""
        groups = set()
        for index in self.table.selectionModel().selectedRows():
            item = self.model.item(self.proxy.mapToSource(index))
            groups.add(item.name if isinstance(item, SweepGroup) else
                       (item.sweep if isinstance(item, RunRecord) else None) or None)
        if len(groups) != 1 or None in groups:
            return None
        return self.model.groups.get(groups.pop())

    def select_runs(self, records: list[RunRecord]) -> None:
        """Select exactly these runs (by id), opening the sweep groups they are in."""
        ids = {r.id for r in records}
        selection = QItemSelection()
        for run in self.model.records:
            if run.id in ids:
                index = self.proxy.mapFromSource(self.model.index_of(run))
                if index.parent().isValid():
                    self.table.expand(index.parent())
                selection.select(index, index)
        self.table.selectionModel().select(
            selection, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)

    def set_sweep_objective(self, sweep: str, objective: str) -> None:
        """Judge sweep ``sweep``'s best trial by its objective (``val_loss``,
        ``val_accuracy``, ``r2``), when the window knows it (else validation loss)."""
        self.model.set_objective(sweep, objective)

    def apply_best(self, group: SweepGroup | None = None,
                   run: RunRecord | None = None) -> bool:
        """Put the settings that ``group``'s trials varied, as its best trial (or ``run``)
        has them, into the design: one undoable step. Default: the selected sweep."""
        group = group if group is not None else self.selected_group()
        if group is None:
            return False
        best = run if run is not None else group.best()
        if best is None:
            QMessageBox.information(self, "Apply best sweep settings", verbatim(
                f"No trial of sweep {group.name} has a value to compare yet."))
            return False
        return apply_best(self.document, varied_params(group.runs, best), self)

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
        if all(r.sweep for r in records):
            # A sweep's trials arrive while the user may be comparing others: they go
            # into their group without taking the selection.
            self._on_selection_changed()
            return
        if len(records) != 1:
            self.select_runs(records)
            return
        row = self.proxy.mapFromSource(self.model.index_of(records[0]))
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
        self.model.all_changed()
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
        if self.model.groups:
            text += f" ({plural(len(self.model.groups), 'sweep')})"
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

    def context_menu(self, index: QModelIndex) -> QMenu | None:
        """The menu of the row at ``index`` (of the table): a sweep's row and its trials
        offer Apply best; every row Delete."""
        if not index.isValid():
            return None
        item = self.model.item(self.proxy.mapToSource(index))
        group = item if isinstance(item, SweepGroup) else (
            self.model.group_of(item) if isinstance(item, RunRecord) else None)
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        if group is not None:
            best = menu.addAction("Apply Best Settings")
            best.setToolTip("Put the settings this sweep varied, as its best trial has them, "
                            "into the design (one step: Undo takes it back).")
            best.triggered.connect(lambda: self.apply_best(group))
            if isinstance(item, RunRecord):
                this = menu.addAction("Apply This Trial's Settings")
                this.setToolTip("Put the settings this sweep varied, as this trial has them, "
                                "into the design.")
                this.triggered.connect(lambda: self.apply_best(group, item))
            compare = menu.addAction("Compare All Trials")
            compare.setToolTip("Select every trial of the sweep to overlay their curves.")
            compare.triggered.connect(lambda: self.select_runs(list(group.runs)))
            menu.addSeparator()
        menu.addAction(self.delete_action)
        return menu

    def _on_context_menu(self, pos: QPoint) -> None:
        menu = self.context_menu(self.table.indexAt(pos))
        if menu is not None:
            menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            menu.popup(self.table.viewport().mapToGlobal(pos))
