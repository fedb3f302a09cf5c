"""The layer stack's card view: the design's layers as cards in a tree (residual blocks
hold their children, indented under a bracket in the residual colour).

The view works out drop positions itself, so "below an open block" means "first inside
it" and moving left below a block's last child means "after the block"; it paints its own
drop indicator and the drag picture of a card. A drop goes to ``LayerModel.dropMimeData``
(one undoable edit); the view never edits the design itself.
"""

from __future__ import annotations

from PySide6.QtCore import QLine, QModelIndex, QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QDrag,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QStyle,
    QStyleOptionViewItem,
    QTreeView,
    QWidget,
)

from core import LAYER_KINDS, ResidualSpec
from core.design.edit import LayerPath, layer_at
from gui.colors import kind_color
from gui.editor.layer_card_delegate import MARGIN_Y, RADIUS, LayerCardDelegate, muted_color
from gui.editor.layer_model import KIND_MIME, KIND_ROLE, PATH_MIME, LayerModel, children_of

INDENT = 18
MAX_CARDS_WIDTH = 340  # the editor's minimum width at most: wider titles elide


class LayerTreeView(QTreeView):
    """The cards' view: works out drop positions itself (so "below an open block" means
    "first inside it", and moving left below a block's last child means "after the
    block") and paints its own drop indicator and the residual brackets."""

    def __init__(self, model: LayerModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self._delegate = LayerCardDelegate(self)
        self._delegate.is_expanded = self.isExpanded
        self.setItemDelegate(self._delegate)
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setIndentation(INDENT)
        self.setUniformRowHeights(True)
        self.setAnimated(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setMouseTracking(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        # Qt's indicator can't say "first inside this block"; we paint our own.
        self.setDropIndicatorShown(False)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.viewport().setBackgroundRole(QPalette.ColorRole.Window)
        self._indicator: QLine | QRect | None = None
        self._hover: LayerPath | None = None
        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved,
                       model.dataChanged, model.layoutChanged):
            signal.connect(self.updateGeometry)  # the cards' widths may have changed

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """Wide enough for every card's title whole (up to ``MAX_CARDS_WIDTH``)."""
        base = super().minimumSizeHint()
        return QSize(max(base.width(), self.cards_width()), base.height())

    def cards_width(self) -> int:
        """The width at which no card's text is elided, indentation and scroll bar
        included, capped at ``MAX_CARDS_WIDTH`` (a very long title elides)."""
        model = self.model()
        widest = 0
        pending = [(QModelIndex(), 0)]
        while pending:
            parent, depth = pending.pop()
            for row in range(model.rowCount(parent)):
                index = model.index(row, 0, parent)
                widest = max(widest, depth * self.indentation()
                             + self._delegate.card_width(self.font(), index))
                pending.append((index, depth + 1))
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        return min(MAX_CARDS_WIDTH, widest + bar + 2 * self.frameWidth())

    def layer_model(self) -> LayerModel:
        model = self.model()
        assert isinstance(model, LayerModel)
        return model

    # ---------------------------------------------------------- drop targets
    def drop_target(self, pos: QPoint) -> tuple[LayerPath, QLine | QRect]:
        """Where a drop at ``pos`` (viewport coordinates) inserts, and what to draw."""
        model = self.layer_model()
        net = model.network
        right = self.viewport().width() - 4
        index = self.indexAt(pos)
        if not index.isValid():
            # Empty space below the cards: append to the network.
            n = len(net.layers)
            last = self._last_visible(model)
            y = self.visualRect(last).bottom() + 1 if last.isValid() else MARGIN_Y
            return (n,), QLine(2, y, right, y)
        path = model.path_of(index)
        rect = self.visualRect(index)
        layer = layer_at(net, path)
        container = isinstance(layer, ResidualSpec)
        y = pos.y() - rect.top()
        edge = rect.height() * (0.3 if container else 0.5)
        if y < edge:
            dst = path
            line_y = rect.top()
        elif container and y <= rect.height() - edge:
            dst = path + (len(layer.layers),)
            return dst, LayerCardDelegate.card_rect(rect)
        elif container and layer.layers and self.isExpanded(index):
            dst = path + (0,)
            line_y = rect.bottom() + 1
        else:
            dst = path[:-1] + (path[-1] + 1,)
            line_y = rect.bottom() + 1
            # Below the last layer of a block, the pointer left of the block's indent
            # means "after the block" (one level out per indent step).
            while (len(dst) > 1 and dst[-1] == len(children_of(net, dst[:-1]))
                   and pos.x() < (len(dst) - 1) * INDENT):
                dst = dst[:-2] + (dst[-2] + 1,)
        left = (len(dst) - 1) * INDENT + 2
        return dst, QLine(left, line_y, right, line_y)

    def _last_visible(self, model: LayerModel) -> QModelIndex:
        n = model.rowCount()
        if n == 0:
            return QModelIndex()
        index = model.index(n - 1, 0)
        while self.isExpanded(index) and model.rowCount(index):
            index = model.index(model.rowCount(index) - 1, 0, index)
        return index

    def _accepts(self, event: QDropEvent) -> tuple[LayerPath, QLine | QRect] | None:
        data = event.mimeData()
        if not (data.hasFormat(KIND_MIME) or data.hasFormat(PATH_MIME)):
            return None
        dst, shape = self.drop_target(event.position().toPoint())
        if self.layer_model().drop_problem(data, dst) is not None:
            return None
        return dst, shape

    def _set_indicator(self, shape: QLine | QRect | None) -> None:
        if shape != self._indicator:
            self._indicator = shape
            self.viewport().update()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        data = event.mimeData()
        if data.hasFormat(KIND_MIME) or data.hasFormat(PATH_MIME):
            self.setState(QAbstractItemView.State.DraggingState)
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 - Qt's name
        super().dragMoveEvent(event)  # auto-scroll near the edges
        target = self._accepts(event)
        self._set_indicator(target[1] if target else None)
        if target is None:
            event.ignore()
        else:
            event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:  # noqa: N802 - Qt's name
        super().dragLeaveEvent(event)
        self._set_indicator(None)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt's name
        target = self._accepts(event)
        self._set_indicator(None)
        self.stopAutoScroll()
        self.setState(QAbstractItemView.State.NoState)
        if target is None:
            event.ignore()
            return
        dst = target[0]
        model = self.layer_model()
        action = (Qt.DropAction.MoveAction if event.mimeData().hasFormat(PATH_MIME)
                  else Qt.DropAction.CopyAction)
        if model.dropMimeData(event.mimeData(), action, dst[-1], 0, model.index_of(dst[:-1])):
            event.setDropAction(action)
            event.accept()
        else:
            event.ignore()

    def startDrag(self, supported: Qt.DropAction) -> None:  # noqa: N802 - Qt's name
        # Our own drag: a picture of the card, and no "remove the source rows" afterwards
        # (the move is done by the drop, as one undoable edit).
        index = self.currentIndex()
        if not index.isValid():
            return
        data = self.layer_model().mimeData([index])
        if data is None:
            return
        drag = QDrag(self)
        drag.setMimeData(data)
        pixmap = self.card_pixmap(index)
        drag.setPixmap(pixmap)
        drag.setHotSpot(QPoint(24, int(pixmap.height() / pixmap.devicePixelRatio() / 2)))
        drag.exec(Qt.DropAction.MoveAction, Qt.DropAction.MoveAction)

    def card_pixmap(self, index: QModelIndex) -> QPixmap:
        """The card of ``index`` painted on its own (drag picture)."""
        rect = self.visualRect(index)
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap(QSize(max(1, round(rect.width() * ratio)),
                               max(1, round(rect.height() * ratio))))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        option.rect = QRect(0, 0, rect.width(), rect.height())
        painter = QPainter(pixmap)
        painter.setOpacity(0.85)
        self._delegate.paint(painter, option, index)
        painter.end()
        return pixmap

    # --------------------------------------------------------------- mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        pos = event.position().toPoint()
        index = self.indexAt(pos)
        if (event.button() == Qt.MouseButton.LeftButton and index.isValid()
                and LAYER_KINDS[index.data(KIND_ROLE)].container):
            hit = LayerCardDelegate.chevron_rect(self.visualRect(index)).adjusted(-4, -4, 4, 4)
            if hit.contains(pos):
                self.setExpanded(index, not self.isExpanded(index))
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        super().mouseMoveEvent(event)
        self._set_hover(self.indexAt(event.position().toPoint()))

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().leaveEvent(event)
        self._set_hover(QModelIndex())

    def _set_hover(self, index: QModelIndex) -> None:
        path = self.layer_model().path_of(index) if index.isValid() else None
        if path != self._hover:
            self._hover = path
            self.viewport().update()

    # ------------------------------------------------------------- painting
    def drawRow(self, painter: QPainter, option: QStyleOptionViewItem,  # noqa: N802
                index: QModelIndex) -> None:
        # The whole row ourselves: Qt's would paint a selection band across the
        # indentation; here the card alone shows it is selected.
        rect = self.visualRect(index)
        self.drawBranches(painter, QRect(0, rect.top(), rect.left(), rect.height()), index)
        opt = QStyleOptionViewItem(option)
        opt.rect = rect
        state = opt.state & ~(QStyle.StateFlag.State_Selected | QStyle.StateFlag.State_MouseOver
                              | QStyle.StateFlag.State_HasFocus)
        if self.selectionModel().isSelected(index):
            state |= QStyle.StateFlag.State_Selected
        if self._hover is not None and self._hover == self.layer_model().path_of(index):
            state |= QStyle.StateFlag.State_MouseOver
        opt.state = state
        self.itemDelegate().paint(painter, opt, index)

    def drawBranches(self, painter: QPainter, rect: QRect,  # noqa: N802 - Qt's name
                     index: QModelIndex) -> None:
        # No arrows: blocks fold with their chevron. Instead, a bracket in the residual
        # colour runs down the left of every block's children.
        model = self.layer_model()
        path = model.path_of(index)
        if len(path) < 2:
            return
        net = model.network
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(kind_color("residual"), 3.0)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        open_block = (isinstance(layer_at(net, path), ResidualSpec) and self.isExpanded(index)
                      and model.rowCount(index) > 0)
        for depth in range(len(path) - 1):
            x = depth * INDENT + INDENT / 2 + 1
            # The bracket of the block at path[:depth+1] ends on its last visible row.
            ends = not open_block and all(
                path[k + 1] == len(children_of(net, path[:k + 1])) - 1
                for k in range(depth, len(path) - 1))
            bottom = rect.bottom() - MARGIN_Y - 8 if ends else rect.bottom() + 1
            painter.drawLine(QLine(round(x), rect.top(), round(x), bottom))
            if ends:
                painter.drawLine(QLine(round(x), bottom, (depth + 1) * INDENT - 2, bottom))
        painter.restore()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        super().paintEvent(event)
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.model().rowCount() == 0:
            self._paint_empty_hint(painter)
        if self._indicator is not None:
            color = self.palette().color(QPalette.ColorRole.Highlight)
            if isinstance(self._indicator, QRect):
                painter.setPen(QPen(color, 2.5, Qt.PenStyle.DashLine))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(QRectF(self._indicator), 6, 6)
            else:
                line = self._indicator
                painter.setPen(QPen(color, 3.0))
                painter.drawLine(line)
                painter.setBrush(self.palette().color(QPalette.ColorRole.Base))
                painter.setPen(QPen(color, 2.0))
                painter.drawEllipse(QRectF(line.x1() - 1, line.y1() - 4, 8, 8))
        painter.end()

    def _paint_empty_hint(self, painter: QPainter) -> None:
        rect = QRect(3, MARGIN_Y, self.viewport().width() - 7, 72)
        muted = muted_color(self.palette())
        painter.setPen(QPen(muted, 1.2, Qt.PenStyle.DashLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(QRectF(rect), RADIUS, RADIUS)
        painter.setPen(muted)
        painter.drawText(rect.adjusted(8, 4, -8, -4),
                         Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                         "No layers yet: drag layers here from the palette, or double-click "
                         "one there to append it.")
