"""The Runs panel's item model: recorded runs as rows, a sweep's trials grouped under one
expandable row per sweep ("Sweep lr-search: 30 trials, best val loss 0.081 (#12)").

``records`` is every run in recording order (the project model's); the tree shows plain
runs and sweep groups at the top level, a group at the place of its first trial, and the
trials (runs whose ``RunRecord.sweep`` is set) inside it. A group's numeric cells sort by
its best trial, so sorting keeps a sweep next to runs that did as well. The name column
is editable for runs (an edit is a request, ``rename_requested(record, name)``).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont

from core.records.record import RunRecord
from core.records.table import RUN_COLUMNS, run_row
from core.sweeps.best import best_trial, record_objective
from core.words import plural
from gui.plain_text import verbatim

__all__ = ["NAME_COLUMN", "RunTreeModel", "SortProxy", "SweepGroup"]

Index = QModelIndex | QPersistentModelIndex
NAME_COLUMN = 0
_TOP = 0  # the internal id of a top-level row; a trial's is its group's id
_NUMERIC = {"seed", "epochs", "steps", "final_train_loss", "final_val_loss",
            "best_val_metric", "duration"}
# Narrow headings so all columns fit a panel; the tooltips say the rest.
_SHORT_HEADINGS = {"final_train_loss": "Train loss", "final_val_loss": "Val loss",
                   "best_val_metric": "Best val", "duration": "Time"}
COLUMN_HELP = {
    "name": "The run's name: double-click to rename it. Its tooltip shows the note. A "
            "sweep's trials sit under one row per sweep.",
    "dataset": "The dataset the run trained on.",
    "seed": "The seed of the initial weights, dropout masks and shuffling.",
    "epochs": "Epochs completed.",
    "steps": "Mini-batch steps completed.",
    "final_train_loss": "Loss on the whole training set after the last epoch.",
    "final_val_loss": "Loss on the validation set after the last epoch.",
    "best_val_metric": "Best validation accuracy (classification) or R² (regression).",
    "duration": "Wall-clock time the run took (a sweep: all its trials together).",
    "ended": "How the run ended: finished, stopped, target reached, stopped early, "
             "diverged, or unfinished (saved while it was still training).",
}
_OBJECTIVE_WORDS = {"val_loss": "val loss", "val_accuracy": "val accuracy", "r2": "val R²"}


def duration_text(seconds: float) -> str:
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


class SweepGroup:
    """One sweep's row: its study name, its trials' runs (recording order) and the
    objective its best trial is judged by."""

    def __init__(self, name: str, gid: int) -> None:
        self.name, self.gid = name, gid
        self.runs: list[RunRecord] = []
        self.objective = "val_loss"

    def best(self) -> RunRecord | None:
        return best_trial(self.runs, self.objective)

    def title(self) -> str:
        """"Sweep lr-search: 30 trials, best val loss 0.081 (#12)"."""
        text = f"Sweep {self.name}: {plural(len(self.runs), 'trial')}"
        best = self.best()
        if best is None:
            return text
        value = record_objective(best, self.objective)
        shown = f"{100 * value:.1f} %" if self.objective == "val_accuracy" else f"{value:.3g}"
        return f"{text}, best {_OBJECTIVE_WORDS.get(self.objective, self.objective)} " \
               f"{shown} (#{best.trial})"

    def ended(self) -> str:
        """"25 finished, 5 pruned": how its trials ended."""
        counts: dict[str, int] = {}
        for run in self.runs:
            word = "pruned" if run.end_reason == "stopped" else run.ended
            counts[word] = counts.get(word, 0) + 1
        return ", ".join(f"{n} {word}" for word, n in counts.items())


class RunTreeModel(QAbstractItemModel):
    """Runs and sweep groups as a tree over ``records`` (recording order)."""

    rename_requested = Signal(object, str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.records: list[RunRecord] = []
        self.top: list[RunRecord | SweepGroup] = []
        self.groups: dict[str, SweepGroup] = {}
        self._gids: dict[str, int] = {}  # a sweep keeps its id: indexes stay valid
        self._next_gid = itertools.count(1)
        self._objectives: dict[str, str] = {}
        self.baseline_id: str | None = None

    # ------------------------------------------------------------ structure
    def _group(self, name: str) -> SweepGroup:
        """A new group row for sweep ``name`` (not yet in ``groups``)."""
        gid = self._gids.setdefault(name, next(self._next_gid))
        group = SweepGroup(name, gid)
        group.objective = self._objectives.get(name, "val_loss")
        return group

    def _group_by_id(self, gid: int) -> SweepGroup | None:
        return next((g for g in self.groups.values() if g.gid == gid), None)

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, _TOP)
        group = self.item(parent)
        assert isinstance(group, SweepGroup)
        return self.createIndex(row, column, group.gid)

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not index.isValid() or index.internalId() == _TOP:
            return QModelIndex()
        group = self._group_by_id(index.internalId())
        if group is None:
            return QModelIndex()
        return self.createIndex(self.top.index(group), 0, _TOP)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        if not parent.isValid():
            return len(self.top)
        if parent.column() != 0 or parent.internalId() != _TOP:
            return 0
        item = self.item(parent)
        return len(item.runs) if isinstance(item, SweepGroup) else 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return len(RUN_COLUMNS)

    def item(self, index: Index) -> RunRecord | SweepGroup | None:
        """The run or sweep group at ``index`` (of this model)."""
        if not index.isValid():
            return None
        if index.internalId() == _TOP:
            return self.top[index.row()] if index.row() < len(self.top) else None
        group = self._group_by_id(index.internalId())
        if group is None or index.row() >= len(group.runs):
            return None
        return group.runs[index.row()]

    def index_of(self, item: RunRecord | SweepGroup, column: int = 0) -> QModelIndex:
        """The index of a run (top level or in its group) or of a group."""
        if isinstance(item, RunRecord) and item.sweep and item.sweep in self.groups:
            group = self.groups[item.sweep]
            return self.createIndex(group.runs.index(item), column, group.gid)
        return self.createIndex(self.top.index(item), column, _TOP)

    def group_of(self, record: RunRecord) -> SweepGroup | None:
        return self.groups.get(record.sweep) if record.sweep else None

    # -------------------------------------------------------------- display
    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        key, heading = RUN_COLUMNS[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return _SHORT_HEADINGS.get(key, heading)
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMN_HELP[key]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.column() == NAME_COLUMN and isinstance(self.item(index), RunRecord):
            base |= Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        item = self.item(index)
        if item is None:
            return None
        key = RUN_COLUMNS[index.column()][0]
        if isinstance(item, SweepGroup):
            return self._group_data(item, key, role)
        run = item
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            value = run_row(run)[key]
            if role == Qt.ItemDataRole.EditRole or key in ("name", "dataset", "ended"):
                return value
            if key in ("seed", "epochs", "steps"):
                return f"{value:,}"
            if key == "best_val_metric":
                return _metric_text(run, value)
            if key == "duration":
                return duration_text(value)
            return f"{value:.4g}" if math.isfinite(value) else "–"
        if role == Qt.ItemDataRole.UserRole:  # the sort key
            return _sort_key(run, key)
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "ended":
                return verbatim(run.end_message or run.ended)
            if key == "name":
                tip = f"Started {run.started.replace('T', ' ')}" if run.started else run.name
                if run.id == self.baseline_id:
                    tip += "\nPinned as the baseline."
                return verbatim(f"{tip}\n{run.note}" if run.note else tip)  # user text
            return COLUMN_HELP[key]
        if role == Qt.ItemDataRole.FontRole and run.id == self.baseline_id:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and key in _NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _group_data(self, group: SweepGroup, key: str, role: int) -> Any:
        best = group.best()
        if role == Qt.ItemDataRole.DisplayRole:
            if key == "name":
                return group.title()
            if key == "dataset":
                return (best or group.runs[0]).dataset if group.runs else ""
            if key == "duration":
                return duration_text(sum(r.duration for r in group.runs))
            if key == "ended":
                return group.ended()
            return ""
        if role == Qt.ItemDataRole.UserRole:
            if key == "name":
                return f"sweep {group.name}".casefold()
            if key == "duration":
                return float(sum(r.duration for r in group.runs))
            if key == "ended":
                return group.ended()
            return _sort_key(best, key) if best is not None else math.inf
        if role == Qt.ItemDataRole.ToolTipRole:
            if key != "name":
                return COLUMN_HELP[key]
            words = (f"A sweep of {plural(len(group.runs), 'trial')}: its runs are inside. "
                     "Select this row to overlay them all; right-click to apply the best "
                     "trial's settings to the design.")
            return verbatim(f"{words}\nBest: {best.name}" if best is not None else words)
        if role == Qt.ItemDataRole.TextAlignmentRole and key == "duration":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: Index, value: Any,  # noqa: N802
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        run = self.item(index)
        if (not isinstance(run, RunRecord) or index.column() != NAME_COLUMN
                or role != Qt.ItemDataRole.EditRole):
            return False
        name = str(value).strip()
        if not name or name == run.name:
            return False
        self.rename_requested.emit(run, name)
        return True

    # ----------------------------------------------------------------- edits
    def set_records(self, records: list[RunRecord]) -> None:
        self.beginResetModel()
        self.records = list(records)
        self.top, self.groups = [], {}
        for record in self.records:
            if not record.sweep:
                self.top.append(record)
                continue
            group = self.groups.get(record.sweep)
            if group is None:
                group = self.groups[record.sweep] = self._group(record.sweep)
                self.top.append(group)
            group.runs.append(record)
        self.endResetModel()

    def append(self, record: RunRecord) -> None:
        self.insert(len(self.records), record)

    def insert(self, row: int, record: RunRecord) -> None:
        """Insert ``record`` at ``row`` of the recording order (undo puts runs back in
        place): at the top level, or into its sweep's group (made if new)."""
        row = min(max(row, 0), len(self.records))
        self.records.insert(row, record)
        order = {r.id: i for i, r in enumerate(self.records)}
        group = self.group_of(record)
        if group is not None:
            at = sum(1 for r in group.runs if order[r.id] < row)
            self.beginInsertRows(self.index_of(group), at, at)
            group.runs.insert(at, record)
            self.endInsertRows()
            self._group_changed(group)
            return
        item: RunRecord | SweepGroup = record
        if record.sweep:
            item = self._group(record.sweep)
            item.runs.append(record)

        def first(entry: RunRecord | SweepGroup) -> int:
            return min(order[r.id] for r in entry.runs) if isinstance(entry, SweepGroup) \
                else order[entry.id]

        at = sum(1 for entry in self.top if first(entry) < row)
        self.beginInsertRows(QModelIndex(), at, at)
        self.top.insert(at, item)
        if isinstance(item, SweepGroup):
            self.groups[item.name] = item
        self.endInsertRows()

    def remove_rows(self, rows: list[int]) -> None:
        """Remove the runs at these rows of the recording order; an emptied group goes."""
        for row in sorted(set(rows), reverse=True):
            record = self.records[row]
            group = self.group_of(record)
            if group is not None and len(group.runs) > 1:
                at = group.runs.index(record)
                self.beginRemoveRows(self.index_of(group), at, at)
                del group.runs[at]
                self.endRemoveRows()
                self._group_changed(group)
            else:
                at = self.top.index(group if group is not None else record)
                self.beginRemoveRows(QModelIndex(), at, at)
                del self.top[at]
                if group is not None:
                    del self.groups[group.name]
                self.endRemoveRows()
            del self.records[row]

    def row_changed(self, row: int) -> None:
        """The run at ``row`` of the recording order was renamed or annotated."""
        record = self.records[row]
        self.dataChanged.emit(self.index_of(record, 0),
                              self.index_of(record, len(RUN_COLUMNS) - 1))
        group = self.group_of(record)
        if group is not None:
            self._group_changed(group)

    def all_changed(self) -> None:
        """Every row may show differently (the baseline moved)."""
        def emit(parent: QModelIndex) -> None:
            n = self.rowCount(parent)
            if n:
                self.dataChanged.emit(self.index(0, 0, parent),
                                      self.index(n - 1, len(RUN_COLUMNS) - 1, parent))
        emit(QModelIndex())
        for group in self.groups.values():
            emit(self.index_of(group))

    def set_objective(self, sweep: str, objective: str) -> None:
        """Judge sweep ``sweep``'s best trial by ``objective`` (``val_loss``,
        ``val_accuracy``, ``r2``; the sweep's own, when the window knows it)."""
        self._objectives[sweep] = objective
        group = self.groups.get(sweep)
        if group is not None:
            group.objective = objective
            self._group_changed(group)

    def _group_changed(self, group: SweepGroup) -> None:
        self.dataChanged.emit(self.index_of(group, 0),
                              self.index_of(group, len(RUN_COLUMNS) - 1))


def _sort_key(run: RunRecord, key: str) -> Any:
    value = run_row(run)[key]
    if key in _NUMERIC:
        # NaN sorts after every number (the proxy compares floats plainly).
        return float(value) if math.isfinite(value) else math.inf
    return str(value).casefold()


class SortProxy(QSortFilterProxyModel):
    """Sorts each level by the items' sort keys (``UserRole``)."""

    def lessThan(self, left: Index, right: Index) -> bool:  # noqa: N802
        a = left.data(Qt.ItemDataRole.UserRole)
        b = right.data(Qt.ItemDataRole.UserRole)
        return a < b if type(a) is type(b) else str(a) < str(b)
