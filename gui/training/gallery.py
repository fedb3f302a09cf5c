"""The validation samples the model gets wrong, most confidently wrong first: a grid of
thumbnails for image data, a table of feature values for everything else.

The list comes with the training progress (``ProgressBatch.misclassified``, computed in
``core.training.misclassified`` from the epoch's validation outputs, or from a reopened
run's weights); this page only draws it, at most at the plots' pace (``TrainingPlots``
holds the newest list with :meth:`MisclassifiedGallery.hold` and draws it when due).
Choosing a sample emits ``sample_chosen`` with the network's input for it, so the window
can show that sample's forward pass in the diagram.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.training.misclassified import Misclassified
from gui.colors import ERROR
from gui.plain_text import plain, verbatim
from gui.sample_image import sample_image

__all__ = ["MisclassifiedGallery"]

TEXT = QColor("#333333")
MUTED = QColor("#666666")
THUMB = 64  # px: an 8x8 digit at 8 screen pixels per pixel
CARD = QSize(92, THUMB + 46)
_SAMPLE_ROLE = Qt.ItemDataRole.UserRole  # the validation row of a card or table row
_LINES_ROLE = Qt.ItemDataRole.UserRole + 1  # (true name, predicted name, probability text)
_PROB_ROLE = Qt.ItemDataRole.UserRole + 2  # the probability as a float


def probability_text(p: float) -> str:
    """The predicted class's probability as the cards and table show it."""
    return "p n/a" if not np.isfinite(p) else f"p {p:.2f}"


def column_decimals(values: np.ndarray, most: int = 4) -> list[int]:
    """Per column of ``values`` (n, columns), the fewest decimals (up to ``most``) that
    write every value of the column exactly, so a column reads 3.0, 6.1, not 3, 6.1."""
    out = []
    for column in np.asarray(values, dtype=np.float64).T:
        finite = column[np.isfinite(column)]
        n = next((k for k in range(most + 1)
                  if np.allclose(np.round(finite, k), finite, rtol=0, atol=1e-9)), most)
        out.append(n)
    return out


class _CardDelegate(QStyledItemDelegate):
    """A card: the sample's image, then "true → predicted" (predicted in red) and the
    probability the model gave its (wrong) prediction."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        return CARD

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex) -> None:
        painter.save()
        rect = option.rect.adjusted(3, 3, -3, -3)
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, option.palette.highlight().color().lighter(170))
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        top = rect.top() + 4
        target = QRect(rect.center().x() - THUMB // 2, top, THUMB, THUMB)
        if isinstance(pixmap, QPixmap):
            painter.drawPixmap(target, pixmap)
        painter.setPen(QPen(QColor("#BBBBBB")))
        painter.drawRect(target)
        true_name, pred_name, prob = index.data(_LINES_ROLE)
        metrics = painter.fontMetrics()
        line = metrics.height()
        y = target.bottom() + 4
        arrow = " → "
        width = rect.width() - 4
        # Elide each name to half the line so both stay visible.
        half = max(10, (width - metrics.horizontalAdvance(arrow)) // 2)
        t = metrics.elidedText(true_name, Qt.TextElideMode.ElideRight, half)
        p = metrics.elidedText(pred_name, Qt.TextElideMode.ElideRight, half)
        total = sum(metrics.horizontalAdvance(s) for s in (t, arrow, p))
        x = rect.left() + (rect.width() - total) // 2
        for text, color in ((t, TEXT), (arrow, MUTED), (p, ERROR)):
            painter.setPen(QPen(color))
            painter.drawText(QRect(x, y, metrics.horizontalAdvance(text) + 1, line),
                             Qt.AlignmentFlag.AlignLeft, text)
            x += metrics.horizontalAdvance(text)
        painter.setPen(QPen(MUTED))
        painter.drawText(QRect(rect.left(), y + line, rect.width(), line),
                         Qt.AlignmentFlag.AlignHCenter, prob)
        painter.restore()


class MisclassifiedGallery(QWidget):
    """Misclassified validation samples of the current run, most confident first.

    ``set_dataset`` (each run) chooses images or rows and clears the page; ``hold``
    keeps the newest ``Misclassified`` list and ``draw`` shows it. ``sample_chosen``
    carries the chosen sample's network input (n_features,) float64 (the row of
    ``x_val``), or None when the shown sample is gone (a new run or dataset).
    """

    sample_chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dataset = None
        self.shown: Misclassified | None = None
        self.chosen: int | None = None  # validation row of the chosen sample
        self._pending: Misclassified | None = None
        self._pixmaps: dict[int, QPixmap] = {}
        self._range = (0.0, 1.0)
        self.header = plain(QLabel())
        self.header.setWordWrap(True)
        self.header.setStyleSheet("font-weight: bold;")
        self.hint = plain(QLabel())
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #666666;")
        self.message = plain(QLabel())
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setStyleSheet("color: #333333; padding: 12px;")
        self.cards = QListWidget()
        self.cards.setViewMode(QListView.ViewMode.IconMode)
        self.cards.setResizeMode(QListView.ResizeMode.Adjust)
        self.cards.setMovement(QListView.Movement.Static)
        self.cards.setUniformItemSizes(True)
        self.cards.setGridSize(CARD)
        self.cards.setSpacing(0)
        self.cards.setItemDelegate(_CardDelegate(self.cards))
        self.cards.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.cards.currentRowChanged.connect(self._on_card_row)
        self.table = QTableWidget()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.currentCellChanged.connect(self._on_table_row)
        self.stack = QStackedWidget()
        for w in (self.message, self.cards, self.table):
            self.stack.addWidget(w)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.header)
        layout.addWidget(self.hint)
        layout.addWidget(self.stack, 1)
        self.set_dataset(None)

    # ------------------------------------------------------------------ input
    @property
    def images(self) -> bool:
        """True when the samples are drawn as images (the dataset has an image shape)."""
        d = self.dataset
        return d is not None and getattr(d, "image_shape", None) is not None

    def set_dataset(self, dataset) -> None:
        """Forget the shown list and prepare for ``dataset`` (a core Dataset or None)."""
        had_choice = self.chosen is not None
        self.dataset = dataset
        self.shown = self._pending = None
        self.chosen = None
        self._pixmaps = {}
        for view in (self.cards, self.table):
            view.blockSignals(True)  # clearing moves the current item: not a choice
        self.cards.clear()
        self.table.clear()
        self.table.setRowCount(0)
        for view in (self.cards, self.table):
            view.blockSignals(False)
        if self.images:
            raw = dataset.x_train_raw
            self._range = (min(0.0, float(raw.min())), float(raw.max())) if raw.size \
                else (0.0, 1.0)
        if dataset is None:
            self._show_message("No dataset: choose one in the Dataset panel.")
        elif dataset.task != "classification":
            self._show_message("Not a classification task: this page lists the validation "
                               "samples a classifier gets wrong.")
        elif dataset.n_val == 0:
            self._show_message("No validation samples: set a validation share in the "
                               "Dataset panel to see which samples the model gets wrong.")
        else:
            self._show_message("Train to see which samples the model gets wrong.")
        if had_choice:
            self.sample_chosen.emit(None)

    def hold(self, wrong: Misclassified) -> None:
        """Keep ``wrong`` to show on the next ``draw`` (cheap; replaces an older one)."""
        self._pending = wrong

    def draw(self) -> None:
        """Show the list held last, if any."""
        wrong, self._pending = self._pending, None
        if wrong is not None:
            self.set_misclassified(wrong)

    def set_misclassified(self, wrong: Misclassified) -> None:
        """Show ``wrong`` now (a list for another dataset, with rows out of range, is
        ignored)."""
        d = self.dataset
        if d is None or d.task != "classification" or d.n_val == 0:
            return
        if len(wrong) and (int(wrong.index.max()) >= d.n_val
                           or int(max(wrong.true.max(), wrong.predicted.max()))
                           >= len(d.class_names)):
            return
        old = self.shown
        if old is not None and old.total == wrong.total and all(
                np.array_equal(getattr(old, k), getattr(wrong, k))
                for k in ("index", "true", "predicted")) and np.allclose(
                old.probability, wrong.probability, atol=5e-3, equal_nan=True):
            return  # nothing a reader could tell apart
        self.shown = wrong
        if wrong.total == 0:
            self._show_message(f"No misclassified validation samples: the model gets all "
                               f"{d.n_val:,} right.")
            return
        more = f" ({len(wrong)} shown)" if len(wrong) < wrong.total else ""
        self.header.setText(f"{wrong.total:,} of {d.n_val:,} validation samples wrong, "
                            f"most confidently wrong first{more}")
        self.hint.setText(
            ("Each card: true class → predicted class, and p, the probability the model "
             "gave its prediction. " if self.images else
             "Each row: true and predicted class, the probability the model gave its "
             "prediction, and the sample's features. ")
            + "Choose one to see its forward pass in the network diagram.")
        self.header.setVisible(True)
        self.hint.setVisible(True)
        if self.images:
            self._fill_cards(wrong)
            self.stack.setCurrentWidget(self.cards)
        else:
            self._fill_table(wrong)
            self.stack.setCurrentWidget(self.table)

    # ---------------------------------------------------------------- reading
    def entries(self) -> list[tuple[int, str, str, float]]:
        """What is shown, in order: (validation row, true class name, predicted class
        name, probability) per sample, read back from the cards or table rows."""
        if self.stack.currentWidget() is self.cards:
            items = [self.cards.item(r) for r in range(self.cards.count())]
            return [(int(i.data(_SAMPLE_ROLE)), *i.data(_LINES_ROLE)[:2],
                     float(i.data(_PROB_ROLE))) for i in items]
        if self.stack.currentWidget() is self.table:
            t = self.table
            return [(int(t.item(r, 0).data(_SAMPLE_ROLE)), t.item(r, 0).text(),
                     t.item(r, 1).text(), float(t.item(r, 0).data(_PROB_ROLE)))
                    for r in range(t.rowCount())]
        return []

    # --------------------------------------------------------------- drawing
    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.header.setVisible(False)
        self.hint.setVisible(False)
        self.stack.setCurrentWidget(self.message)

    def _names(self, wrong: Misclassified, k: int) -> tuple[str, str, str]:
        names = self.dataset.class_names
        return (str(names[int(wrong.true[k])]), str(names[int(wrong.predicted[k])]),
                probability_text(float(wrong.probability[k])))

    def _tooltip(self, row: int, names: tuple[str, str, str], p: float) -> str:
        sure = f"with probability {p:.3f}" if np.isfinite(p) else "(non-finite outputs)"
        return verbatim(f"Validation sample {row + 1}{self._line(row)}: a {names[0]}, "
                        f"predicted {names[1]} {sure}.")

    def _line(self, row: int) -> str:
        origin = getattr(self.dataset, "val_origin", None)
        return f" (line {int(origin.lines[row])} of {origin.file_name})" \
            if origin is not None else ""

    def _pixmap(self, row: int) -> QPixmap:
        pixmap = self._pixmaps.get(row)
        if pixmap is None:
            d = self.dataset
            image = sample_image(d.x_val_raw[row], tuple(d.image_shape), *self._range)
            # Square pixels, not smoothed: a blurred 8x8 digit is not what the net sees.
            pixmap = QPixmap.fromImage(image.scaled(
                THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation))
            self._pixmaps[row] = pixmap
        return pixmap

    def _fill_cards(self, wrong: Misclassified) -> None:
        self.cards.blockSignals(True)
        self.cards.clear()
        current = -1
        for k in range(len(wrong)):
            row = int(wrong.index[k])
            names = self._names(wrong, k)
            item = QListWidgetItem()
            item.setData(_SAMPLE_ROLE, row)
            item.setData(_LINES_ROLE, names)
            item.setData(_PROB_ROLE, float(wrong.probability[k]))
            item.setData(Qt.ItemDataRole.DecorationRole, self._pixmap(row))
            item.setToolTip(self._tooltip(row, names, float(wrong.probability[k])))
            self.cards.addItem(item)
            if row == self.chosen:
                current = k
        self.cards.setCurrentRow(current)
        self.cards.blockSignals(False)

    def _fill_table(self, wrong: Misclassified) -> None:
        d = self.dataset
        features = tuple(d.raw_feature_names)
        t = self.table
        t.blockSignals(True)
        t.clear()
        t.setColumnCount(3 + len(features))
        t.setHorizontalHeaderLabels(["true", "predicted", "probability", *features])
        t.setRowCount(len(wrong))
        bold = QFont(t.font())
        bold.setBold(True)
        decimals = column_decimals(d.x_val_raw[wrong.index])
        current = -1
        for k in range(len(wrong)):
            row = int(wrong.index[k])
            names = self._names(wrong, k)
            tip = self._tooltip(row, names, float(wrong.probability[k]))
            values = [f"{v:.{n}f}" for v, n in zip(d.x_val_raw[row], decimals, strict=True)]
            shown = (names[0], names[1], names[2].removeprefix("p "))
            for c, text in enumerate((*shown, *values)):
                cell = QTableWidgetItem(text)
                cell.setToolTip(tip)
                if c == 0:
                    cell.setData(_SAMPLE_ROLE, row)
                    cell.setData(_PROB_ROLE, float(wrong.probability[k]))
                if c == 1:
                    cell.setForeground(ERROR)
                    cell.setFont(bold)
                if c >= 2:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                t.setItem(k, c, cell)
            t.setVerticalHeaderItem(k, QTableWidgetItem(str(row + 1)))
            if row == self.chosen:
                current = k
        t.resizeColumnsToContents()
        if current >= 0:
            t.selectRow(current)
        t.blockSignals(False)

    # ---------------------------------------------------------------- choice
    def _choose(self, row: int) -> None:
        self.chosen = row
        self.sample_chosen.emit(np.array(self.dataset.x_val[row], dtype=np.float64))

    def _on_card_row(self, k: int) -> None:
        if k >= 0:
            self._choose(int(self.cards.item(k).data(_SAMPLE_ROLE)))

    def _on_table_row(self, k: int, _col: int, old: int, _old_col: int) -> None:
        if k >= 0 and k != old:
            self._choose(int(self.table.item(k, 0).data(_SAMPLE_ROLE)))
