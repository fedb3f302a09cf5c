"""One live training plot: a pyqtgraph plot whose log axis has short labels and whose
view follows its growing data, cheaply, and never loses a curve.

Every change of a view range, an axis label or a title re-lays the plot out and repaints
it, which costs more than drawing the curves: :class:`LivePlot` sets them only when they
change, and fits the view itself before painting (see ``view_range``). The view fits
every visible curve's finite points; where a run diverged (``set_divergence``) only the
points before it set the y axis, and a dashed line marks the place. A tracked curve
whose newest value is outside the view all the same (zoomed in, or diverged) is named in
a note at the plot's corner ("↑ off scale: validation loss 3.58"). A title too long for
the plot's width is elided, the full text in the tooltip.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QGraphicsView, QLabel, QWidget

from gui.colors import PLOT_TEXT
from gui.training.view_range import data_bounds, follow_range, off_scale

TEXT = PLOT_TEXT
AXIS = "#888888"
DIVERGED = "#C0392B"  # the divergence marker and the off-scale note
TITLE_POINTS = 10.0

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


def style_axes(plot: pg.PlotItem, tick_length: int = 5) -> None:
    """The plots' axes: grey lines, dark labels, no SI scale, ticks outside."""
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(AXIS))
        axis.setTextPen(pg.mkPen(TEXT))
        # A "(x0.001)" scale in the title is easy to miss next to log-scale labels.
        axis.enableAutoSIPrefix(False)
        # Ticks outside the data area: an inward tick makes the axis overlap the view,
        # so every curve update would repaint the axes as well.
        axis.setStyle(tickLength=tick_length)


class TitledPlot(pg.PlotWidget):
    """A plot on white whose title is elided to the width over its data area (a title
    too long for a narrow plot is cut with "…"); the full title is the tooltip."""

    def __init__(self, title: str, parent: QWidget | None = None,
                 title_points: float = TITLE_POINTS) -> None:
        super().__init__(parent, background="w", axisItems={"left": LogAxis("left")})
        self._title = ""
        self._title_shown: str | None = None
        self._title_points = title_points
        self.set_title(title)

    def set_title(self, title: str, explanation: str = "") -> None:
        """Show ``title``, elided to the plot's width; the tooltip is the full title and
        ``explanation`` under it."""
        self._title = title
        self.setToolTip(f"{title}\n{explanation}" if explanation and title else
                        explanation or title)
        self._elide_title()

    def _elide_title(self) -> None:
        font = QFont()
        font.setPointSizeF(self._title_points)
        # The title sits over the data area, right of the left axis.
        axis = self.plotItem.getAxis("left")
        width = max(self.width() - (axis.width() if axis.isVisible() else 0) - 24, 40)
        text = QFontMetrics(font).elidedText(self._title, Qt.TextElideMode.ElideRight, width)
        # setTitle re-lays the plot out: only when the elided text changes.
        if text != self._title_shown:
            self._title_shown = text
            self.plotItem.setTitle(text or None, color=TEXT, size=f"{self._title_points:g}pt")

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        # pyqtgraph calls this from __init__ (before the title is known), and after
        # close() (plotItem None).
        if "_title_shown" in self.__dict__ and self.plotItem is not None:
            self._elide_title()


class LivePlot(TitledPlot):
    """A titled plot on white that follows its data (``follow``) until the user pans or
    zooms; the plot's "A" button returns to following. ``plotItem`` is the PlotItem."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        # Qt widens each repainted area by 2 px for antialiasing, which reaches into the
        # axes beside the data area; our curves are drawn without antialiasing.
        self.setOptimizationFlag(
            QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.setMinimumSize(200, 120)
        plot = self.plotItem
        plot.setMenuEnabled(False)  # its log/transform toggles would bypass our own controls
        style_axes(plot)
        self.following = True
        self._range: tuple[float, float, float, float] | None = None
        self._set: dict[str, object] = {}  # what was last set: axis labels, y range
        # Curves whose newest value must stay in view or be named: item -> name.
        self._tracked: dict[pg.PlotDataItem, str] = {}
        self._unbounded: set[pg.PlotDataItem] = set()  # drawn, but never fitted
        self.fit_limit: float | None = None  # x where a run diverged (set_divergence)
        self.divergence_line: pg.InfiniteLine | None = None
        self.off_scale_note = QLabel(self)
        self.off_scale_note.setWordWrap(True)
        self.off_scale_note.setStyleSheet(
            f"color: {DIVERGED}; background: rgba(255, 255, 255, 225); padding: 1px 4px;"
            f" border: 1px solid {DIVERGED}; border-radius: 2px; font-size: 8pt;")
        self.off_scale_note.setToolTip("The newest value of these curves lies outside the "
                                       "plot's range. Press the plot's A button (bottom "
                                       "left) to fit the view again.")
        self.off_scale_note.hide()
        plot.getViewBox().sigRangeChangedManually.connect(self._on_range_changed_manually)
        plot.getViewBox().sigRangeChanged.connect(self._update_off_scale)
        plot.autoBtn.clicked.connect(self.resume_following)

    def reset(self) -> None:
        """Forget the view and the labels set for the previous run."""
        self.following = True
        self._range = None
        self._set = {}
        self.set_divergence(None)
        self._update_off_scale()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        # pyqtgraph calls this from __init__, and after close() (plotItem None).
        if "off_scale_note" in self.__dict__ and self.plotItem is not None:
            self._update_off_scale()

    # --------------------------------------------------------- keeping in view
    def track(self, item: pg.PlotDataItem, name: str) -> None:
        """Name ``item`` in the off-scale note when its newest value leaves the view."""
        self._tracked[item] = name

    def add_unbounded(self, item: pg.PlotDataItem) -> None:
        """Draw ``item`` without letting it set the view (a diverged run's tail)."""
        self.plotItem.addItem(item, ignoreBounds=True)
        self._unbounded.add(item)

    def set_divergence(self, x: float | None, text: str = "diverged") -> None:
        """Mark where the run diverged (None: it did not): a dashed line at ``x`` labelled
        ``text``; only data left of it sets the y axis from now on."""
        if x == self.fit_limit and (x is None or self.divergence_line is not None
                                    and self.divergence_line.label.format == text):
            return
        if self.divergence_line is not None:
            self.plotItem.removeItem(self.divergence_line)
            self.divergence_line = None
        self.fit_limit = x
        self._range = None  # refit with (or without) the limit
        if x is None:
            return
        line = pg.InfiniteLine(
            pos=x, angle=90, movable=False,
            pen=pg.mkPen(DIVERGED, width=1.5, style=Qt.PenStyle.DashLine), label=text,
            # Near the bottom: the off-scale note may take the top right corner.
            labelOpts={"position": 0.06, "color": DIVERGED, "anchors": [(0, 1), (0, 1)],
                       "fill": pg.mkBrush(255, 255, 255, 225)})
        line.setZValue(20)
        self.plotItem.addItem(line, ignoreBounds=True)
        self.divergence_line = line

    def _place_divergence_label(self) -> None:
        """The divergence label right of its line, or left of it when the line is in
        the right part of the view (so it is not cut off at the edge)."""
        line = self.divergence_line
        if line is None:
            return
        (x0, x1), _ = self.plotItem.getViewBox().viewRange()
        side = 1 if line.value() > x0 + 0.6 * (x1 - x0) else 0
        anchors = [(side, 1), (side, 1)]
        if line.label.anchors != anchors:
            line.label.anchors = anchors
            line.label.updatePosition()

    def off_scale_text(self) -> str:
        """The off-scale note's text ("" when every tracked newest value is in view)."""
        return self.off_scale_note.text() if self.off_scale_note.isVisibleTo(self) else ""

    def _latest(self) -> dict[str, tuple[float, float]]:
        out = {}
        for item, name in self._tracked.items():
            y = item.yData
            if not item.isVisible() or y is None or not len(y):
                continue
            value = float(y[-1])
            view = value
            if item.opts["logMode"][1]:
                view = float(np.log10(value)) if value > 0 else -np.inf
            out[name] = (view, value)
        return out

    def check_off_scale(self) -> None:
        """Show or hide the off-scale note for the tracked curves' newest values (done
        by ``follow`` and on every range change; call it when data changed alone)."""
        self._update_off_scale()

    def _update_off_scale(self, *_args) -> None:
        latest = self._latest() if self._tracked else {}
        (_x0, _x1), (y0, y1) = self.plotItem.getViewBox().viewRange()
        outside = off_scale(latest, y0, y1)
        parts = {arrow: " · ".join(f"{name} {latest[name][1]:.3g}"
                                   for name, a in outside.items() if a == arrow)
                 for arrow in ("↑", "↓")}
        text = "\n".join(f"{arrow} off scale: {names}" for arrow, names in parts.items()
                         if names)
        note = self.off_scale_note
        if not text:
            if not note.isHidden():
                note.hide()
            return
        rect = self.mapFromScene(self.plotItem.getViewBox().sceneBoundingRect()).boundingRect()
        width = max(rect.width() - 8, 60)
        if text != note.text() or note.maximumWidth() != width:
            note.setText(text)
            note.setMaximumWidth(width)
            note.adjustSize()
        note.move(max(rect.right() - note.width() - 4, 0), rect.top() + 4)
        if note.isHidden():
            note.show()

    def resume_following(self) -> None:
        self.following = True
        self._range = None

    def refit(self) -> None:
        """Fit the view afresh on the next ``follow`` (the curves changed as a whole)."""
        self._range = None

    def _on_range_changed_manually(self, *_args) -> None:
        self.following = False

    def follow(self) -> None:
        """Fit the view to the visible curves ourselves, before painting (pyqtgraph's
        auto-range would do it while painting and then paint a second time), and only
        when the data outgrows the view (see ``view_range``)."""
        if self.following:
            self._fit_view()
        self._place_divergence_label()
        self._update_off_scale()
        # Settle the view's transform and axes now: done during the paint, it changes
        # the scene again and Qt paints the plot a second time.
        self.scene().prepareForPaint()

    def _fit_view(self) -> None:
        curves = [item.getData() for item in self.plotItem.listDataItems()
                  if item.isVisible() and isinstance(item, pg.PlotDataItem)
                  and item not in self._unbounded]
        data = data_bounds(((x, y) for x, y in curves if x is not None and y is not None),
                           self.fit_limit)
        if data is None:
            return
        rng = follow_range(data, self._range)
        if rng is None:
            return
        self._range = rng
        x0, x1, y0, y1 = rng
        self.plotItem.getViewBox().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def set_axis_label(self, side: str, text: str) -> None:
        # setLabel re-lays the whole plot out and repaints it: only when the text changes.
        if self._set.get(side) != text:
            self._set[side] = text
            self.plotItem.setLabel(side, text, color=TEXT)

    def set_y_range(self, lo: float, hi: float) -> None:
        if self._set.get("yrange") != (lo, hi):
            self._set["yrange"] = (lo, hi)
            self.plotItem.setYRange(lo, hi, padding=0)

    def points(self, limit: int, per_pixel: int = 2) -> int:
        """Points to draw here: more than the plot's pixels (a min and a max per pixel
        for the noisy batch loss) cost painting time and show nothing more."""
        return max(100, min(limit, per_pixel * self.width()))
