"""A compact, read-only summary of the design for the Train workspace: its name, the
dataset, the parameter count and every layer with its output shape (``(batch, n)``, or
``(batch, C, H, W)`` for images) and parameters.

It follows the document and the loaded dataset; edits happen in the Build workspace.
Clicking a layer selects it (the diagram highlights it). No pyqtgraph.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.design.check import layer_rows
from core.design.edit import layer_at
from core.design.shapes import batch_shape_text
from core.words import plural
from gui.editor.dataset_controls import dataset_summary
from gui.editor.layer_model import card_title
from gui.project.dataset_state import DatasetState
from gui.project.document import Document, LayerSelection
from gui.shape_text import size_words

__all__ = ["DesignSummary"]

PATH_ROLE = Qt.ItemDataRole.UserRole


class DesignSummary(QWidget):
    """The design at a glance: ``title``, ``dataset_label``, ``totals`` and the ``layers``
    tree (columns: layer, output, parameters; residual children under their block)."""

    def __init__(self, document: Document, selection: LayerSelection,
                 dataset_state: DatasetState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc = document
        self._selection = selection
        self._data = dataset_state
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)  # a design's name is user text
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.dataset_label = QLabel()
        self.dataset_label.setTextFormat(Qt.TextFormat.RichText)
        self.dataset_label.setWordWrap(True)
        self.dataset_label.setToolTip("The dataset the next run trains on (change it in the "
                                      "Build workspace).")
        self.totals = QLabel()
        self.layers = QTreeWidget()
        self.layers.setColumnCount(3)
        self.layers.setHeaderLabels(["Layer", "Output", "Params"])
        self.layers.setRootIsDecorated(False)
        self.layers.setUniformRowHeights(True)
        self.layers.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.layers.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.layers.setToolTip("The network's layers with their output shape and parameter "
                               "count; click one to highlight it in the diagram. Edit them "
                               "in the Build workspace (Ctrl+1).")
        header = self.layers.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.dataset_label)
        layout.addWidget(self.totals)
        layout.addWidget(self.layers, 1)
        self.layers.itemClicked.connect(self._on_item_clicked)
        document.designChanged.connect(self.refresh)
        dataset_state.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Show the document's design and the loaded dataset."""
        design = self._doc.design
        self.title.setText(design.name or "Untitled design")
        dataset = self._data.dataset
        if dataset is not None:
            self.dataset_label.setText(f"{html.escape(dataset.name)}: "
                                       f"{dataset_summary(dataset)}")
        else:
            self.dataset_label.setText(html.escape(self._data.error or "No dataset loaded."))
        net = design.network
        try:
            count = plural(net.parameter_count(), "parameter")
        except (TypeError, ValueError):  # a malformed layer: the network check says which
            count = "parameters: see the network check"
        n = len(net.layers)
        inputs = (size_words(net.input_shape) if net.input_shape
                  else plural(net.inputs, "input"))
        self.totals.setText(f"{inputs} → {plural(n, 'layer')} · {count}")
        self.layers.clear()
        items: dict[tuple[int, ...], QTreeWidgetItem] = {}
        for row in layer_rows(design):
            layer = layer_at(net, row.path)
            shape = batch_shape_text(row.out_shape) if row.out_shape else "?"
            item = QTreeWidgetItem([card_title(layer), shape,
                                    f"{row.parameters:,}" if row.parameters else "–"])
            item.setData(0, PATH_ROLE, row.path)
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight
                                  | Qt.AlignmentFlag.AlignVCenter)
            parent = items.get(row.path[:-1])
            if parent is None:
                self.layers.addTopLevelItem(item)
            else:
                parent.addChild(item)
            items[row.path] = item
        self.layers.expandAll()
        self.layers.setRootIsDecorated(any(len(p) > 1 for p in items))

    def _on_item_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        self._selection.select(item.data(0, PATH_ROLE))
