"""Side-by-side comparison of recorded runs: their loss, per-epoch accuracy (or R²) and
per-layer gradient-norm curves overlaid, one colour per run (and one line style per layer
in the gradient plot), with a legend naming each run and a text box saying how each run's
design differs from the first one's (``core.records.diff.design_diff``).

A run that blew up (``gui.training.view_range.blowup_cut``: the one blow-up rule, or a
run that ended as diverged) never sets the axes: its curves up to that point are drawn
as usual, the rest is drawn without counting for the view's range (clipped at the
plot's edge), with a ✕ where it diverged, and the legend says so. The other runs keep a
readable scale.

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
from core.words import plural
from gui.colors import series_color
from gui.lazy_build import BuiltOnRead, LazyBuilder, Placeholder
from gui.training.legend import Legend, LegendEntry
from gui.training.training_ui import layer_labels
from gui.training.view_range import blown_tail, blowup_cut

if TYPE_CHECKING:
    import pyqtgraph as pg

    from gui.training.live_plot import TitledPlot

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
DIVERGED_MARK_SIZE = 13
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


def _plot(title: str, left: str, bottom: str, log_y: bool,
          explanation: str) -> TitledPlot:
    import pyqtgraph as pg

    from gui.training.live_plot import TitledPlot

    widget = TitledPlot(title, title_points=9.0)  # elided when narrow, full in tooltip
    widget.set_title(title, explanation)
    widget.setMinimumSize(PLOT_MIN_SIZE)
    plot = widget.getPlotItem()
    plot.setMenuEnabled(False)
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
        # Per shown run: the step at which it blew up, or None (for the legend, tests).
        self.divergence_steps: list[float | None] = []
        self.divergence_markers: list[pg.PlotDataItem] = []
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
        self.loss_plot = _plot(
            "Batch loss (smoothed)", "loss", "step", True,
            "The mini-batch loss of each run against the step, averaged over short "
            "stretches so the runs can be told apart (log scale).")
        self.metric_plot = _plot(
            "Validation metric", "", "epoch", False,
            "Accuracy (classification) or R² (regression) on the validation set after "
            "each epoch; the training set's when there is no validation split.")
        self.grad_plot = _plot(
            "Gradient norm per layer", "gradient norm", "step", True,
            "The gradient norm of each layer with parameters (averaged over short "
            "stretches): colour is the run, line style the layer (see the legend below).")
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
        self.divergence_steps = [_divergence_step(run) for run in runs]
        entries = []
        for i, (run, where) in enumerate(zip(runs, self.divergence_steps, strict=True)):
            text = run.name or "(unnamed)"
            tip = (f"{run.name}: {run.ended}, {plural(run.epochs, 'epoch')}, "
                   f"{plural(run.steps, 'step')}")
            if where is not None:
                text += f" (✕ diverged at step {where:,.0f})"
                tip += (f"\nIts loss blew up at step {where:,.0f}: the curves after ✕ are "
                        "clipped and do not set the plots' scale.")
            entries.append(LegendEntry(run.id, text, run_pen(i, width=2.2), tooltip=tip))
        self.legend.set_entries(entries)
        self._update_layer_legend()
        self.diff_text.setPlainText(self.diff_report())
        if self._built:
            self._draw_runs(runs)

    def _draw_runs(self, runs: list[RunRecord]) -> None:
        for w in (self.loss_plot, self.metric_plot, self.grad_plot):
            w.getPlotItem().clear()
        self.divergence_markers = []
        for i, run in enumerate(runs):
            self._draw_run(i, run, self.divergence_steps[i])
        metrics = {r.metric_name for r in runs if r.metric_name}
        label = ("accuracy" if metrics == {"accuracy"} else "R²" if metrics == {"r2"}
                 else "accuracy / R²")
        self.metric_plot.getPlotItem().setLabel("left", label, color=TEXT)
        self._fit_metric()

    def curve_count(self, which: str) -> int:
        """Curves drawn in the ``loss``, ``metric`` or ``grad`` plot (for tests)."""
        import pyqtgraph as pg

        widget = {"loss": self.loss_plot, "metric": self.metric_plot,
                  "grad": self.grad_plot}[which]
        return sum(isinstance(item, pg.PlotDataItem)
                   for item in widget.getPlotItem().listDataItems())

    def _draw_run(self, i: int, run: RunRecord, diverged_at: float | None) -> None:
        import pyqtgraph as pg

        loss = self.loss_plot.getPlotItem()
        if run.loss_curve.shape[0]:
            steps, losses = run.loss_curve[:, 0], run.loss_curve[:, 1]
            cut = len(steps) if diverged_at is None else int(np.searchsorted(
                steps, diverged_at))
            x, y = smoothed(steps[:cut], losses[:cut])
            loss.plot(x, y, pen=run_pen(i), name=run.name)
            if diverged_at is not None:
                self._draw_tail(loss, *blown_tail(steps, losses, cut), run_pen(i))
                # ✕ where it left: the last healthy loss (or the first, if none was).
                mark_y = losses[cut - 1] if cut > 0 else losses[0]
                if not (np.isfinite(mark_y) and mark_y > 0):
                    mark_y = 1.0
                marker = pg.PlotDataItem(
                    [diverged_at], [mark_y], pen=None, symbol="x",
                    symbolSize=DIVERGED_MARK_SIZE, symbolBrush=series_color(i),
                    symbolPen=pg.mkPen(series_color(i), width=1.5))
                marker.setZValue(10)
                loss.addItem(marker, ignoreBounds=True)
                self.divergence_markers.append(marker)
        if run.history:
            epochs = np.array([r["epoch"] for r in run.history])
            val = np.array([r["val_metric"] for r in run.history])
            if not np.any(np.isfinite(val)):
                val = np.array([r["train_metric"] for r in run.history])
            symbol = "o" if len(epochs) <= 40 else None
            style = dict(pen=run_pen(i), symbol=symbol, symbolSize=4,
                         symbolBrush=series_color(i), symbolPen=None, connect="finite")
            metric = self.metric_plot.getPlotItem()
            steps = np.array([r["step"] for r in run.history])
            cut = len(steps) if diverged_at is None else int(np.searchsorted(
                steps, diverged_at))
            metric.plot(epochs[:cut], val[:cut], name=run.name, **style)
            if cut < len(steps):  # evaluated after it blew up: drawn, not fitted
                start = max(cut - 1, 0)
                metric.addItem(pg.PlotDataItem(epochs[start:], val[start:], **style),
                               ignoreBounds=True)
        g = run.grad_curves
        if g.shape[0] and g.shape[1] > 1:
            grad = self.grad_plot.getPlotItem()
            cut = g.shape[0] if diverged_at is None else int(np.searchsorted(
                g[:, 0], diverged_at))
            for j in range(g.shape[1] - 1):
                pen = run_pen(i, LAYER_STYLES[j % len(LAYER_STYLES)], width=1.2)
                x, y = smoothed(g[:cut, 0], g[:cut, 1 + j], GRAD_POINTS)
                grad.plot(x, y, pen=pen, name=f"{run.name} {run.layer_names[j]}")
                if diverged_at is not None:
                    self._draw_tail(grad, *blown_tail(g[:, 0], g[:, 1 + j], cut), pen)

    def _fit_metric(self) -> None:
        """Accuracy in 0..1; R² from its lowest healthy value, but not below -1 (an
        untrained or diverged model's R² can be hugely negative), up to 1."""
        plot = self.metric_plot.getPlotItem()
        lows = [float(np.nanmin(y)) for item in plot.listDataItems()
                if item in plot.getViewBox().addedItems
                for y in [item.yData] if y is not None and np.isfinite(y).any()]
        lo = max(min(lows, default=0.0), -1.0)
        plot.setYRange(min(lo, 0.0) - 0.03, 1.06, padding=0)

    @staticmethod
    def _draw_tail(plot: pg.PlotItem, x: np.ndarray, y: np.ndarray, pen: QPen) -> None:
        """A diverged run's curve after it blew up: thinned, and not counted for the
        view's range (the view clips it)."""
        import pyqtgraph as pg

        step = max(1, len(x) // SMOOTH_POINTS)
        x, y = x[::step], y[::step]
        keep = y > 0  # a log axis: no zero or negative values
        if keep.sum() < 2:
            return
        tail = pg.PlotDataItem(x[keep], y[keep], pen=pen)
        plot.addItem(tail, ignoreBounds=True)

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


def _divergence_step(run: RunRecord) -> float | None:
    """The step at which ``run``'s loss blew up (``blowup_cut``), or None."""
    curve = run.loss_curve
    if not curve.shape[0]:
        return None
    cut = blowup_cut(curve[:, 1], run.end_reason == "diverged")
    return None if cut is None else float(curve[cut, 0])


def _summary(run: RunRecord) -> str:
    parts = [run.ended, plural(run.epochs, "epoch")]
    if math.isfinite(run.final_val_loss):
        parts.append(f"final val loss {run.final_val_loss:.4g}")
    return ", ".join(parts)
