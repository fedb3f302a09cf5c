"""Side-by-side comparison of recorded runs: their loss, per-epoch accuracy (or R²) and
per-layer gradient-norm curves overlaid, one colour per run (and one line style per layer
in the gradient plot), with a legend naming each run and a text box saying how each run's
design differs from the first one's (``core.records.diff.design_diff``).

The view only draws what :class:`core.records.record.RunRecord` objects hold; it never trains.
Its three plots (pyqtgraph) are built after the window's first frame (``gui.lazy_build``);
runs set before that are drawn by the build.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QSizePolicy, QVBoxLayout, QWidget

from core.records.diff import design_diff
from core.records.record import RunRecord
from gui.colors import series_color
from gui.lazy_build import BuiltOnRead, LazyBuilder, Placeholder
from gui.training.legend import Legend, LegendEntry
from gui.training.training_ui import layer_labels

if TYPE_CHECKING:
    import pyqtgraph as pg

__all__ = ["RunCompareView", "run_pen"]

TEXT = "#333333"
AXIS = "#888888"
# Per-layer line styles in the gradient plot (colour says the run).
LAYER_STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine,
                Qt.PenStyle.DashDotLine, Qt.PenStyle.DashDotDotLine)
# Noisy step figures are averaged down to about this many points per curve, so several
# runs overlaid stay readable.
SMOOTH_POINTS = 300
GRAD_POINTS = 120
PLOT_MIN_SIZE = QSize(180, 140)
PLOT_SIZE_HINT = QSize(600, 480)  # pyqtgraph's views ask for this
PLOTS_SPACING = 4


def run_pen(index: int, style: Qt.PenStyle = Qt.PenStyle.SolidLine,
            width: float = 1.6) -> QPen:
    """The pen of the ``index``-th compared run (cosmetic: the same width at any zoom,
    as ``pg.mkPen`` makes them)."""
    pen = QPen(series_color(index), width, style)
    pen.setCosmetic(True)
    return pen


def smoothed(x: np.ndarray, y: np.ndarray,
             points: int = SMOOTH_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Geometric means of positive ``y`` (n,) over about ``points`` equal groups of rows
    (x (n,) averaged alike), for a log-scale plot."""
    keep = np.isfinite(y) & (y > 0)
    x, y = x[keep], y[keep]
    if x.size <= points:
        return x, y
    groups = np.array_split(np.arange(x.size), points)
    xs = np.array([x[g].mean() for g in groups])
    ys = np.array([np.exp(np.log(y[g]).mean()) for g in groups])
    return xs, ys


def _plot(title: str, left: str, bottom: str, log_y: bool) -> pg.PlotWidget:
    import pyqtgraph as pg

    from gui.training.live_plot import LogAxis

    widget = pg.PlotWidget(background="w", axisItems={"left": LogAxis("left")})
    widget.setMinimumSize(PLOT_MIN_SIZE)
    plot = widget.getPlotItem()
    plot.setMenuEnabled(False)
    plot.setTitle(title, color=TEXT, size="9pt")
    plot.setLabel("left", left, color=TEXT)
    plot.setLabel("bottom", bottom, color=TEXT)
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(AXIS))
        axis.setTextPen(pg.mkPen(TEXT))
        axis.enableAutoSIPrefix(False)
    plot.setLogMode(False, log_y)
    return widget


class RunCompareView(BuiltOnRead, QWidget):
    """Overlaid curves of the runs given to :meth:`set_runs`, plus their design diffs."""

    BUILT_NAMES = frozenset({"loss_plot", "metric_plot", "grad_plot"})

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runs: list[RunRecord] = []
        self.legend = Legend(vertical=False)
        self.legend.setToolTip("One colour per run; the first run is the reference of the "
                               "design differences below.")
        self.layer_legend = Legend(vertical=False)
        self.layer_legend.setToolTip("Line styles of the layers in the gradient plot.")
        self.diff_text = QPlainTextEdit()
        self.diff_text.setReadOnly(True)
        self.diff_text.setToolTip("How each run's design differs from the first selected "
                                  "run's: network, training settings and dataset.")
        self.diff_text.setSizePolicy(QSizePolicy.Policy.Expanding,
                                     QSizePolicy.Policy.Preferred)
        self.diff_text.setMaximumHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        self._plots_row = QHBoxLayout()  # the plots go here when built
        self._plots_row.setContentsMargins(0, 0, 0, 0)
        self._plots_row.setSpacing(PLOTS_SPACING)
        gaps = 2 * PLOTS_SPACING  # between the three plots
        self._placeholder = Placeholder(
            QSize(3 * PLOT_MIN_SIZE.width() + gaps, PLOT_MIN_SIZE.height()),
            QSize(3 * PLOT_SIZE_HINT.width() + gaps, PLOT_SIZE_HINT.height()))
        self._plots_row.addWidget(self._placeholder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.legend)
        layout.addLayout(self._plots_row, 1)
        layout.addWidget(self.layer_legend)
        layout.addWidget(self.diff_text)
        self._built = False
        self.set_runs([])
        self._builder = LazyBuilder(self, self._build_plots)

    def _build_plots(self) -> None:
        """Build the three plots and draw the runs set so far."""
        self._built = True
        self.loss_plot = _plot("Batch loss (smoothed)", "loss", "step", log_y=True)
        self.loss_plot.setToolTip("The mini-batch loss of each run against the step, "
                                  "averaged over short stretches so the runs can be told "
                                  "apart (log scale).")
        self.metric_plot = _plot("Validation metric", "", "epoch", log_y=False)
        self.metric_plot.setToolTip("Accuracy (classification) or R² (regression) on the "
                                    "validation set after each epoch; the training set's "
                                    "when there is no validation split.")
        self.grad_plot = _plot("Gradient norm per layer", "gradient norm", "step", log_y=True)
        self.grad_plot.setToolTip("The gradient norm of each layer with parameters (averaged "
                                  "over short stretches): colour is the run, line style the "
                                  "layer (see the legend below).")
        self._plots_row.removeWidget(self._placeholder)
        self._placeholder.deleteLater()
        for w in (self.loss_plot, self.metric_plot, self.grad_plot):
            self._plots_row.addWidget(w, 1)
            if self.isVisible():
                w.show()  # else Qt shows it only in the next pass of the event loop
        self.set_runs(self._runs)

    # ---------------------------------------------------------------- content
    def runs(self) -> list[RunRecord]:
        return list(self._runs)

    def set_runs(self, runs: list[RunRecord]) -> None:
        """Show ``runs`` (the first is the reference of the diffs); [] clears the view."""
        self._runs = list(runs)
        self.legend.set_entries([
            LegendEntry(run.id, run.name or "(unnamed)", run_pen(i, width=2.2),
                        tooltip=f"{run.name}: {run.ended}, {run.epochs} epochs, "
                                f"{run.steps:,} steps")
            for i, run in enumerate(runs)])
        self._update_layer_legend()
        self.diff_text.setPlainText(self.diff_report())
        if self._built:
            self._draw_runs(runs)

    def _draw_runs(self, runs: list[RunRecord]) -> None:
        for w in (self.loss_plot, self.metric_plot, self.grad_plot):
            w.getPlotItem().clear()
        for i, run in enumerate(runs):
            self._draw_run(i, run)
        metrics = {r.metric_name for r in runs if r.metric_name}
        label = ("accuracy" if metrics == {"accuracy"} else "R²" if metrics == {"r2"}
                 else "accuracy / R²")
        self.metric_plot.getPlotItem().setLabel("left", label, color=TEXT)

    def curve_count(self, which: str) -> int:
        """Curves drawn in the ``loss``, ``metric`` or ``grad`` plot (for tests)."""
        import pyqtgraph as pg

        widget = {"loss": self.loss_plot, "metric": self.metric_plot,
                  "grad": self.grad_plot}[which]
        return sum(isinstance(item, pg.PlotDataItem)
                   for item in widget.getPlotItem().listDataItems())

    def _draw_run(self, i: int, run: RunRecord) -> None:
        if run.loss_curve.shape[0]:
            x, y = smoothed(run.loss_curve[:, 0], run.loss_curve[:, 1])
            self.loss_plot.getPlotItem().plot(x, y, pen=run_pen(i), name=run.name)
        if run.history:
            epochs = np.array([r["epoch"] for r in run.history])
            val = np.array([r["val_metric"] for r in run.history])
            if not np.any(np.isfinite(val)):
                val = np.array([r["train_metric"] for r in run.history])
            symbol = "o" if len(epochs) <= 40 else None
            self.metric_plot.getPlotItem().plot(
                epochs, val, pen=run_pen(i), symbol=symbol, symbolSize=4,
                symbolBrush=series_color(i), symbolPen=None, name=run.name,
                connect="finite")
        g = run.grad_curves
        if g.shape[0] and g.shape[1] > 1:
            for j in range(g.shape[1] - 1):
                x, y = smoothed(g[:, 0], g[:, 1 + j], GRAD_POINTS)
                self.grad_plot.getPlotItem().plot(
                    x, y, pen=run_pen(i, LAYER_STYLES[j % len(LAYER_STYLES)],
                                                     width=1.2),
                    name=f"{run.name} {run.layer_names[j]}")

    def _update_layer_legend(self) -> None:
        widest = max(self._runs, key=lambda r: len(r.layer_names), default=None)
        names = widest.layer_names if widest is not None else ()
        grey = "#555555"
        labels = layer_labels(widest.design, names) if widest is not None else ()
        self.layer_legend.set_entries([
            LegendEntry(name, f"gradient: {label}",
                        QPen(QColor(grey), 1.4, LAYER_STYLES[j % len(LAYER_STYLES)]))
            for j, (name, label) in enumerate(zip(names, labels, strict=True))])
        self.layer_legend.setVisible(bool(names))

    # ------------------------------------------------------------------- diff
    def diff_report(self) -> str:
        """The text of the diff box."""
        runs = self._runs
        if not runs:
            return "Select runs in the table to compare their curves (two or more for " \
                   "their design differences)."
        first = runs[0]
        if len(runs) == 1:
            return (f"{first.name}: {_summary(first)}\nSelect another run too (Ctrl+click) "
                    "to see how the designs differ.")
        lines = []
        for run in runs[1:]:
            diff = design_diff(first.design, run.design)
            head = f"{run.name} vs {first.name}"
            if not diff:
                lines.append(f"{head}: same design")
            else:
                lines.append(f"{head}: " + "; ".join(diff))
        return "\n".join(lines)


def _summary(run: RunRecord) -> str:
    parts = [run.ended, f"{run.epochs} epochs"]
    if math.isfinite(run.final_val_loss):
        parts.append(f"final val loss {run.final_val_loss:.4g}")
    return ", ".join(parts)
