"""One live training plot: a pyqtgraph plot whose log axis has short labels and whose
view follows its growing data, cheaply.

Every change of a view range, an axis label or a title re-lays the plot out and repaints
it, which costs more than drawing the curves: :class:`LivePlot` sets them only when they
change, and fits the view itself before painting (see ``view_range``).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsView, QWidget

from gui.colors import PLOT_TEXT
from gui.training.view_range import follow_range

TEXT = PLOT_TEXT
AXIS = "#888888"

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


class LivePlot(pg.PlotWidget):
    """A titled plot on white that follows its data (``follow``) until the user pans or
    zooms; the plot's "A" button returns to following. ``plotItem`` is the PlotItem."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w", axisItems={"left": LogAxis("left")})
        # Qt widens each repainted area by 2 px for antialiasing, which reaches into the
        # axes beside the data area; our curves are drawn without antialiasing.
        self.setOptimizationFlag(
            QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.setMinimumSize(200, 120)
        plot = self.plotItem
        plot.setMenuEnabled(False)  # its log/transform toggles would bypass our own controls
        plot.setTitle(title, color=TEXT, size="10pt")
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(AXIS))
            axis.setTextPen(pg.mkPen(TEXT))
            # A "(x0.001)" scale in the title is easy to miss next to log-scale labels.
            axis.enableAutoSIPrefix(False)
            # Ticks outside the data area: an inward tick makes the axis overlap the
            # view, so every curve update would repaint the axes as well.
            axis.setStyle(tickLength=5)
        self.following = True
        self._range: tuple[float, float, float, float] | None = None
        self._set: dict[str, object] = {}  # what was last set: axis labels, y range
        plot.getViewBox().sigRangeChangedManually.connect(self._on_range_changed_manually)
        plot.autoBtn.clicked.connect(self.resume_following)

    def reset(self) -> None:
        """Forget the view and the labels set for the previous run."""
        self.following = True
        self._range = None
        self._set = {}

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
        # Settle the view's transform and axes now: done during the paint, it changes
        # the scene again and Qt paints the plot a second time.
        self.scene().prepareForPaint()

    def _fit_view(self) -> None:
        xs: list[float] = []
        ys: list[float] = []
        for item in self.plotItem.listDataItems():
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
        rng = follow_range((min(xs), max(xs), min(ys), max(ys)), self._range)
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
