"""The first page of the training plots: the loss (each step's batch loss, the epoch
training and validation losses, the weight penalty), the learning rate, the accuracy or
R² per epoch, and the model view (decision boundary, fitted curve or confusion matrix).

The loss plot never loses a curve: its view holds every visible curve's newest value or
names it in an off-scale note (``LivePlot``). A run that blows up (by the one blow-up
rule, ``core.engine.blowup.blowup_index``, or because it ended as diverged) is marked
where it did, and only the steps before that set the y axis. The newest learning rate
is read out under the plot; with a schedule it is also drawn in a thin strip under the
loss.

The page only draws: ``TrainingPlots`` keeps the histories and says when to draw what.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from core.engine.schedules import SCHEDULES
from gui.training.legend import Legend, LegendEntry
from gui.training.live_plot import TEXT, LivePlot
from gui.training.prediction_views import ModelView
from gui.training.view_range import blown_tail, blowup_cut

BASELINE_COLOR = QColor("#555555")
BATCH_COLOR = QColor("#9DB9D8")  # light: the noisy per-step loss stays in the background
TRAIN_COLOR = QColor("#1F4E8C")
VAL_COLOR = QColor("#D55E00")
PENALTY_COLOR = QColor("#AA3377")
RATE_COLOR = QColor("#2E7D32")
RATE_STRIP_HEIGHT = 64
# Epoch curves show markers while there are few enough of them to tell apart.
MARKER_LIMIT = 60

StepsToX = Callable[[np.ndarray], tuple[np.ndarray, str]]  # steps -> (x, axis label)


class LossPage(QWidget):
    """Loss and metric plots with their legends (left) and the model view (right)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_widget = LivePlot("Loss")
        self.loss_plot = self.loss_widget.plotItem
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
        # The baseline's part after it blew up: drawn, but it never sets the axes.
        self.baseline_loss_tail = pg.PlotDataItem(pen=baseline_pen)
        self.baseline_loss_tail.setZValue(-5)
        self.loss_widget.add_unbounded(self.baseline_loss_tail)
        for curve, name in ((self.batch_curve, "batch loss"),
                            (self.train_loss_curve, "training loss"),
                            (self.val_loss_curve, "validation loss"),
                            (self.penalty_curve, "weight penalty")):
            self.loss_widget.track(curve, name)
        self._ended_diverged = False  # the trainer said the run diverged
        self.schedule = "constant"
        self.rate_widget = LivePlot("")
        self.rate_widget.setMinimumHeight(40)
        self.rate_widget.setFixedHeight(RATE_STRIP_HEIGHT)
        self.rate_widget.plotItem.hideAxis("bottom")
        self.rate_widget.plotItem.setLabel("left", "lr", color=TEXT)
        self.rate_widget.setXLink(self.loss_widget)
        self.rate_widget.setMouseEnabled(x=False, y=False)
        self.rate_widget.plotItem.hideButtons()
        self.rate_curve = self.rate_widget.plotItem.plot(pen=pg.mkPen(RATE_COLOR, width=1.5))
        self.rate_widget.hide()
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
            # The learning-rate readout: its line sample is the strip's curve (none
            # without a schedule).
            LegendEntry("rate", "", pg.mkPen(None), visible=False),
        ])
        self.metric_widget = LivePlot("Accuracy")
        self.metric_plot = self.metric_widget.plotItem
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
        self._markers: dict[int, bool] = {}  # curve id -> drawn with markers
        self._epoch_drawn: object = None  # what the epoch losses were last drawn from

        left = QVBoxLayout()
        left.setSpacing(2)
        left.addWidget(self.loss_widget, 3)
        left.addWidget(self.rate_widget)
        left.addWidget(self.loss_legend)
        left.addSpacing(4)
        left.addWidget(self.metric_widget, 2)
        left.addWidget(self.metric_legend)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 4, 0, 0)
        row.addLayout(left, 11)
        row.addWidget(self.model_view, 9)

    def start_run(self, task: str, dataset) -> None:
        """Titles and legends for ``task``; ``dataset`` (a core Dataset or None) chooses
        and fills the model view."""
        self.loss_widget.reset()
        self.metric_widget.reset()
        self.rate_widget.reset()
        self._epoch_drawn = None
        self._ended_diverged = False
        self.rate_curve.setData([], [])
        self.rate_widget.hide()  # until a scheduled run's rates arrive
        self.loss_legend.set_visible_entry("rate", False)
        metric = "R²" if task == "regression" else "Accuracy"
        self.metric_plot.setTitle(metric, color=TEXT, size="10pt")
        self.metric_plot.setLabel("left", "R² (1 is a perfect fit)" if task == "regression"
                                  else "accuracy", color=TEXT)
        short = "R²" if task == "regression" else "accuracy"
        self.metric_widget.track(self.train_metric_curve, f"training {short}")
        self.metric_widget.track(self.val_metric_curve, f"validation {short}")
        self.loss_legend.set_visible_entry("penalty", False)
        # A validation share of 0: no validation curves, so no legend entries for them.
        has_val = dataset is None or getattr(dataset, "x_val", np.zeros((1, 1))).shape[0] > 0
        self.loss_legend.set_visible_entry("val", has_val)
        self.metric_legend.set_visible_entry("val", has_val)
        self.model_view.set_dataset(dataset)

    def set_schedule(self, name: str) -> None:
        """The run's learning-rate schedule (a key of ``SCHEDULES``): any but "constant"
        gets the learning-rate strip under the loss plot."""
        self.schedule = name if name in SCHEDULES else "constant"
        if self.schedule == "constant":
            self.rate_widget.hide()  # else shown with its first rates (_draw_rate)
        rate = self.loss_legend.entry("rate")
        rate.pen = pg.mkPen(RATE_COLOR, width=2) if self.schedule != "constant" \
            else pg.mkPen(None)
        info = SCHEDULES[self.schedule]
        self.loss_legend.set_entry_text(
            "rate", rate.text, f"The learning rate of the newest step (schedule: "
                               f"{info.label}: {info.description})")
        self.loss_legend.update()  # the line sample changed

    def note_batch(self, batch) -> None:
        """Take what a ``ProgressBatch`` says besides its curves: the newest learning
        rate (the readout) and whether the run ended as diverged."""
        rates = batch.learning_rates
        if rates.size and np.isfinite(rates[-1]):
            # The schedule's name is in the tooltip: the text stays short enough to fit.
            self.loss_legend.set_entry_text("rate", f"learning rate {float(rates[-1]):.3g}")
            self.loss_legend.set_visible_entry("rate", True)
        if batch.end is not None and batch.end.reason == "diverged":
            self._ended_diverged = True

    def set_log_loss(self, on: bool) -> None:
        self.loss_plot.setLogMode(y=on)
        self.loss_widget.resume_following()

    # ------------------------------------------------------------------- draw
    def draw_loss(self, x: np.ndarray, label: str, ys: np.ndarray, penalty: bool) -> None:
        """The batch loss ``ys[:, 0]`` (and the penalty ``ys[:, 1]`` once one was seen;
        the learning rate ``ys[:, 2]`` when there is that column and a schedule) at ``x``
        (n,), under the x axis ``label``; the place where the loss blew up marked."""
        self.loss_widget.set_axis_label("bottom", label)
        self.batch_curve.setData(x, ys[:, 0])
        where = self.blowup(ys[:, 0])
        self.loss_widget.set_divergence(
            None if where is None else float(x[where]),
            f"diverged at {label.split(' ')[0]} {x[where]:,.4g}" if where is not None
            else "")
        if ys.shape[1] > 2 and self.schedule != "constant":
            self._draw_rate(x, ys[:, 2])
        if penalty:
            self.penalty_curve.setData(x, ys[:, 1])
        elif self.penalty_curve.xData is not None and len(self.penalty_curve.xData):
            self.penalty_curve.setData([], [])
        self.loss_legend.set_visible_entry("penalty", penalty)

    def blowup(self, losses: np.ndarray) -> int | None:
        """Index into ``losses`` (n,) where the run blew up, or None (``blowup_cut``;
        counting the trainer's word that it ended as diverged)."""
        return blowup_cut(losses, self._ended_diverged)

    def _draw_rate(self, x: np.ndarray, rates: np.ndarray) -> None:
        finite = np.isfinite(rates)
        if not finite.any():
            return  # a reopened run's rates are not saved
        if self.rate_widget.isHidden():
            self.rate_widget.show()
        self.rate_curve.setData(x[finite], rates[finite])
        top = float(rates[finite].max())
        # (x is linked to the loss plot's view, which lines the two up on screen.)
        self.rate_widget.set_y_range(0.0, top * 1.15 if top > 0 else 1.0)

    def draw_epochs(self, x: np.ndarray, ey: np.ndarray, label: str, task: str,
                    stamp: object) -> None:
        """The per-epoch figures ``ey`` (n, 5: step, train and validation loss, train and
        validation metric) at ``x``: the metric plot, and the epoch losses on the loss
        plot unless they were last drawn from the same ``stamp``."""
        if stamp != self._epoch_drawn:
            self._epoch_drawn = stamp
            self._set_epoch_curve(self.train_loss_curve, x, ey[:, 1], TRAIN_COLOR, True)
            self._set_epoch_curve(self.val_loss_curve, x, ey[:, 2], VAL_COLOR, False)
        self._set_epoch_curve(self.train_metric_curve, x, ey[:, 3], TRAIN_COLOR, True)
        self._set_epoch_curve(self.val_metric_curve, x, ey[:, 4], VAL_COLOR, False)
        self.metric_widget.set_axis_label("bottom", label)
        values = ey[:, 3:5][np.isfinite(ey[:, 3:5])]
        if task == "regression":
            # R² of an untrained model can be hugely negative: keep 0..1 readable.
            lo = max(float(values.min()), -1.0) if values.size else 0.0
            self.metric_widget.set_y_range(min(lo, 0.0) - 0.03, 1.06)
        else:
            # A little room above 1 so the top tick label is drawn.
            self.metric_widget.set_y_range(-0.03, 1.06)
        self.metric_widget.check_off_scale()  # an R² below -1 is named, not lost

    def draw_model(self, pending: dict[str, object]) -> None:
        """The newest model figures: "surface", "fit" and/or "confusion"."""
        if "surface" in pending:
            self.model_view.set_surface(pending["surface"])
        if "fit" in pending:
            self.model_view.set_fit(pending["fit"])
        if "confusion" in pending:
            self.model_view.set_confusion(pending["confusion"])

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

    # --------------------------------------------------------------- baseline
    def set_baseline(self, record, to_x: StepsToX) -> None:
        """Draw ``record``'s batch loss and validation metric dashed (None clears)."""
        if record is None or len(record.loss_curve) == 0:
            self.baseline_loss_curve.setData([], [])
            self.baseline_loss_tail.setData([], [])
            self.baseline_metric_curve.setData([], [])
            return
        x = to_x(record.loss_curve[:, 0])[0]
        y = record.loss_curve[:, 1]
        cut = blowup_cut(y, record.end_reason == "diverged")
        cut = len(y) if cut is None else cut
        self.baseline_loss_curve.setData(x[:cut], y[:cut])
        self.baseline_loss_tail.setData(*blown_tail(x, y, cut))
        rows = [(r["step"], r["val_metric"]) for r in record.history
                if np.isfinite(r["val_metric"])]
        if rows:
            steps, values = (np.array(v, dtype=np.float64) for v in zip(*rows, strict=True))
            self.baseline_metric_curve.setData(to_x(steps)[0], values)
        else:
            self.baseline_metric_curve.setData([], [])
