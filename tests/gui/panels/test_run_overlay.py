"""The runs overlay: a diverged run is drawn clipped with a cross where it diverged, and
never sets the axes; the healthy runs keep their scale."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from core.files.design_file import load_design
from core.records.record import RunRecord
from core.resources import resource_path
from gui.panels.run_overlay import RunCompareView

NAMES = ("layers.0", "layers.2")


def _run(design, name: str, losses: np.ndarray, end: str = "finished",
         grads: np.ndarray | None = None) -> RunRecord:
    steps = np.arange(1, len(losses) + 1, dtype=np.float64)
    grads = np.ones((len(losses), 2)) if grads is None else grads
    history = [{"epoch": float(e), "step": 10.0 * e, "train_loss": 0.5, "val_loss": 0.6,
                "train_metric": 0.5 + 0.04 * e, "val_metric": 0.45 + 0.04 * e}
               for e in range(1, len(losses) // 10 + 1)]
    return RunRecord(replace(design, training=replace(design.training)), name=name,
                     end_reason=end, steps=len(losses), epochs=len(history),
                     metric_name="accuracy", history=history,
                     loss_curve=np.column_stack([steps, losses]),
                     grad_curves=np.column_stack([steps, grads]), layer_names=NAMES)


@pytest.fixture
def runs():
    design = load_design(resource_path("examples", "xor.json"))
    good = _run(design, "good", np.geomspace(0.7, 0.05, 200))
    slow = _run(design, "too low", np.geomspace(0.7, 0.5, 200))
    # lr too high: three wild steps, then a non-finite one ended it (as in lesson 1).
    blown = np.r_[np.geomspace(0.7, 0.9, 30), 1e8, 1e20, 1e36]
    grads = np.r_[np.ones(30), 1e10, 1e25, 1e40][:, None] * np.ones((1, 2))
    high = _run(design, "too high", blown, "diverged", grads)
    # blow_up "warn": the rule's run, finite but 1e4-1e6 times the start until the end.
    warned = _run(design, "warned", np.r_[np.full(50, 0.7), np.geomspace(1e4, 1e6, 150)])
    return good, slow, high, warned


def _y_range(view: RunCompareView, plot: str) -> tuple[float, float]:
    widget = {"loss": view.loss_plot, "grad": view.grad_plot, "metric": view.metric_plot}
    vb = widget[plot].getPlotItem().getViewBox()
    vb.updateAutoRange()
    return tuple(vb.viewRange()[1])


@pytest.fixture
def view(qtbot) -> RunCompareView:
    v = RunCompareView()
    qtbot.addWidget(v)
    v.resize(1100, 420)
    v.show()
    return v


def test_diverged_runs_do_not_set_the_axes(view, runs, qtbot):
    good, slow, high, warned = runs
    view.set_runs([good, slow])
    qtbot.wait(20)
    healthy_loss, healthy_grad = _y_range(view, "loss"), _y_range(view, "grad")
    view.set_runs([high, good, warned, slow])
    qtbot.wait(20)
    lo, hi = _y_range(view, "loss")  # log10 of the loss
    # Only the healthy parts count: the scale stays that of the healthy runs (the
    # diverged runs reached 0.9 before blowing up, a little above the others' 0.7).
    assert lo == pytest.approx(healthy_loss[0], abs=0.05)
    assert hi < np.log10(0.9) + 0.1 and hi >= healthy_loss[1] - 0.01
    g_lo, g_hi = _y_range(view, "grad")
    assert g_hi < healthy_grad[1] + 0.5  # not 10^40
    assert view.divergence_steps == [31.0, None, 51.0, None]


def test_a_cross_marks_where_each_diverged_run_blew_up(view, runs):
    good, slow, high, warned = runs
    view.set_runs([high, good, warned])
    marks = view.divergence_markers
    assert len(marks) == 2
    assert [float(m.xData[0]) for m in marks] == [31.0, 51.0]
    assert all(m.opts["symbol"] == "x" for m in marks)
    texts = [e.text for e in view.legend.entries]
    assert texts == ["too high (✕ diverged at step 31)", "good",
                     "warned (✕ diverged at step 51)"]
    # The diverged part is drawn, clipped by the view rather than dropped.
    tails = [item for item in view.loss_plot.getPlotItem().listDataItems()
             if item not in view.loss_plot.getPlotItem().getViewBox().addedItems]
    assert any(len(t.xData) > 2 and t.yData.max() > 1e2 for t in tails)


def test_a_diverged_runs_metric_does_not_squash_the_metric_plot(view, runs):
    good, slow, high, warned = runs
    bad_history = [dict(r, val_metric=-2.6e22) for r in high.history]
    view.set_runs([replace(high, history=bad_history, metric_name="r2"), good])
    lo, hi = _y_range(view, "metric")
    assert lo >= -1.1 and hi <= 1.1


def test_without_divergence_nothing_is_marked(view, runs):
    good, slow, _high, _warned = runs
    view.set_runs([good, slow])
    assert view.divergence_markers == [] and view.divergence_steps == [None, None]
    assert [e.text for e in view.legend.entries] == ["good", "too low"]


def test_narrow_plots_elide_their_titles_and_keep_them_in_the_tooltip(view, qtbot):
    view.resize(560, 300)  # three plots of under 190 px each
    qtbot.wait(20)
    plot = view.grad_plot
    shown = plot.getPlotItem().titleLabel.text
    assert shown.endswith("…") and "Gradient norm per layer".startswith(shown[:-1])
    assert plot.toolTip().startswith("Gradient norm per layer\nThe gradient norm")
