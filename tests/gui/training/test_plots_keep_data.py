"""The live plots never lose data: the validation loss's newest value stays in view (or
is named off scale), a diverged run is marked and does not set the axes, the learning
rate is read out and, with a schedule, drawn in its own strip, and titles fit."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from core.datasets import DatasetSpec, load_dataset
from core.engine.schedules import SCHEDULES
from core.files.design_file import load_design
from core.records.snapshots import EpochSnapshot, RunEnd, StepSnapshot
from core.resources import resource_path
from core.training.progress import ProgressBatch, ProgressBatcher
from core.training.trainer import Trainer
from gui.training.live_plot import LivePlot
from gui.training.plots import TrainingPlots

LAYER = ("layers.0",)


@pytest.fixture
def plots(qtbot) -> TrainingPlots:
    w = TrainingPlots()
    qtbot.addWidget(w)
    w.resize(1000, 650)
    w.show()
    w.start_run(LAYER, LAYER, "classification", None)
    return w


def _batch(steps: np.ndarray, losses: np.ndarray, epochs: list[EpochSnapshot] = (),
           rates: np.ndarray | None = None, end: RunEnd | None = None) -> ProgressBatch:
    n = len(steps)
    z = np.zeros(n)
    norms = np.ones((n, 1))
    rates = np.full(n, 0.01) if rates is None else rates
    return ProgressBatch(LAYER, steps.astype(np.float64), z, losses, z, rates, steps, norms,
                         norms, norms * 1e-3, list(epochs), end)


def _epoch(epoch: int, step: int, train: float, val: float) -> EpochSnapshot:
    return EpochSnapshot(epoch, step, train, val, 0.9, 0.7, "accuracy", 0.01, 0.0)


def _y_range(plots: TrainingPlots) -> tuple[float, float]:
    return tuple(plots.loss_plot.getViewBox().viewRange()[1])


# ------------------------------------------------------------ the newest value


def test_the_validation_losss_newest_value_stays_in_view_when_drawn_at_its_own_pace(
        plots, qtbot):
    """Seen in the overfitting lesson: the epoch losses are drawn at the metric's slower
    pace, after the frame that fitted the view; the validation loss (3.58) ran off the
    top. Frames here come as the clock gives them."""
    steps = np.arange(1, 101)
    plots.add_batch(_batch(steps, np.linspace(0.7, 0.3, 100),
                           [_epoch(e, 10 * e, 0.6, 0.6 + 0.05 * e) for e in range(1, 11)]))
    assert plots.redraw_visible()  # the first frame draws everything
    steps = np.arange(101, 201)
    vals = np.linspace(1.2, 3.58, 10)
    plots.add_batch(_batch(steps, np.linspace(0.3, 0.05, 100),
                           [_epoch(10 + e, 100 + 10 * e, 0.05, vals[e - 1])
                            for e in range(1, 11)]))
    plots.redraw_visible()  # the batch loss now; the epoch curves are not due yet
    qtbot.wait(400)  # the frame clock draws the epoch losses meanwhile
    plots.redraw_visible()
    assert plots.loss_page.val_loss_curve.yData[-1] == pytest.approx(3.58)
    lo, hi = _y_range(plots)
    assert lo <= 0.05 and hi >= 3.58
    assert plots.loss_widget.off_scale_text() == ""


def test_a_newest_value_outside_a_zoomed_view_is_named_off_scale(plots):
    steps = np.arange(1, 101)
    plots.add_batch(_batch(steps, np.linspace(0.7, 0.3, 100),
                           [_epoch(e, 10 * e, 0.5, 0.5 + 0.308 * e) for e in range(1, 11)]))
    plots.redraw()
    assert plots.loss_widget.off_scale_text() == ""
    plots.loss_widget.following = False  # as after the user zooms
    plots.loss_plot.getViewBox().setRange(yRange=(0.0, 1.0), padding=0)
    text = plots.loss_widget.off_scale_text()
    assert text == "↑ off scale: validation loss 3.58"
    assert "batch loss" not in text  # 0.3: in view
    assert plots.loss_widget.off_scale_note.isVisible()
    plots.loss_widget.resume_following()  # the plot's "A" button
    plots.add_batch(_batch(np.arange(101, 103), np.array([0.3, 0.3])))
    plots.redraw()
    assert plots.loss_widget.off_scale_text() == ""


def test_an_r2_below_the_metric_plots_floor_is_named(plots):
    plots.start_run(LAYER, LAYER, "regression", None)
    epochs = [EpochSnapshot(e, 10 * e, 1.0, 1.0, 0.2, -5.0 + e, "r2", 0.01, 0.0)
              for e in range(1, 3)]
    plots.add_batch(_batch(np.arange(1, 21), np.full(20, 1.0), epochs))
    plots.redraw()
    assert plots.metric_widget.off_scale_text() == "↓ off scale: validation R² -3"


# --------------------------------------------------------------- divergence


def _healthy_then(blown: np.ndarray) -> np.ndarray:
    return np.concatenate([np.linspace(0.7, 0.3, 200), blown])


@pytest.mark.parametrize("case", ["blow-up rule", "non-finite end"])
def test_a_diverged_run_is_marked_and_does_not_set_the_axes(plots, case):
    if case == "blow-up rule":  # stays 1e4-1e6 times the start: the rule fires
        losses = _healthy_then(np.geomspace(1e4, 1e6, 40))
        end = RunEnd("diverged", 2, 240, "Training diverged ...", "smoothed loss")
    else:  # three wild steps, then a non-finite one (not in the curve) ends it
        losses = _healthy_then(np.array([1e6, 1e18, 1e30]))
        end = RunEnd("diverged", 2, 203, "Training diverged ...", "loss")
    steps = np.arange(1, len(losses) + 1)
    plots.add_batch(_batch(steps, losses, end=end))
    plots.redraw()
    lo, hi = _y_range(plots)
    assert hi < 1.0 and lo > -0.1  # the healthy part's scale: 0.3 .. 0.7 with margins
    line = plots.loss_widget.divergence_line
    assert line is not None and line.value() == 201  # the first step beyond the rule
    assert "diverged at step 201" in line.label.format
    assert plots.loss_widget.off_scale_text().startswith("↑ off scale: batch loss")
    plots.set_log_loss(True)  # the same on a log axis
    plots.redraw()
    lo, hi = _y_range(plots)
    assert hi < 0.0 and plots.loss_widget.divergence_line is not None
    plots.start_run(LAYER, LAYER, "classification", None)  # a new run: no mark
    assert plots.loss_widget.divergence_line is None


def test_a_healthy_noisy_run_is_not_marked(plots):
    rng = np.random.default_rng(0)
    losses = np.abs(0.7 + 0.5 * rng.standard_normal(500))  # noisy, never 100x the start
    plots.add_batch(_batch(np.arange(1, 501), losses))
    plots.redraw()
    assert plots.loss_widget.divergence_line is None
    assert _y_range(plots)[1] >= losses.max()


def test_a_diverged_baseline_does_not_set_the_axes(plots):
    from core.records.record import RunRecord

    design = load_design(resource_path("examples", "xor.json"))
    losses = _healthy_then(np.array([1e8, 1e20, np.inf]))
    curve = np.column_stack([np.arange(1, len(losses) + 1), losses])
    plots.set_baseline(RunRecord(design, end_reason="diverged", loss_curve=curve))
    plots.add_batch(_batch(np.arange(1, 101), np.linspace(0.6, 0.2, 100)))
    plots.redraw()
    assert _y_range(plots)[1] < 1.0
    assert len(plots.loss_page.baseline_loss_curve.xData) == 200
    assert plots.loss_page.baseline_loss_tail.yData.max() > 1.0  # drawn, off the top


# ------------------------------------------------------------ learning rate


def _scheduled_run(schedule: str) -> tuple[object, object, list[ProgressBatch]]:
    design = load_design(resource_path("examples", "xor.json"))
    training = dataclasses.replace(design.training, schedule=schedule, epochs=6,
                                   step_size=2, gamma=0.5)
    design = dataclasses.replace(design, training=training)
    dataset = load_dataset(DatasetSpec.from_dict(design.dataset))
    trainer = Trainer(design, dataset)
    batcher = ProgressBatcher(trainer.layer_names)
    batches = []
    for n, snap in enumerate(trainer.run()):
        batcher.add(snap)
        if isinstance(snap, StepSnapshot) and n % 25 == 0:
            batches.append(batcher.take())
    batches.append(batcher.take())
    return design, trainer, batches


def test_the_learning_rate_strip_gets_the_schedules_values(plots):
    design, trainer, batches = _scheduled_run("step")
    t = design.training
    plots.loss_page.set_schedule(t.schedule)
    plots.start_run(trainer.layer_names, trainer.layer_names, "classification", None)
    for batch in batches:
        plots.add_batch(batch)
    plots.redraw()
    page = plots.loss_page
    assert page.rate_widget.isVisible()
    drawn = set(np.round(page.rate_curve.yData, 12))
    expected = {round(SCHEDULES["step"].rate(t.learning_rate, e, t.epochs, t.step_size,
                                             t.gamma), 12) for e in range(t.epochs)}
    assert drawn == expected  # every rate of the schedule, and nothing else
    last = SCHEDULES["step"].rate(t.learning_rate, t.epochs - 1, t.epochs, t.step_size,
                                  t.gamma)
    rate = page.loss_legend.entry("rate")
    assert rate.text == f"learning rate {last:.3g}" and "Step decay" in rate.tooltip
    # The strip's x axis lines up with the loss plot's on screen.
    for widget in (page.loss_widget, page.rate_widget):
        widget.plotItem.getViewBox().updateViewRange()
    xs = []
    for widget in (page.loss_widget, page.rate_widget):
        scene = widget.plotItem.getViewBox().mapViewToScene(QPointF(100.0, 0.0))
        xs.append(widget.mapToGlobal(widget.mapFromScene(scene)).x())
    assert abs(xs[0] - xs[1]) <= 1
    # The next run (a reopened one: its rates are not saved) has no strip to show.
    plots.start_run(LAYER, LAYER, "classification", None)
    assert not page.rate_widget.isVisible()
    plots.add_batch(_batch(np.arange(1, 11), np.full(10, 0.5), rates=np.full(10, np.nan)))
    plots.redraw()
    assert not page.rate_widget.isVisible()
    assert not page.loss_legend.entry("rate").visible


def test_without_a_schedule_only_the_readout(plots):
    design, trainer, batches = _scheduled_run("constant")
    plots.loss_page.set_schedule("constant")
    plots.start_run(trainer.layer_names, trainer.layer_names, "classification", None)
    for batch in batches:
        plots.add_batch(batch)
    plots.redraw()
    page = plots.loss_page
    assert not page.rate_widget.isVisible()
    entry = page.loss_legend.entry("rate")
    assert entry.visible and entry.text == f"learning rate {design.training.learning_rate:.3g}"


# -------------------------------------------------------------------- titles


def test_a_narrow_plot_elides_its_title_and_keeps_it_in_the_tooltip(plots, qtbot):
    full = plots.gradient_page.grad_widget.toolTip()
    assert full == "Gradient norm per layer ‖∂L/∂W‖₂"
    grad = LivePlot(full)  # as the gradient page's, alone so its width is the test's
    qtbot.addWidget(grad)
    grad.resize(240, 300)
    grad.show()
    qtbot.wait(20)
    shown = grad.plotItem.titleLabel.text
    assert shown != full and shown.endswith("…") and full.startswith(shown[:-1])
    assert grad.toolTip() == full
    title = grad.plotItem.titleLabel.item.boundingRect().width()  # the text itself
    assert title <= grad.plotItem.getViewBox().width() + 2  # over the data area
    grad.resize(700, 300)
    qtbot.wait(20)
    assert grad.plotItem.titleLabel.text == full
