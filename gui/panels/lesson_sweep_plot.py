"""The plot of a sweep lesson ("Learning rate, measured"): each trial's final training
loss against the swept value, both axes logarithmic, with the three regions of
``core.teach.sweep_lesson.regions`` shaded and named (too low, good, too high).

A diverged trial has no final loss: it is drawn as a red ✕ in a row above the highest
loss (the worst place), and the best trial as a larger green dot. The regions are drawn
once every value of the sweep has a point; until then the title counts the trials. The
plot draws :class:`core.teach.sweep_lesson.SweepPoint` objects only; it never trains.
Imported when a sweep lesson is first shown, so pyqtgraph is not loaded at start-up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from core.teach.sweep_lesson import SweepPoint, regions
from gui.colors import PLOT_TEXT
from gui.training.live_plot import AXIS, DIVERGED, LogAxis, TitledPlot

__all__ = ["SweepLessonPlot"]

# Region name -> fill colour (light, so the points stay readable on it).
REGION_FILL = {"too low": QColor(70, 120, 200, 40), "good": QColor(40, 160, 70, 55),
               "too high": QColor(210, 70, 60, 40)}
TITLE = "Final training loss vs learning rate"
LINE = "#4477AA"
BEST = "#228833"
# The diverged row sits this many decades above the highest finite loss.
DIVERGED_ROW = 0.35
MARGIN = 0.15  # decades of room around the points


class SweepLessonPlot(TitledPlot):
    """Final training loss against the swept value, with the regions shaded."""

    def __init__(self, x_label: str = "learning rate",
                 parent: QWidget | None = None) -> None:
        super().__init__(TITLE, parent)
        plot = self.plotItem
        plot.setAxisItems({"bottom": LogAxis("bottom")})
        plot.setLogMode(x=True, y=True)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        for name, label in (("left", "final training loss"), ("bottom", x_label)):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(AXIS))
            axis.setTextPen(pg.mkPen(PLOT_TEXT))
            axis.enableAutoSIPrefix(False)
            axis.setLabel(label, color=PLOT_TEXT)
        self.setMinimumSize(220, 200)
        self.points: tuple[SweepPoint, ...] = ()
        self.region_items: dict[str, pg.LinearRegionItem] = {}
        self.labels: dict[str, pg.TextItem] = {}

    def show_points(self, points: Sequence[SweepPoint], values: Sequence[float]) -> None:
        """Draw ``points`` (any order) over the sweep's ``values`` (the x axis); shade
        the regions once every value has its point."""
        self.points = tuple(sorted(points, key=lambda p: p.value))
        plot = self.plotItem
        plot.clear()
        self.region_items, self.labels = {}, {}
        pts = self.points
        have = {p.value for p in pts}
        done = all(v in have for v in values)
        self.set_title(TITLE if done else f"{TITLE} ({len(pts)} of {len(values)})")
        lx = np.log10(sorted(values))
        half = (lx[1] - lx[0]) / 2 if len(lx) > 1 else 0.5
        plot.setXRange(lx[0] - half, lx[-1] + half, padding=0)
        if not pts:
            return
        finite = [p for p in pts if not p.worst]
        low_y = math.log10(min(p.loss for p in finite)) if finite else 0.0
        high_y = math.log10(max(p.loss for p in finite)) if finite else 0.0
        row = high_y + DIVERGED_ROW
        top = row + 0.2 + (0.25 if done else 0.0)  # room for the region names
        if finite:
            plot.plot([p.value for p in finite], [p.loss for p in finite],
                      pen=pg.mkPen(LINE, width=2), symbol="o", symbolSize=8,
                      symbolBrush=LINE, symbolPen=None)
        wild = [p for p in pts if p.worst]
        if wild:
            plot.plot([p.value for p in wild], [10 ** row] * len(wild), pen=None,
                      symbol="x", symbolSize=13, symbolBrush=DIVERGED, symbolPen=None)
            mark = pg.TextItem("diverged", color=DIVERGED, anchor=(1.0, 0.5))
            mark.setPos(math.log10(wild[0].value) - 0.12, row)
            plot.addItem(mark)
            # The row is a place, not a loss value: a line keeps it apart from the axis.
            plot.addItem(pg.InfiniteLine(row - DIVERGED_ROW / 2, angle=0, pen=pg.mkPen(
                DIVERGED, width=1, style=Qt.PenStyle.DashLine)))
        cut = regions(pts) if done else None
        if cut is not None:
            best = cut.best
            plot.plot([best.value], [best.loss], pen=None, symbol="o", symbolSize=13,
                      symbolBrush=BEST, symbolPen=pg.mkPen("w", width=1.5))
            self._shade(cut, lx, top)
        plot.setYRange(low_y - MARGIN, top, padding=0)

    def _shade(self, cut, lx: np.ndarray, top: float) -> None:
        """Shade each region from half-way to its neighbour to half-way to the next,
        with its name at the top."""
        edges = np.concatenate(([lx[0] - (lx[1] - lx[0]) / 2 if len(lx) > 1 else lx[0] - 0.5],
                                (lx[1:] + lx[:-1]) / 2,
                                [lx[-1] + (lx[-1] - lx[-2]) / 2 if len(lx) > 1
                                 else lx[-1] + 0.5]))
        start = 0
        for name, values in (("too low", cut.low), ("good", cut.good),
                             ("too high", cut.high)):
            if not values:
                continue
            lo, hi = edges[start], edges[start + len(values)]
            start += len(values)
            item = pg.LinearRegionItem((lo, hi), movable=False,
                                       brush=pg.mkBrush(REGION_FILL[name]),
                                       pen=pg.mkPen(None))
            item.setZValue(-10)
            self.plotItem.addItem(item)
            self.region_items[name] = item
            label = pg.TextItem(name, color=PLOT_TEXT, anchor=(0.5, 0.0))
            label.setPos((lo + hi) / 2, top - 0.02)
            self.plotItem.addItem(label)
            self.labels[name] = label
