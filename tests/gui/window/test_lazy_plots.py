"""The plots built after the first frame (``gui.lazy_build``): while builds are held the
training plots, the runs' overlay and the dataset preview are light shells without
pyqtgraph content; what they are given meanwhile is drawn once they are built, exactly
as an eagerly built widget draws it; a shell shown before its turn builds at once."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from core.datasets import DatasetSpec, load_dataset
from core.files.design_file import load_design
from core.records.record import RunRecord
from core.records.snapshots import StepSnapshot
from core.resources import resource_path
from core.training.model_views import surface_grid
from core.training.progress import ProgressBatcher
from core.training.trainer import Trainer
from gui import lazy_build
from gui.editor.dataset_preview import DatasetPreview
from gui.panels.run_overlay import RunCompareView
from gui.training.plots import TrainingPlots


@pytest.fixture(scope="module")
def xor_run():
    """(layer names, dataset, batches) of 300 real steps of the XOR example."""
    design = load_design(resource_path("examples", "xor.json"))
    dataset = load_dataset(DatasetSpec.from_dict(design.dataset))
    trainer = Trainer(design, dataset)
    batcher = ProgressBatcher(trainer.layer_names)
    batches, steps = [], 0
    for snap in trainer.run():
        batcher.add(snap)
        steps += isinstance(snap, StepSnapshot)
        if steps and steps % 100 == 0 and isinstance(snap, StepSnapshot):
            batch = batcher.take()
            batch.surface = surface_grid(trainer.network, dataset, trainer.stepper.logits)
            batches.append(batch)
        if steps >= 300:
            break
    return trainer.layer_names, dataset, batches


@pytest.fixture
def held():
    """Builds held for the test's widgets (released, and so built, at the end)."""
    lazy_build.hold_builds()
    yield
    lazy_build.release_builds()


def _feed(plots: TrainingPlots, run) -> None:
    names, dataset, batches = run
    plots.start_run(names, names, dataset.task, dataset)
    for batch in batches:
        plots.add_batch(batch)
    plots.set_diagnostics({names[0]: "vanishing"})
    plots.set_hint("a hint given before the build")
    plots.redraw()


def test_training_plots_draw_after_the_build_what_came_before(qtbot, held, xor_run):
    lazy = TrainingPlots()
    qtbot.addWidget(lazy)
    lazy.resize(1000, 700)
    _feed(lazy, xor_run)
    lazy.show()  # shown while held (before the first frame): still a shell
    qtbot.wait(20)
    assert not lazy.built
    assert "loss_page" not in vars(lazy)
    assert lazy.summary.text().startswith("step 300 · epoch ")  # the toolbar is live

    lazy_build.release_builds()
    qtbot.waitUntil(lambda: lazy.built)
    lazy_build.hold_builds()  # (the fixture releases again)
    assert lazy.tabs.isVisible()

    lazy_build.release_builds()  # an eager twin: built in its constructor
    eager_plots = TrainingPlots()
    lazy_build.hold_builds()
    qtbot.addWidget(eager_plots)
    assert eager_plots.built
    eager_plots.resize(1000, 700)
    eager_plots.show()
    _feed(eager_plots, xor_run)

    drawn = lazy.drawn_points()
    assert drawn["batch"] > 0 and drawn["train_loss"] > 0
    assert drawn == eager_plots.drawn_points()
    names = xor_run[0]
    np.testing.assert_array_equal(lazy.grad_curves[names[1]].yData,
                                  eager_plots.grad_curves[names[1]].yData)
    assert lazy.model_view.kind == "surface"
    assert lazy.model_view.surface_view.surface is xor_run[2][-1].surface
    assert "vanishing" in lazy.legend_label(names[0])
    assert lazy.tabs.tabText(1) == "Gradients ⚠"
    assert lazy.hint_label.text() == eager_plots.hint_label.text() != ""


def test_reading_a_plot_builds_the_pages(qtbot, held):
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    assert not plots.built
    assert plots.loss_plot is plots.loss_page.loss_plot  # read before the build: built
    assert plots.built


def test_a_shell_shown_before_its_turn_builds_at_once(qtbot, held):
    first, second = TrainingPlots(), TrainingPlots()
    for w in (first, second):
        qtbot.addWidget(w)
    lazy_build.release_builds()  # both are queued for later passes of the event loop
    assert not first.built and not second.built
    second.show()
    assert second.built and second.tabs.isVisible()
    qtbot.waitUntil(lambda: first.built)
    lazy_build.hold_builds()


def _runs() -> list[RunRecord]:
    design = load_design(resource_path("examples", "xor.json"))
    names = ("layers.0", "layers.2", "layers.4")
    runs = []
    for lr in (0.3, 0.03):
        steps = np.arange(1, 101, dtype=np.float64)
        loss = np.column_stack([steps, np.geomspace(0.7, lr, 100)])
        grads = np.column_stack([steps, *(np.geomspace(1, 0.01, 100) for _ in names)])
        history = [{"epoch": e, "step": 20.0 * e, "train_loss": 1.0 / e, "val_loss": 1.1 / e,
                    "train_metric": 0.5 + 0.1 * e, "val_metric": 0.45 + 0.1 * e}
                   for e in range(1, 6)]
        runs.append(RunRecord(
            replace(design, training=replace(design.training, learning_rate=lr)),
            name=f"lr {lr}", seed=0, duration=1.0, started="2025-01-02T03:04:05",
            end_reason="finished", end_message="Finished 5 epochs (100 steps).", steps=100,
            epochs=5, metric_name="accuracy", history=history, loss_curve=loss,
            grad_curves=grads, layer_names=names))
    return runs


def test_the_run_overlay_draws_runs_set_before_its_build(qtbot, held):
    view = RunCompareView()
    qtbot.addWidget(view)
    view.set_runs(_runs())
    assert "loss_plot" not in vars(view)
    assert "learning rate" in view.diff_text.toPlainText()  # the light part is live
    lazy_build.release_builds()
    qtbot.waitUntil(lambda: "loss_plot" in vars(view))
    lazy_build.hold_builds()
    assert view.curve_count("loss") == 2 and view.curve_count("metric") == 2
    assert view.curve_count("grad") == 6


def test_the_dataset_preview_draws_a_dataset_shown_before_its_build(qtbot, held):
    dataset = load_dataset(DatasetSpec.synthetic("xor"))
    preview = DatasetPreview()
    qtbot.addWidget(preview)
    preview.show_dataset(dataset, equal_aspect=True)
    scatter = preview.scatter
    assert preview.mode == "scatter" and "plot" not in vars(scatter)
    lazy_build.release_builds()
    qtbot.waitUntil(lambda: "plot" in vars(scatter))
    lazy_build.hold_builds()
    assert scatter.point_count == dataset.n_train + dataset.n_val
    assert len(scatter.plot.listDataItems()) == 4  # two classes, training and validation
    assert "same sign" in scatter.legend.text()


@pytest.mark.parametrize("cls", [TrainingPlots, RunCompareView, DatasetPreview])
def test_a_shell_asks_for_the_room_its_content_will(qtbot, cls):
    """Else the window's layout moves when the plots come (the docks narrow): a page or
    plot whose least size changes needs the shell's placeholder changed with it."""
    built = cls()
    lazy_build.hold_builds()
    try:
        shell = cls()
    finally:
        lazy_build.release_builds()
    for w in (built, shell):
        qtbot.addWidget(w)
    assert not getattr(shell, "scatter", shell)._built  # the preview: its scatter plot
    assert shell.minimumSizeHint() == built.minimumSizeHint()
    assert shell.sizeHint() == built.sizeHint()
