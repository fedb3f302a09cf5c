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

from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QVBoxLayout, QWidget

from core import Problem, ResidualSpec
from core.design.check import check
from core.design.edit import LayerPath, all_paths, layer_at
from core.design.shapes import ShapeError, batch_shape_text, is_image, shape_words
from core.words import plural
from gui.editor.end_card import EndCard
from gui.editor.layer_model import (
    LayerModel,
    can_move_by,
    delete_layer,
    duplicate,
    layer_noun,
    move_by,
    nearest_path,
    path_exists,
)
from gui.editor.layer_tree_view import LayerTreeView
from gui.project.dataset_state import DatasetState
from gui.project.document import Document, LayerSelection
from gui.shape_text import size_words


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
        self.view = LayerTreeView(self.model, self)
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

        inputs_problem = next((p for p in extra if p.layer is None
                               and p.field in ("inputs", "input_shape")), None)
        if shape is None:
            detail = ("the dataset could not be loaded" if self._data.error
                      else "no dataset chosen")
            tip = self._data.error or "The number of values in each sample."
        elif inputs_problem is not None:
            has = (shape_words(shape.image_shape) if shape.image_shape
                   else plural(shape.n_features, "feature"))
            detail = f"the dataset has {has}"
            tip = inputs_problem.message
        else:
            detail = "matches the dataset"
            has = (f"is a {shape_words(shape.image_shape)}" if shape.image_shape
                   else f"has {plural(shape.n_features, 'feature')}")
            tip = f"Each sample of the dataset {has}."
        title = f"Input: {size_words(net.in_shape)}"
        if is_image(net.in_shape):
            # The channels go to the detail line (which may elide): the title and the
            # batch shape beside it stay whole within the editor's width.
            c, h, w = net.in_shape
            title = f"Input: {h}×{w} image"
            detail = f"{plural(c, 'channel')} · {detail}"
        self.input_card.set_content(title, detail, inputs_problem is not None, tip,
                                    aside=batch_shape_text(net.in_shape))

        try:
            outputs: int | None = net.outputs
            total = net.parameter_count()
        except (TypeError, ShapeError):  # the check names the layer
            outputs, total = None, 0
        title = f"Output: {outputs if outputs is not None else '?'}"
        whole = [p.message for p in problems if p.layer == ()]
        output_problem = next((p for p in extra if p.layer is not None), None)
        error = bool(whole) or output_problem is not None
        if whole:
            detail = whole[0].split(";")[0]
        elif output_problem is not None:
            detail = self._wanted_outputs(shape)
        elif outputs is None:  # a layer cannot take its input: the check says which
            detail = "fix the layers' problems to check the outputs"
        elif shape is None:
            detail = f"{plural(total, 'parameter')} in all"
        elif any(p.layer is not None for p in problems):
            detail = "fix the layers' problems to check the outputs"
        else:
            detail = f"matches the dataset's {self._target_words(shape)}"
        tips = whole + ([output_problem.message] if output_problem else [])
        if not tips:
            values = plural(outputs, "value") if outputs is not None else "? values"
            tips = [f"The network outputs {values} per sample and has "
                    f"{plural(total, 'learnable parameter')}."]
        self.output_card.set_content(title, detail, error, "\n".join(tips),
                                     aside=plural(total, "param") if outputs is not None
                                     else "? params")

    @staticmethod
    def _target_words(shape) -> str:
        if shape.task == "classification":
            return plural(shape.n_outputs, "class")
        return plural(shape.n_outputs, "target")

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
