"""The per-layer pages of the training plots: "Gradients" (each layer's gradient norm,
with the diagnosis hint above) and "Weights and updates" (weight norms and
update-to-weight ratios).

Each plot has one curve per layer with parameters, in the layer's colour
(``gui.colors.series_color``, as on the layer cards and in the diagram), and a legend
beside it whose entries hide and show a layer's curves. A layer diagnosed as vanishing or
exploding gets a thick pen and says why in the legend. The pages only draw:
``TrainingPlots`` keeps the histories and says when to draw.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gui.colors import WARNING, series_color
from gui.training.layer_status import STATUS_TEXT
from gui.training.legend import Legend, LegendEntry
from gui.training.live_plot import TEXT, LivePlot

REFERENCE_COLOR = QColor("#777777")
HEALTHY_RATIO = 1e-3
# Painting cost, measured offscreen for ten curves of 400 points: 1.6 ms with 1 px pens,
# 8 ms at 1.6 px, 40-50 ms with thick dashed pens; a background grid added 10-20 ms per
# plot. Hence thin layer curves, no grid, and solid (not dashed) marks for warnings.
LAYER_WIDTH = 1.0
MARKED_WIDTH = 2.6
# Points per layer of a pinned baseline run's gradient curves.
BASELINE_GRAD_POINTS = 200

STATUS_HELP = {
    "vanishing": "The gradient reaching this layer is tiny, so its weights barely change.",
    "exploding": "The gradient reaching this layer is huge, so its updates overshoot.",
}

StepsToX = Callable[[np.ndarray], tuple[np.ndarray, str]]  # steps -> (x, axis label)


def layer_pen(index: int, status: str) -> QPen:
    """The pen of the ``index``-th layer's curves: thick when ``status`` is a warning."""
    color = series_color(index)
    if status in STATUS_TEXT:
        return pg.mkPen(color, width=MARKED_WIDTH)
    return pg.mkPen(color, width=LAYER_WIDTH)


class LayerPage(QWidget):
    """Per-layer curves on ``plots`` (block ``blocks[k]`` of the layer columns on plot
    ``k``) and a clickable legend; ``toggled(name, hidden)`` when an entry is clicked."""

    toggled = Signal(str, bool)

    def __init__(self, plots: tuple[LivePlot, ...], blocks: tuple[int, ...],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plots = plots
        self._blocks = blocks
        self.curves: tuple[dict[str, pg.PlotDataItem], ...] = tuple({} for _ in plots)
        self.names: tuple[str, ...] = ()
        self.legend = Legend(vertical=True, clickable=True)
        self.legend.setToolTip("Click a layer to hide or show its curves.")
        self.legend.toggled.connect(self.toggled)

    def set_layers(self, names: tuple[str, ...]) -> None:
        """Forget the previous run: every plot empty, then one curve per layer."""
        self.names = tuple(names)
        for widget, curves in zip(self.plots, self.curves, strict=True):
            widget.reset()
            for item in list(widget.plotItem.listDataItems()):
                widget.plotItem.removeItem(item)
            curves.clear()  # cleared, not replaced: the dicts are shared by reference
            for i, name in enumerate(self.names):
                curves[name] = widget.plotItem.plot(pen=layer_pen(i, "ok"))

    def set_pens(self, statuses: dict[str, str]) -> None:
        """Thick pens for the layers ``statuses`` marks as vanishing or exploding."""
        for i, name in enumerate(self.names):
            pen = layer_pen(i, statuses.get(name, "ok"))
            for curves in self.curves:
                curves[name].setPen(pen)

    def set_legend(self, labels: tuple[str, ...], statuses: dict[str, str],
                   hidden: set[str]) -> None:
        """One entry per layer, ``labels[i]`` plus its warning; ``hidden`` greyed."""
        entries = []
        for i, (name, label) in enumerate(zip(self.names, labels, strict=True)):
            status = statuses.get(name, "ok")
            text = f"{label} {STATUS_TEXT[status]}" if status in STATUS_TEXT else label
            tip = f"{label}: {STATUS_HELP[status]}" if status in STATUS_HELP else label
            entries.append(LegendEntry(name, text, layer_pen(i, status),
                                       tooltip=tip + "\nClick to hide or show.",
                                       hidden_curve=name in hidden))
        self.legend.set_entries(entries)

    def draw(self, x: np.ndarray, label: str, ys: np.ndarray, hidden: set[str]) -> None:
        """Curves at ``x`` (n,) from ``ys`` (n, 3 * layers: gradient norms, weight norms,
        update ratios, a block of columns each); ``hidden`` layers drawn empty."""
        n = len(self.names)
        for widget, curves, block in zip(self.plots, self.curves, self._blocks,
                                         strict=True):
            widget.set_axis_label("bottom", label)
            for i, name in enumerate(self.names):
                curve = curves[name]
                if name in hidden:
                    curve.setData([], [])
                    continue
                curve.setData(x, ys[:, block * n + i], connect="finite")

    def follow(self) -> None:
        for widget in self.plots:
            widget.follow()


class GradientPage(LayerPage):
    """Each layer's gradient norm (log scale), a recorded baseline's dashed under it,
    and the diagnosis hint above."""

    def __init__(self, parent: QWidget | None = None) -> None:
        grad = LivePlot("Gradient norm per layer ‖∂L/∂W‖₂")
        super().__init__((grad,), (0,), parent)
        self.grad_widget = grad
        self.grad_plot = self.grad_widget.plotItem
        self.grad_plot.setLogMode(y=True)
        self.grad_plot.setLabel("left", "gradient L2 norm", color=TEXT)
        self.grad_curves = self.curves[0]
        self.baseline_grad_curves: list[pg.PlotDataItem] = []
        self.hint_label = QLabel()
        self.hint_label.setWordWrap(True)
        self.hint_label.setStyleSheet(
            f"background: #FDF2E0; border: 1px solid {WARNING.name()}; border-radius: 3px;"
            f" padding: 4px 6px; color: {TEXT};")
        self.hint_label.hide()
        page = QVBoxLayout(self)
        page.setContentsMargins(0, 4, 0, 0)
        page.addWidget(self.hint_label)
        row = QHBoxLayout()
        row.addWidget(self.grad_widget, 1)
        row.addWidget(self.legend)
        page.addLayout(row, 1)

    def set_layers(self, names: tuple[str, ...]) -> None:
        super().set_layers(names)
        self.baseline_grad_curves = []  # removed with the other curves

    def set_hint(self, text: str) -> None:
        """Show ``text`` above the plot; an empty text hides the line."""
        self.hint_label.setText(text)
        self.hint_label.setVisible(bool(text))

    def set_baseline(self, record, to_x: StepsToX) -> None:
        """Draw ``record``'s gradient norms dashed, each in its layer's colour (None
        clears)."""
        for curve in self.baseline_grad_curves:
            self.grad_plot.removeItem(curve)
        self.baseline_grad_curves = []
        if record is None or len(record.loss_curve) == 0:
            return
        grads = record.grad_curves
        if grads.shape[0] and grads.shape[1] > 1:
            # Thinned: these are redrawn with the live curves every frame.
            rows_kept = grads[::max(1, grads.shape[0] // BASELINE_GRAD_POINTS)]
            gx = to_x(rows_kept[:, 0])[0]
            for i in range(grads.shape[1] - 1):
                y = rows_kept[:, 1 + i]
                y = np.where(y > 0, y, np.nan)  # log axis: no zero or negative norms
                pen = pg.mkPen(series_color(i), width=1, style=Qt.PenStyle.DashLine)
                curve = self.grad_plot.plot(gx, y, pen=pen, connect="finite")
                curve.setZValue(-5)
                self.baseline_grad_curves.append(curve)


class WeightsPage(LayerPage):
    """Each layer's weight norm and update-to-weight ratio (log scales), with the
    healthy ratio marked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        weight = LivePlot("Weight norm per layer ‖W‖₂")
        ratio = LivePlot("Update-to-weight ratio ‖ΔW‖ / ‖W‖ per step")
        super().__init__((weight, ratio), (1, 2), parent)
        self.weight_widget, self.ratio_widget = weight, ratio
        self.weight_plot = self.weight_widget.plotItem
        self.weight_plot.setLogMode(y=True)
        self.weight_plot.setLabel("left", "weight L2 norm", color=TEXT)
        self.ratio_plot = self.ratio_widget.plotItem
        self.ratio_plot.setLogMode(y=True)
        self.ratio_plot.setLabel("left", "ratio", color=TEXT)
        self.weight_curves, self.ratio_curves = self.curves
        # In log mode the plot's y coordinate is log10 of the value.
        self.ratio_reference = pg.InfiniteLine(
            pos=np.log10(HEALTHY_RATIO), angle=0, movable=False,
            pen=pg.mkPen(REFERENCE_COLOR, width=1, style=Qt.PenStyle.DashLine),
            label="10⁻³: a healthy ratio", labelOpts={
                "position": 0.98, "color": "#555555", "anchors": [(1, 1), (1, 1)],
                "fill": pg.mkBrush(255, 255, 255, 235)})
        self.ratio_reference.setZValue(20)  # its label stays readable above the curves
        self.ratio_plot.addItem(self.ratio_reference, ignoreBounds=True)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 4, 0, 0)
        col = QVBoxLayout()
        col.addWidget(self.weight_widget, 1)
        col.addWidget(self.ratio_widget, 1)
        row.addLayout(col, 1)
        row.addWidget(self.legend)
