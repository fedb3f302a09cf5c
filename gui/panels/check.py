"""The network check panel: parameter count, shapes, and every problem that keeps the
design from training, refreshed on every edit (as Deep Network Designer's "Analyze").

Clicking a problem selects the layer it is about. ``readiness_changed`` tells the window
whether training may start and, if not, why.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from core.design.check import check
from core.errors import Problem
from core.words import plural
from gui.colors import ERROR
from gui.plain_text import verbatim
from gui.project.dataset_state import DatasetState
from gui.project.document import Document, LayerSelection


class NetworkCheckPanel(QWidget):
    """Lists the check's problems; ``ready`` is True when there are none."""

    readiness_changed = Signal(bool, str)

    def __init__(self, document: Document, selection: LayerSelection,
                 dataset_state: DatasetState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc, self._selection, self._data = document, selection, dataset_state
        self.problems: list[Problem] = []
        self.ready = False
        self.reason = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        self.summary = QLabel()
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.list = QListWidget()
        self.list.setToolTip("Problems that keep the network from training. Click one to "
                             "select the layer it is about.")
        self.list.itemActivated.connect(self._on_item_activated)
        self.list.itemClicked.connect(self._on_item_activated)
        layout.addWidget(self.summary)
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
        except TypeError:
            sizes = ""
        self.list.clear()
        for p in self.problems:
            item = QListWidgetItem(f"⚠  {p}")
            item.setForeground(QBrush(ERROR))
            # The layer is read from the problem's data (None, or () for the network's
            # layers as a whole: nothing to select).
            item.setData(Qt.ItemDataRole.UserRole, p.layer or None)
            item.setToolTip(verbatim(str(p)))
            self.list.addItem(item)
        ready = not self.problems
        if ready:
            self.summary.setText(f"<b style='color:#228833'>✓ Ready to train</b> · {sizes}")
            reason = "Ready to train"
        else:
            n = len(self.problems)
            self.summary.setText(f"<b style='color:{ERROR.name()}'>{plural(n, 'problem')} "
                                 f"to fix before training</b> · {sizes}")
            reason = f"Cannot train: {self.problems[0]}" + (
                f" (and {n - 1} more)" if n > 1 else "")
        self.list.setVisible(not ready)
        if (ready, reason) != (self.ready, self.reason):
            self.ready, self.reason = ready, reason
            self.readiness_changed.emit(ready, reason)

    def _on_item_activated(self, item: QListWidgetItem) -> None:
        path = item.data(Qt.ItemDataRole.UserRole)
        if path is not None:
            self._selection.select(tuple(path))
