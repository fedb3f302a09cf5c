"""Live training plots: loss, accuracy or R², per-layer gradient norms, weight norms and
update ratios, and the model view (decision boundary, fitted curve or confusion matrix).

:class:`TrainingPlots` receives ``core.training.progress.ProgressBatch`` objects from the
controller. ``add_batch`` only appends to bounded
:class:`~gui.training.plot_buffers.DecimatingBuffer` histories and marks what changed; a timer
redraws at most about thirty times a second,
only what changed and only on the visible page, and every curve is handed a fixed number
of points, so a redraw costs the same after a thousand steps as after a million. The loss
keeps each bucket's minimum and maximum (spikes stay visible); the per-layer figures, ten
noisy curves to a plot, show each bucket's geometric mean so their levels can be told
apart. Layer curves use ``gui.colors.series_color``,
the colours of the layer cards and the diagram.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QTabWidget,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from core.training.progress import ProgressBatch
from gui.colors import WARNING, series_color
from gui.training.live_label import LiveLabel
from gui.training.plot_buffers import DecimatingBuffer
from gui.training.prediction_views import ModelView
from gui.training.view_range import follow_range

__all__ = ["STATUS_TEXT", "TrainingPlots"]

TEXT = "#333333"
AXIS = "#888888"
BASELINE_COLOR = QColor("#555555")
BATCH_COLOR = QColor("#9DB9D8")  # light: the noisy per-step loss stays in the background
TRAIN_COLOR = QColor("#1F4E8C")
VAL_COLOR = QColor("#D55E00")
PENALTY_COLOR = QColor("#AA3377")
REFERENCE_COLOR = QColor("#777777")
HEALTHY_RATIO = 1e-3

REDRAW_MS = 33  # at most about 30 redraws a second
# Points handed to setData per curve. A plot is at most ~900 px wide; the multi-curve
# plots get fewer because ten log-scale curves cost ten times one (platform notes).
LOSS_POINTS = 1000
LAYER_POINTS = 400
EPOCH_POINTS = 300
# Painting cost, measured offscreen for ten curves of 400 points: 1.6 ms with 1 px pens,
# 8 ms at 1.6 px, 40-50 ms with thick dashed pens; a background grid added 10-20 ms per
# plot. Hence thin layer curves, no grid, and solid (not dashed) marks for warnings.
LAYER_WIDTH = 1.0
MARKED_WIDTH = 2.6
# Epoch curves show markers while there are few enough of them to tell apart.
MARKER_LIMIT = 60
# Points per layer of a pinned baseline run's gradient curves.
BASELINE_GRAD_POINTS = 200
# Buffer capacities (rows kept in memory, whatever the run's length).
LOSS_CAPACITY = 4000
DETAIL_CAPACITY = 2000
EPOCH_CAPACITY = 2000

STATUS_TEXT = {"vanishing": "⚠ vanishing", "exploding": "⚠ exploding"}
STATUS_HELP = {
    "vanishing": "The gradient reaching this layer is tiny, so its weights barely change.",
    "exploding": "The gradient reaching this layer is huge, so its updates overshoot.",
}

# Which redraw parts live on which tab page.
_PAGE_PARTS = ({"loss", "metric", "model"}, {"grad"}, {"weights"})
# Seconds between redraws of each part while training: the batch loss moves every frame;
# per-epoch figures and the model view change slowly, and each redraw of a plot costs a
# full repaint of it (milliseconds the trainer waits for).
_MIN_INTERVAL = {"loss": 0.0, "grad": 0.0, "weights": 0.1, "metric": 0.3, "model": 0.25}


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def decade_text(exponent: int) -> str:
    """``10**exponent`` written briefly: 0.01 … 1000 plainly, else as 10ⁿ."""
    if -2 <= exponent <= 3:
        return f"{10.0 ** exponent:g}"
    return "10" + str(exponent).translate(_SUPERSCRIPT)


class LogAxis(pg.AxisItem):
    """An axis whose log-mode labels are short (``10⁻⁶`` rather than ``1e-06``), so the
    tick labels never run into the axis title."""

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # noqa: N802, N803
        # pyqtgraph's minor level repeats the decades of the major level: drop them, or
        # their labels are drawn twice (and look bold).
        levels = super().logTickValues(minVal, maxVal, size, stdTicks)
        major = {round(v, 9) for spacing, values in levels if spacing is not None
                 for v in values}
        return [(spacing, [v for v in values if round(v, 9) not in major])
                if spacing is None else (spacing, values) for spacing, values in levels]

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        out = []
        for v in values:
            e = round(v)
            if abs(v - e) < 1e-6:
                out.append(decade_text(int(e)))
                continue
            # Minor ticks (only drawn when less than about two decades show): 2× and 5×.
            mantissa = 10.0 ** (v - np.floor(v))
            m = round(mantissa)
            if m in (2, 5) and abs(mantissa - m) < 1e-6:
                d = int(np.floor(v))
                out.append(f"{10.0 ** v:g}" if -2 <= d <= 2 else f"{m}·{decade_text(d)}")
            else:
                out.append("")
        return out


def _style_plot(widget: pg.PlotWidget, title: str) -> pg.PlotItem:
    plot = widget.getPlotItem()
    plot.setMenuEnabled(False)  # its log/transform toggles would bypass our own controls
    plot.setTitle(title, color=TEXT, size="10pt")
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(AXIS))
        axis.setTextPen(pg.mkPen(TEXT))
        # A "(x0.001)" scale in the title is easy to miss next to log-scale labels.
        axis.enableAutoSIPrefix(False)
        # Ticks outside the data area: an inward tick makes the axis overlap the view,
        # so every curve update would repaint the axes as well.
        axis.setStyle(tickLength=5)
    return plot


# ---------------------------------------------------------------------- legend


@dataclass
class LegendEntry:
    """One row of a :class:`Legend`: a line sample drawn with ``pen`` (and a marker when
    ``symbol`` is "filled" or "hollow") followed by ``text``."""

    key: str
    text: str
    pen: QPen
    symbol: str = ""
    tooltip: str = ""
    visible: bool = True
    hidden_curve: bool = field(default=False)


class Legend(QWidget):
    """A legend outside the plot, so it never covers a curve.

    Vertical legends list one entry per row (layers); horizontal ones flow entries on
    lines under a plot. With ``clickable`` a click on an entry hides or shows its curves
    (``toggled`` says which and whether it is now hidden).
    """

    toggled = Signal(str, bool)

    SAMPLE = 26
    GAP = 6

    def __init__(self, vertical: bool, clickable: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vertical = vertical
        self.clickable = clickable
        self.entries: list[LegendEntry] = []
        self._rects: list[tuple[QRectF, LegendEntry]] = []
        if vertical:
            self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        else:
            self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(clickable)

    # ---------------------------------------------------------------- content
    def set_entries(self, entries: list[LegendEntry]) -> None:
        self.entries = entries
        self._changed()

    def entry(self, key: str) -> LegendEntry | None:
        return next((e for e in self.entries if e.key == key), None)

    def set_visible_entry(self, key: str, visible: bool) -> None:
        e = self.entry(key)
        if e is not None and e.visible != visible:
            e.visible = visible
            self._changed()

    def _changed(self) -> None:
        self.updateGeometry()
        self._relayout()
        self.update()

    # ----------------------------------------------------------------- layout
    def _row_height(self) -> int:
        return QFontMetrics(self.font()).height() + 4

    def _entry_width(self, e: LegendEntry) -> int:
        return self.SAMPLE + self.GAP + QFontMetrics(self.font()).horizontalAdvance(e.text)

    def _shown(self) -> list[LegendEntry]:
        return [e for e in self.entries if e.visible]

    def _positions(self, width: int) -> list[tuple[QRectF, LegendEntry]]:
        h = self._row_height()
        out = []
        x = y = 0
        for e in self._shown():
            w = self._entry_width(e)
            if self.vertical:
                out.append((QRectF(0, y, max(w, width), h), e))
                y += h
                continue
            if x and x + w > width:
                x, y = 0, y + h
            out.append((QRectF(x, y, w, h), e))
            x += w + 3 * self.GAP
        return out

    def _relayout(self) -> None:
        self._rects = self._positions(max(self.width(), 1))
        if not self.vertical:
            rows = {r.top() for r, _ in self._rects}
            self.setFixedHeight(max(len(rows), 1) * self._row_height())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._relayout()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        shown = self._shown()
        h = self._row_height()
        if self.vertical:
            w = max((self._entry_width(e) for e in shown), default=60)
            return QSize(w + 8, h * max(len(shown), 1))
        w = sum(self._entry_width(e) + 3 * self.GAP for e in shown)
        return QSize(w, h)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        if self.vertical:
            return self.sizeHint()
        return QSize(60, self._row_height())

    # ------------------------------------------------------------------ paint
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = QFontMetrics(self.font())
        for rect, e in self._rects:
            y = rect.center().y()
            pen = QPen(e.pen)
            pen.setCosmetic(True)
            if e.hidden_curve:
                pen.setColor(QColor("#cccccc"))
            painter.setPen(pen)
            x0 = rect.left() + 1
            painter.drawLine(QPointF(x0, y), QPointF(x0 + self.SAMPLE - 2, y))
            if e.symbol:
                painter.setPen(QPen(pen.color(), 1.4))
                painter.setBrush(pen.color() if e.symbol == "filled" else QColor("#ffffff"))
                painter.drawEllipse(QPointF(x0 + (self.SAMPLE - 2) / 2, y), 3.5, 3.5)
            painter.setPen(QColor("#aaaaaa" if e.hidden_curve else TEXT))
            text_x = rect.left() + self.SAMPLE + self.GAP
            text = fm.elidedText(e.text, Qt.TextElideMode.ElideMiddle,
                                 int(max(self.width() - text_x, 10)))
            painter.drawText(QRectF(text_x, rect.top(), self.width() - text_x, rect.height()),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
        painter.end()

    # ------------------------------------------------------------------ mouse
    def _entry_at(self, pos: QPointF) -> LegendEntry | None:
        return next((e for r, e in self._rects if r.contains(pos)), None)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        e = self._entry_at(event.position()) if self.clickable else None
        if e is None:
            super().mousePressEvent(event)
            return
        e.hidden_curve = not e.hidden_curve
        self.update()
        self.toggled.emit(e.key, e.hidden_curve)

    def event(self, event) -> bool:
        if event.type() == event.Type.ToolTip:
            e = self._entry_at(QPointF(event.pos()))
            tip = (e.tooltip or e.text) if e is not None else self.toolTip()
            if tip:
                QToolTip.showText(event.globalPos(), tip, self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)


# ------------------------------------------------------------------- the widget


class TrainingPlots(QWidget):
    """Every live plot of a training run, on three tab pages.

    Feed it ``start_run(...)`` once per run, then every ``ProgressBatch``. See the module
    docstring for the redraw policy.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layer_names: tuple[str, ...] = ()
        self.layer_labels: tuple[str, ...] = ()
        self.task = "classification"
        self.dataset = None
        self._statuses: dict[str, str] = {}
        self._hidden_layers: set[str] = set()
        self._dirty: set[str] = set()
        self._steps_per_epoch = 0.0
        self._penalty_seen = False
        self._last_step = 0
        self._last_epoch = 0
        self._model_pending: dict[str, object] = {}

        self._build_toolbar()
        self._build_loss_page()
        self._build_grad_page()
        self._build_weights_page()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._loss_page, "Loss and model")
        self.tabs.addTab(self._grad_page, "Gradients")
        self.tabs.addTab(self._weights_page, "Weights and updates")
        self.tabs.setTabToolTip(0, "Loss, accuracy or R², and what the model predicts now.")
        self.tabs.setTabToolTip(1, "How large the gradient reaching each layer is: the "
                                   "place to spot vanishing or exploding gradients.")
        self.tabs.setTabToolTip(2, "How large each layer's weights are and how much one "
                                   "step changes them, relative to their size.")
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(self._toolbar)
        layout.addWidget(self.tabs, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

        self._loss_buf = DecimatingBuffer(LOSS_CAPACITY, 2)  # loss, penalty
        self._epoch_buf = DecimatingBuffer(EPOCH_CAPACITY, 5)  # step, losses, metrics
        self._detail_buf = DecimatingBuffer(DETAIL_CAPACITY, 3)
        self._axis_labels: dict[tuple[int, str], object] = {}
        self._following: dict[int, bool] = {}
        self._ranges: dict[int, tuple[float, float, float, float]] = {}
        self._markers: dict[int, bool] = {}  # curve id -> drawn with markers
        self.baseline_grad_curves: list[pg.PlotDataItem] = []
        self._drawn_at: dict[str, float] = {}
        self._epoch_drawn = -1  # epoch-buffer appends at the last epoch-curve update
        # True while a training run calls redraw_visible() each frame: the widget's own
        # timer then stays off, so the plots are redrawn once per frame, not twice.
        self.driven = False
        self.start_run((), (), "classification", None)

    # ------------------------------------------------------------------ build
    def _build_toolbar(self) -> None:
        self.epoch_axis_box = QCheckBox("x axis in epochs")
        self.epoch_axis_box.setToolTip("Plot against epochs (passes over the training set) "
                                       "instead of steps (mini-batches).")
        self.epoch_axis_box.toggled.connect(self._on_epoch_axis_toggled)
        self.log_loss_box = QCheckBox("log-scale loss")
        self.log_loss_box.setToolTip("Show the loss on a logarithmic axis, where slow "
                                     "late progress is still visible.")
        self.log_loss_box.toggled.connect(self._on_log_loss_toggled)
        # Samples per second are in the status bar; a wider label would squeeze the editor.
        self.summary = LiveLabel("step 10,000,000 · epoch 100,000",
                                 align=Qt.AlignmentFlag.AlignRight)
        self.summary.setStyleSheet(f"color: {TEXT};")
        self.summary.setToolTip("The newest step and epoch received from the trainer.")
        self._toolbar = QHBoxLayout()
        self._toolbar.setContentsMargins(2, 0, 2, 0)
        self._toolbar.addWidget(self.epoch_axis_box)
        self._toolbar.addWidget(self.log_loss_box)
        self._toolbar.addStretch(1)
        self._toolbar.addWidget(self.summary)

    def _new_plot(self, title: str) -> tuple[pg.PlotWidget, pg.PlotItem]:
        widget = pg.PlotWidget(background="w", axisItems={"left": LogAxis("left")})
        # Qt widens each repainted area by 2 px for antialiasing, which reaches into the
        # axes beside the data area; our curves are drawn without antialiasing.
        widget.setOptimizationFlag(
            QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        widget.setMinimumSize(200, 120)
        plot = _style_plot(widget, title)
        # The plot follows its data (see _follow) until the user pans or zooms; the
        # plot's "A" button returns to following.
        key = id(plot)
        plot.getViewBox().sigRangeChangedManually.connect(
            lambda *_a, k=key: self._following.__setitem__(k, False))
        plot.autoBtn.clicked.connect(lambda *_a, k=key: self._resume_following(k))
        return widget, plot

    def _resume_following(self, key: int) -> None:
        self._following[key] = True
        self._ranges.pop(key, None)

    def _follow(self, plot: pg.PlotItem) -> None:
        """Fit the view to the visible curves ourselves, before painting (pyqtgraph's
        auto-range would do it while painting and then paint a second time), and only
        when the data outgrows the view (see ``view_range``)."""
        key = id(plot)
        if not self._following.get(key, True):
            return
        xs: list[float] = []
        ys: list[float] = []
        for item in plot.listDataItems():
            if not item.isVisible():
                continue
            bx, by = item.dataBounds(0), item.dataBounds(1)
            if bx is None or by is None or None in bx or None in by:
                continue
            xs += [float(v) for v in bx]
            ys += [float(v) for v in by]
        finite = [v for v in xs + ys if np.isfinite(v)]
        if len(finite) < len(xs) + len(ys) or not xs:
            return
        rng = follow_range((min(xs), max(xs), min(ys), max(ys)), self._ranges.get(key))
        if rng is None:
            return
        self._ranges[key] = rng
        x0, x1, y0, y1 = rng
        plot.getViewBox().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def _build_loss_page(self) -> None:
        self.loss_widget, self.loss_plot = self._new_plot("Loss")
        self.loss_plot.setLabel("left", "loss", color=TEXT)
        self.batch_curve = self.loss_plot.plot(pen=pg.mkPen(BATCH_COLOR, width=1))
        self.penalty_curve = self.loss_plot.plot(
            pen=pg.mkPen(PENALTY_COLOR, width=1, style=Qt.PenStyle.DashLine))
        self.train_loss_curve = self.loss_plot.plot(pen=pg.mkPen(TRAIN_COLOR, width=2))
        self.val_loss_curve = self.loss_plot.plot(pen=pg.mkPen(VAL_COLOR, width=2))
        # A pinned baseline run, drawn dashed under the live run (set_baseline).
        baseline_pen = pg.mkPen(BASELINE_COLOR, width=1.5, style=Qt.PenStyle.DashLine)
        self.baseline_loss_curve = self.loss_plot.plot(pen=baseline_pen)
        self.baseline_loss_curve.setZValue(-5)
        self.loss_legend = Legend(vertical=False)
        self.loss_legend.set_entries([
            LegendEntry("batch", "batch loss (each step)", pg.mkPen(BATCH_COLOR, width=2),
                        tooltip="The loss of each mini-batch as it was trained on: noisy."),
            LegendEntry("train", "training loss (epoch)", pg.mkPen(TRAIN_COLOR, width=2),
                        "filled", "The loss on the whole training set after each epoch."),
            LegendEntry("val", "validation loss (epoch)", pg.mkPen(VAL_COLOR, width=2),
                        "hollow", "The loss on the held-out validation set after each "
                                  "epoch: rising while training loss falls means "
                                  "overfitting."),
            LegendEntry("penalty", "weight penalty (L1/L2)", pg.mkPen(PENALTY_COLOR, width=1,
                                                             style=Qt.PenStyle.DashLine),
                        tooltip="The weight penalty added to the loss, shown on its own.",
                        visible=False),
        ])
        self.metric_widget, self.metric_plot = self._new_plot("Accuracy")
        self.train_metric_curve = self.metric_plot.plot(pen=pg.mkPen(TRAIN_COLOR, width=2))
        self.val_metric_curve = self.metric_plot.plot(pen=pg.mkPen(VAL_COLOR, width=2))
        self.baseline_metric_curve = self.metric_plot.plot(
            pen=pg.mkPen(BASELINE_COLOR, width=1.5, style=Qt.PenStyle.DashLine))
        self.baseline_metric_curve.setZValue(-5)
        self.metric_legend = Legend(vertical=False)
        self.metric_legend.set_entries([
            LegendEntry("train", "training", pg.mkPen(TRAIN_COLOR, width=2), "filled"),
            LegendEntry("val", "validation", pg.mkPen(VAL_COLOR, width=2), "hollow"),
        ])
        self.model_view = ModelView()

        left = QVBoxLayout()
        left.setSpacing(2)
        left.addWidget(self.loss_widget, 3)
        left.addWidget(self.loss_legend)
        left.addSpacing(4)
        left.addWidget(self.metric_widget, 2)
        left.addWidget(self.metric_legend)
        self._loss_page = QWidget()
        row = QHBoxLayout(self._loss_page)
        row.setContentsMargins(0, 4, 0, 0)
        row.addLayout(left, 11)
        row.addWidget(self.model_view, 9)

    def _layer_legend(self) -> Legend:
        legend = Legend(vertical=True, clickable=True)
        legend.setToolTip("Click a layer to hide or show its curves.")
        legend.toggled.connect(self._on_legend_toggled)
        return legend

    def _build_grad_page(self) -> None:
        self.hint_label = QLabel()
        self.hint_label.setWordWrap(True)
        self.hint_label.setStyleSheet(
            f"background: #FDF2E0; border: 1px solid {WARNING.name()}; border-radius: 3px;"
            f" padding: 4px 6px; color: {TEXT};")
        self.hint_label.hide()
        self.grad_widget, self.grad_plot = self._new_plot(
            "Gradient norm per layer ‖∂L/∂W‖₂")
        self.grad_plot.setLogMode(y=True)
        self.grad_plot.setLabel("left", "gradient L2 norm", color=TEXT)
        self.grad_legend = self._layer_legend()
        self._grad_page = QWidget()
        page = QVBoxLayout(self._grad_page)
        page.setContentsMargins(0, 4, 0, 0)
        page.addWidget(self.hint_label)
        row = QHBoxLayout()
        row.addWidget(self.grad_widget, 1)
        row.addWidget(self.grad_legend)
        page.addLayout(row, 1)

    def _build_weights_page(self) -> None:
        self.weight_widget, self.weight_plot = self._new_plot("Weight norm per layer ‖W‖₂")
        self.weight_plot.setLogMode(y=True)
        self.weight_plot.setLabel("left", "weight L2 norm", color=TEXT)
        self.ratio_widget, self.ratio_plot = self._new_plot(
            "Update-to-weight ratio ‖ΔW‖ / ‖W‖ per step")
        self.ratio_plot.setLogMode(y=True)
        self.ratio_plot.setLabel("left", "ratio", color=TEXT)
        # In log mode the plot's y coordinate is log10 of the value.
        self.ratio_reference = pg.InfiniteLine(
            pos=np.log10(HEALTHY_RATIO), angle=0, movable=False,
            pen=pg.mkPen(REFERENCE_COLOR, width=1, style=Qt.PenStyle.DashLine),
            label="10⁻³: a healthy ratio", labelOpts={
                "position": 0.98, "color": "#555555", "anchors": [(1, 1), (1, 1)],
                "fill": pg.mkBrush(255, 255, 255, 235)})
        self.ratio_reference.setZValue(20)  # its label stays readable above the curves
        self.ratio_plot.addItem(self.ratio_reference, ignoreBounds=True)
        self.weights_legend = self._layer_legend()
        self._weights_page = QWidget()
        row = QHBoxLayout(self._weights_page)
        row.setContentsMargins(0, 4, 0, 0)
        col = QVBoxLayout()
        col.addWidget(self.weight_widget, 1)
        col.addWidget(self.ratio_widget, 1)
        row.addLayout(col, 1)
        row.addWidget(self.weights_legend)

    # ------------------------------------------------------------------- runs
    def start_run(self, layer_names: tuple[str, ...], layer_labels: tuple[str, ...],
                  task: str, dataset) -> None:
        """Forget the previous run and prepare curves for ``layer_names`` (runtime names
        of the layers with parameters) labelled ``layer_labels``; ``dataset`` (a core
        Dataset or None) chooses and fills the model view."""
        if len(layer_labels) != len(layer_names):
            layer_labels = tuple(layer_names)
        self.layer_names = tuple(layer_names)
        self.layer_labels = tuple(layer_labels)
        self._axis_labels = {}
        self._following = {}
        self._ranges = {}
        self._drawn_at = {}
        self._epoch_drawn = -1
        self.task = task
        self.dataset = dataset
        self._statuses = {}
        self._hidden_layers = set()
        self._steps_per_epoch = 0.0
        self._penalty_seen = False
        self._last_step = self._last_epoch = 0
        self._model_pending = {}
        n = len(self.layer_names)
        self._loss_buf.clear()
        self._epoch_buf.clear()
        if self._detail_buf.columns != max(3 * n, 1):
            self._detail_buf = DecimatingBuffer(DETAIL_CAPACITY, max(3 * n, 1))
        self._detail_buf.clear()

        for plot in (self.grad_plot, self.weight_plot, self.ratio_plot):
            for item in list(plot.listDataItems()):
                plot.removeItem(item)
        self.grad_curves: dict[str, pg.PlotDataItem] = {}
        self.weight_curves: dict[str, pg.PlotDataItem] = {}
        self.ratio_curves: dict[str, pg.PlotDataItem] = {}
        for i, name in enumerate(self.layer_names):
            pen = self._layer_pen(i, "ok")
            self.grad_curves[name] = self.grad_plot.plot(pen=pen)
            self.weight_curves[name] = self.weight_plot.plot(pen=pen)
            self.ratio_curves[name] = self.ratio_plot.plot(pen=pen)
        self._refresh_layer_legends()
        self.baseline_grad_curves = []  # removed with the other curves just above
        self._draw_baseline()

        metric = "R²" if task == "regression" else "Accuracy"
        self.metric_plot.setTitle(metric, color=TEXT, size="10pt")
        self.metric_plot.setLabel("left", "R² (1 is a perfect fit)" if task == "regression"
                                  else "accuracy", color=TEXT)
        self.loss_legend.set_visible_entry("penalty", False)
        # A validation share of 0: no validation curves, so no legend entries for them.
        has_val = dataset is None or getattr(dataset, "x_val", np.zeros((1, 1))).shape[0] > 0
        self.loss_legend.set_visible_entry("val", has_val)
        self.metric_legend.set_visible_entry("val", has_val)
        self.model_view.set_dataset(dataset)
        self.set_hint("")
        self.summary.setText("")
        self._update_tab_titles()
        self._dirty = {"loss", "metric", "grad", "weights"}
        self.redraw()

    def add_batch(self, batch: ProgressBatch) -> None:
        """Append ``batch`` to the histories (cheap: no drawing). Surface, fit, confusion
        counts and epoch figures in the batch replace the previous ones."""
        if batch.steps.size:
            self._loss_buf.append(batch.steps, np.column_stack([batch.losses,
                                                                batch.penalties]))
            if not self._penalty_seen and np.any(batch.penalties != 0):
                self._penalty_seen = True
            self._last_step = int(batch.steps[-1])
            self._last_epoch = int(batch.epochs[-1]) + 1  # 1-based: the epoch running
            self._dirty.add("loss")
        n = len(self.layer_names)
        if batch.detail_steps.size and n and batch.grad_norms.shape[1:] == (n,):
            values = np.hstack([batch.grad_norms, batch.weight_norms, batch.update_ratios])
            # Kept as logarithms: bucket means become geometric means, the right average
            # for figures spanning orders of magnitude; zero has none (NaN: a gap).
            logs = np.log10(values, out=np.full(values.shape, np.nan), where=values > 0)
            self._detail_buf.append(batch.detail_steps, logs)
            self._dirty |= {"grad", "weights"}
        if batch.epoch_snapshots:
            snaps = batch.epoch_snapshots
            self._epoch_buf.append(
                np.array([s.epoch for s in snaps], dtype=np.float64),
                np.array([(s.step, s.train_loss, s.val_loss, s.train_metric, s.val_metric)
                          for s in snaps], dtype=np.float64))
            last = snaps[-1]
            if last.epoch > 0 and last.step > 0:
                self._steps_per_epoch = last.step / last.epoch
            self._dirty |= {"loss", "metric", "grad", "weights"}
        # The newest model figures replace older ones; they are drawn on the next redraw.
        for key in ("surface", "fit", "confusion"):
            value = getattr(batch, key)
            if value is not None:
                self._model_pending[key] = value
                self._dirty.add("model")
        if batch.steps.size or batch.epoch_snapshots:
            self.summary.setText(f"step {self._last_step:,} · epoch {self._last_epoch:,}")
        if self._dirty and not self._timer.isActive() and not self.driven:
            self._timer.start()

    # --------------------------------------------------------------- baseline
    def set_baseline(self, record) -> None:
        """Show a recorded run (``core.records.record.RunRecord``, or None to clear) dashed under
        the live curves: its batch loss per step, its validation metric per epoch, and
        each layer's gradient norm (in that layer's colour)."""
        self.baseline = record
        self._draw_baseline()
        self._ranges.clear()  # refit the views to include it (or to forget it)

    def _draw_baseline(self) -> None:
        record = getattr(self, "baseline", None)
        for curve in self.baseline_grad_curves:
            self.grad_plot.removeItem(curve)
        self.baseline_grad_curves = []
        if record is None or len(record.loss_curve) == 0:
            self.baseline_loss_curve.setData([], [])
            self.baseline_metric_curve.setData([], [])
            return
        x, _label = self._steps_to_x(record.loss_curve[:, 0])
        self.baseline_loss_curve.setData(x, record.loss_curve[:, 1])
        rows = [(r["step"], r["val_metric"]) for r in record.history
                if np.isfinite(r["val_metric"])]
        if rows:
            steps, values = (np.array(v, dtype=np.float64) for v in zip(*rows, strict=True))
            self.baseline_metric_curve.setData(self._steps_to_x(steps)[0], values)
        else:
            self.baseline_metric_curve.setData([], [])
        grads = record.grad_curves
        if grads.shape[0] and grads.shape[1] > 1:
            # Thinned: these are redrawn with the live curves every frame.
            rows_kept = grads[::max(1, grads.shape[0] // BASELINE_GRAD_POINTS)]
            gx = self._steps_to_x(rows_kept[:, 0])[0]
            for i in range(grads.shape[1] - 1):
                y = rows_kept[:, 1 + i]
                y = np.where(y > 0, y, np.nan)  # log axis: no zero or negative norms
                pen = pg.mkPen(series_color(i), width=1, style=Qt.PenStyle.DashLine)
                curve = self.grad_plot.plot(gx, y, pen=pen, connect="finite")
                curve.setZValue(-5)
                self.baseline_grad_curves.append(curve)

    # ------------------------------------------------------------ diagnostics
    def set_diagnostics(self, statuses: dict[str, str]) -> None:
        """Mark layers: ``statuses`` maps a layer name to "ok", "vanishing" or
        "exploding"; marked curves get a thick pen (solid: thick dashed pens cost tens of
        milliseconds per redraw) and their legend label says why. Layers left out count
        as "ok"."""
        self._statuses = {k: v for k, v in statuses.items()
                          if k in self.layer_names and v in STATUS_TEXT}
        for i, name in enumerate(self.layer_names):
            pen = self._layer_pen(i, self._statuses.get(name, "ok"))
            for curves in (self.grad_curves, self.weight_curves, self.ratio_curves):
                curves[name].setPen(pen)
        self._refresh_layer_legends()
        self._update_tab_titles()

    def set_hint(self, text: str) -> None:
        """Show ``text`` above the gradient plot; an empty text hides the line."""
        self.hint_label.setText(text)
        self.hint_label.setVisible(bool(text))

    def legend_label(self, name: str) -> str:
        """The gradient legend's text for layer ``name`` (with its warning, if any)."""
        e = self.grad_legend.entry(name)
        return e.text if e is not None else ""

    def _layer_pen(self, index: int, status: str) -> QPen:
        color = series_color(index)
        if status in STATUS_TEXT:
            return pg.mkPen(color, width=MARKED_WIDTH)
        return pg.mkPen(color, width=LAYER_WIDTH)

    def _refresh_layer_legends(self) -> None:
        for legend in (self.grad_legend, self.weights_legend):
            entries = []
            for i, (name, label) in enumerate(zip(self.layer_names, self.layer_labels,
                                                  strict=True)):
                status = self._statuses.get(name, "ok")
                text = f"{label} {STATUS_TEXT[status]}" if status in STATUS_TEXT else label
                tip = f"{label}: {STATUS_HELP[status]}" if status in STATUS_HELP else label
                entries.append(LegendEntry(name, text, self._layer_pen(i, status),
                                           tooltip=tip + "\nClick to hide or show.",
                                           hidden_curve=name in self._hidden_layers))
            legend.set_entries(entries)

    def _update_tab_titles(self) -> None:
        warn = any(v in STATUS_TEXT for v in self._statuses.values())
        self.tabs.setTabText(1, "Gradients ⚠" if warn else "Gradients")

    # --------------------------------------------------------------- x axis
    @property
    def x_axis(self) -> str:
        """"step" or "epoch": what the horizontal axes count."""
        return "epoch" if self.epoch_axis_box.isChecked() else "step"

    def set_x_axis(self, axis: str) -> None:
        if axis not in ("step", "epoch"):
            raise ValueError(f"x axis must be 'step' or 'epoch', got {axis!r}")
        self.epoch_axis_box.setChecked(axis == "epoch")

    @property
    def log_loss(self) -> bool:
        return self.log_loss_box.isChecked()

    def set_log_loss(self, on: bool) -> None:
        self.log_loss_box.setChecked(on)

    def _on_epoch_axis_toggled(self, _checked: bool) -> None:
        self._draw_baseline()
        self._dirty |= {"loss", "metric", "grad", "weights"}
        self.redraw()

    def _on_log_loss_toggled(self, checked: bool) -> None:
        self.loss_plot.setLogMode(y=checked)
        self._resume_following(id(self.loss_plot))
        self._dirty.add("loss")
        self.redraw()

    def _steps_to_x(self, steps: np.ndarray) -> tuple[np.ndarray, str]:
        """Map step numbers to the x axis; returns (x, axis label)."""
        if self.x_axis == "epoch":
            if self._steps_per_epoch > 0:
                return steps / self._steps_per_epoch, "epoch"
            return steps, "step (epoch length known after the first epoch)"
        return steps, "step"

    # ----------------------------------------------------------------- redraw
    def history_points(self) -> int:
        """Rows held by all history buffers (bounded whatever the run's length)."""
        return len(self._loss_buf) + len(self._epoch_buf) + len(self._detail_buf)

    def history_bytes(self) -> int:
        """Memory of the history buffers (constant for a given number of layers)."""
        return self._loss_buf.nbytes + self._epoch_buf.nbytes + self._detail_buf.nbytes

    def drawn_points(self) -> dict[str, int]:
        """Points last handed to each curve, by curve name (for tests)."""
        out = {"batch": self.batch_curve, "penalty": self.penalty_curve,
               "train_loss": self.train_loss_curve, "val_loss": self.val_loss_curve,
               "train_metric": self.train_metric_curve, "val_metric": self.val_metric_curve}
        for prefix, curves in (("grad", self.grad_curves), ("weight", self.weight_curves),
                               ("ratio", self.ratio_curves)):
            out.update({f"{prefix}:{k}": c for k, c in curves.items()})
        return {k: 0 if c.xData is None else len(c.xData) for k, c in out.items()}

    def redraw(self) -> None:
        """Redraw everything that changed since the last redraw, on every page."""
        self._redraw(set(self._dirty))

    def redraw_visible(self) -> None:
        """Redraw what changed on the visible page now (Qt paints the changed views in
        the event loop's next pass)."""
        if not self.isVisible():
            return
        self._timer.stop()
        now = time.perf_counter()
        due = {part for part in self._dirty & _PAGE_PARTS[self.tabs.currentIndex()]
               if now - self._drawn_at.get(part, 0.0) >= _MIN_INTERVAL[part]}
        for part in due:
            self._drawn_at[part] = now
        self._redraw(due)

    def _on_timer_timeout(self) -> None:
        if not self.isVisible():
            return  # showEvent redraws when the widget appears
        self._redraw(self._dirty & _PAGE_PARTS[self.tabs.currentIndex()])

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._dirty:
            self._timer.start()

    def _on_tabs_current_changed(self, index: int) -> None:
        if self._dirty & _PAGE_PARTS[index]:
            self._timer.start()

    def _redraw(self, parts: set[str]) -> None:
        if "loss" in parts:
            self._redraw_loss()
        if "metric" in parts:
            self._redraw_metric()
        if "grad" in parts or "weights" in parts:
            self._redraw_layers(parts)
        if "model" in parts:
            pending, self._model_pending = self._model_pending, {}
            if "surface" in pending:
                self.model_view.set_surface(pending["surface"])
            if "fit" in pending:
                self.model_view.set_fit(pending["fit"])
            if "confusion" in pending:
                self.model_view.set_confusion(pending["confusion"])
        follow = {"loss": (self.loss_plot,), "grad": (self.grad_plot,),
                  "weights": (self.weight_plot, self.ratio_plot)}
        for part in parts:
            for plot in follow.get(part, ()):
                self._follow(plot)
                # Settle the view's transform and axes now: done during the paint, it
                # changes the scene again and Qt paints the plot a second time.
                plot.scene().prepareForPaint()
        self._dirty -= parts

    def _epoch_xy(self) -> tuple[np.ndarray, np.ndarray]:
        ex, ey = self._epoch_buf.xy(EPOCH_POINTS)
        x = ex if self.x_axis == "epoch" and self._steps_per_epoch > 0 else ey[:, 0]
        return x, ey

    def _set_epoch_curve(self, curve: pg.PlotDataItem, x: np.ndarray, y: np.ndarray,
                         color: QColor, filled: bool) -> None:
        finite = np.isfinite(y)
        x, y = x[finite], y[finite]
        markers = len(x) <= MARKER_LIMIT
        # Symbol options only when they change: setting them re-renders every marker.
        if self._markers.get(id(curve)) != markers:
            self._markers[id(curve)] = markers
            if markers:
                curve.setSymbolPen(pg.mkPen(color, width=1.4))
                curve.setSymbolBrush(color if filled else QColor("#ffffff"))
                curve.setSymbolSize(6)
                curve.setSymbol("o")
            else:
                curve.setSymbol(None)
        curve.setData(x, y)

    def _set_axis_label(self, plot: pg.PlotItem, side: str, text: str) -> None:
        # setLabel re-lays the whole plot out and repaints it: only when the text changes.
        key = (id(plot), side)
        if self._axis_labels.get(key) != text:
            self._axis_labels[key] = text
            plot.setLabel(side, text, color=TEXT)

    def _set_y_range(self, plot: pg.PlotItem, lo: float, hi: float) -> None:
        key = (id(plot), "yrange")
        if self._axis_labels.get(key) != (lo, hi):
            self._axis_labels[key] = (lo, hi)
            plot.setYRange(lo, hi, padding=0)

    @staticmethod
    def _points(widget: QWidget, limit: int, per_pixel: int = 2) -> int:
        """Points to draw in ``widget``: more than its pixels (a min and a max per pixel
        for the noisy batch loss) cost painting time and show nothing more."""
        return max(100, min(limit, per_pixel * widget.width()))

    def _redraw_loss(self) -> None:
        xs, ys = self._loss_buf.xy(self._points(self.loss_widget, LOSS_POINTS))
        x, label = self._steps_to_x(xs)
        self._set_axis_label(self.loss_plot, "bottom", label)
        self.batch_curve.setData(x, ys[:, 0])
        if self._penalty_seen:
            self.penalty_curve.setData(x, ys[:, 1])
        elif self.penalty_curve.xData is not None and len(self.penalty_curve.xData):
            self.penalty_curve.setData([], [])
        self.loss_legend.set_visible_entry("penalty", self._penalty_seen)

    def _redraw_metric(self) -> None:
        """The per-epoch figures: the metric plot, and the epoch losses on the loss plot
        (redrawn at the metric's slower pace, not every frame)."""
        ex, ey = self._epoch_xy()
        stamp = (self._epoch_buf.appended, self.x_axis, self._steps_per_epoch > 0)
        if stamp != self._epoch_drawn:
            self._epoch_drawn = stamp
            self._set_epoch_curve(self.train_loss_curve, ex, ey[:, 1], TRAIN_COLOR, True)
            self._set_epoch_curve(self.val_loss_curve, ex, ey[:, 2], VAL_COLOR, False)
        self._set_epoch_curve(self.train_metric_curve, ex, ey[:, 3], TRAIN_COLOR, True)
        self._set_epoch_curve(self.val_metric_curve, ex, ey[:, 4], VAL_COLOR, False)
        has_epoch = self.x_axis == "epoch" and self._steps_per_epoch > 0
        self._set_axis_label(self.metric_plot, "bottom", "epoch" if has_epoch else "step")
        values = ey[:, 3:5][np.isfinite(ey[:, 3:5])]
        if self.task == "regression":
            # R² of an untrained model can be hugely negative: keep 0..1 readable.
            lo = max(float(values.min()), -1.0) if values.size else 0.0
            self._set_y_range(self.metric_plot, min(lo, 0.0) - 0.03, 1.06)
        else:
            # A little room above 1 so the top tick label is drawn.
            self._set_y_range(self.metric_plot, -0.03, 1.06)

    def _redraw_layers(self, parts: set[str]) -> None:
        n = len(self.layer_names)
        if not n:
            return
        xs, logs = self._detail_buf.mean_xy(self._points(self.grad_widget, LAYER_POINTS, 1))
        x, label = self._steps_to_x(xs)
        ys = 10.0 ** logs
        groups = []
        if "grad" in parts:
            groups.append((self.grad_plot, self.grad_curves, 0))
        if "weights" in parts:
            groups += [(self.weight_plot, self.weight_curves, 1),
                       (self.ratio_plot, self.ratio_curves, 2)]
        for plot, curves, g in groups:
            self._set_axis_label(plot, "bottom", label)
            for i, name in enumerate(self.layer_names):
                curve = curves[name]
                if name in self._hidden_layers:
                    curve.setData([], [])
                    continue
                curve.setData(x, ys[:, g * n + i], connect="finite")

    def _on_legend_toggled(self, name: str, hidden: bool) -> None:
        if hidden:
            self._hidden_layers.add(name)
        else:
            self._hidden_layers.discard(name)
        self._refresh_layer_legends()
        self._dirty |= {"grad", "weights"}
        self.redraw()

    # ------------------------------------------------------------------ sizes
    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(1000, 700)
