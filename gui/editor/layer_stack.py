"""The network editor: the design's layers as a stack of cards, from input to output.

A fixed input card on top ("Input: N features", checked against the dataset), the layers
as cards in a tree view (residual blocks hold their children, indented under a bracket),
and an output card at the bottom (outputs against the dataset's classes or targets). Kinds
dragged from the palette drop at the position the indicator shows; cards are dragged to
reorder, also into and out of residual blocks. Every change goes through
``gui.editor.layer_model``'s edit functions, so each is one undoable ``Document.set_design`` step;
the view only ever refreshes from ``designChanged``.
"""

from __future__ import annotations

from PySide6.QtCore import QLine, QModelIndex, QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QAction,
    QColor,
    QDrag,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFontMetrics,
    QKeySequence,
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
    QMenu,
    QSizePolicy,
    QStyle,
    QStyleOptionViewItem,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from core import LAYER_KINDS, Problem, ResidualSpec
from core.design.check import check
from core.design.edit import LayerPath, all_paths, layer_at
from gui.colors import ERROR, kind_color
from gui.editor.layer_card_delegate import (
    MARGIN_Y,
    PAD,
    RADIUS,
    LayerCardDelegate,
    bold_font,
    muted_color,
    small_font,
)
from gui.editor.layer_model import (
    KIND_MIME,
    KIND_ROLE,
    PATH_MIME,
    LayerModel,
    can_move_by,
    children_of,
    delete_layer,
    duplicate,
    layer_noun,
    move_by,
    nearest_path,
    path_exists,
)
from gui.project.dataset_state import DatasetState
from gui.project.document import Document, LayerSelection

INDENT = 18


class _LayerTreeView(QTreeView):
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


class EndCard(QWidget):
    """The fixed input or output card: a title and a detail line, in the error colour when
    it disagrees with the dataset. Not a layer: it can't be selected, moved or deleted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = ""
        self._detail = ""
        self._aside = ""
        self._error = False
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_content(self, title: str, detail: str, error: bool, tooltip: str,
                    aside: str = "") -> None:
        self._title, self._detail, self._aside, self._error = title, detail, aside, error
        self.setToolTip(tooltip)
        self.update()

    def title(self) -> str:
        return self._title

    def detail(self) -> str:
        return self._detail

    def is_error(self) -> bool:
        return self._error

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        title = QFontMetrics(bold_font(self.font()))
        small = QFontMetrics(small_font(self.font()))
        return QSize(200, title.height() + small.height() + 3 + 2 * PAD + 2 * MARGIN_Y)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(120, self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        pal = self.palette()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        card = QRectF(self.rect()).adjusted(2.5, MARGIN_Y + 0.5, -4.5, -MARGIN_Y - 0.5)
        fill = QColor(pal.color(QPalette.ColorRole.Base))
        fill.setAlphaF(0.55)
        painter.setBrush(fill)
        if self._error:
            painter.setPen(QPen(ERROR, 1.6))
        else:
            painter.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 1.0, Qt.PenStyle.DashLine))
        painter.drawRoundedRect(card, RADIUS, RADIUS)
        bold, small = bold_font(self.font()), small_font(self.font())
        fm_bold, fm_small = QFontMetrics(bold), QFontMetrics(small)
        left = card.left() + PAD + 4
        right = card.right() - PAD
        aside_w = fm_small.horizontalAdvance(self._aside) if self._aside else 0
        width = right - left - (aside_w + 8 if aside_w else 0)
        top = card.center().y() - (fm_bold.height() + fm_small.height() + 3) / 2
        painter.setFont(bold)
        painter.setPen(ERROR if self._error else pal.color(QPalette.ColorRole.Text))
        painter.drawText(QRectF(left, top, width, fm_bold.height()),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         fm_bold.elidedText(self._title, Qt.TextElideMode.ElideRight,
                                            int(width)))
        painter.setFont(small)
        painter.setPen(ERROR if self._error else muted_color(pal))
        detail_w = right - left
        painter.drawText(QRectF(left, top + fm_bold.height() + 3, detail_w, fm_small.height()),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         fm_small.elidedText(self._detail, Qt.TextElideMode.ElideRight,
                                             int(detail_w)))
        if self._aside:
            painter.setPen(muted_color(pal))
            painter.drawText(QRectF(right - aside_w, top, aside_w, fm_bold.height()),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             self._aside)
        painter.end()


class LayerStackEditor(QWidget):
    """The network editor (centre of the builder window).

    Actions for the main window's Edit menu: ``delete_action`` (Delete/Backspace),
    ``duplicate_action`` (Ctrl+D), ``move_up_action`` (Alt+Up), ``move_down_action``
    (Alt+Down); their shortcuts work while the editor has the focus.
    """

    def __init__(self, document: Document, selection: LayerSelection,
                 dataset_state: DatasetState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc = document
        self._selection = selection
        self._data = dataset_state
        self._syncing = False  # True while the view is refreshed from the design
        self._collapsed: dict[LayerPath, ResidualSpec] = {}  # folded blocks

        self.model = LayerModel(document, selection, self)
        self.view = _LayerTreeView(self.model, self)
        self.input_card = EndCard(self)
        self.output_card = EndCard(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(0)
        layout.addWidget(self.input_card)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.output_card)

        self.delete_action = self._action(
            "&Delete Layer", [QKeySequence(Qt.Key.Key_Delete), QKeySequence(Qt.Key.Key_Backspace)],
            "Remove the selected layer (a residual block goes with its contents).",
            self._on_delete_triggered)
        self.duplicate_action = self._action(
            "D&uplicate Layer", [QKeySequence("Ctrl+D")],
            "Insert a copy of the selected layer right after it.", self._on_duplicate_triggered)
        self.move_up_action = self._action(
            "Move Layer &Up", [QKeySequence("Alt+Up")],
            "Move the selected layer one place towards the input.", self._on_move_up_triggered)
        self.move_down_action = self._action(
            "Move Layer Do&wn", [QKeySequence("Alt+Down")],
            "Move the selected layer one place towards the output.",
            self._on_move_down_triggered)

        self.view.selectionModel().selectionChanged.connect(self._on_view_selection_changed)
        self.view.expanded.connect(self._on_view_expanded)
        self.view.collapsed.connect(self._on_view_collapsed)
        self.view.customContextMenuRequested.connect(self._on_view_context_menu_requested)
        document.designChanged.connect(self._on_design_changed)
        dataset_state.changed.connect(self._on_dataset_changed)
        selection.changed.connect(self._on_selection_changed)
        self._on_design_changed()

    def _action(self, text: str, keys: list[QKeySequence], tip: str, slot) -> QAction:
        action = QAction(text, self)
        action.setShortcuts(keys)
        # Delete and Backspace must not fire while typing in another panel's field.
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def set_notes(self, notes: dict[LayerPath, str]) -> None:
        """Mark cards with notes from a live run (e.g. "gradient vanishing"); the card
        shows them as it shows problems. An empty dict clears them."""
        if notes != self.model.notes:
            self.model.notes = dict(notes)
            self._refresh()

    # ------------------------------------------------------------- refreshing
    def problems(self) -> list[Problem]:
        """The network check of the current design with the loaded dataset."""
        return check(self._doc.design, self._data.shape)

    def _on_dataset_changed(self) -> None:
        self._refresh()

    def _on_design_changed(self) -> None:
        self._refresh()
        # After an undo the selected path may be gone (or point past the end).
        fixed = nearest_path(self._doc.design.network, self._selection.path)
        if fixed != self._selection.path:
            self._selection.select(fixed)

    def _refresh(self) -> None:
        design = self._doc.design
        problems = self.problems()
        scroll = self.view.verticalScrollBar().value()
        self._syncing = True
        try:
            self.model.refresh(problems)
            self._restore_folding(design.network)
            self._show_selection()
        finally:
            self._syncing = False
        self.view.verticalScrollBar().setValue(scroll)
        self._update_end_cards(problems)
        self._update_actions()

    def _restore_folding(self, net) -> None:
        # Blocks are frozen specs that edits elsewhere leave untouched, so a folded block
        # is recognised by identity wherever it moved (insert above it, undo...). A block
        # replaced in place (its settings edited) keeps the folding of its path.
        old = self._collapsed
        old_ids = {id(block) for block in old.values()}
        blocks = [(p, layer) for p in all_paths(net)
                  if isinstance(layer := layer_at(net, p), ResidualSpec)]
        present = {id(block) for _, block in blocks}
        self._collapsed = {}
        for path, block in blocks:
            if id(block) in old_ids or (path in old and id(old[path]) not in present):
                self._collapsed[path] = block
            else:
                self.view.setExpanded(self.model.index_of(path), True)

    def _update_end_cards(self, problems: list[Problem]) -> None:
        design = self._doc.design
        net = design.network
        shape = self._data.shape
        # Problems that come from the dataset (not from the design alone).
        base = design.validate(task=shape.task if shape else None)
        extra = [p for p in problems if p not in base]

        inputs_problem = next((p for p in extra if p.layer is None and p.field == "inputs"), None)
        noun = "feature" if net.inputs == 1 else "features"
        if shape is None:
            detail = ("the dataset could not be loaded" if self._data.error
                      else "no dataset chosen")
            tip = self._data.error or "The number of values in each sample."
        elif inputs_problem is not None:
            detail = f"the dataset has {shape.n_features} features"
            tip = inputs_problem.message
        else:
            detail = "matches the dataset"
            tip = f"Each sample of the dataset has {shape.n_features} features."
        self.input_card.set_content(f"Input: {net.inputs} {noun}", detail,
                                    inputs_problem is not None, tip,
                                    aside=f"(batch, {net.inputs})")

        try:
            outputs: int | None = net.outputs
            total = net.parameter_count()
        except TypeError:
            outputs, total = None, 0
        title = f"Output: {outputs if outputs is not None else '?'}"
        whole = [p.message for p in problems if p.layer == ()]
        output_problem = next((p for p in extra if p.layer is not None), None)
        error = bool(whole) or output_problem is not None
        if whole:
            detail = whole[0].split(";")[0]
        elif output_problem is not None:
            detail = self._wanted_outputs(shape)
        elif shape is None or outputs is None:
            detail = f"{total:,} parameters in all"
        elif any(p.layer is not None for p in problems):
            detail = "fix the layers' problems to check the outputs"
        else:
            detail = f"matches the dataset's {self._target_words(shape)}"
        tips = whole + ([output_problem.message] if output_problem else [])
        if not tips:
            tips = [f"The network outputs {outputs if outputs is not None else '?'} value(s) per "
                    f"sample and has {total:,} learnable parameters."]
        self.output_card.set_content(title, detail, error, "\n".join(tips),
                                     aside=f"{total:,} params")

    @staticmethod
    def _target_words(shape) -> str:
        if shape.task == "classification":
            return f"{shape.n_outputs} classes"
        return f"{shape.n_outputs} target{'s' if shape.n_outputs != 1 else ''}"

    def _wanted_outputs(self, shape) -> str:
        return f"the dataset has {self._target_words(shape)}"

    # ------------------------------------------------------------- selection
    def _show_selection(self) -> None:
        path = self._selection.path
        index = self.model.index_of(path) if path else QModelIndex()
        sel = self.view.selectionModel()
        if index.isValid():
            self.view.setCurrentIndex(index)
            self.view.scrollTo(index)
        else:
            sel.clearSelection()
            sel.setCurrentIndex(QModelIndex(), sel.SelectionFlag.NoUpdate)

    def _on_selection_changed(self) -> None:
        self._syncing = True
        try:
            self._show_selection()
        finally:
            self._syncing = False
        self._update_actions()

    def _on_view_selection_changed(self, *_args) -> None:
        if self._syncing:
            return
        rows = self.view.selectionModel().selectedRows()
        self._selection.select(self.model.path_of(rows[0]) if rows else None)

    def _on_view_expanded(self, index: QModelIndex) -> None:
        if not self._syncing:
            self._collapsed.pop(self.model.path_of(index), None)

    def _on_view_collapsed(self, index: QModelIndex) -> None:
        if not self._syncing:
            path = self.model.path_of(index)
            block = layer_at(self._doc.design.network, path)
            if isinstance(block, ResidualSpec):
                self._collapsed[path] = block

    # --------------------------------------------------------------- actions
    def _selected(self) -> LayerPath | None:
        path = self._selection.path
        if path is None or not path_exists(self._doc.design.network, path):
            return None
        return path

    def _update_actions(self) -> None:
        path = self._selected()
        net = self._doc.design.network
        noun = layer_noun(layer_at(net, path)) if path else "Layer"
        self.delete_action.setEnabled(path is not None)
        self.duplicate_action.setEnabled(path is not None)
        self.move_up_action.setEnabled(can_move_by(net, path, -1))
        self.move_down_action.setEnabled(can_move_by(net, path, 1))
        self.delete_action.setText(f"&Delete {noun}")
        self.duplicate_action.setText(f"D&uplicate {noun}")

    def _on_delete_triggered(self) -> None:
        path = self._selected()
        if path is not None:
            delete_layer(self._doc, self._selection, path)

    def _on_duplicate_triggered(self) -> None:
        path = self._selected()
        if path is not None:
            duplicate(self._doc, self._selection, path)

    def _on_move_up_triggered(self) -> None:
        path = self._selected()
        if can_move_by(self._doc.design.network, path, -1):
            move_by(self._doc, self._selection, path, -1)

    def _on_move_down_triggered(self) -> None:
        path = self._selected()
        if can_move_by(self._doc.design.network, path, 1):
            move_by(self._doc, self._selection, path, 1)

    def context_menu(self, pos: QPoint) -> QMenu:
        """The context menu for a click at ``pos`` (viewport coordinates); selects the card
        under it first."""
        index = self.view.indexAt(pos)
        if index.isValid():
            self._selection.select(self.model.path_of(index))
        menu = QMenu(self)
        for action in (self.duplicate_action, self.delete_action, None, self.move_up_action,
                       self.move_down_action):
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        return menu

    def _on_view_context_menu_requested(self, pos: QPoint) -> None:
        if not self.view.indexAt(pos).isValid():
            return
        menu = self.context_menu(pos)
        menu.exec(self.view.viewport().mapToGlobal(pos))
        menu.deleteLater()
