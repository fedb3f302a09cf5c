"""What the model currently predicts, drawn next to the training curves.

Three views, one of which :class:`ModelView` shows depending on the dataset: for two raw
inputs a heatmap of the model's output over the input plane (the decision boundary, or
the regression surface) with the training points (filled) and validation points
(hollow) on top; for a one-input regression the points and the fitted curve; for other
classification data a confusion matrix with the counts written in the cells. The
confusion matrix always shows every class (its range is set whole, and again whenever
the view is resized); class names that do not fit their column are abbreviated
(:func:`fit_labels`), and the full names are in the tooltips. The views
only draw what a ``core.training.progress`` batch carries (``SurfaceGrid``, ``FitCurve``,
confusion counts); the grid itself is computed on the training side.
"""

from __future__ import annotations

import functools
import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from core.training.model_views import FitCurve, SurfaceGrid
from core.words import plural
from gui.editor.dataset_preview import class_color
from gui.training.live_label import LiveLabel

__all__ = ["ConfusionView", "FitView", "ModelView", "SurfaceView", "fit_labels",
           "view_kind"]

TEXT = "#333333"
AXIS = "#888888"
PLOT_BG = "#ffffff"
# More points than this per split are thinned for drawing (the grid is what matters).
MAX_POINTS = 2000
# How much of a class colour the heatmap keeps (the rest is white), so the saturated
# points drawn on top stay visible on their own class's region.
HEAT_STRENGTH = 0.55


def view_kind(dataset) -> str:
    """Which model view fits ``dataset`` (a core Dataset or None): "surface" (two raw
    inputs), "fit" (one-input regression), "confusion" (other classification data) or
    "none"."""
    if dataset is None:
        return "none"
    n_raw = dataset.x_train_raw.shape[1]
    if n_raw == 2:
        return "surface"
    if dataset.task == "regression":
        return "fit" if n_raw == 1 else "none"
    return "confusion"


def _thin(n: int) -> np.ndarray:
    if n <= MAX_POINTS:
        return np.arange(n)
    return np.linspace(0, n - 1, MAX_POINTS).astype(np.int64)


def _light(color: QColor, strength: float = HEAT_STRENGTH) -> np.ndarray:
    """``color`` blended with white: (3,) floats 0..255."""
    rgb = np.array([color.red(), color.green(), color.blue()], dtype=np.float64)
    return 255.0 - strength * (255.0 - rgb)


def _fixed_plot() -> tuple[pg.GraphicsLayoutWidget, pg.PlotItem]:
    """A styled plot the mouse cannot pan or zoom (these views show a whole picture)."""
    graphics = pg.GraphicsLayoutWidget()
    graphics.setBackground(PLOT_BG)
    plot = graphics.addPlot(row=0, col=0)
    _style_plot(plot)
    plot.setMouseEnabled(x=False, y=False)
    return graphics, plot


def _style_plot(plot: pg.PlotItem) -> None:
    plot.setMenuEnabled(False)
    plot.hideButtons()
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(AXIS))
        axis.setTextPen(pg.mkPen(TEXT))


@functools.cache
def _regression_cmap() -> pg.ColorMap:
    # The yellow end of viridis is faint on white: the darker 90 % of the scale (as the
    # dataset preview colours regression targets).
    return pg.colormap.get("viridis").getSubset(0.0, 0.9)


@functools.cache
def _probability_cmap() -> pg.ColorMap:
    # Built once: a ColorMap costs a few milliseconds, and the surface updates often.
    c0, c1 = class_color(0), class_color(1)
    return pg.ColorMap([0.0, 0.5, 1.0], [QColor(*_light(c0).astype(int)), QColor("#ffffff"),
                                         QColor(*_light(c1).astype(int))])


class SurfaceView(QWidget):
    """The model's output over the plane of two raw inputs, with the data on top.

    Binary classification: probability of the second class on a diverging scale between
    the two class colours (white at 0.5: the decision boundary). Multi-class: the
    predicted class in light class colours. Regression: the output on viridis, the same
    scale as the points' target colours. A colour bar or a class key explains the colours.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graphics, self.plot = _fixed_plot()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        self.plot.addItem(self.image)
        self.color_bar: pg.ColorBarItem | None = None
        self.key = QLabel()
        self.key.setWordWrap(True)
        self.key.setTextFormat(Qt.TextFormat.RichText)
        self.key.setToolTip("Filled points are used for training, hollow points are held "
                            "out for validation; the background is the model's output.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.key)
        self._scatter: list[pg.ScatterPlotItem] = []
        self._dataset = None
        self._kind = ""
        self._target_range = (0.0, 1.0)
        #: The newest grid shown, for tests.
        self.surface: SurfaceGrid | None = None

    def set_dataset(self, dataset) -> None:
        """Draw the points of ``dataset`` (two raw inputs) and forget the old surface."""
        for item in self._scatter:
            self.plot.removeItem(item)
        self._scatter = []
        self._remove_color_bar()
        self.image.clear()
        self.surface = None
        self._kind = ""
        self._dataset = dataset
        tr, va = _thin(dataset.n_train), _thin(dataset.n_val)
        x_tr, x_va = dataset.x_train_raw[tr], dataset.x_val_raw[va]
        names = dataset.raw_feature_names
        self.plot.setLabel("bottom", names[0], color=TEXT)
        self.plot.setLabel("left", names[1], color=TEXT)
        if dataset.task == "classification":
            y_tr, y_va = dataset.y_train[tr], dataset.y_val[va]
            for c in range(dataset.n_classes):
                color = class_color(c)
                rows = y_va == c
                if rows.any():  # validation first: training points are drawn on top
                    self._add_points(x_va[rows], size=7, brush=QBrush(Qt.BrushStyle.NoBrush),
                                     pen=pg.mkPen(color.darker(125), width=1.8))
                rows = y_tr == c
                if rows.any():
                    self._add_points(x_tr[rows], size=6, brush=pg.mkBrush(color),
                                     pen=pg.mkPen(color.darker(170), width=0.9))
            parts = [f'<span style="color:{class_color(i).name()}">●</span>&nbsp;'
                     f"{html.escape(name)}" for i, name in enumerate(dataset.class_names)]
            self.key.setText("&nbsp;&nbsp; ".join(parts) + "&nbsp;&nbsp;&nbsp; ● training"
                             "&nbsp;&nbsp; ○ validation")
        else:
            t_tr, t_va = dataset.y_train[tr, 0], dataset.y_val[va, 0]
            both = np.concatenate([t_tr, t_va])
            lo, hi = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
            if hi <= lo:
                hi = lo + 1.0
            self._target_range = (lo, hi)
            cmap = _regression_cmap()
            self._add_points(x_va, size=7, brush=QBrush(Qt.BrushStyle.NoBrush),
                             pen=[pg.mkPen(c, width=1.8)
                                  for c in cmap.mapToQColor((t_va - lo) / (hi - lo))])
            self._add_points(x_tr, size=6,
                             brush=[pg.mkBrush(c)
                                    for c in cmap.mapToQColor((t_tr - lo) / (hi - lo))],
                             pen=pg.mkPen("#222222", width=0.6))
            target = dataset.target_names[0] if dataset.target_names else "target"
            self.key.setText(f"colour: {html.escape(target)} (points) and the model's "
                             "prediction (background)&nbsp;&nbsp; ● training&nbsp;&nbsp; "
                             "○ validation")
        both = np.concatenate([x_tr, x_va]) if len(x_va) else x_tr
        if len(both):
            lo, hi = both.min(axis=0), both.max(axis=0)
            pad = (hi - lo) * 0.08 + 1e-9  # as core.training.model_views.surface_grid pads its grid
            self.plot.setXRange(lo[0] - pad[0], hi[0] + pad[0], padding=0)
            self.plot.setYRange(lo[1] - pad[1], hi[1] + pad[1], padding=0)

    def _add_points(self, xy: np.ndarray, **style) -> None:
        item = pg.ScatterPlotItem(xy[:, 0], xy[:, 1], **style)
        self.plot.addItem(item)
        self._scatter.append(item)

    def _remove_color_bar(self) -> None:
        if self.color_bar is not None:
            self.graphics.removeItem(self.color_bar)
            self.color_bar = None

    def set_surface(self, surface: SurfaceGrid) -> None:
        """Show ``surface`` (replaces the previous one)."""
        self.surface = surface
        values = np.asarray(surface.values, dtype=np.float64)
        if surface.kind == "probability":
            cmap = _probability_cmap()
            rgb = cmap.map(np.clip(values, 0.0, 1.0), mode="byte")
            self._ensure_color_bar("probability", cmap, (0.0, 1.0), self._class_label(1))
        elif surface.kind == "classes":
            n = max(int(np.nanmax(values)) + 1 if values.size else 1,
                    self._dataset.n_classes if self._dataset is not None else 1)
            table = np.array([_light(class_color(i)) for i in range(n)], dtype=np.uint8)
            idx = np.clip(np.nan_to_num(values).astype(np.int64), 0, n - 1)
            rgb = table[idx]
            self._remove_color_bar()  # the class key below the plot explains the colours
        else:
            lo, hi = self._target_range
            cmap = _regression_cmap()
            rgb = cmap.map(np.clip((values - lo) / (hi - lo), 0.0, 1.0), mode="byte")
            self._ensure_color_bar("regression", cmap, (lo, hi), "prediction")
        self._kind = surface.kind
        self.image.setImage(np.ascontiguousarray(rgb), autoLevels=False)
        (x0, x1), (y0, y1) = surface.x_range, surface.y_range
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))

    def _class_label(self, i: int) -> str:
        names = self._dataset.class_names if self._dataset is not None else ()
        return f"P({names[i]})" if i < len(names) else f"P(class {i})"

    def _ensure_color_bar(self, kind: str, cmap: pg.ColorMap, values: tuple[float, float],
                          label: str) -> None:
        if self.color_bar is not None and self._kind == kind:
            return
        self._remove_color_bar()
        bar = pg.ColorBarItem(values=values, colorMap=cmap, width=12, interactive=False,
                              colorMapMenu=False, pen=TEXT)
        axis = bar.getAxis("right")
        axis.setTextPen(pg.mkPen(TEXT))
        axis.enableAutoSIPrefix(False)  # "(x0.001)" after the label is easily missed
        axis.setLabel(label, color=TEXT)
        self.graphics.addItem(bar, row=0, col=1)
        self.color_bar = bar


class FitView(QWidget):
    """A one-input regression: the data points and the model's curve through them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(PLOT_BG)
        self.plot = self.graphics.addPlot(row=0, col=0)
        _style_plot(self.plot)
        self.val_points = pg.ScatterPlotItem(size=7, brush=QBrush(Qt.BrushStyle.NoBrush),
                                             pen=pg.mkPen(class_color(1), width=1.6))
        self.train_points = pg.ScatterPlotItem(size=6, brush=pg.mkBrush(class_color(0)),
                                               pen=pg.mkPen(class_color(0).darker(150),
                                                            width=0.8))
        self.curve = pg.PlotDataItem(pen=pg.mkPen("#222222", width=2.5))
        for item in (self.val_points, self.train_points, self.curve):
            self.plot.addItem(item)
        key = (f'<span style="color:{class_color(0).name()}">●</span> training&nbsp;&nbsp; '
               f'<span style="color:{class_color(1).name()}">○</span> validation&nbsp;&nbsp; '
               '<b>━</b> model')
        self.key = QLabel(key)
        self.key.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.key)
        self.fit: FitCurve | None = None

    def set_dataset(self, dataset) -> None:
        tr, va = _thin(dataset.n_train), _thin(dataset.n_val)
        self.train_points.setData(dataset.x_train_raw[tr, 0], dataset.y_train[tr, 0])
        self.val_points.setData(dataset.x_val_raw[va, 0], dataset.y_val[va, 0])
        self.curve.setData([], [])
        self.fit = None
        name = dataset.raw_feature_names[0]
        target = dataset.target_names[0] if dataset.target_names else "target"
        self.plot.setLabel("bottom", name, color=TEXT)
        self.plot.setLabel("left", target, color=TEXT)
        # Fix the view on the data: an untrained model's wild curve must not squash it.
        ys = np.concatenate([dataset.y_train[:, 0], dataset.y_val[:, 0]])
        xs = np.concatenate([dataset.x_train_raw[:, 0], dataset.x_val_raw[:, 0]])
        if ys.size:
            pad = 0.15 * (float(ys.max() - ys.min()) or 1.0)
            self.plot.setYRange(float(ys.min()) - pad, float(ys.max()) + pad, padding=0)
            self.plot.setXRange(float(xs.min()), float(xs.max()), padding=0.03)

    def set_fit(self, fit: FitCurve) -> None:
        self.fit = fit
        self.curve.setData(fit.x, fit.y)


def fit_labels(names: tuple[str, ...], width: float, metrics: QFontMetrics) -> list[str]:
    """Labels for ``names`` that each fit ``width`` pixels: the full name where it fits,
    else the name elided ("versic…") while what is left still tells it from the other
    names, else its shortest such prefix with a dot ("ve."), else the class number, else
    nothing. Never wider than ``width``, so neighbouring labels do not run together."""
    out = []
    for i, name in enumerate(names):
        if metrics.horizontalAdvance(name) <= width:
            out.append(name)
            continue
        others = [n for j, n in enumerate(names) if j != i]
        # The shortest prefix no other name starts with (the whole name if none).
        k = next((k for k in range(1, len(name) + 1)
                  if not any(o.startswith(name[:k]) for o in others)), len(name))
        elided = metrics.elidedText(name, Qt.TextElideMode.ElideRight, int(width))
        if len(elided.rstrip("…")) >= k and metrics.horizontalAdvance(elided) <= width:
            out.append(elided)
        elif metrics.horizontalAdvance(name[:k] + ".") <= width:
            out.append(name[:k] + ".")
        else:
            out.append(str(i) if metrics.horizontalAdvance(str(i)) <= width else "")
    return out


class ClassAxis(pg.AxisItem):
    """An axis with one tick per class, labelled with the class names; on the bottom
    axis names that do not fit their column are abbreviated (``fit_labels``)."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.names: tuple[str, ...] = ()

    def set_names(self, names: tuple[str, ...]) -> None:
        self.names = tuple(str(n) for n in names)
        self.picture = None  # the labels change: redraw the axis
        self.update()

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 - pyqtgraph's names
        return [(1.0, [float(i) for i in range(len(self.names))])]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        names = self.names
        if self.orientation in ("bottom", "top") and names:
            lo, hi = self.range
            column = self.size().width() / max(hi - lo, 1e-9) - 6  # a little gap
            names = tuple(fit_labels(names, column, QFontMetrics(self.style["tickFont"]
                                                                 or QFont())))
        return [names[int(round(v))] if 0 <= int(round(v)) < len(names) else ""
                for v in values]


class ConfusionView(QWidget):
    """Counts of (true class, predicted class): rows true, columns predicted. Cells are
    shaded by the share of their row (the recall), so the diagonal is dark when the model
    is right, and carry their count as text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(PLOT_BG)
        self.axes = {"bottom": ClassAxis("bottom"), "left": ClassAxis("left")}
        self.plot = self.graphics.addPlot(row=0, col=0, axisItems=self.axes)
        _style_plot(self.plot)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.plot.setLabel("bottom", "predicted class", color=TEXT)
        self.plot.setLabel("left", "true class", color=TEXT)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self._cmap = pg.ColorMap([0.0, 1.0], [QColor("#ffffff"), QColor("#1f4e8c")])
        self._texts: list[pg.TextItem] = []
        self._n = 0
        self.caption = LiveLabel("100,000 of 100,000 samples right (100.0 %)",
                                 align=Qt.AlignmentFlag.AlignLeft)
        self.caption.setToolTip("Rows are the true classes, columns the predicted ones; a "
                                "cell's shade is its share of the row.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.caption)
        self.matrix: np.ndarray | None = None
        self.names: tuple[str, ...] = ()
        # Every class in view again whenever the view changes size (with the aspect
        # locked, a range set on one axis at a time can crop the other).
        self.plot.getViewBox().sigResized.connect(self._show_all)
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.set_classes(())

    def set_classes(self, names: tuple[str, ...]) -> None:
        """Label the axes with ``names`` and forget the old counts."""
        for item in self._texts:
            self.plot.removeItem(item)
        self._texts = []
        self.matrix = None
        self._dark: np.ndarray | None = None
        self.image.clear()
        self._n = n = len(names)
        self.names = tuple(str(name) for name in names)
        for axis in self.axes.values():
            axis.set_names(self.names)
        self._show_all()
        font = QFont()
        font.setPointSizeF(9.0 if n <= 10 else 7.0)
        for i in range(n):
            for j in range(n):
                text = pg.TextItem("", color=TEXT, anchor=(0.5, 0.5))
                text.setFont(font)
                text.setPos(j, i)
                self.plot.addItem(text)
                self._texts.append(text)
        self.caption.setText("Waiting for the first evaluation…" if n else "")

    def _show_all(self, *_args) -> None:
        """Every class in view: both ranges set at once, so the locked aspect widens
        one of them rather than cropping it."""
        n = self._n
        if n:
            self.plot.getViewBox().setRange(xRange=(-0.5, n - 0.5), yRange=(-0.5, n - 0.5),
                                            padding=0.02)

    def cell_text(self, true: int, predicted: int) -> str:
        """What hovering over a cell says: the full class names and the count."""
        names = self.names
        text = f"true: {names[true]}\npredicted: {names[predicted]}"
        if self.matrix is not None:
            count = int(self.matrix[true, predicted])
            text += f"\n{plural(count, 'sample')}"
        return text

    def _on_mouse_moved(self, pos: QPointF) -> None:
        """Tooltips with the full class names: over a cell, over a column's label or
        over a row's label."""
        n = self._n
        tip = ""
        if n:
            vb = self.plot.getViewBox()
            p = vb.mapSceneToView(pos)
            col, row = int(round(p.x())), int(round(p.y()))
            in_col, in_row = 0 <= col < n, 0 <= row < n
            if vb.sceneBoundingRect().contains(pos):
                if in_col and in_row:
                    tip = self.cell_text(row, col)
            elif self.axes["bottom"].sceneBoundingRect().contains(pos) and in_col:
                tip = f"predicted: {self.names[col]}"
            elif self.axes["left"].sceneBoundingRect().contains(pos) and in_row:
                tip = f"true: {self.names[row]}"
        if tip != self.graphics.toolTip():
            self.graphics.setToolTip(tip)

    def set_confusion(self, matrix: np.ndarray) -> None:
        """Show counts (n, n); a matrix of another size than the class list is ignored."""
        matrix = np.asarray(matrix)
        n = self._n
        if matrix.shape != (n, n) or n == 0:
            return
        old = self.matrix
        if old is not None and np.array_equal(old, matrix):
            return
        self.matrix = matrix.copy()
        rows = matrix.sum(axis=1, keepdims=True)
        share = np.divide(matrix, rows, out=np.zeros(matrix.shape), where=rows > 0)
        self.image.setImage(np.ascontiguousarray(self._cmap.map(share, mode="byte")),
                            autoLevels=False)
        self.image.setRect(QRectF(-0.5, -0.5, n, n))
        dark = share > 0.55
        old_dark = self._dark
        self._dark = dark
        # Only the cells that changed: a hundred text items cost milliseconds to reset.
        for k, text in enumerate(self._texts):
            i, j = divmod(k, n)
            if old is None or old[i, j] != matrix[i, j]:
                text.setText(str(int(matrix[i, j])))
            if old_dark is None or old_dark[i, j] != dark[i, j]:
                text.setColor("#ffffff" if dark[i, j] else TEXT)
        total = int(matrix.sum())
        correct = int(np.trace(matrix))
        acc = 100.0 * correct / total if total else 0.0
        self.caption.setText(f"{correct:,} of {plural(total, 'sample')} right ({acc:.1f} %)")


class ModelView(QWidget):
    """The view that fits the dataset (see :func:`view_kind`), or a short message saying
    why there is none. Feed it the newest surface, fit or confusion counts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.surface_view = SurfaceView()
        self.fit_view = FitView()
        self.confusion_view = ConfusionView()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setStyleSheet(f"color: {TEXT}; padding: 12px;")
        self.title = QLabel()
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setStyleSheet(f"color: {TEXT}; font-weight: bold;")
        self.stack = QStackedWidget()
        for w in (self.message, self.surface_view, self.fit_view, self.confusion_view):
            self.stack.addWidget(w)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.stack, 1)
        self.kind = "none"
        self.set_dataset(None)

    def set_dataset(self, dataset) -> None:
        """Choose the view for ``dataset`` (a core Dataset or None) and clear it."""
        self.kind = kind = view_kind(dataset)
        if kind == "surface":
            self.surface_view.set_dataset(dataset)
            self.title.setText("Decision boundary" if dataset.task == "classification"
                               else "Prediction over the input plane")
            self.stack.setCurrentWidget(self.surface_view)
        elif kind == "fit":
            self.fit_view.set_dataset(dataset)
            self.title.setText("Fitted curve")
            self.stack.setCurrentWidget(self.fit_view)
        elif kind == "confusion":
            self.confusion_view.set_classes(tuple(dataset.class_names))
            self.title.setText("Confusion matrix")
            self.stack.setCurrentWidget(self.confusion_view)
        else:
            self.title.setText("Model")
            if dataset is None:
                text = "No dataset: nothing to show the model's predictions on."
            else:
                text = (f"No picture of the model for a regression on "
                        f"{plural(dataset.x_train_raw.shape[1], 'input')}: the loss and R² "
                        "curves "
                        "tell how well it fits.")
            self.message.setText(text)
            self.stack.setCurrentWidget(self.message)

    def set_surface(self, surface: SurfaceGrid) -> None:
        if self.kind == "surface":
            self.surface_view.set_surface(surface)

    def set_fit(self, fit: FitCurve) -> None:
        if self.kind == "fit":
            self.fit_view.set_fit(fit)

    def set_confusion(self, matrix: np.ndarray) -> None:
        if self.kind == "confusion":
            self.confusion_view.set_confusion(matrix)
