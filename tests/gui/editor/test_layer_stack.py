"""The network editor: drops from the palette, reordering by drag, delete / duplicate /
move, undo and redo back to the identical design, problem markers and the input/output
cards. Drops are delivered as the platform notes say: the source's own QMimeData sent as
drag-enter / drag-move / drop events to the view's viewport."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray, QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from core import (
    LAYER_KINDS,
    ActivationSpec,
    DenseSpec,
    Design,
    DropoutSpec,
    ResidualSpec,
)
from core.design.edit import layer_at
from core.files.design_file import load_design
from gui.editor.layer_model import (
    KIND_ROLE,
    PATH_MIME,
    PATH_ROLE,
    PROBLEMS_ROLE,
    SERIES_ROLE,
    nearest_path,
)
from gui.editor.layer_stack import LayerStackEditor
from gui.editor.palette import LayerKindModel
from gui.project.dataset_state import DatasetState
from gui.project.document import Document, LayerSelection

ROOT = Path(__file__).resolve().parents[3]
XOR = ROOT / "resources" / "examples" / "xor.json"
BLOCK = ResidualSpec(layers=(DenseSpec(units=8), ActivationSpec(function="tanh")))


class Env:
    def __init__(self, qtbot, design: Design | None = None) -> None:
        self.doc = Document()
        self.doc.load(design or load_design(XOR), None)
        self.selection = LayerSelection()
        self.data = DatasetState(self.doc)
        self.editor = LayerStackEditor(self.doc, self.selection, self.data)
        # In a fixed-size window, as in a dock: a top-level window whose size hints
        # change makes the offscreen platform warn (propagateSizeHints).
        self.host = QWidget()
        self.host.setFixedSize(300, 760)
        layout = QVBoxLayout(self.host)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.editor)
        qtbot.addWidget(self.host)
        self.host.show()
        qtbot.waitExposed(self.host)
        self.view = self.editor.view
        self.model = self.editor.model

    @property
    def net(self):
        return self.doc.design.network

    def rect(self, path):
        return self.view.visualRect(self.model.index_of(path))

    def above(self, path) -> QPoint:
        r = self.rect(path)
        return QPoint(r.center().x(), r.top() + 4)

    def below(self, path, x: int | None = None) -> QPoint:
        r = self.rect(path)
        return QPoint(r.center().x() if x is None else x, r.bottom() - 4)

    def on(self, path) -> QPoint:
        return self.rect(path).center()

    def empty_space(self) -> QPoint:
        return QPoint(150, self.view.viewport().height() - 5)

    def drop(self, mime: QMimeData, pos: QPoint, action: Qt.DropAction) -> bool:
        vp = self.view.viewport()
        buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        enter = QDragEnterEvent(pos, action, mime, buttons, mods)
        QApplication.sendEvent(vp, enter)
        if not enter.isAccepted():
            return False
        move = QDragMoveEvent(pos, action, mime, buttons, mods)
        QApplication.sendEvent(vp, move)
        if not move.isAccepted():
            return False
        drop = QDropEvent(QPointF(pos), action, mime, buttons, mods)
        QApplication.sendEvent(vp, drop)
        return drop.isAccepted()

    def drop_kind(self, kind: str, pos: QPoint) -> bool:
        palette = LayerKindModel()
        mime = palette.mimeData([palette.kind_index(kind)])
        return self.drop(mime, pos, Qt.DropAction.CopyAction)

    def drag_layer(self, src, pos: QPoint) -> bool:
        mime = self.model.mimeData([self.model.index_of(src)])
        return self.drop(mime, pos, Qt.DropAction.MoveAction)

    def check_undo_redo(self, before: Design) -> None:
        after = self.doc.design
        assert after != before
        self.doc.undo_stack.undo()
        assert self.doc.design == before
        self.doc.undo_stack.redo()
        assert self.doc.design == after


def with_block(design: Design, at: int = 2, block: ResidualSpec = BLOCK) -> Design:
    layers = list(design.network.layers)
    layers.insert(at, block)
    return dataclasses.replace(design, network=dataclasses.replace(design.network,
                                                                   layers=tuple(layers)))


@pytest.fixture
def make_env(qtbot):
    made: list[Env] = []

    def make(design: Design | None = None) -> Env:
        made.append(Env(qtbot, design))
        return made[-1]

    yield make
    for e in made:
        e.doc.undo_stack.clear()  # while the Document lives (its cleanChanged lambda)


@pytest.fixture
def env(make_env) -> Env:
    return make_env()


@pytest.fixture
def block_env(make_env) -> Env:
    return make_env(with_block(load_design(XOR)))


# ------------------------------------------------------------------ palette drops


@pytest.mark.parametrize("kind", list(LAYER_KINDS))
@pytest.mark.parametrize("where", ["start", "middle", "end", "empty"])
def test_drop_kind_at_position(env, kind, where):
    before = env.doc.design
    n = len(env.net.layers)
    pos, path = {
        "start": (env.above((0,)), (0,)),
        "middle": (env.below((2,)), (3,)),
        "end": (env.below((n - 1,)), (n,)),
        "empty": (env.empty_space(), (n,)),
    }[where]
    assert env.drop_kind(kind, pos)
    assert len(env.net.layers) == n + 1
    assert env.net.layers[path[0]] == LAYER_KINDS[kind].spec()
    assert env.selection.path == path
    assert env.view.currentIndex().data(PATH_ROLE) == path
    label = LAYER_KINDS[kind].label
    assert label in env.doc.undo_stack.undoText()
    env.check_undo_redo(before)


@pytest.mark.parametrize("kind", list(LAYER_KINDS))
def test_drop_kind_into_residual_block(block_env, kind):
    env = block_env
    before = env.doc.design
    # On the block card: appended inside it.
    assert env.drop_kind(kind, env.on((2,)))
    assert layer_at(env.net, (2, 2)) == LAYER_KINDS[kind].spec()
    assert env.selection.path == (2, 2)
    env.check_undo_redo(before)
    # Between its children.
    env.doc.undo_stack.undo()
    assert env.drop_kind(kind, env.above((2, 1)))
    assert layer_at(env.net, (2, 1)) == LAYER_KINDS[kind].spec()
    assert len(env.net.layers[2].layers) == 3
    env.check_undo_redo(before)


def test_drop_into_empty_block_and_below_open_block(make_env):
    env = make_env(with_block(load_design(XOR), block=ResidualSpec()))
    assert env.drop_kind("dense", env.on((2,)))
    assert env.net.layers[2].layers == (DenseSpec(),)
    # Just below an open block's card means "first inside it", as the indicator shows.
    assert env.drop_kind("dropout", env.below((2,)))
    assert env.net.layers[2].layers == (DropoutSpec(), DenseSpec())
    assert env.selection.path == (2, 0)


def test_drop_on_plain_card_goes_above_or_below(env):
    r = env.rect((1,))
    assert env.drop_kind("dropout", QPoint(r.center().x(), r.center().y() - 3))
    assert isinstance(env.net.layers[1], DropoutSpec)
    r = env.rect((3,))
    assert env.drop_kind("dropout", QPoint(r.center().x(), r.center().y() + 3))
    assert isinstance(env.net.layers[4], DropoutSpec)


def test_unknown_mime_is_refused(env):
    before = env.doc.design
    mime = QMimeData()
    mime.setText("dense")
    assert not env.drop(mime, env.above((0,)), Qt.DropAction.CopyAction)
    mime = QMimeData()
    mime.setData("application/x-backprop-layer-kind", QByteArray(b"conv3d"))
    assert not env.drop(mime, env.above((0,)), Qt.DropAction.CopyAction)
    assert env.doc.design == before
    assert env.doc.undo_stack.count() == 0


# ------------------------------------------------------------------ reorder drags


def test_drag_layer_down_and_up(env):
    before = env.doc.design
    layers = env.net.layers
    assert env.drag_layer((0,), env.below((5,)))
    assert env.net.layers == layers[1:] + layers[:1]
    assert env.selection.path == (5,)
    assert "Move" in env.doc.undo_stack.undoText()
    env.check_undo_redo(before)
    env.doc.undo_stack.undo()
    assert env.drag_layer((4,), env.above((1,)))
    assert env.net.layers == (layers[0], layers[4], *layers[1:4], layers[5])
    assert env.selection.path == (1,)
    env.check_undo_redo(before)


def test_drag_into_block(block_env):
    env = block_env
    before = env.doc.design
    top = env.net.layers
    assert env.drag_layer((0,), env.on((2,)))  # onto the block: appended inside
    assert env.net.layers[1].layers == (*BLOCK.layers, top[0])
    assert env.selection.path == (1, 2)
    env.check_undo_redo(before)
    env.doc.undo_stack.undo()
    assert env.drag_layer((4,), env.above((2, 1)))  # between its children
    assert env.net.layers[2].layers == (BLOCK.layers[0], top[4], BLOCK.layers[1])
    env.check_undo_redo(before)


def test_drag_out_of_block(block_env):
    env = block_env
    before = env.doc.design
    top = env.net.layers
    assert env.drag_layer((2, 0), env.above((0,)))
    assert env.net.layers[0] == BLOCK.layers[0]
    assert env.net.layers[3].layers == BLOCK.layers[1:]
    assert env.selection.path == (0,)
    env.check_undo_redo(before)
    env.doc.undo_stack.undo()
    # Below the block's last child with the pointer in the indentation: after the block.
    assert env.drag_layer((0,), env.below((2, 1), x=4))
    assert env.net.layers[1] == BLOCK
    assert env.net.layers[2] == top[0]
    env.check_undo_redo(before)
    env.doc.undo_stack.undo()
    # The same place with the pointer over the child cards: inside, at the end.
    assert env.drag_layer((0,), env.below((2, 1)))
    assert env.net.layers[1].layers == (*BLOCK.layers, top[0])


def test_block_cannot_be_dropped_into_itself(block_env):
    env = block_env
    before = env.doc.design
    assert not env.drag_layer((2,), env.on((2,)))
    assert not env.drag_layer((2,), env.above((2, 1)))
    assert env.doc.design == before
    assert env.doc.undo_stack.count() == 0


def test_layer_mime_carries_path_as_json(block_env):
    mime = block_env.model.mimeData([block_env.model.index_of((2, 1))])
    assert json.loads(bytes(mime.data(PATH_MIME).data())) == [2, 1]


def test_drop_indicator_is_shown_while_dragging(env):
    palette = LayerKindModel()
    mime = palette.mimeData([palette.kind_index("dense")])
    vp = env.view.viewport()
    pos = env.below((1,))
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(vp, QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, buttons,
                                               mods))
    QApplication.sendEvent(vp, QDragMoveEvent(pos, Qt.DropAction.CopyAction, mime, buttons,
                                              mods))
    assert env.view._indicator is not None
    assert env.view.drop_target(pos)[0] == (2,)
    env.view.grab()  # paints the indicator without errors
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(vp, drop)
    assert env.view._indicator is None


# ------------------------------------------------------------ delete / duplicate / move


@pytest.mark.parametrize("key", [Qt.Key.Key_Delete, Qt.Key.Key_Backspace])
def test_delete_key_removes_selected_layer(env, qtbot, key):
    before = env.doc.design
    env.selection.select((2,))
    env.host.activateWindow()
    env.view.setFocus()
    qtbot.waitUntil(env.view.hasFocus)
    qtbot.keyClick(env.view, key)
    assert env.net.layers == before.network.layers[:2] + before.network.layers[3:]
    assert env.selection.path == (2,)  # the next layer moves up into the selection
    assert "Delete Dense layer" in env.doc.undo_stack.undoText()
    env.check_undo_redo(before)


def test_delete_action_in_block_and_last(block_env):
    env = block_env
    before = env.doc.design
    env.selection.select((2, 1))
    env.editor.delete_action.trigger()
    assert env.net.layers[2].layers == BLOCK.layers[:1]
    assert env.selection.path == (2, 0)
    env.check_undo_redo(before)
    env.selection.select((2,))
    env.editor.delete_action.trigger()
    assert ResidualSpec not in {type(x) for x in env.net.layers}
    assert "Delete Residual block" in env.doc.undo_stack.undoText()
    n = len(env.net.layers)
    env.selection.select((n - 1,))
    env.editor.delete_action.trigger()
    assert env.selection.path == (n - 2,)


def test_delete_without_selection_does_nothing(env):
    env.selection.select(None)
    assert not env.editor.delete_action.isEnabled()
    env.editor.delete_action.trigger()
    assert env.doc.undo_stack.count() == 0


def test_duplicate(block_env, qtbot):
    env = block_env
    before = env.doc.design
    env.selection.select((1,))
    env.editor.duplicate_action.trigger()
    assert env.net.layers[2] == env.net.layers[1] == before.network.layers[1]
    assert env.selection.path == (2,)
    assert "Duplicate" in env.doc.undo_stack.undoText()
    env.check_undo_redo(before)
    env.doc.undo_stack.undo()
    env.selection.select((2,))
    env.editor.duplicate_action.trigger()  # a whole block, children included
    assert env.net.layers[3] == BLOCK
    env.check_undo_redo(before)


def test_move_up_and_down(block_env):
    env = block_env
    before = env.doc.design
    top = before.network.layers
    env.selection.select((0,))
    assert not env.editor.move_up_action.isEnabled()
    assert env.editor.move_down_action.isEnabled()
    env.editor.move_down_action.trigger()
    assert env.net.layers[:2] == (top[1], top[0])
    assert env.selection.path == (1,)
    env.check_undo_redo(before)
    env.editor.move_up_action.trigger()
    assert env.doc.design == before
    assert env.selection.path == (0,)
    # Inside a block: among its children only.
    env.selection.select((2, 1))
    assert not env.editor.move_down_action.isEnabled()
    env.editor.move_up_action.trigger()
    assert env.net.layers[2].layers == BLOCK.layers[::-1]
    assert env.selection.path == (2, 0)
    n = len(top)
    env.selection.select((n - 1,))
    assert not env.editor.move_down_action.isEnabled()


def test_actions_have_shortcuts_and_tooltips(env):
    ed = env.editor
    assert [k.toString() for k in ed.delete_action.shortcuts()] == ["Del", "Backspace"]
    assert ed.duplicate_action.shortcut().toString() == "Ctrl+D"
    assert ed.move_up_action.shortcut().toString() == "Alt+Up"
    assert ed.move_down_action.shortcut().toString() == "Alt+Down"
    for action in (ed.delete_action, ed.duplicate_action, ed.move_up_action,
                   ed.move_down_action):
        assert action.toolTip()


def test_context_menu_offers_the_edits(env):
    menu = env.editor.context_menu(env.on((3,)))
    assert env.selection.path == (3,)
    texts = [a.text().replace("&", "") for a in menu.actions() if not a.isSeparator()]
    assert texts == ["Duplicate Activation layer", "Delete Activation layer", "Move Layer Up",
                     "Move Layer Down"]
    menu.deleteLater()


# -------------------------------------------------------------- selection & view


def test_clicking_a_card_selects_it(block_env, qtbot):
    env = block_env
    qtbot.mouseClick(env.view.viewport(), Qt.MouseButton.LeftButton, pos=env.on((2, 1)))
    assert env.selection.path == (2, 1)
    env.selection.select((4,))
    assert env.view.currentIndex().data(PATH_ROLE) == (4,)
    env.selection.select(None)
    assert not env.view.selectionModel().selectedRows()


def test_selection_is_kept_sensible_after_undo(env):
    n = len(env.net.layers)
    assert env.drop_kind("dense", env.empty_space())
    assert env.selection.path == (n,)
    env.doc.undo_stack.undo()
    assert env.selection.path == (n - 1,)
    assert env.view.currentIndex().data(PATH_ROLE) == (n - 1,)


def test_chevron_folds_a_block_and_folding_survives_edits(block_env, qtbot):
    env = block_env
    block = env.model.index_of((2,))
    assert env.view.isExpanded(block)
    from gui.editor.layer_card_delegate import LayerCardDelegate

    chevron = LayerCardDelegate.chevron_rect(env.view.visualRect(block)).center()
    qtbot.mouseClick(env.view.viewport(), Qt.MouseButton.LeftButton, pos=chevron)
    assert not env.view.isExpanded(env.model.index_of((2,)))
    env.selection.select((0,))
    env.editor.duplicate_action.trigger()  # the block moves to (3,)
    env.doc.undo_stack.undo()
    assert not env.view.isExpanded(env.model.index_of((2,)))
    env.selection.select((4,))
    env.editor.delete_action.trigger()  # another edit keeps it folded
    assert not env.view.isExpanded(env.model.index_of((2,)))


def test_cards_show_kind_shape_parameters_and_series(block_env):
    env = block_env
    m = env.model
    idx = m.index_of((0,))
    assert idx.data(KIND_ROLE) == "dense"
    assert idx.data(Qt.ItemDataRole.DisplayRole) == "Dense 8"
    assert m.index_of((1,)).data(Qt.ItemDataRole.DisplayRole) == "Activation · Tanh"
    tip = idx.data(Qt.ItemDataRole.ToolTipRole)
    assert "(batch, 8)" in tip and "24 parameters" in tip
    # Series colours count parameter-owning layers in all_paths order: the block itself
    # owns none (no projection), its Dense child does.
    series = {p: m.index_of(p).data(SERIES_ROLE) for p in [(0,), (1,), (2,), (2, 0), (2, 1),
                                                           (3,), (5,)]}
    assert series == {(0,): 0, (1,): -1, (2,): -1, (2, 0): 1, (2, 1): -1, (3,): 2, (5,): 3}
    env.view.grab()  # paints every card without errors


# ---------------------------------------------------------------- problems


def test_problem_card_carries_message(make_env):
    design = with_block(load_design(XOR), block=ResidualSpec(layers=(
        DenseSpec(units=8), ActivationSpec(function="softmax"))))
    env = make_env(design)
    problems = [p for p in env.editor.problems() if p.path.startswith("network.layers[2]")]
    assert problems
    msg = problems[0].message
    child = env.model.index_of((2, 1))
    assert msg in child.data(PROBLEMS_ROLE)
    assert msg in child.data(Qt.ItemDataRole.ToolTipRole)
    assert not env.model.index_of((2, 0)).data(PROBLEMS_ROLE)
    assert not env.model.index_of((0,)).data(PROBLEMS_ROLE)
    env.view.grab()


def test_output_mismatch_marks_last_dense_and_output_card(env):
    design = env.doc.design
    layers = list(design.network.layers)
    layers[4] = DenseSpec(units=3)
    env.doc.set_design(dataclasses.replace(
        design, network=dataclasses.replace(design.network, layers=tuple(layers))), "units")
    problem = next(p for p in env.editor.problems() if p.path == "network.layers[4].units")
    assert problem.message in env.model.index_of((4,)).data(Qt.ItemDataRole.ToolTipRole)
    card = env.editor.output_card
    assert card.is_error()
    assert card.title() == "Output: 3"
    assert "2 classes" in card.detail()
    assert problem.message in card.toolTip()
    env.doc.undo_stack.undo()
    assert not card.is_error()
    assert "matches" in card.detail()


def test_input_card_shows_dataset_mismatch(env):
    card = env.editor.input_card
    assert card.title() == "Input: 2 features"
    assert not card.is_error()
    design = env.doc.design
    env.doc.set_design(dataclasses.replace(
        design, network=dataclasses.replace(design.network, inputs=5)), "inputs")
    assert card.title() == "Input: 5 features"
    assert card.is_error()
    assert "2 features" in card.detail()
    assert "dataset has 2 features" in card.toolTip()
    env.doc.undo_stack.undo()
    assert not card.is_error()


def test_input_card_without_dataset(make_env):
    design = dataclasses.replace(load_design(XOR), dataset=None)
    env = make_env(design)
    assert not env.editor.input_card.is_error()
    assert "no dataset" in env.editor.input_card.detail()


def test_empty_network_shows_hint_and_accepts_drop(make_env):
    design = load_design(XOR)
    design = dataclasses.replace(design, network=dataclasses.replace(design.network,
                                                                     layers=()))
    env = make_env(design)
    assert env.editor.output_card.is_error()
    env.view.grab()
    assert env.drop_kind("dense", QPoint(100, 20))
    assert env.net.layers == (DenseSpec(),)


# ------------------------------------------------------------------ helpers


def test_nearest_path():
    net = with_block(load_design(XOR)).network
    assert nearest_path(net, (2, 1)) == (2, 1)
    assert nearest_path(net, (2, 5)) == (2, 1)
    assert nearest_path(net, (9,)) == (6,)
    assert nearest_path(net, (0, 3)) == (0,)
    assert nearest_path(net, None) is None


def test_duplicate_and_move_shortcuts(env, qtbot):
    before = env.doc.design
    top = before.network.layers
    env.selection.select((0,))
    env.host.activateWindow()
    env.view.setFocus()
    qtbot.waitUntil(env.view.hasFocus)
    qtbot.keyClick(env.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert env.net.layers[:2] == (top[0], top[0])
    assert env.selection.path == (1,)
    qtbot.keyClick(env.view, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert env.selection.path == (2,)
    qtbot.keyClick(env.view, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert env.selection.path == (1,)
    assert env.doc.undo_stack.count() == 3
    for _ in range(3):
        env.doc.undo_stack.undo()
    assert env.doc.design == before
