"""The sweep's plots of finished trials: the best-so-far curve, the objective against each
parameter, and the parameter importances (pyqtgraph; imported by ``sweep_views`` when it
builds its pages, never at start-up).

Every plot draws complete trials as filled dots coloured by how good their objective is
(``goodness_color``), pruned ones hollow at their last reported value, and leaves failed
ones out; the selected trial gets a black ring. The y axis spans the objective's
``shown_range``: an outlier (a diverged trial) sits at the edge as a triangle pointing
off the plot, rather than squashing the others into a line. They redraw only when the finished
trials or the selection change (``SweepViews`` decides).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGridLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from core.sweeps.space import Parameter
from core.sweeps.status import SweepStatus, TrialRow
from gui.training.live_plot import TEXT, LogAxis, TitledPlot, style_axes
from gui.training.sweep_axes import drawn_trials, goodness, is_log, position, shown_range
from gui.training.sweep_text import STATE_COLORS, goodness_color, parameter_labels

BEST_COLOR = QColor("#117733")
SELECTED_PEN = pg.mkPen("#000000", width=2)
DOT = 8
# The status contract's rule: importances come once this many trials have completed.
IMPORTANCE_MIN_COMPLETE = 4


class SweepPlot(TitledPlot):
    """A small plot on white for the sweep views: styled as the live plots, no context
    menu, log-aware axes on both sides, and a ring marking the selected trial."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent, title_points=9.0)
        plot = self.plotItem
        plot.setAxisItems({"bottom": LogAxis("bottom")})
        plot.setMenuEnabled(False)
        plot.hideButtons()
        style_axes(plot, tick_length=4)
        self.setMinimumSize(160, 110)
        self.ring = plot.plot(pen=None, symbol="o", symbolSize=DOT + 7,
                              symbolPen=SELECTED_PEN, symbolBrush=None)
        self.ring.setZValue(30)
        self._labels: dict[str, str] = {}
        self.y_range: tuple[float, float] | None = None  # set by _shown_y

    def set_label(self, side: str, text: str) -> None:
        """Label an axis; only on a change (setLabel re-lays the plot out)."""
        if self._labels.get(side) != text:
            self._labels[side] = text
            self.plotItem.setLabel(side, text, color=TEXT)

    def set_ring(self, x: float | None, y: float | None) -> None:
        """Ring the selected trial at (``x``, ``y``); None hides the ring."""
        if x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
            self.ring.setData([], [])
        else:
            self.ring.setData([x], [y])


LEVELS = 8  # goodness colours of the dots: pyqtgraph renders one marker per colour


def _marker(state: str, level: int) -> tuple[QBrush, QPen]:
    """The brush and pen of a dot (one pair per state and level, made once: pyqtgraph
    then renders each marker once, not one per trial)."""
    key = (state, level)
    if key not in _MARKERS:
        if state == "pruned":
            _MARKERS[key] = (pg.mkBrush("#FFFFFF"),
                             pg.mkPen(STATE_COLORS["pruned"], width=1.6))
        else:
            color = goodness_color(level / (LEVELS - 1))
            _MARKERS[key] = (pg.mkBrush(color), pg.mkPen(color.darker(130), width=1))
    return _MARKERS[key]


_MARKERS: dict[tuple[str, int], tuple[QBrush, QPen]] = {}


def _dots(rows: list[TrialRow], direction: str) -> tuple[list, list]:
    """Per trial a marker brush and pen: filled by goodness when complete, hollow in the
    pruned colour when pruned."""
    g = goodness(np.array([t.value for t in rows]), direction)
    levels = np.rint(np.nan_to_num(g) * (LEVELS - 1)).astype(int)
    pairs = [_marker("pruned" if t.state == "pruned" else "complete", int(level))
             for t, level in zip(rows, levels, strict=True)]
    return [b for b, _ in pairs], [p for _, p in pairs]


def _shown_y(plot: SweepPlot, values: list[float], direction: str
             ) -> tuple[np.ndarray, list[str]]:
    """``values`` as drawn on ``plot``: within the objective's ``shown_range`` (which
    the plot's y axis is set to), an outlier at the edge as a triangle pointing off the
    plot; returns the y values and each one's symbol."""
    v = np.asarray(values, dtype=float)
    lo, hi = shown_range(v, direction)
    if math.isnan(lo):
        return v, ["o"] * len(v)
    pad = 0.06 * (hi - lo) if hi > lo else max(abs(hi) * 0.05, 0.05)
    range_ = (lo - pad, hi + pad)
    if plot.y_range != range_:
        plot.y_range = range_
        plot.plotItem.setYRange(*range_, padding=0)
    symbols = ["t1" if y > hi else "t" if y < lo else "o" for y in v]
    return np.clip(v, lo, hi), symbols


class BestSoFarPlot(SweepPlot):
    """Every finished trial's objective by trial number, and the best so far as a step
    line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Best so far", parent)
        self.set_label("bottom", "trial")
        self.best_curve = self.plotItem.plot(pen=pg.mkPen(BEST_COLOR, width=2))
        self.dots = self.plotItem.plot(pen=None, symbol="o", symbolSize=DOT)
        self._xy: dict[int, tuple[float, float]] = {}

    def draw(self, status: SweepStatus) -> None:
        self.set_label("left", status.objective)
        best = status.best_so_far()
        if best:
            # A staircase: the best holds from the trial that reached it to the next.
            numbers = [n for n, _ in best] + [max(t.number for t in status.trials)]
            xs = np.repeat(np.array(numbers, dtype=float), 2)[1:-1]
            ys = np.repeat(np.array([v for _, v in best], dtype=float), 2)
            self.best_curve.setData(xs, ys)
        else:
            self.best_curve.setData([], [])
        rows = drawn_trials(status.trials)
        ys, symbols = _shown_y(self, [t.value for t in rows], status.direction)
        self._xy = {t.number: (float(t.number), float(y)) for t, y in zip(rows, ys,
                                                                           strict=True)}
        if rows:
            brushes, pens = _dots(rows, status.direction)
            self.dots.setData([t.number for t in rows], ys, symbol=symbols,
                              symbolBrush=brushes, symbolPen=pens)
        else:
            self.dots.setData([], [])

    def select(self, number: int | None) -> None:
        self.set_ring(*self._xy.get(number, (None, None)))

    def curve_count(self) -> int:
        """Points drawn on the best-so-far line (for tests)."""
        x = self.best_curve.xData
        return 0 if x is None else len(x)


class ParameterPlot(SweepPlot):
    """The objective against one parameter: log x where its range is log, the choices as
    categories; trials of a choice spread a little sideways so they do not hide each
    other."""

    def __init__(self, p: Parameter, label: str, parent: QWidget | None = None) -> None:
        super().__init__(label, parent)
        self.parameter = p
        plot = self.plotItem
        self.dots = plot.plot(pen=None, symbol="o", symbolSize=DOT)
        self.set_label("bottom", label + (" (log)" if is_log(p) else ""))
        self.set_title(label, p.name)
        if is_log(p):
            plot.setLogMode(x=True)
        if p.kind == "choice":
            ticks = [(float(i), str(c)) for i, c in enumerate(p.choices)]
            plot.getAxis("bottom").setTicks([ticks, []])
            plot.setXRange(-0.5, len(p.choices) - 0.5, padding=0)
            plot.getViewBox().setAutoVisible(y=True)
            plot.enableAutoRange(x=False)
        self._xy: dict[int, tuple[float, float]] = {}

    def x_of(self, t: TrialRow) -> float:
        x = position(self.parameter, t.params.get(self.parameter.name))
        if self.parameter.kind == "choice" and math.isfinite(x):
            # A fixed small offset per trial (golden-ratio spread): same place every frame.
            x += ((t.number * 0.618) % 1.0 - 0.5) * 0.3
        return x

    def draw(self, status: SweepStatus) -> None:
        self.set_label("left", status.objective)
        rows = [t for t in drawn_trials(status.trials) if math.isfinite(self.x_of(t))]
        if is_log(self.parameter):
            rows = [t for t in rows if self.x_of(t) > 0]
        self._xy = {}
        if not rows:
            self.dots.setData([], [])
            return
        xs = [self.x_of(t) for t in rows]
        ys, symbols = _shown_y(self, [t.value for t in rows], status.direction)
        brushes, pens = _dots(rows, status.direction)
        self.dots.setData(xs, ys, symbol=symbols, symbolBrush=brushes, symbolPen=pens)
        # The ring is a data item too: the plot's log mode takes its log as the dots'.
        self._xy = {t.number: (x, float(y)) for t, x, y in zip(rows, xs, ys, strict=True)}

    def select(self, number: int | None) -> None:
        self.set_ring(*self._xy.get(number, (None, None)))

    def points(self) -> dict[int, tuple[float, float]]:
        """Trial number -> its dot's (x, y), x as given before the log mode (for tests)."""
        return dict(self._xy)


class ParameterScatters(QWidget):
    """One ``ParameterPlot`` per parameter, in a grid of up to three columns."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(4)
        self.caption = QLabel("Filled dots: completed trials, darker is better. Hollow: "
                              "pruned trials, at their last reported value. A triangle: "
                              "a value far off the scale, at its edge. Failed trials have "
                              "no value and are not drawn.")
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet(f"color: {TEXT}; font-size: 8pt;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(self.grid, 1)
        layout.addWidget(self.caption)
        self.plots: list[ParameterPlot] = []
        self._parameters: tuple[Parameter, ...] | None = None

    def set_parameters(self, parameters: tuple[Parameter, ...]) -> None:
        if parameters == self._parameters:
            return
        self._parameters = parameters
        for plot in self.plots:
            self.grid.removeWidget(plot)
            plot.deleteLater()
        labels = parameter_labels(parameters)
        self.plots = [ParameterPlot(p, labels[p.name]) for p in parameters]
        columns = 1 if len(parameters) == 1 else 2 if len(parameters) in (2, 4) else 3
        for i, plot in enumerate(self.plots):
            self.grid.addWidget(plot, i // columns, i % columns)

    def draw(self, status: SweepStatus) -> None:
        self.set_parameters(status.parameters)
        for plot in self.plots:
            plot.draw(status)

    def select(self, number: int | None) -> None:
        for plot in self.plots:
            plot.select(number)


class ImportanceView(QWidget):
    """Parameter importances as horizontal bars, largest on top; until the study has
    them, a line saying how many completed trials they need."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setStyleSheet(f"color: {TEXT};")
        self.plot = SweepPlot("Parameter importance")
        self.plot.setToolTip("How much of the objective's variation each parameter "
                             "explains (Optuna's parameter importance), as shares of one.")
        self.plot.plotItem.setMouseEnabled(x=False, y=False)
        self.plot.set_label("bottom", "share of the objective's variation")
        self.bars: pg.BarGraphItem | None = None
        self.stack = QStackedWidget()
        self.stack.addWidget(self.note)
        self.stack.addWidget(self.plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.shown: list[tuple[str, float]] = []

    def draw(self, status: SweepStatus) -> None:
        if not status.importances:
            complete = sum(t.state == "complete" for t in status.trials)
            self.note.setText(
                f"Parameter importances appear once {IMPORTANCE_MIN_COMPLETE} trials have "
                f"completed ({complete} so far).")
            self.stack.setCurrentWidget(self.note)
            # A line of text needs little room: the best-so-far plot takes the rest.
            self.setMaximumHeight(4 * self.note.fontMetrics().height())
            self.shown = []
            return
        labels = parameter_labels(status.parameters)
        shown = sorted(((labels.get(k, k), float(v)) for k, v in status.importances.items()),
                       key=lambda kv: kv[1])
        self.stack.setCurrentWidget(self.plot)
        self.setMaximumHeight(16777215)  # Qt's QWIDGETSIZE_MAX: no limit
        if shown == self.shown:
            return
        self.shown = shown
        plot = self.plot.plotItem
        if self.bars is not None:
            plot.removeItem(self.bars)
        self.bars = pg.BarGraphItem(x0=0, y=np.arange(len(shown)), height=0.6,
                                    width=[v for _, v in shown], brush="#4477AA", pen=None)
        plot.addItem(self.bars)
        plot.getAxis("left").setTicks([[(float(i), name) for i, (name, _) in
                                        enumerate(shown)], []])
        plot.setYRange(-0.6, len(shown) - 0.4, padding=0)
        plot.setXRange(0, max(v for _, v in shown) * 1.05 or 1.0, padding=0)
