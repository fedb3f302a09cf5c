"""The live training plots: fed with batches of real runs (spiral, sine, digits), they
show the layers' curves in the layers' colours, the model view that fits the data, mark
diagnosed layers, redraw only on the timer, and stay bounded (memory, points handed to
pyqtgraph, redraw time) over very long runs."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from core.datasets import DatasetSpec, build_dataset, load_dataset
from core.design.edit import all_paths, layer_at, runtime_name
from core.files.design_file import load_design
from core.records.snapshots import EpochSnapshot, StepSnapshot
from core.resources import resource_path
from core.training.model_views import SurfaceGrid, fit_curve, surface_grid
from core.training.progress import ProgressBatch, ProgressBatcher
from core.training.targets import confusion_matrix
from core.training.trainer import Trainer
from gui.colors import series_color
from gui.training.plots import LAYER_POINTS, LOSS_POINTS, TrainingPlots

# ------------------------------------------------------------------ real runs


@dataclasses.dataclass
class Run:
    names: tuple[str, ...]
    labels: tuple[str, ...]
    dataset: object
    batches: list[ProgressBatch]


def _labels(design, names):
    by_name = {runtime_name(p): f"{runtime_name(p)} {layer_at(design.network, p).summary()}"
               for p in all_paths(design.network)}
    return tuple(by_name[n] for n in names)


def _run(example: str, steps: int, every: int = 100, l2: float = 0.0) -> Run:
    design = load_design(resource_path("examples", f"{example}.json"))
    if l2:
        design = dataclasses.replace(design, training=dataclasses.replace(design.training,
                                                                          l2=l2))
    dataset = load_dataset(DatasetSpec.from_dict(design.dataset))
    trainer = Trainer(design, dataset)
    batcher = ProgressBatcher(trainer.layer_names)
    batches = []

    def take():
        batch = batcher.take()
        batch.surface = surface_grid(trainer.network, dataset, trainer.stepper.logits)
        batch.fit = fit_curve(trainer.network, dataset)
        if dataset.task == "classification" and dataset.x_train_raw.shape[1] != 2:
            _, out = trainer.evaluate(trainer.Xv, trainer.Yv)
            batch.confusion = confusion_matrix(out, dataset.y_val, dataset.n_classes,
                                               trainer.stepper.logits)
        batches.append(batch)

    n = 0
    for snap in trainer.run():
        batcher.add(snap)
        n += isinstance(snap, StepSnapshot)
        if n >= steps:
            break
        if n and n % every == 0 and isinstance(snap, StepSnapshot):
            take()
    take()
    return Run(trainer.layer_names, _labels(design, trainer.layer_names), dataset, batches)


@pytest.fixture(scope="module")
def spiral() -> Run:
    return _run("spiral", 2000, l2=1e-3)


@pytest.fixture(scope="module")
def sine() -> Run:
    return _run("sine_regression", 400)


@pytest.fixture(scope="module")
def digits() -> Run:
    return _run("digits", 300)


@pytest.fixture
def plots(qtbot) -> TrainingPlots:
    w = TrainingPlots()
    qtbot.addWidget(w)
    w.resize(1000, 700)
    return w


def _feed(w: TrainingPlots, run: Run, task: str | None = None) -> None:
    w.start_run(run.names, run.labels, task or run.dataset.task, run.dataset)
    for batch in run.batches:
        w.add_batch(batch)
    w.redraw()


# ------------------------------------------------------------------- content


def test_a_spiral_run_draws_every_plot(plots, spiral):
    _feed(plots, spiral)
    drawn = plots.drawn_points()
    assert 0 < drawn["batch"] <= LOSS_POINTS
    assert drawn["train_loss"] > 10 and drawn["val_loss"] > 10
    assert drawn["train_metric"] == drawn["train_loss"]
    for name in spiral.names:
        for prefix in ("grad", "weight", "ratio"):
            assert 0 < drawn[f"{prefix}:{name}"] <= LAYER_POINTS
    # The newest gradient norm is what the last batch said (geometric means of buckets
    # stay in the right decade).
    y = plots.grad_curves[spiral.names[0]].yData
    last = spiral.batches[-1].grad_norms[:, 0]
    assert last.min() / 10 < y[-1] < last.max() * 10
    assert plots.metric_plot.titleLabel.text == "Accuracy"
    assert plots.model_view.kind == "surface"
    surface = plots.model_view.surface_view.surface
    assert surface is spiral.batches[-1].surface
    assert plots.model_view.surface_view.image.image.shape[:2] == surface.values.shape
    assert plots.summary.text().startswith("step 2,000")


def test_layer_curves_use_the_layer_colours_and_labels(plots, spiral):
    _feed(plots, spiral)
    for i, (name, label) in enumerate(zip(spiral.names, spiral.labels, strict=True)):
        for curves in (plots.grad_curves, plots.weight_curves, plots.ratio_curves):
            assert curves[name].opts["pen"].color() == series_color(i)
        assert plots.legend_label(name) == label
        assert plots.weights_legend.entry(name).text == label
    assert plots.grad_plot.getAxis("left").logMode


def test_the_penalty_has_its_own_curve_only_when_there_is_one(plots, spiral, sine):
    _feed(plots, spiral)  # trained with L2 1e-3
    assert plots.drawn_points()["penalty"] > 0
    assert plots.loss_legend.entry("penalty").visible
    _feed(plots, sine)  # no penalty
    assert plots.drawn_points()["penalty"] == 0
    assert not plots.loss_legend.entry("penalty").visible


def test_regression_shows_r2_and_the_fitted_curve(plots, sine):
    _feed(plots, sine)
    assert plots.metric_plot.titleLabel.text == "R²"
    assert plots.model_view.kind == "fit"
    fit = plots.model_view.fit_view
    assert fit.fit is sine.batches[-1].fit
    np.testing.assert_array_equal(fit.curve.yData, sine.batches[-1].fit.y)
    assert len(fit.train_points.data) == sine.dataset.n_train


def test_digits_show_a_confusion_matrix_with_class_names(plots, digits):
    _feed(plots, digits)
    assert plots.model_view.kind == "confusion"
    view = plots.model_view.confusion_view
    matrix = digits.batches[-1].confusion
    np.testing.assert_array_equal(view.matrix, matrix)
    assert [t.toPlainText() for t in view._texts[:10]] == [str(v) for v in matrix[0]]
    axis = view.plot.getAxis("left")
    values = axis.tickValues(-0.5, 9.5, 300)[0][1]
    assert axis.tickStrings(values, 1.0, 1.0) == list(digits.dataset.class_names)
    assert f"of {int(matrix.sum())} samples right" in view.caption.text()


def _two_d(task: str, n_classes: int = 3):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(90, 2))
    if task == "classification":
        return build_dataset(name="three", task=task, x_raw=x, y=np.arange(90) % n_classes,
                             raw_feature_names=("a", "b"), target_names=("label",),
                             class_names=tuple(f"c{i}" for i in range(n_classes)))
    return build_dataset(name="plane", task=task, x_raw=x, y=x[:, 0] + x[:, 1],
                         raw_feature_names=("a", "b"), target_names=("z",))


@pytest.mark.parametrize(("task", "kind"), [("classification", "classes"),
                                            ("regression", "regression")])
def test_other_surfaces_are_coloured_and_explained(plots, task, kind):
    dataset = _two_d(task)
    plots.start_run(("layers.0",), ("layers.0 Dense 3",), task, dataset)
    values = (np.indices((16, 16))[1] % 3).astype(np.float64)
    grid = SurfaceGrid(values, (-3.0, 3.0), (-3.0, 3.0), kind)
    batch = ProgressBatcher(("layers.0",)).take()
    batch.surface = grid
    plots.add_batch(batch)
    assert plots.model_view.surface_view.surface is None  # drawn on the next redraw
    plots.redraw()
    view = plots.model_view.surface_view
    image = view.image.image
    assert image.shape[:2] == (16, 16)
    if kind == "classes":  # one light colour per class, no colour bar but a class key
        assert len({tuple(p) for p in image.reshape(-1, image.shape[-1])}) == 3
        assert view.color_bar is None and "c2" in view.key.text()
    else:
        assert view.color_bar is not None


def test_no_dataset_or_a_wide_regression_gets_a_message(plots):
    plots.start_run((), (), "classification", None)
    assert plots.model_view.kind == "none"
    assert "No dataset" in plots.model_view.message.text()
    wide = build_dataset(name="wide", task="regression", x_raw=np.ones((20, 3)),
                         y=np.arange(20.0), raw_feature_names=("a", "b", "c"),
                         target_names=("t",))
    plots.start_run(("layers.0",), ("layers.0 Dense 1",), "regression", wide)
    assert plots.model_view.kind == "none" and "3 inputs" in plots.model_view.message.text()


def test_start_run_clears_everything(plots, spiral, sine):
    _feed(plots, spiral)
    plots.set_diagnostics({spiral.names[0]: "vanishing"})
    plots.set_hint("a hint")
    plots.start_run(sine.names, sine.labels, "regression", sine.dataset)
    assert plots.history_points() == 0
    assert all(v == 0 for v in plots.drawn_points().values())
    assert plots.hint_label.isHidden()
    assert plots.legend_label(sine.names[0]) == sine.labels[0]
    assert plots.model_view.fit_view.fit is None


# --------------------------------------------------------------- diagnostics


def test_diagnosed_layers_are_marked_and_unmarked(plots, spiral):
    _feed(plots, spiral)
    first, second = spiral.names[:2]
    plots.set_diagnostics({first: "vanishing", second: "exploding", "nonsense": "vanishing"})
    pen = plots.grad_curves[first].opts["pen"]
    normal = plots.grad_curves[spiral.names[2]].opts["pen"]
    assert pen.widthF() >= 2 * normal.widthF()  # thick (solid: dashes cost too much)
    assert pen.color() == series_color(0)  # still the layer's colour
    assert plots.legend_label(first) == f"{spiral.labels[0]} ⚠ vanishing"
    assert plots.legend_label(second) == f"{spiral.labels[1]} ⚠ exploding"
    assert plots.weights_legend.entry(first).text.endswith("⚠ vanishing")
    assert plots.legend_label(spiral.names[2]) == spiral.labels[2]
    assert "⚠" in plots.tabs.tabText(1)
    plots.set_diagnostics({first: "ok"})
    assert plots.grad_curves[first].opts["pen"].widthF() == normal.widthF()
    assert plots.legend_label(first) == spiral.labels[0]
    assert "⚠" not in plots.tabs.tabText(1)


def test_hint_line_shows_and_hides(plots):
    plots.set_hint("Try ReLU activations.")
    assert not plots.hint_label.isHidden()
    assert plots.hint_label.text() == "Try ReLU activations."
    plots.set_hint("")
    assert plots.hint_label.isHidden()


def test_clicking_a_layer_in_the_legend_hides_its_curves(plots, spiral, qtbot):
    plots.show()
    qtbot.waitExposed(plots)
    _feed(plots, spiral)
    plots.tabs.setCurrentIndex(1)
    legend = plots.grad_legend
    rect, entry = legend._rects[1]
    pos = rect.center()
    press = QMouseEvent(QMouseEvent.Type.MouseButtonPress, pos, legend.mapToGlobal(pos),
                        Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(legend, press)
    name = spiral.names[1]
    assert entry.key == name
    assert plots.drawn_points()[f"grad:{name}"] == 0
    assert plots.drawn_points()[f"ratio:{name}"] == 0
    assert plots.weights_legend.entry(name).hidden_curve
    QApplication.sendEvent(legend, QMouseEvent(
        QMouseEvent.Type.MouseButtonPress, QPointF(pos), legend.mapToGlobal(pos),
        Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
    assert plots.drawn_points()[f"grad:{name}"] > 0


# -------------------------------------------------------------- axes, scales


def test_epoch_axis_divides_steps_by_the_epoch_length(plots, spiral):
    _feed(plots, spiral)
    steps_x = plots.batch_curve.xData.copy()
    plots.set_x_axis("epoch")
    assert plots.x_axis == "epoch" and plots.epoch_axis_box.isChecked()
    spe = spiral.batches[0].epoch_snapshots[0].step  # steps in the first epoch
    np.testing.assert_allclose(plots.batch_curve.xData, steps_x / spe)
    epochs = [s.epoch for b in spiral.batches for s in b.epoch_snapshots]
    assert plots.train_loss_curve.xData[-1] == epochs[-1]
    assert plots.loss_plot.getAxis("bottom").labelText == "epoch"
    plots.set_x_axis("step")
    np.testing.assert_allclose(plots.batch_curve.xData, steps_x)
    with pytest.raises(ValueError):
        plots.set_x_axis("time")


def test_epoch_axis_before_the_first_epoch_ends_says_so(plots):
    names = ("layers.0",)
    plots.start_run(names, names, "classification", None)
    batcher = ProgressBatcher(names)
    for s in range(1, 6):
        batcher.add(StepSnapshot(0, s, 1.0 / s, 0.0, 0.1, 1.0, (0.5,), (1.0,), (1e-3,)))
    plots.add_batch(batcher.take())
    plots.set_x_axis("epoch")
    assert "epoch length known after the first epoch" in (
        plots.loss_plot.getAxis("bottom").labelText)
    np.testing.assert_array_equal(plots.batch_curve.xData, np.arange(1, 6))


def test_log_scale_toggle_for_the_loss(plots, spiral):
    _feed(plots, spiral)
    assert not plots.loss_plot.getAxis("left").logMode
    plots.log_loss_box.click()
    assert plots.log_loss and plots.loss_plot.getAxis("left").logMode
    plots.set_log_loss(False)
    assert not plots.loss_plot.getAxis("left").logMode


def test_zero_gradients_leave_gaps_without_warnings(plots):
    names = ("layers.0", "layers.2")
    plots.start_run(names, names, "classification", None)
    batcher = ProgressBatcher(names)
    for s in range(1, 50):
        batcher.add(StepSnapshot(0, s, 0.5, 0.0, 0.1, 1.0, (0.0, 0.3), (1.0, 2.0),
                                 (0.0, 1e-3)))
    plots.add_batch(batcher.take())
    plots.redraw()  # RuntimeWarnings (log of zero) would fail the test
    assert np.all(np.isnan(plots.grad_curves["layers.0"].yData))
    np.testing.assert_allclose(plots.grad_curves["layers.2"].yData, 0.3)


def test_a_batch_for_other_layers_is_ignored_not_fatal(plots):
    plots.start_run(("layers.0",), ("layers.0",), "classification", None)
    batcher = ProgressBatcher(("a", "b"))
    batcher.add(StepSnapshot(0, 1, 0.5, 0.0, 0.1, 1.0, (1.0, 2.0), (1.0, 2.0), (1.0, 2.0)))
    plots.add_batch(batcher.take())
    plots.redraw()
    assert plots.drawn_points()["batch"] == 1
    assert plots.drawn_points()["grad:layers.0"] == 0


# -------------------------------------------------------------------- timer


def test_add_batch_only_buffers_and_the_timer_redraws(plots, spiral, qtbot):
    plots.show()
    qtbot.waitExposed(plots)
    plots.start_run(spiral.names, spiral.labels, "classification", spiral.dataset)
    calls = []
    original = plots._redraw
    plots._redraw = lambda parts: (calls.append(set(parts)), original(parts))
    plots.add_batch(spiral.batches[0])
    plots.add_batch(spiral.batches[1])
    assert plots.drawn_points()["batch"] == 0  # nothing drawn yet
    assert plots.clock.active  # a frame is coming
    qtbot.waitUntil(lambda: plots.drawn_points()["batch"] == 200, timeout=2000)
    assert len(calls) == 1  # two batches, one redraw
    assert calls[0] == {"loss", "metric", "model"}  # the visible page only
    assert plots.model_view.surface_view.surface is spiral.batches[1].surface
    qtbot.wait(120)
    assert len(calls) == 1  # nothing changed: no more redraws
    plots.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: plots.drawn_points()[f"grad:{spiral.names[0]}"] > 0,
                    timeout=2000)
    assert calls[-1] == {"grad"}


def test_a_hidden_widget_does_not_redraw_until_shown(plots, spiral, qtbot):
    plots.start_run(spiral.names, spiral.labels, "classification", spiral.dataset)
    plots.add_batch(spiral.batches[0])
    qtbot.wait(100)
    assert plots.drawn_points()["batch"] == 0
    plots.show()
    qtbot.waitUntil(lambda: plots.drawn_points()["batch"] == 100, timeout=2000)


# ------------------------------------------------------------------- bounds


def _synthetic_batches(n_batches: int, steps: int, names: tuple[str, ...], spe: int = 250):
    """ProgressBatcher batches of synthetic snapshots: detail every step."""
    rng = np.random.default_rng(1)
    batcher = ProgressBatcher(names)
    scale = 10.0 ** -np.arange(len(names))
    step = 0
    for _ in range(n_batches):
        noise = rng.lognormal(0.0, 0.5, (steps, len(names))) * scale
        for k in range(steps):
            step += 1
            g = tuple(noise[k].tolist())
            batcher.add(StepSnapshot((step - 1) // spe, step, 1.0 / np.sqrt(step), 0.0, 0.1,
                                     1.0, g, g, g))
            if step % spe == 0:
                batcher.add(EpochSnapshot(step // spe, step, 0.5, 0.6, 0.8, 0.7,
                                          "accuracy", 0.1, 0.0))
        yield batcher.take()


@pytest.mark.slow
def test_memory_and_points_stay_bounded_over_100000_steps(plots):
    names = tuple(f"layers.{2 * i}" for i in range(10))
    plots.start_run(names, names, "classification", None)
    nbytes = plots.history_bytes()
    for i, batch in enumerate(_synthetic_batches(1000, 100, names)):
        plots.add_batch(batch)
        if i % 100 == 99:
            plots.redraw()
            assert plots.history_bytes() == nbytes
            assert plots.history_points() <= 4000 + 2000 + 2000
            drawn = plots.drawn_points()
            assert drawn["batch"] <= LOSS_POINTS
            assert all(v <= LAYER_POINTS for k, v in drawn.items() if ":" in k)
    assert plots._loss_buf.appended == 100_000
    assert plots._detail_buf.appended == 100_000
    assert plots.batch_curve.xData[-1] == 100_000
    assert plots.grad_curves["layers.18"].yData[-1] < 1e-8  # the tenth decade is kept


def _direct_batch(start: int, k: int, names, rng, spe: int = 25) -> ProgressBatch:
    """A ProgressBatch built straight from arrays: a million steps through the batcher's
    per-snapshot Python would take minutes."""
    steps = np.arange(start + 1, start + k + 1, dtype=np.float64)
    g = 10.0 ** -np.arange(len(names))[None, :] * rng.lognormal(0.0, 0.5, (k, len(names)))
    snaps = [EpochSnapshot(int(s) // spe, int(s), 0.5, 0.6, 0.8, 0.7, "accuracy", 0.1, 0.0)
             for s in steps if s % spe == 0]
    return ProgressBatch(names, steps, (steps - 1) // spe, rng.lognormal(-1.0, 0.3, k),
                         np.full(k, 1e-3), np.full(k, 0.1), steps.copy(), g, g * 100.0,
                         g * 0.1, snaps)


@pytest.mark.slow
def test_redraw_cost_does_not_grow_with_history(plots, qtbot, capsys):
    """Points handed to pyqtgraph are the same at 1e3 and 1e6 steps (asserted); the
    redraw times are printed for the record (run with -s), not asserted."""
    plots.show()
    qtbot.waitExposed(plots)
    names = tuple(f"layers.{2 * i}" for i in range(10))
    plots.start_run(names, names, "classification", None)
    rng = np.random.default_rng(2)
    done, report, points = 0, [], {}
    for target in (1_000, 10_000, 100_000, 1_000_000):
        while done < target:
            k = min(1000, target - done)
            plots.add_batch(_direct_batch(done, k, names, rng))
            done += k
        times = []
        for _ in range(5):
            plots._dirty |= {"loss", "metric", "grad", "weights"}
            t0 = time.perf_counter()
            plots.redraw()
            for widget in (plots.loss_widget, plots.metric_widget):  # the visible page
                widget.viewport().repaint()
            times.append(time.perf_counter() - t0)
        points[target] = sum(plots.drawn_points().values())
        report.append(f"{target:>9,} steps: redraw {1000 * np.median(times):6.1f} ms, "
                      f"{points[target]} points")
    with capsys.disabled():
        print("\nTrainingPlots redraw (setData on all pages, painting of the visible one):")
        print("\n".join(report))
    assert points[1_000_000] <= 1.5 * points[1_000]
