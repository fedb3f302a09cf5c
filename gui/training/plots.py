"""Live training plots: loss, accuracy or R², per-layer gradient norms, weight norms and
update ratios, and the model view (decision boundary, fitted curve or confusion matrix),
on three tab pages (``loss_page``, ``layer_pages``), the misclassified validation
samples on a fourth (``gallery``), and for image networks the first layer's filters and
a chosen sample's feature maps on two more (``image_pages``, shown only for them).

:class:`TrainingPlots` receives ``core.training.progress.ProgressBatch`` objects from the
controller. ``add_batch`` only appends to bounded
:class:`~gui.training.plot_buffers.DecimatingBuffer` histories and marks what changed. The
window's one :class:`~gui.training.frame_clock.FrameClock` draws: on each frame the plots
redraw only what changed, only on the visible page, each part at most at its own pace
(``_MIN_INTERVAL``), and ask for another frame while something there is left to draw.
Every curve is handed a fixed number of points, so a redraw costs the same after a
thousand steps as after a million. The loss keeps each bucket's minimum and maximum
(spikes stay visible); the per-layer figures, ten noisy curves to a plot, show each
bucket's geometric mean so their levels can be told apart.

The tab pages (pyqtgraph) are built after the window's first frame (``gui.lazy_build``):
until then this widget is its toolbar and its histories, and everything the pages show
is kept here (run, layers, diagnostics, hint, baseline) and handed to them by
:meth:`TrainingPlots._build_pages`. A new page is built there, like the others, from
what this widget holds; its attributes go in ``BUILT_PAGE_NAMES`` if other code reads them.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QTabWidget, QVBoxLayout, QWidget

from core.training.progress import ProgressBatch
from gui.colors import PLOT_TEXT
from gui.lazy_build import BuiltOnRead, LazyBuilder, Placeholder
from gui.training.frame_clock import FrameClock
from gui.training.gallery import MisclassifiedGallery
from gui.training.image_pages import FeatureMapsPage, FiltersPage, RunNetwork
from gui.training.layer_status import STATUS_TEXT
from gui.training.live_label import LiveLabel
from gui.training.plot_buffers import DecimatingBuffer

if TYPE_CHECKING:
    import pyqtgraph as pg

    from gui.training.live_plot import LivePlot

__all__ = ["TrainingPlots"]

# Points handed to setData per curve. A plot is at most ~900 px wide; the multi-curve
# plots get fewer because ten log-scale curves cost ten times one (platform notes).
LOSS_POINTS = 1000
LAYER_POINTS = 400
EPOCH_POINTS = 300
# Buffer capacities (rows kept in memory, whatever the run's length).
LOSS_CAPACITY = 4000
DETAIL_CAPACITY = 2000
EPOCH_CAPACITY = 2000

# The least room the tab pages need (measured; a test checks it): the shell asks for it
# before they are built, so the window's layout does not move when they come.
PAGES_MIN_SIZE = QSize(481, 320)
# Which redraw parts live on which tab page.
_PAGE_PARTS = ({"loss", "metric", "model"}, {"grad"}, {"weights"}, {"gallery"},
               {"filters"}, {"maps"})
_IMAGE_TABS = (4, 5)  # the filters and feature-maps pages: image networks only
# Seconds between redraws of each part: the batch loss moves every frame; per-epoch
# figures and the model view change slowly, and each redraw of a plot costs a full
# repaint of it (milliseconds the trainer waits for).
_MIN_INTERVAL = {"loss": 0.0, "grad": 0.0, "weights": 0.1, "metric": 0.3, "model": 0.25,
                 "gallery": 0.25, "filters": 0.25, "maps": 0.25}
# Attributes set by ``_build_pages``: reading one builds the pages first.
BUILT_PAGE_NAMES = frozenset({
    "loss_page", "gradient_page", "weights_page", "tabs", "loss_widget", "loss_plot",
    "metric_widget", "metric_plot", "batch_curve", "train_loss_curve",
    "baseline_loss_curve", "loss_legend", "metric_legend", "model_view", "grad_plot",
    "grad_curves", "grad_legend", "hint_label", "weight_curves", "ratio_curves",
    "weights_legend"})


class TrainingPlots(BuiltOnRead, QWidget):
    """Every live plot of a training run, on three tab pages.

    Feed it ``start_run(...)`` once per run, then every ``ProgressBatch``. It draws on
    ``clock`` (a new one if None; the window shares its clock with the training
    controller, so progress is drawn in the frame it arrives). See the module docstring
    for the redraw policy.
    """

    BUILT_NAMES = BUILT_PAGE_NAMES

    def __init__(self, parent: QWidget | None = None, clock: FrameClock | None = None) -> None:
        super().__init__(parent)
        self.layer_names: tuple[str, ...] = ()
        self.layer_labels: tuple[str, ...] = ()
        self.task = "classification"
        self.dataset = None
        self.baseline = None
        self._statuses: dict[str, str] = {}
        self._hidden_layers: set[str] = set()
        self._dirty: set[str] = set()
        self._drawn_at: dict[str, float] = {}
        self._steps_per_epoch = 0.0
        self._penalty_seen = False
        self._last_step = 0
        self._last_epoch = 0
        self._model_pending: dict[str, object] = {}
        self._loss_buf = DecimatingBuffer(LOSS_CAPACITY, 3)  # loss, penalty, learning rate
        self._epoch_buf = DecimatingBuffer(EPOCH_CAPACITY, 5)  # step, losses, metrics
        self._detail_buf = DecimatingBuffer(DETAIL_CAPACITY, 3)
        self._hint = ""
        self._schedule = "constant"  # the run's learning-rate schedule (set_schedule)
        self._unnoted: dict[str, ProgressBatch] = {}  # batches noted by the build
        self._built = False  # the tab pages; see _build_pages

        self._build_toolbar()
        # The tab pages go in here when built; until then it asks for their room.
        self._body = QWidget()
        self._body_layout = QVBoxLayout(self._body)
        self._body_layout.setContentsMargins(0, 0, 0, 0)
        self._placeholder = Placeholder(PAGES_MIN_SIZE)
        self._body_layout.addWidget(self._placeholder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(self._toolbar)
        layout.addWidget(self._body, 1)

        # No pyqtgraph in it: made now, so the window can connect to it before the build.
        self.gallery = MisclassifiedGallery()
        self.run_network = RunNetwork()  # the run's network with the newest weights
        self.filters_page = FiltersPage(self.run_network)
        self.maps_page = FeatureMapsPage(self.run_network)
        # A misclassified card chosen: follow that sample through the layers too.
        self.gallery.sample_chosen.connect(self._on_gallery_sample)
        self.clock = clock if clock is not None else FrameClock(self)
        self.clock.draw.connect(self.redraw_visible)
        self.start_run((), (), "classification", None)
        self._builder = LazyBuilder(self, self._build_pages)

    def ensure_built(self) -> None:
        """Build the tab pages now if they are not yet (see ``gui.lazy_build``)."""
        if not self._built:
            self._builder.ensure_built()

    @property
    def built(self) -> bool:
        """Whether the tab pages exist."""
        return self._built

    def _build_pages(self) -> None:
        """Build the tab pages and hand them everything received so far."""
        from gui.training.layer_pages import GradientPage, WeightsPage
        from gui.training.loss_page import LossPage

        self._built = True
        self.loss_page = LossPage()
        self.gradient_page = GradientPage()
        self.weights_page = WeightsPage()
        for page in (self.gradient_page, self.weights_page):
            page.toggled.connect(self._on_legend_toggled)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.loss_page, "Loss and model")
        self.tabs.addTab(self.gradient_page, "Gradients")
        self.tabs.addTab(self.weights_page, "Weights and updates")
        self.tabs.addTab(self.gallery, "Misclassified")
        self.tabs.addTab(self.filters_page, "Filters")
        self.tabs.addTab(self.maps_page, "Feature maps")
        self.tabs.setTabToolTip(0, "Loss, accuracy or R², and what the model predicts now.")
        self.tabs.setTabToolTip(1, "How large the gradient reaching each layer is: the "
                                   "place to spot vanishing or exploding gradients.")
        self.tabs.setTabToolTip(2, "How large each layer's weights are and how much one "
                                   "step changes them, relative to their size.")
        self.tabs.setTabToolTip(3, "The validation samples the model gets wrong, most "
                                   "confidently wrong first (classification).")
        self.tabs.setTabToolTip(4, "The first convolution's filters as small images, "
                                   "live (convolutional networks).")
        self.tabs.setTabToolTip(5, "A chosen validation image through every image layer "
                                   "(convolutional networks).")
        self._show_image_tabs()
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        self._body_layout.removeWidget(self._placeholder)
        self._placeholder.deleteLater()
        self._body_layout.addWidget(self.tabs)

        # The pages' plots and curves, under the names the window and tests use.
        loss = self.loss_page
        self.loss_widget, self.loss_plot = loss.loss_widget, loss.loss_plot
        self.metric_widget, self.metric_plot = loss.metric_widget, loss.metric_plot
        self.batch_curve, self.train_loss_curve = loss.batch_curve, loss.train_loss_curve
        self.baseline_loss_curve = loss.baseline_loss_curve
        self.loss_legend, self.metric_legend = loss.loss_legend, loss.metric_legend
        self.model_view = loss.model_view
        grad, weights = self.gradient_page, self.weights_page
        self.grad_plot, self.grad_curves = grad.grad_plot, grad.grad_curves
        self.grad_legend, self.hint_label = grad.legend, grad.hint_label
        self.weight_curves, self.ratio_curves = weights.weight_curves, weights.ratio_curves
        self.weights_legend = weights.legend

        # What arrived before the build: the run, diagnostics, hint, baseline, options.
        for page in (self.gradient_page, self.weights_page):
            page.set_layers(self.layer_names)
            page.set_pens(self._statuses)
        self._refresh_layer_legends()
        self.loss_page.start_run(self.task, self.dataset)
        self.loss_page.set_log_loss(self.log_loss)
        self.loss_page.set_schedule(self._schedule)
        for batch in self._unnoted.values():
            self.loss_page.note_batch(batch)
        self._unnoted.clear()
        self.set_hint(self._hint)
        self._update_tab_titles()
        self._draw_baseline()
        self._dirty |= {"loss", "metric", "grad", "weights"}
        self.redraw()
        if self._body.isVisible():
            self.tabs.show()  # else Qt shows it only in the next pass of the event loop
        self._want_frame()

    @property
    def baseline_grad_curves(self) -> list[pg.PlotDataItem]:
        return self.gradient_page.baseline_grad_curves

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
        self.summary.setStyleSheet(f"color: {PLOT_TEXT};")
        self.summary.setToolTip("The newest step and epoch received from the trainer.")
        self._toolbar = QHBoxLayout()
        self._toolbar.setContentsMargins(2, 0, 2, 0)
        self._toolbar.addWidget(self.epoch_axis_box)
        self._toolbar.addWidget(self.log_loss_box)
        self._toolbar.addStretch(1)
        self._toolbar.addWidget(self.summary)

    def _live_plots(self) -> tuple[LivePlot, ...]:
        return (self.loss_widget, self.metric_widget, *self.gradient_page.plots,
                *self.weights_page.plots)

    # ------------------------------------------------------------------- runs
    def set_schedule(self, name: str) -> None:
        """The run's learning-rate schedule (a key of ``SCHEDULES``; see
        ``LossPage.set_schedule``)."""
        self._schedule = name
        if self._built:
            self.loss_page.set_schedule(name)

    def start_run(self, layer_names: tuple[str, ...], layer_labels: tuple[str, ...],
                  task: str, dataset, design=None) -> None:
        """Forget the previous run and prepare curves for ``layer_names`` (runtime names
        of the layers with parameters) labelled ``layer_labels``; ``dataset`` (a core
        Dataset or None) chooses and fills the model view; ``design`` (the run's, or
        None) builds the image pages' network (shown for image networks only)."""
        if len(layer_labels) != len(layer_names):
            layer_labels = tuple(layer_names)
        self.layer_names = tuple(layer_names)
        self.layer_labels = tuple(layer_labels)
        self._drawn_at = {}
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
        self._unnoted.clear()
        self._epoch_buf.clear()
        if self._detail_buf.columns != max(3 * n, 1):
            self._detail_buf = DecimatingBuffer(DETAIL_CAPACITY, max(3 * n, 1))
        self._detail_buf.clear()
        if self._built:
            for page in (self.gradient_page, self.weights_page):
                page.set_layers(self.layer_names)
            self._refresh_layer_legends()
            self.loss_page.start_run(task, dataset)
            self._draw_baseline()
        self.gallery.set_dataset(dataset)
        self.run_network.set_design(design)
        self.maps_page.set_dataset(dataset)
        self._show_image_tabs()
        self.set_hint("")
        self.summary.setText("")
        self._update_tab_titles()
        self._dirty = {"loss", "metric", "grad", "weights", "filters", "maps"}
        self.redraw()

    def add_batch(self, batch: ProgressBatch) -> None:
        """Append ``batch`` to the histories (cheap: no drawing). Surface, fit, confusion
        counts and epoch figures in the batch replace the previous ones."""
        if batch.steps.size:
            self._loss_buf.append(batch.steps, np.column_stack(
                [batch.losses, batch.penalties, batch.learning_rates]))
            if not self._penalty_seen and np.any(batch.penalties != 0):
                self._penalty_seen = True
            self._last_step = int(batch.steps[-1])
            self._last_epoch = int(batch.epochs[-1]) + 1  # 1-based: the epoch running
            self._dirty.add("loss")
        # The learning-rate readout, a diverged end: before the build, the newest kept.
        if self._built:
            self.loss_page.note_batch(batch)
        else:
            if batch.learning_rates.size:
                self._unnoted["rate"] = batch
            if batch.end is not None:
                self._unnoted["end"] = batch
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
        if batch.misclassified is not None:
            self.gallery.hold(batch.misclassified)  # drawn with the "gallery" part
            self._dirty.add("gallery")
        if batch.weights is not None and self.run_network.design is not None:
            self.run_network.set_weights(batch.weights)  # read when an image page draws
            self._dirty |= {"filters", "maps"}
        if batch.steps.size or batch.epoch_snapshots:
            self.summary.setText(f"step {self._last_step:,} · epoch {self._last_epoch:,}")
        self._want_frame()

    # --------------------------------------------------------------- baseline
    def set_baseline(self, record) -> None:
        """Show a recorded run (``core.records.record.RunRecord``, or None to clear) dashed under
        the live curves: its batch loss per step, its validation metric per epoch, and
        each layer's gradient norm (in that layer's colour)."""
        self.baseline = record
        if not self._built:
            return  # drawn by the build
        self._draw_baseline()
        for widget in self._live_plots():
            widget.refit()  # to include it (or to forget it)

    def _draw_baseline(self) -> None:
        if not self._built:
            return
        self.loss_page.set_baseline(self.baseline, self._steps_to_x)
        self.gradient_page.set_baseline(self.baseline, self._steps_to_x)

    # ------------------------------------------------------------ diagnostics
    def set_diagnostics(self, statuses: dict[str, str]) -> None:
        """Mark layers: ``statuses`` maps a layer name to "ok", "vanishing" or
        "exploding"; marked curves get a thick pen (solid: thick dashed pens cost tens of
        milliseconds per redraw) and their legend label says why. Layers left out count
        as "ok"."""
        self._statuses = {k: v for k, v in statuses.items()
                          if k in self.layer_names and v in STATUS_TEXT}
        if self._built:
            for page in (self.gradient_page, self.weights_page):
                page.set_pens(self._statuses)
        self._refresh_layer_legends()
        self._update_tab_titles()

    def set_hint(self, text: str) -> None:
        """Show ``text`` above the gradient plot; an empty text hides the line."""
        self._hint = text
        if self._built:
            self.gradient_page.set_hint(text)

    def legend_label(self, name: str) -> str:
        """The gradient legend's text for layer ``name`` (with its warning, if any)."""
        e = self.grad_legend.entry(name)
        return e.text if e is not None else ""

    def _refresh_layer_legends(self) -> None:
        if not self._built:
            return
        for page in (self.gradient_page, self.weights_page):
            page.set_legend(self.layer_labels, self._statuses, self._hidden_layers)

    def _update_tab_titles(self) -> None:
        if not self._built:
            return
        warn = any(v in STATUS_TEXT for v in self._statuses.values())
        self.tabs.setTabText(1, "Gradients ⚠" if warn else "Gradients")

    def _on_legend_toggled(self, name: str, hidden: bool) -> None:
        if hidden:
            self._hidden_layers.add(name)
        else:
            self._hidden_layers.discard(name)
        self._refresh_layer_legends()
        self._dirty |= {"grad", "weights"}
        self.redraw()

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
        if self._built:
            self.loss_page.set_log_loss(checked)
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
        loss = self.loss_page
        out = {"batch": loss.batch_curve, "penalty": loss.penalty_curve,
               "train_loss": loss.train_loss_curve, "val_loss": loss.val_loss_curve,
               "train_metric": loss.train_metric_curve, "val_metric": loss.val_metric_curve}
        for prefix, curves in (("grad", self.grad_curves), ("weight", self.weight_curves),
                               ("ratio", self.ratio_curves)):
            out.update({f"{prefix}:{k}": c for k, c in curves.items()})
        return {k: 0 if c.xData is None else len(c.xData) for k, c in out.items()}

    def redraw(self) -> None:
        """Redraw everything that changed since the last redraw, on every page, now
        (once the pages are built; until then it is kept for the build to draw)."""
        if self._built:
            self._redraw(set(self._dirty))

    def redraw_visible(self) -> bool:
        """Redraw what changed on the visible page and is due (the clock calls this each
        frame; Qt paints the changed views in the event loop's next pass). True if
        anything was drawn."""
        if not self._built or not self.isVisible():
            return False  # showEvent (or the build) asks for a frame when it can draw
        now = time.perf_counter()
        due = {part for part in self._dirty & _PAGE_PARTS[self.tabs.currentIndex()]
               if now - self._drawn_at.get(part, 0.0) >= _MIN_INTERVAL[part]}
        for part in due:
            self._drawn_at[part] = now
        if due:
            self._redraw(due)
        self._want_frame()  # parts not due yet: a later frame
        return bool(due)

    def _want_frame(self) -> None:
        """Ask the clock for a frame if the visible page has something to draw."""
        if self._built and self._dirty & _PAGE_PARTS[self.tabs.currentIndex()] and self.isVisible():
            self.clock.request()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._want_frame()

    def _on_tabs_current_changed(self, _index: int) -> None:
        self._want_frame()

    # ----------------------------------------------------------- image pages
    def _show_image_tabs(self) -> None:
        """The filters and feature-maps tabs, for image networks only."""
        if not self._built:
            return
        images = self.run_network.images
        for index in _IMAGE_TABS:
            self.tabs.setTabVisible(index, images)

    def _on_gallery_sample(self, _x) -> None:
        if self.gallery.chosen is not None and self.run_network.images:
            self.maps_page.choose(self.gallery.chosen)
            self._dirty.add("maps")  # drawn when its page shows

    def _redraw(self, parts: set[str]) -> None:
        loss = self.loss_page
        if "loss" in parts:
            xs, ys = self._loss_buf.xy(loss.loss_widget.points(LOSS_POINTS))
            x, label = self._steps_to_x(xs)
            loss.draw_loss(x, label, ys, self._penalty_seen)
        if "metric" in parts:
            # The epoch losses too: redrawn at the metric's slower pace, not every frame.
            ex, ey = self._epoch_buf.xy(EPOCH_POINTS)
            by_epoch = self.x_axis == "epoch" and self._steps_per_epoch > 0
            stamp = (self._epoch_buf.appended, self.x_axis, self._steps_per_epoch > 0)
            loss.draw_epochs(ex if by_epoch else ey[:, 0], ey,
                             "epoch" if by_epoch else "step", self.task, stamp)
        layer_pages = [page for page, part in ((self.gradient_page, "grad"),
                                               (self.weights_page, "weights"))
                       if part in parts]
        if layer_pages and self.layer_names:
            xs, logs = self._detail_buf.mean_xy(
                self.gradient_page.grad_widget.points(LAYER_POINTS, 1))
            x, label = self._steps_to_x(xs)
            ys = 10.0 ** logs
            for page in layer_pages:
                page.draw(x, label, ys, self._hidden_layers)
        if "model" in parts:
            pending, self._model_pending = self._model_pending, {}
            loss.draw_model(pending)
        if "gallery" in parts:
            self.gallery.draw()
        if self.run_network.images:  # else hidden: no network is built for them
            if "filters" in parts:
                self.filters_page.draw()
            if "maps" in parts:
                self.maps_page.draw()
        # Views fitted after every curve of theirs is set (the loss plot holds the
        # epoch losses as well).
        if parts & {"loss", "metric"}:  # the epoch losses are drawn with the metric
            loss.loss_widget.follow()
        for page in layer_pages:
            page.follow()
        self._dirty -= parts

    # ------------------------------------------------------------------ sizes
    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(1000, 700)
