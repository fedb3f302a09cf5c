"""The item model behind the network editor, and the layer edits it and the palette make.

``LayerModel`` adapts the open design's layers (a tree: residual blocks hold children) to
Qt's model/view. Every index carries its layer *path* (``core.design.edit``); the model is reset
from the design whenever it changes and never edits anything in place. Drops (a kind from
the palette, or a card being moved) and the editor's actions all end in one of the edit
functions below, each of which replaces the design through ``Document.set_design`` as one
undoable step and then selects the layer it touched.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from core import LAYER_KINDS, LayerSpec, NetworkSpec, Problem, ResidualSpec
from core.design.check import LayerRow, layer_rows
from core.design.edit import (
    LayerPath,
    all_paths,
    duplicate_layer,
    insert_layer,
    is_inside,
    layer_at,
    move_layer,
    remove_layer,
)
from core.design.shapes import batch_shape_text
from core.words import plural
from gui.project.document import Document, LayerSelection
from gui.shape_text import flow_text

KIND_MIME = "application/x-backprop-layer-kind"
PATH_MIME = "application/x-backprop-layer-path"

# Custom data roles the card delegate and the tests read.
PATH_ROLE = Qt.ItemDataRole.UserRole + 1  # LayerPath
KIND_ROLE = Qt.ItemDataRole.UserRole + 2  # "dense", "residual", ...
ROW_ROLE = Qt.ItemDataRole.UserRole + 3  # core.design.check.LayerRow
PROBLEMS_ROLE = Qt.ItemDataRole.UserRole + 4  # list[str]: messages of this layer's problems
SERIES_ROLE = Qt.ItemDataRole.UserRole + 5  # index among parameter-owning layers, or -1
TITLE_ROLE = Qt.ItemDataRole.UserRole + 6  # the card's title ("Dense 32", "Activation · Tanh")
SPEC_ROLE = Qt.ItemDataRole.UserRole + 7  # the LayerSpec itself

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()  # default parent argument: the invisible root


# ------------------------------------------------------------------------ helpers


def layer_noun(layer_or_kind: LayerSpec | str) -> str:
    """How undo texts and menus name a layer: "Dense layer", "Residual block"."""
    kind = layer_or_kind if isinstance(layer_or_kind, str) else layer_or_kind.kind
    info = LAYER_KINDS.get(kind)
    label = info.label if info else kind
    return label if (info and info.container) else f"{label} layer"


def card_title(layer: LayerSpec) -> str:
    """The card's title: the key settings, prefixed by the kind when they don't name it."""
    summary = layer.summary()
    label = LAYER_KINDS[layer.kind].label
    if summary.split(" ")[0] == label.split(" ")[0]:
        return summary
    return f"{label} · {summary}"


def children_of(net: NetworkSpec, parent: LayerPath) -> tuple[LayerSpec, ...]:
    """The layers directly inside ``parent`` (``()``: the top level); empty for a non-block."""
    if not parent:
        return net.layers
    layer = layer_at(net, parent)
    return layer.layers if isinstance(layer, ResidualSpec) else ()


def _set_network(document: Document, net: NetworkSpec, text: str) -> None:
    document.set_design(dataclasses.replace(document.design, network=net), text)


# -------------------------------------------------------------------------- edits


def add_layer(document: Document, selection: LayerSelection, kind: str,
              path: LayerPath) -> None:
    """Insert a new ``kind`` layer with its defaults so it ends up at ``path``."""
    info = LAYER_KINDS[kind]
    net = insert_layer(document.design.network, path, info.spec())
    _set_network(document, net, f"Add {layer_noun(kind)}")
    selection.select(path)


def append_target(net: NetworkSpec, selected: LayerPath | None) -> LayerPath:
    """Where the palette's double-click puts a new layer: at the end of the selected
    residual block, otherwise at the end of the network."""
    if selected is not None:
        try:
            layer = layer_at(net, selected)
        except (IndexError, ValueError):
            layer = None
        if isinstance(layer, ResidualSpec):
            return selected + (len(layer.layers),)
    return (len(net.layers),)


def move_layer_to(document: Document, selection: LayerSelection, src: LayerPath,
                  dst: LayerPath) -> LayerPath | None:
    """Move the layer at ``src`` to ``dst`` (addressed before the move); returns its new
    path, or None when the move is impossible (into itself)."""
    net = document.design.network
    try:
        layer = layer_at(net, src)
        new_net, new_path = move_layer(net, src, dst)
    except (IndexError, ValueError):
        return None
    _set_network(document, new_net, f"Move {layer_noun(layer)}")
    selection.select(new_path)
    return new_path


def delete_layer(document: Document, selection: LayerSelection, path: LayerPath) -> None:
    """Remove the layer at ``path`` and select its neighbour (or its block)."""
    net = document.design.network
    layer = layer_at(net, path)
    new_net = remove_layer(net, path)
    _set_network(document, new_net, f"Delete {layer_noun(layer)}")
    selection.select(nearest_path(new_net, path))


def duplicate(document: Document, selection: LayerSelection, path: LayerPath) -> None:
    """Insert a copy of the layer at ``path`` right after it and select the copy."""
    net = document.design.network
    layer = layer_at(net, path)
    _set_network(document, duplicate_layer(net, path), f"Duplicate {layer_noun(layer)}")
    selection.select(path[:-1] + (path[-1] + 1,))


def move_by(document: Document, selection: LayerSelection, path: LayerPath,
            delta: int) -> None:
    """Move the layer at ``path`` one place up (``delta=-1``) or down among its siblings."""
    i = path[-1]
    # move_layer addresses the destination before the move: one down is two slots on.
    dst = path[:-1] + ((i - 1) if delta < 0 else (i + 2),)
    move_layer_to(document, selection, path, dst)


def can_move_by(net: NetworkSpec, path: LayerPath | None, delta: int) -> bool:
    if path is None or not path_exists(net, path):
        return False
    n = len(children_of(net, path[:-1]))
    return 0 <= path[-1] + delta < n


def path_exists(net: NetworkSpec, path: LayerPath) -> bool:
    try:
        layer_at(net, path)
    except (IndexError, ValueError):
        return False
    return True


def nearest_path(net: NetworkSpec, path: LayerPath | None) -> LayerPath | None:
    """``path`` if it still exists in ``net``, else the closest sensible layer: the same
    place among its siblings (clamped), else its block, else nothing."""
    if path is None:
        return None
    if path_exists(net, path):
        return path
    parent = path[:-1]
    while parent and not path_exists(net, parent):
        parent = parent[:-1]
    siblings = children_of(net, parent)
    if siblings:
        return parent + (min(path[len(parent)], len(siblings) - 1),)
    return parent or None


# -------------------------------------------------------------------------- model


class LayerModel(QAbstractItemModel):
    """The design's layers as a tree: one row per layer, residual children under their
    block. Read-only as far as Qt is concerned; drops become undoable design edits.

    ``refresh(problems)`` re-reads ``document.design`` (a model reset): call it when the
    design or the dataset changes. ``problems`` are ``core.design.check.check``'s.
    """

    def __init__(self, document: Document, selection: LayerSelection,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._doc = document
        self._selection = selection
        self._net = document.design.network
        self._rows: dict[LayerPath, LayerRow] = {}
        self._problems: dict[LayerPath, list[str]] = {}
        # Notes from a live run (vanishing/exploding gradients), shown like problems.
        self.notes: dict[LayerPath, str] = {}
        self._series: dict[LayerPath, int] = {}
        # Interned paths: an index's internalId is its path's number here. Numbers are
        # never reused, so an index from before a reset can't alias a different path.
        self._ids: dict[LayerPath, int] = {}
        self._paths: list[LayerPath] = []
        self.refresh([])

    # ---------------------------------------------------------------- content
    def refresh(self, problems: list[Problem]) -> None:
        """Re-read the document's design (model reset) with the check's ``problems``."""
        self.beginResetModel()
        design = self._doc.design
        self._net = design.network
        self._rows = {row.path: row for row in layer_rows(design)}
        self._problems = {}
        for p in problems:
            where = p.layer
            if where:  # () is about the whole network: the editor's output card shows it
                self._problems.setdefault(where, []).append(p.message)
        for where, note in self.notes.items():
            self._problems.setdefault(where, []).append(note)
        self._series = {}
        for path in all_paths(self._net):
            if self.own_parameters(path) > 0:
                self._series[path] = len(self._series)
        self.endResetModel()

    @property
    def network(self) -> NetworkSpec:
        return self._net

    def own_parameters(self, path: LayerPath) -> int:
        """Parameters the layer at ``path`` owns itself (a block: only its projection)."""
        row = self._rows.get(path)
        if row is None:
            return 0
        layer = layer_at(self._net, path)
        if isinstance(layer, ResidualSpec):
            inside = sum(self._rows[path + (j,)].parameters for j in range(len(layer.layers)))
            return row.parameters - inside
        return row.parameters

    def path_of(self, index: _Index) -> LayerPath:
        """The layer path of ``index`` (``()`` for the invalid root index)."""
        if not index.isValid():
            return ()
        return self._paths[index.internalId()]

    def index_of(self, path: LayerPath) -> QModelIndex:
        """The index of the layer at ``path`` (the root index for ``()`` or no such path)."""
        if not path or not path_exists(self._net, path):
            return QModelIndex()
        return self.createIndex(path[-1], 0, self._intern(path))

    def _intern(self, path: LayerPath) -> int:
        i = self._ids.get(path)
        if i is None:
            i = self._ids[path] = len(self._paths)
            self._paths.append(path)
        return i

    # ------------------------------------------------------------- structure
    def index(self, row: int, column: int, parent: _Index = _ROOT) -> QModelIndex:
        if column != 0 or row < 0:
            return QModelIndex()
        parent_path = self.path_of(parent)
        if row >= len(children_of(self._net, parent_path)):
            return QModelIndex()
        return self.createIndex(row, 0, self._intern(parent_path + (row,)))

    def parent(self, index: _Index | None = None) -> Any:  # type: ignore[override]
        if index is None:  # QObject.parent()
            return super().parent()
        if not index.isValid():
            return QModelIndex()
        path = self.path_of(index)
        if len(path) == 1:
            return QModelIndex()
        return self.createIndex(path[-2], 0, self._intern(path[:-1]))

    def rowCount(self, parent: _Index = _ROOT) -> int:  # noqa: N802 - Qt's name
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(children_of(self._net, self.path_of(parent)))

    def columnCount(self, parent: _Index = _ROOT) -> int:  # noqa: N802 - Qt's name
        return 1

    def hasChildren(self, parent: _Index = _ROOT) -> bool:  # noqa: N802
        return self.rowCount(parent) > 0

    # ------------------------------------------------------------------ data
    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        path = self.path_of(index)
        if not path_exists(self._net, path):
            return None
        layer = layer_at(self._net, path)
        if role == Qt.ItemDataRole.DisplayRole or role == TITLE_ROLE:
            return card_title(layer)
        if role == PATH_ROLE:
            return path
        if role == KIND_ROLE:
            return layer.kind
        if role == SPEC_ROLE:
            return layer
        if role == ROW_ROLE:
            return self._rows.get(path)
        if role == PROBLEMS_ROLE:
            return list(self._problems.get(path, []))
        if role == SERIES_ROLE:
            return self._series.get(path, -1)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(path, layer)
        if role == Qt.ItemDataRole.AccessibleDescriptionRole:
            return self._tooltip(path, layer)
        return None

    def _tooltip(self, path: LayerPath, layer: LayerSpec) -> str:
        info = LAYER_KINDS[layer.kind]
        lines = [card_title(layer)]
        row = self._rows.get(path)
        if row is not None and row.out_shape:
            lines.append(f"{flow_text(row.in_shape, row.out_shape)}, output shape "
                         f"{batch_shape_text(row.out_shape)}, "
                         f"{plural(row.parameters, 'parameter')}")
        lines.append(info.description)
        lines += [f"⚠ {message}" for message in self._problems.get(path, [])]
        return "\n".join(lines)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled  # dropping on empty space appends
        flags = (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                 | Qt.ItemFlag.ItemIsDragEnabled)
        if index.data(KIND_ROLE) is not None and LAYER_KINDS[index.data(KIND_ROLE)].container:
            flags |= Qt.ItemFlag.ItemIsDropEnabled
        return flags

    # ---------------------------------------------------------- drag and drop
    def mimeTypes(self) -> list[str]:  # noqa: N802 - Qt's name
        return [KIND_MIME, PATH_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData | None:  # noqa: N802
        valid = [i for i in indexes if i.isValid()]
        if not valid:
            return None
        path = self.path_of(valid[0])
        mime = QMimeData()
        mime.setData(PATH_MIME, QByteArray(json.dumps(list(path)).encode()))
        mime.setText(card_title(layer_at(self._net, path)))
        return mime

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802 - Qt's name
        return Qt.DropAction.CopyAction | Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:  # noqa: N802 - Qt's name
        return Qt.DropAction.MoveAction

    def drop_destination(self, row: int, parent: _Index) -> LayerPath:
        """The path a drop at ``row`` under ``parent`` inserts at (row -1: the end)."""
        parent_path = self.path_of(parent)
        count = len(children_of(self._net, parent_path))
        return parent_path + (count if row < 0 or row > count else row,)

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int,  # noqa: N802
                        column: int, parent: _Index) -> bool:
        if parent.isValid() and not (self.flags(parent) & Qt.ItemFlag.ItemIsDropEnabled):
            return False
        return self.drop_problem(data, self.drop_destination(row, parent)) is None

    def drop_problem(self, data: QMimeData, dst: LayerPath) -> str | None:
        """Why ``data`` can't be dropped at ``dst``, or None if it can."""
        if data.hasFormat(KIND_MIME):
            kind = bytes(data.data(KIND_MIME).data()).decode(errors="replace")
            return None if kind in LAYER_KINDS else f"unknown layer kind {kind!r}"
        src = _path_from_mime(data)
        if src is None:
            return "not a layer"
        if not path_exists(self._net, src):
            return "the dragged layer no longer exists"
        if is_inside(dst[:-1], src):
            return "a residual block cannot go inside itself"
        return None

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int,  # noqa: N802
                     column: int, parent: _Index) -> bool:
        if action == Qt.DropAction.IgnoreAction:
            return True
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        dst = self.drop_destination(row, parent)
        if data.hasFormat(KIND_MIME):
            kind = bytes(data.data(KIND_MIME).data()).decode()
            add_layer(self._doc, self._selection, kind, dst)
            return True
        src = _path_from_mime(data)
        assert src is not None
        # The model never removes rows itself (no removeRows), so accepting a move drop
        # can't make Qt delete the source afterwards: the move is one design edit.
        return move_layer_to(self._doc, self._selection, src, dst) is not None


def _path_from_mime(data: QMimeData) -> LayerPath | None:
    if not data.hasFormat(PATH_MIME):
        return None
    try:
        value = json.loads(bytes(data.data(PATH_MIME).data()).decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if (not isinstance(value, list) or not value
            or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0
                       for i in value)):
        return None
    return tuple(value)


def kind_mime_data(kind: str) -> QMimeData:
    """What the palette drags: the kind's name (and its label as plain text)."""
    mime = QMimeData()
    mime.setData(KIND_MIME, QByteArray(kind.encode()))
    mime.setText(LAYER_KINDS[kind].label)
    return mime
