"""The network check panel: parameter count, shapes, and every problem that keeps the
design from training, refreshed on every edit (as Deep Network Designer's "Analyze").

A line under the summary traces the shape through the network ("1 @ 8×8 → Conv2D
8@3×3 8 @ 8×8 → ReLU → …", written as the cards write it), each layer that changes it
followed by its output per sample. Clicking a problem selects the layer it is about. A
problem one edit cures (``Problem.fix``: a Dense layer on an image wants a Flatten before
it) carries a button for that edit (``core.design.fixes``), pushed as one undoable step.
``readiness_changed`` tells the window whether training may start and, if not, why.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.design.check import check
from core.design.fixes import apply_fix, fix_label
from core.design.shapes import ShapeError
from core.errors import Problem
from core.words import plural
from gui.colors import ERROR
from gui.plain_text import verbatim
from gui.project.dataset_state import DatasetState
from gui.project.document import Document, LayerSelection
from gui.shape_text import size_text


def shape_trace(network) -> str:
    """The shape through ``network``'s top-level layers as rich text: the input's shape,
    then each layer, followed by its output shape where it changes; a layer that cannot
    take its input is marked, and the trace stops there."""
    shape = network.in_shape
    parts = [f"input {size_text(shape)}"]
    for layer in network.layers:
        name = html.escape(layer.summary())
        try:
            out = layer.output_shape(shape)
        except (ShapeError, TypeError):
            parts.append(f"<span style='color:{ERROR.name()}'>{name} ✗</span>")
            break
        parts.append(f"{name} <b>{size_text(out)}</b>" if out != shape else name)
        shape = out
    return " → ".join(parts)


class NetworkCheckPanel(QWidget):
    """Lists the check's problems; ``ready`` is True when there are none. ``shapes`` is
    the shape trace; ``fix_buttons`` maps a problem's row to its fix button."""

    readiness_changed = Signal(bool, str)

    def __init__(self, document: Document, selection: LayerSelection,
                 dataset_state: DatasetState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc, self._selection, self._data = document, selection, dataset_state
        self.problems: list[Problem] = []
        self.fix_buttons: dict[int, QPushButton] = {}
        self.ready = False
        self.reason = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        self.summary = QLabel()
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.shapes = QLabel()
        self.shapes.setWordWrap(True)
        self.shapes.setTextFormat(Qt.TextFormat.RichText)
        self.shapes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.shapes.setToolTip("The shape of one sample through the network: (features,) or "
                               "(channels, height, width), after each layer that changes it. "
                               "Each row of a batch has this shape.")
        self.list = QListWidget()
        self.list.setToolTip("Problems that keep the network from training. Click one to "
                             "select the layer it is about.")
        self.list.itemActivated.connect(self._on_item_activated)
        self.list.itemClicked.connect(self._on_item_activated)
        layout.addWidget(self.summary)
        layout.addWidget(self.shapes)
        layout.addWidget(self.list, 1)
        document.designChanged.connect(self.refresh)
        dataset_state.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        design = self._doc.design
        self.problems = check(design, self._data.shape)
        net = design.network
        try:
            sizes = (f"{plural(net.inputs, 'input')} → {plural(net.outputs, 'output')}, "
                     f"{plural(net.parameter_count(), 'trainable parameter')}")
        except (TypeError, ShapeError):
            sizes = ""
        try:
            self.shapes.setText(shape_trace(net))
        except TypeError:  # a malformed input size; the problems say so
            self.shapes.setText("")
        self.list.clear()
        self.fix_buttons = {}
        for row, p in enumerate(self.problems):
            item = QListWidgetItem(f"⚠  {p}")
            item.setForeground(QBrush(ERROR))
            # The layer is read from the problem's data (None, or () for the network's
            # layers as a whole: nothing to select).
            item.setData(Qt.ItemDataRole.UserRole, p.layer or None)
            item.setToolTip(verbatim(str(p)))
            self.list.addItem(item)
            if fix_label(p):
                self._add_fix_button(row, item, p)
        ready = not self.problems
        sizes = f" · {sizes}" if sizes else ""
        if ready:
            self.summary.setText(f"<b style='color:#228833'>✓ Ready to train</b>{sizes}")
            reason = "Ready to train"
        else:
            n = len(self.problems)
            self.summary.setText(f"<b style='color:{ERROR.name()}'>{plural(n, 'problem')} "
                                 f"to fix before training</b>{sizes}")
            reason = f"Cannot train: {self.problems[0]}" + (
                f" (and {n - 1} more)" if n > 1 else "")
        self.list.setVisible(not ready)
        if (ready, reason) != (self.ready, self.reason):
            self.ready, self.reason = ready, reason
            self.readiness_changed.emit(ready, reason)

    def _add_fix_button(self, row: int, item: QListWidgetItem, problem: Problem) -> None:
        """A button at the right end of the problem's row that makes its fix. The row's
        text stays the item's (the holder is transparent and passes clicks through)."""
        button = QPushButton(fix_label(problem))
        button.setToolTip(f"{fix_label(problem)}: one edit that cures this problem "
                          "(Ctrl+Z undoes it).")
        button.clicked.connect(lambda _checked=False, p=problem: self.apply_fix(p))
        holder = QWidget()
        box = QHBoxLayout(holder)
        box.setContentsMargins(0, 1, 4, 1)
        box.addStretch(1)
        box.addWidget(button)
        hint = item.sizeHint()
        hint.setHeight(max(hint.height(), holder.sizeHint().height()))
        item.setSizeHint(hint)
        self.list.setItemWidget(item, holder)
        self.fix_buttons[row] = button

    def apply_fix(self, problem: Problem) -> None:
        """Make ``problem``'s fix as one undoable edit named by its button."""
        data = self._data.shape
        try:
            design = apply_fix(self._doc.design, problem,
                               data.image_shape if data is not None else None)
        except (ValueError, IndexError):  # no longer applies (the design changed since)
            self.refresh()
            return
        self._doc.set_design(design, fix_label(problem))
        if problem.layer:
            self._selection.select(tuple(problem.layer))

    def _on_item_activated(self, item: QListWidgetItem) -> None:
        path = item.data(Qt.ItemDataRole.UserRole)
        if path is not None:
            self._selection.select(tuple(path))
