"""The layer palette: every layer kind the engine offers, to drag into the network.

Built from ``core.LAYER_KINDS`` (the only list of kinds), each with its icon and its
description as tooltip, in two columns so all of them show without scrolling. Drag a
kind into the network editor, or double-click it (or press Enter) to append it to the
network, or into the selected residual block; either way it is one undoable edit that
creates the layer with its spec's defaults.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
)
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QListView,
    QVBoxLayout,
    QWidget,
)

from core import LAYER_KINDS
from core.design.edit import LayerPath
from gui.editor.layer_model import KIND_MIME, add_layer, append_target, kind_mime_data
from gui.icons import kind_icon
from gui.project.document import Document, LayerSelection

KIND_NAME_ROLE = Qt.ItemDataRole.UserRole + 1
ICON = 26  # the icons' size in the palette
COLUMNS = 2

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()  # default parent argument: the invisible root


class LayerKindModel(QAbstractListModel):
    """The layer kinds as a list; dragging one carries its name (``KIND_MIME``)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._kinds = list(LAYER_KINDS.values())

    def rowCount(self, parent: _Index = _ROOT) -> int:  # noqa: N802 - Qt's name
        return 0 if parent.isValid() else len(self._kinds)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._kinds):
            return None
        info = self._kinds[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return info.label
        if role == Qt.ItemDataRole.DecorationRole:
            return kind_icon(info.kind)
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.StatusTipRole):
            where = ("into the network (or double-click to append it)" if not info.container
                     else "into the network, then drop layers inside it")
            return f"{info.label}: {info.description}\nDrag it {where}."
        if role == Qt.ItemDataRole.AccessibleDescriptionRole:
            return info.description
        if role == KIND_NAME_ROLE:
            return info.kind
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsDragEnabled)

    def mimeTypes(self) -> list[str]:  # noqa: N802 - Qt's name
        return [KIND_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData | None:  # noqa: N802
        valid = [i for i in indexes if i.isValid()]
        if not valid:
            return None
        return kind_mime_data(valid[0].data(KIND_NAME_ROLE))

    def supportedDragActions(self) -> Qt.DropAction:  # noqa: N802 - Qt's name
        return Qt.DropAction.CopyAction

    def kind_index(self, kind: str) -> QModelIndex:
        """The row of ``kind`` (invalid if unknown)."""
        for row, info in enumerate(self._kinds):
            if info.kind == kind:
                return self.index(row, 0)
        return QModelIndex()


class LayerPalette(QWidget):
    """The palette of layer kinds (left of the builder window)."""

    def __init__(self, document: Document, selection: LayerSelection,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc = document
        self._selection = selection
        self.model = LayerKindModel(self)
        self.view = QListView(self)
        self.view.setModel(self.model)
        self.view.setIconSize(QSize(ICON, ICON))
        # Not uniform: each label is as wide as it needs in its grid cell (uniform sizes
        # took the first kind's, eliding longer labels).
        self.view.setUniformItemSizes(False)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setDragEnabled(True)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.view.setDefaultDropAction(Qt.DropAction.CopyAction)
        # Two columns, row by row: ten kinds in five rows, every one shown without
        # scrolling (one column of ten made the window taller than a 1280x720 screen).
        self.view.setFlow(QListView.Flow.LeftToRight)
        self.view.setWrapping(True)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        # No scroll bars: the minimum size shows every kind, and a scroll bar shown while
        # the view is still small would make it wrap to one column and keep it.
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        cell = self._cell_size()
        self.view.setGridSize(cell)
        rows = -(-self.model.rowCount() // COLUMNS)
        frame = 2 * self.view.frameWidth()
        self.view.setMinimumSize(COLUMNS * cell.width() + frame + 2,
                                 rows * cell.height() + frame + 4)
        # Double-click or Enter (or a single click where the platform activates on it).
        self.view.activated.connect(self._on_view_activated)
        # One line: a wrapped label's second line is not in the dock's minimum height,
        # and in a short window it would be drawn over the list.
        hint = QLabel("Drag, or double-click to append.", self)
        hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        hint.setToolTip("Drag a layer to where it should go in the network, or double-click "
                        "it to append it (inside the selected residual block, if any). New "
                        "layers start with default settings; edit them in the inspector.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.view, 1)
        layout.addWidget(hint)

    def _cell_size(self) -> QSize:
        """One grid cell: the icon and the longest label whole, with a little air."""
        fm = self.view.fontMetrics()
        text = max(fm.horizontalAdvance(info.label) for info in LAYER_KINDS.values())
        # Beyond icon and text: the item's margins, the icon-text gap and the focus frame.
        return QSize(ICON + text + 28, max(ICON, fm.height()) + 8)

    def add_kind(self, kind: str) -> LayerPath:
        """Append a new ``kind`` layer (inside the selected residual block, if one is
        selected) as one undoable edit; returns where it went."""
        path = append_target(self._doc.design.network, self._selection.path)
        add_layer(self._doc, self._selection, kind, path)
        return path

    def _on_view_activated(self, index: QModelIndex) -> None:
        kind = index.data(KIND_NAME_ROLE)
        if kind in LAYER_KINDS:
            self.add_kind(kind)
