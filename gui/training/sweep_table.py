"""The sweep's trial table: one row per trial (number, each parameter, objective, state in
its colour, duration, worker), sortable by any column, a pruned trial's reason in its
tooltip.

``TrialTableModel.set_status`` is called on every frame: it compares each trial with the
one shown, and signals only the rows whose texts changed (a running trial's duration),
and appends new trials, so the view repaints only what moved. Tooltips are written
when asked for.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from core.sweeps.space import Parameter
from core.sweeps.status import SweepStatus, TrialRow
from gui.training.sweep_axes import position
from gui.training.sweep_text import (
    OBJECTIVE_WORDS,
    STATE_COLORS,
    STATE_WORDS,
    duration_text,
    parameter_labels,
    prune_text,
    settings_text,
    value_text,
)

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
_Index = QModelIndex | QPersistentModelIndex


class TrialTableModel(QAbstractTableModel):
    """The trials of a ``SweepStatus`` as rows (in the order they appeared)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.parameters: tuple[Parameter, ...] = ()
        self.objective = ""
        self._headers: list[str] = []
        self._rows: list[TrialRow] = []
        self._texts: list[tuple[str, ...]] = []  # what each row shows now
        self._status: SweepStatus | None = None
        self._row_of: dict[int, int] = {}  # trial number -> row
        self._best: int | None = None
        self._labels: dict[str, str] = {}

    # ------------------------------------------------------------------ content
    def set_status(self, status: SweepStatus) -> None:
        """Show ``status``'s trials; only changed rows are signalled."""
        if (status.parameters != self.parameters or status.objective != self.objective):
            self._restart(status)
        best = status.best
        best_number = best.number if best is not None else None
        if best_number != self._best:
            old, self._best = self._best, best_number
            for number in (old, best_number):
                if number in self._row_of:
                    self._emit_row(self._row_of[number])
        self._status = status  # for the tooltips, made when asked for
        new = [t for t in status.trials if t.number not in self._row_of]
        for trial in status.trials:
            row = self._row_of.get(trial.number)
            if row is None or trial == self._rows[row]:
                continue
            self._rows[row] = trial
            texts = self._row_texts(trial)
            if texts != self._texts[row]:
                self._texts[row] = texts
                self._emit_row(row)
        if new:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for trial in new:
                self._row_of[trial.number] = len(self._rows)
                self._rows.append(trial)
                self._texts.append(self._row_texts(trial))
            self.endInsertRows()

    def _restart(self, status: SweepStatus) -> None:
        self.beginResetModel()
        self.parameters, self.objective = status.parameters, status.objective
        self._labels = parameter_labels(status.parameters)
        self._headers = (["#"] + [self._labels[p.name] for p in self.parameters]
                         + [status.objective, "state", "duration", "worker"])
        self._rows, self._texts, self._row_of = [], [], {}
        self._best = None
        self.endResetModel()

    def _emit_row(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))

    def _row_texts(self, t: TrialRow) -> tuple[str, ...]:
        return ((str(t.number),) + tuple(value_text(t.params.get(p.name))
                                          for p in self.parameters)
                + (value_text(t.value), STATE_WORDS.get(t.state, t.state),
                   duration_text(t.seconds) if t.state != "waiting" else "", t.worker))

    def _tooltip(self, t: TrialRow, status: SweepStatus) -> str:
        lines = [f"Trial #{t.number}: {settings_text(t.params, self._labels)}"]
        why = prune_text(t, status)
        if why:
            lines.append(why)
        elif t.state == "fail":
            lines.append("Failed: the run could not finish (it diverged, or its process "
                         "ended); it has no value.")
        if t.number == self._best:
            words = OBJECTIVE_WORDS.get(status.objective, status.objective)
            lines.append(f"The best trial so far ({words}).")
        return "\n".join(lines)

    # ------------------------------------------------------------ reading it
    def trial_number(self, row: int) -> int:
        return self._rows[row].number

    def row_of(self, number: int) -> int | None:
        return self._row_of.get(number)

    def row_count(self) -> int:
        return len(self._rows)

    def text(self, row: int, column: int) -> str:
        return self._texts[row][column]

    def header(self, column: int) -> str:
        return self._headers[column]

    # ------------------------------------------------------------- Qt's API
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._headers)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(self._headers)):
            return self._headers[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            n = len(self.parameters)
            if 1 <= section <= n:
                return self.parameters[section - 1].name
            if section == n + 1:
                return ("The trial's value: the last epoch's "
                        f"{OBJECTIVE_WORDS.get(self.objective, self.objective)}; a pruned "
                        "trial's is its last reported value.")
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        trial = self._rows[row]
        n = len(self.parameters)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._texts[row][col]
        if role == Qt.ItemDataRole.ToolTipRole and self._status is not None:
            return self._tooltip(trial, self._status)
        if role == Qt.ItemDataRole.ForegroundRole and col == n + 2:
            return STATE_COLORS.get(trial.state)
        if role == Qt.ItemDataRole.FontRole and trial.number == self._best:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and col not in (n + 2, n + 4):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == SORT_ROLE:
            return self._sort_key(trial, col)
        return None

    def _sort_key(self, t: TrialRow, col: int) -> Any:
        n = len(self.parameters)
        if col == 0:
            return float(t.number)
        if col <= n:
            p = self.parameters[col - 1]
            x = position(p, t.params.get(p.name))
            return -math.inf if math.isnan(x) else x
        if col == n + 1:
            # Trials without a value sort after every value, whichever way.
            return t.value if math.isfinite(t.value) else math.inf
        if col == n + 2:
            return t.state
        if col == n + 3:
            return float(t.seconds)
        return t.worker


class TrialTable(QTableView):
    """The trial table's view: sorted through a proxy on ``SORT_ROLE``; one trial at a
    time can be selected."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_ = TrialTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model_)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setDynamicSortFilter(True)
        self.setModel(self.proxy)
        self.setSortingEnabled(True)
        self.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.horizontalHeader()
        # Fitted when trials are added, not on every changed cell: ResizeToContents
        # would measure every row each time a running trial's duration ticks.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.model_.rowsInserted.connect(self._fit_columns)
        self.model_.modelReset.connect(self._fit_columns)
        self.setToolTip("")

    def _fit_columns(self, *_args) -> None:
        self.resizeColumnsToContents()

    def selected_trial(self) -> int | None:
        rows = self.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model_.trial_number(self.proxy.mapToSource(rows[0]).row())

    def select_trial(self, number: int | None) -> None:
        """Select trial ``number``'s row (None: clear)."""
        row = self.model_.row_of(number) if number is not None else None
        if row is None:
            self.clearSelection()
            return
        index = self.proxy.mapFromSource(self.model_.index(row, 0))
        self.selectRow(index.row())
        self.scrollTo(index)
