"""Preview widgets of the dataset panel: a scatter plot of the points, a grid of sample
images, or the first rows of a CSV file, stacked in one :class:`DatasetPreview`.

They only draw what a loaded ``core.datasets.Dataset`` (or ``CsvTable``) holds; choosing
and loading data is the panel's job. Scatter plots show training points filled and
validation points hollow, classes in distinct colour-blind-friendly colours and
regression targets on a colour scale.

The scatter plot (pyqtgraph) is built after the window's first frame
(``gui.lazy_build``); a dataset shown before that is drawn by the build.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.datasets import CsvTable, Dataset
from gui.colors import class_color
from gui.lazy_build import BuiltOnRead, LazyBuilder, Placeholder
from gui.plain_text import plain
from gui.sample_image import sample_image

if TYPE_CHECKING:
    import pyqtgraph as pg

_TEXT = "#333333"
_BAD_CELL = QColor("#f8c9c4")
_PLOT_BG = "#ffffff"
# More points than this per split are thinned for drawing (the summary gives real sizes).
MAX_DRAWN = 2500
PLOT_MIN_HEIGHT = 180  # pixels


def _thin(n: int) -> np.ndarray:
    """Evenly spaced row indices, at most MAX_DRAWN of ``n``."""
    if n <= MAX_DRAWN:
        return np.arange(n)
    return np.linspace(0, n - 1, MAX_DRAWN).astype(np.int64)


def _fisher_scores(x: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Between-class over within-class variance of each column (how well it separates)."""
    mean = x.mean(axis=0)
    between = np.zeros(x.shape[1])
    within = np.zeros(x.shape[1])
    for c in range(n_classes):
        rows = x[y == c]
        if len(rows):
            between += len(rows) * (rows.mean(axis=0) - mean) ** 2
            within += ((rows - rows.mean(axis=0)) ** 2).sum(axis=0)
    return between / np.maximum(within, 1e-12)


def _best_regressor(x: np.ndarray, y: np.ndarray) -> int:
    """Column most correlated (in absolute value) with the target."""
    xc = x - x.mean(axis=0)
    yc = y - y.mean()
    denom = np.sqrt((xc**2).sum(axis=0) * (yc**2).sum()) + 1e-12
    return int(np.argmax(np.abs(xc.T @ yc) / denom))


def _padded(lo: float, hi: float) -> tuple[float, float]:
    span = hi - lo
    pad = 0.06 * span if span > 0 else max(abs(lo) * 0.1, 0.5)
    return lo - pad, hi + pad


class ScatterPreview(BuiltOnRead, QWidget):
    """The points of a dataset in two dimensions, with a legend below.

    2-D classification: the two inputs, one colour per class. 2-D regression: the two
    inputs coloured by the target (colour bar at the side). One input, or more than two
    (iris, diabetes, CSV files): the two inputs that best separate the classes, or the
    input most correlated with the target against the target; the axis titles say which.
    """

    BUILT_NAMES = frozenset({"graphics", "plot", "color_bar", "point_count"})

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        # Room for two wrapped lines: the plot above shrinks rather than the legend.
        self.legend.setMinimumHeight(2 * self.legend.fontMetrics().lineSpacing() + 6)
        self.legend.setToolTip("Filled points are used for training, hollow points are held "
                               "out for validation.")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        # The plot's place until it is built: as white, and asking for the same room
        # (pyqtgraph's views: at least 68 px wide, 600 x 480 preferred).
        self._placeholder = Placeholder(QSize(68, PLOT_MIN_HEIGHT), QSize(600, 480), _PLOT_BG)
        self._layout.addWidget(self._placeholder, 1)
        self._layout.addWidget(self.legend)
        self._built = False
        self._waiting: tuple[Dataset, bool] | None = None  # shown before the build
        self._builder = LazyBuilder(self, self._build_plot)

    def _build_plot(self) -> None:
        """Build the plot and draw the dataset shown before, if any."""
        import pyqtgraph as pg

        self._built = True
        self.color_bar: pg.ColorBarItem | None = None
        #: Points drawn (training + validation) after thinning; for tests and the caption.
        self.point_count = 0
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(_PLOT_BG)
        self.graphics.setMinimumHeight(PLOT_MIN_HEIGHT)
        self.plot = self.graphics.addPlot(row=0, col=0)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen("#888888"))
            axis.setTextPen(pg.mkPen(_TEXT))
        self._layout.replaceWidget(self._placeholder, self.graphics)
        self._layout.setStretch(0, 1)
        self._placeholder.deleteLater()
        if self.isVisible():
            self.graphics.show()  # else Qt shows it only in the next pass of the event loop
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            self.show_dataset(*waiting)

    def clear(self) -> None:
        if not self._built:
            self._waiting = None
            return
        self.plot.clear()
        if self.color_bar is not None:
            self.graphics.removeItem(self.color_bar)
            self.color_bar = None
        self.plot.setAspectLocked(False)
        self.point_count = 0

    def show_dataset(self, dataset: Dataset, equal_aspect: bool = False) -> None:
        """Plot ``dataset``; ``equal_aspect`` keeps circles round (the synthetic sets)."""
        if not self._built:
            self._waiting = (dataset, equal_aspect)  # drawn by the build
            return
        self.clear()
        tr, va = _thin(dataset.n_train), _thin(dataset.n_val)
        x_tr, x_va = dataset.x_train_raw[tr], dataset.x_val_raw[va]
        names = dataset.raw_feature_names
        n_raw = len(names)
        if dataset.task == "classification":
            y_tr, y_va = dataset.y_train[tr], dataset.y_val[va]
            if n_raw >= 2:
                if n_raw == 2:
                    cols = [0, 1]
                else:
                    scores = _fisher_scores(dataset.x_train_raw, dataset.y_train,
                                            dataset.n_classes)
                    cols = sorted(np.argsort(-scores)[:2].tolist())
                xy_tr, xy_va = x_tr[:, cols], x_va[:, cols]
                labels = (names[cols[0]], names[cols[1]])
            else:  # one input: spread the classes along y
                xy_tr = np.column_stack([x_tr[:, 0], y_tr])
                xy_va = np.column_stack([x_va[:, 0], y_va])
                labels = (names[0], "class")
            self._plot_classes(dataset, xy_tr, y_tr, xy_va, y_va)
            self._set_legend_classes(dataset.class_names)
        else:
            t_tr, t_va = dataset.y_train[tr, 0], dataset.y_val[va, 0]
            target = dataset.target_names[0] if dataset.target_names else "target"
            if n_raw == 2:
                xy_tr, xy_va = x_tr, x_va
                labels = (names[0], names[1])
                self._plot_colored(xy_tr, t_tr, xy_va, t_va, target)
                self.legend.setText(self._split_key() + f"&nbsp;&nbsp;colour: "
                                    f"{html.escape(target)}")
            else:
                col = 0 if n_raw == 1 else _best_regressor(dataset.x_train_raw,
                                                            dataset.y_train[:, 0])
                xy_tr = np.column_stack([x_tr[:, col], t_tr])
                xy_va = np.column_stack([x_va[:, col], t_va])
                labels = (names[col], target)
                self._plot_plain(xy_tr, xy_va)
                self.legend.setText(self._split_key(class_color(0).name(),
                                                    class_color(1).name()))
        self.plot.setLabel("bottom", labels[0], color=_TEXT)
        self.plot.setLabel("left", labels[1], color=_TEXT)
        both = np.concatenate([xy_tr, xy_va]) if len(xy_va) else xy_tr
        if len(both):
            self.plot.setXRange(*_padded(float(both[:, 0].min()), float(both[:, 0].max())),
                                padding=0)
            self.plot.setYRange(*_padded(float(both[:, 1].min()), float(both[:, 1].max())),
                                padding=0)
        self.plot.setAspectLocked(equal_aspect and n_raw == 2)
        self.point_count = len(xy_tr) + len(xy_va)

    # ------------------------------------------------------------------ drawing
    def _plot_classes(self, dataset: Dataset, xy_tr: np.ndarray, y_tr: np.ndarray,
                      xy_va: np.ndarray, y_va: np.ndarray) -> None:
        import pyqtgraph as pg

        for c in range(dataset.n_classes):
            color = class_color(c)
            rows = y_va == c
            if rows.any():  # validation first, so training points are drawn on top
                self.plot.addItem(pg.ScatterPlotItem(
                    xy_va[rows, 0], xy_va[rows, 1], size=7, brush=QBrush(Qt.BrushStyle.NoBrush),
                    pen=pg.mkPen(color, width=1.6)))
            rows = y_tr == c
            if rows.any():
                self.plot.addItem(pg.ScatterPlotItem(
                    xy_tr[rows, 0], xy_tr[rows, 1], size=6, brush=pg.mkBrush(color),
                    pen=pg.mkPen(color.darker(140), width=0.8)))

    def _plot_plain(self, xy_tr: np.ndarray, xy_va: np.ndarray) -> None:
        import pyqtgraph as pg

        color = class_color(0)
        self.plot.addItem(pg.ScatterPlotItem(
            xy_va[:, 0], xy_va[:, 1], size=7, brush=QBrush(Qt.BrushStyle.NoBrush),
            pen=pg.mkPen(class_color(1), width=1.6)))
        self.plot.addItem(pg.ScatterPlotItem(
            xy_tr[:, 0], xy_tr[:, 1], size=6, brush=pg.mkBrush(color),
            pen=pg.mkPen(color.darker(140), width=0.8)))

    def _plot_colored(self, xy_tr: np.ndarray, t_tr: np.ndarray, xy_va: np.ndarray,
                      t_va: np.ndarray, target: str) -> None:
        import pyqtgraph as pg

        values = np.concatenate([t_tr, t_va])
        lo, hi = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
        if hi <= lo:
            hi = lo + 1.0
        cmap = pg.colormap.get("viridis")
        # The yellow end of viridis is faint on white: use the darker 90 % of the scale.
        cmap = cmap.getSubset(0.0, 0.9)

        def colors(t: np.ndarray) -> list[QColor]:
            return cmap.mapToQColor((t - lo) / (hi - lo))

        self.plot.addItem(pg.ScatterPlotItem(
            xy_va[:, 0], xy_va[:, 1], size=7, brush=QBrush(Qt.BrushStyle.NoBrush),
            pen=[pg.mkPen(c, width=1.6) for c in colors(t_va)]))
        self.plot.addItem(pg.ScatterPlotItem(
            xy_tr[:, 0], xy_tr[:, 1], size=6, brush=[pg.mkBrush(c) for c in colors(t_tr)],
            pen=pg.mkPen("#555555", width=0.4)))
        self.color_bar = pg.ColorBarItem(values=(lo, hi), colorMap=cmap, width=12,
                                         interactive=False, colorMapMenu=False,
                                         pen=_TEXT)
        self.color_bar.getAxis("right").setTextPen(pg.mkPen(_TEXT))
        self.graphics.addItem(self.color_bar, row=0, col=1)

    # ------------------------------------------------------------------ legend
    @staticmethod
    def _split_key(train: str = _TEXT, val: str = _TEXT) -> str:
        return (f'<span style="color:{train}">●</span>&nbsp;training&nbsp;&nbsp; '
                f'<span style="color:{val}">○</span>&nbsp;validation')

    def _set_legend_classes(self, class_names: tuple[str, ...]) -> None:
        parts = [f'<span style="color:{class_color(i).name()}">●</span>&nbsp;'
                 f"{html.escape(name)}" for i, name in enumerate(class_names)]
        self.legend.setText("&nbsp;&nbsp; ".join(parts) + "&nbsp;&nbsp; " + self._split_key())


class ImageGridPreview(QWidget):
    """A grid of sample images (``x_train_raw`` rows reshaped to ``image_shape``), each
    with its class label, drawn dark ink on white with square, unsmoothed pixels. ``cols``
    images per row; as many rows (up to ``rows``) as the height has room for."""

    def __init__(self, rows: int = 8, cols: int = 6, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows, self._cols = rows, cols
        #: (image, label) of each thumbnail shown.
        self.thumbnails: list[tuple[QImage, str]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(160)
        self.setToolTip("The first training samples of each class, with their labels.")

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(300, 260)

    def show_dataset(self, dataset: Dataset) -> None:
        self.thumbnails = []
        shape = dataset.image_shape
        if shape is None or dataset.n_train == 0:
            self.update()
            return
        x, y = dataset.x_train_raw, dataset.y_train
        # Take samples round-robin over the classes so every label appears.
        if dataset.task == "classification":
            queues = [np.flatnonzero(y == c).tolist() for c in range(dataset.n_classes)]
            order: list[int] = []
            while len(order) < self._rows * self._cols and any(queues):
                for q in queues:
                    if q and len(order) < self._rows * self._cols:
                        order.append(q.pop(0))
        else:
            order = list(range(min(self._rows * self._cols, dataset.n_train)))
        top = float(x.max()) if x.size else 1.0
        top = top if top > 0 else 1.0
        for i in order:
            image = sample_image(x[i], shape, 0.0, top)
            if dataset.task == "classification":
                label = dataset.class_names[int(y[i])]
            else:
                label = f"{float(y[i, 0]):.3g}"
            self.thumbnails.append((image, label))
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(_PLOT_BG))
        if not self.thumbnails:
            return
        metrics_h = painter.fontMetrics().height()
        cell_w = self.width() / self._cols
        side = max(8.0, min(cell_w - 10, 72.0))
        cell_h = side + metrics_h + 10
        rows = max(1, min(self._rows, int(self.height() // cell_h)))
        painter.setPen(QPen(QColor(_TEXT)))
        for k, (image, label) in enumerate(self.thumbnails[:rows * self._cols]):
            r, c = divmod(k, self._cols)
            x0 = c * cell_w + (cell_w - side) / 2
            y0 = r * cell_h + 6
            target = QRectF(x0, y0, side, side)
            painter.drawImage(target, image)
            painter.setPen(QPen(QColor("#BBBBBB")))
            painter.drawRect(target)
            painter.setPen(QPen(QColor(_TEXT)))
            # Long class names ("Ankle boot") are elided to their cell, never overlap.
            shown = painter.fontMetrics().elidedText(label, Qt.TextElideMode.ElideRight,
                                                     int(cell_w) - 2)
            painter.drawText(QRectF(c * cell_w, y0 + side + 1, cell_w, metrics_h + 2),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, shown)
        painter.end()


class CsvTablePreview(QTableWidget):
    """The first rows of a CSV file as read, the target column tinted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.setToolTip("The first rows of the file, as read; the target column is tinted. "
                        "Row numbers are the file's line numbers.")

    def show_table(self, table: CsvTable, target: int | None,
                   bad_cells: frozenset[tuple[int, int]] = frozenset()) -> None:
        """Show ``table``; ``bad_cells`` holds the (file line, 1-based column) pairs an
        error names (``DatasetError.cells``), drawn in red."""
        self.clear()
        self.setColumnCount(len(table.header))
        self.setRowCount(len(table.rows))
        self.setHorizontalHeaderLabels(list(table.header))
        self.setVerticalHeaderLabels([str(n) for n in table.line_numbers])
        tint = QColor(class_color(0))
        tint.setAlpha(45)
        for r, row in enumerate(table.rows):
            for c, cell in enumerate(row):
                item = QTableWidgetItem(cell)
                if (table.line_numbers[r], c + 1) in bad_cells:
                    item.setBackground(_BAD_CELL)
                    item.setForeground(QColor("#8a1c1c"))
                    item.setToolTip("This cell is named in the error message.")
                elif c == target:
                    item.setBackground(tint)
                self.setItem(r, c, item)
        if target is not None and 0 <= target < len(table.header):
            header = self.horizontalHeaderItem(target)
            font = header.font()
            font.setBold(True)
            header.setFont(font)
            header.setToolTip("Target column")
        self.resizeColumnsToContents()


class DatasetPreview(QStackedWidget):
    """One of: a message, a scatter plot, an image grid, or a CSV table (``mode`` says
    which: "message", "scatter", "images", "table")."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = plain(QLabel())  # names the user's CSV file
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #666666;")
        self.scatter = ScatterPreview()
        self.images = ImageGridPreview()
        self.table = CsvTablePreview()
        self._pages = {"message": self.message, "scatter": self.scatter,
                       "images": self.images, "table": self.table}
        for page in self._pages.values():
            self.addWidget(page)
        self.mode = "message"

    def _show(self, mode: str) -> None:
        self.mode = mode
        self.setCurrentWidget(self._pages[mode])

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self._show("message")

    def show_dataset(self, dataset: Dataset, equal_aspect: bool = False) -> None:
        if dataset.image_shape is not None:
            self.images.show_dataset(dataset)
            self._show("images")
        else:
            self.scatter.show_dataset(dataset, equal_aspect)
            self._show("scatter")

    def show_table(self, table: CsvTable, target: int | None,
                   bad_cells: frozenset[tuple[int, int]] = frozenset()) -> None:
        self.table.show_table(table, target, bad_cells)
        self._show("table")
