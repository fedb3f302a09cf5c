"""The sweep's parallel-coordinates plot: one vertical axis per parameter and one for the
objective, each normalised to 0..1 (log spaced where the range is log, choices spread
evenly), and one line per finished trial through its values, coloured by its objective
(dark: good); pruned trials dashed, the selected one black and on top. The objective's
axis spans its ``shown_range``: outliers sit at its end, marked "≥" (pyqtgraph)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from core.sweeps.space import Parameter
from core.sweeps.status import SweepStatus, TrialRow
from gui.training.live_plot import AXIS, TEXT
from gui.training.sweep_axes import drawn_trials, goodness, range_ends, unit, unit_objective
from gui.training.sweep_plots import SweepPlot
from gui.training.sweep_text import STATE_COLORS, goodness_color, parameter_labels, value_text

LABEL_GAP = 0.07  # room above and below the axes for their names and ends (y units)


class ParallelCoordinates(SweepPlot):
    """Lines across the parameter axes and the objective axis (see the module doc)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Parallel coordinates", parent)
        plot = self.plotItem
        plot.hideAxis("left")
        plot.hideAxis("bottom")
        plot.setMouseEnabled(x=False, y=False)
        self.setToolTip("Each line is a finished trial through its settings (one axis "
                        "each, bottom to top: low to high) to its objective (right). "
                        "Dark lines are the good trials; dashed ones were pruned.")
        self.lines: dict[int, pg.PlotCurveItem] = {}
        self._furniture: list[pg.GraphicsObject] = []  # axes and their words
        self._axes_for: tuple | None = None
        self._selected: int | None = None
        self._units: dict[int, np.ndarray] = {}

    def _set_axes(self, parameters: tuple[Parameter, ...], objective: str,
                  ends: tuple[str, str]) -> None:
        key = (parameters, objective, ends)
        if key == self._axes_for:
            return
        self._axes_for = key
        plot = self.plotItem
        for item in self._furniture:
            plot.removeItem(item)
        self._furniture = []
        labels = parameter_labels(parameters)
        names = [labels[p.name] + (" (log)" if p.log and p.kind != "choice" else "")
                 for p in parameters] + [objective]
        axis_ends = [range_ends(p) for p in parameters] + [ends]
        pen = pg.mkPen(AXIS, width=1)
        for i, (name, (bottom, top)) in enumerate(zip(names, axis_ends, strict=True)):
            axis = pg.PlotCurveItem([i, i], [0, 1], pen=pen)
            axis.setZValue(-10)
            self._furniture.append(axis)
            for text, y, anchor, bold in ((name, 1 + LABEL_GAP, (0.5, 1.0), True),
                                          (top, 1.0, (0.5, 1.0), False),
                                          (bottom, 0.0, (0.5, 0.0), False)):
                words = pg.TextItem(html=f"<span style='color:{TEXT};font-size:8pt;"
                                    f"{'font-weight:600;' if bold else ''}'>"
                                    f"{_escape(text)}</span>", anchor=anchor)
                words.setPos(i, y)
                self._furniture.append(words)
        for item in self._furniture:
            plot.addItem(item, ignoreBounds=True)
        plot.setXRange(-0.35, len(names) - 0.65, padding=0)
        plot.setYRange(-LABEL_GAP * 1.6, 1 + LABEL_GAP * 2.2, padding=0)

    def draw(self, status: SweepStatus) -> None:
        rows = drawn_trials(status.trials)
        values = np.array([t.value for t in rows], dtype=float)
        u_obj, lo, hi = unit_objective(values, status.direction)
        # An outlier sits at the axis's end, which says so ("≥ 0.81").
        finite = values[np.isfinite(values)]
        clipped = finite.size and (finite.max() > hi, finite.min() < lo)
        ends = (("≤ " if clipped and clipped[1] else "") + value_text(lo),
                ("≥ " if clipped and clipped[0] else "") + value_text(hi))
        self._set_axes(status.parameters, status.objective, ends)
        g = goodness(values, status.direction)
        seen = set()
        plot = self.plotItem
        for t, y_obj, gi in zip(rows, u_obj, g, strict=True):
            ys = np.array([unit(p, t.params.get(p.name)) for p in status.parameters]
                          + [y_obj], dtype=float)
            self._units[t.number] = ys
            line = self.lines.get(t.number)
            if line is None:
                line = pg.PlotCurveItem(connect="finite")
                plot.addItem(line)
                self.lines[t.number] = line
            line.setData(np.arange(len(ys), dtype=float), ys)
            line.setPen(self._pen(t, gi))
            # Good trials on top of poor ones.
            line.setZValue(gi if math.isfinite(gi) else 0.0)
            line.goodness = gi  # kept to restore the pen after a selection
            line.trial = t
            seen.add(t.number)
        for number in [n for n in self.lines if n not in seen]:
            plot.removeItem(self.lines.pop(number))
            self._units.pop(number, None)
        self.select(self._selected)

    @staticmethod
    def _pen(t: TrialRow, g: float) -> pg.QtGui.QPen:
        if t.state == "pruned":
            return pg.mkPen(STATE_COLORS["pruned"], width=1, style=Qt.PenStyle.DashLine)
        return pg.mkPen(goodness_color(g), width=1.5)

    def select(self, number: int | None) -> None:
        old, self._selected = self._selected, number
        if old is not None and old != number and old in self.lines:
            line = self.lines[old]
            line.setPen(self._pen(line.trial, line.goodness))
            line.setZValue(line.goodness if math.isfinite(line.goodness) else 0.0)
        if number in self.lines:
            line = self.lines[number]
            line.setPen(pg.mkPen("#000000", width=3))
            line.setZValue(20)

    def line_count(self) -> int:
        return len(self.lines)

    def line_units(self, number: int) -> np.ndarray:
        """Trial ``number``'s line: its place on each axis, 0..1 (for tests)."""
        return self._units[number]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
