"""Lesson "Learning rate, measured" in the window: its panel page (Run the sweep, no Run
all), the plot of final loss against learning rate with the three regions, and the check
read from the project's runs (so it comes back with a reopened project). The sweep itself
runs through the window's sweeps (``window.sweeps``): the last test runs it for real."""

from __future__ import annotations

import math

import pytest

from core.sweeps.space import apply
from core.teach.lessons import LESSONS, LessonVariant, run_variant
from core.teach.sweep_lesson import SweepPoint, sweep_design

LESSON = LESSONS["learning_rate_sweep"]
VALUES = LESSON.sweep.values


@pytest.fixture
def window(shown_window):
    return shown_window


def test_the_plot_shades_three_regions_once_every_rate_is_in(qtbot):
    from gui.panels.lesson_sweep_plot import SweepLessonPlot

    plot = SweepLessonPlot()
    qtbot.addWidget(plot)
    losses = [0.46, 0.44, 0.44, 0.43, 0.42, 0.2, 0.07, 0.42, math.inf, math.inf, math.inf]
    points = [SweepPoint(v, loss, math.isinf(loss)) for v, loss in zip(VALUES, losses,
                                                                       strict=True)]
    plot.show_points(points[:5], VALUES)
    assert plot.region_items == {} and "(5 of 11)" in plot.toolTip()
    plot.show_points(points, VALUES)
    assert set(plot.region_items) == {"too low", "good", "too high"}
    # Region edges half-way (on the log axis) between neighbouring rates.
    lo, hi = plot.region_items["good"].getRegion()
    assert 10 ** lo == pytest.approx(math.sqrt(0.01 * 0.03))
    assert 10 ** hi == pytest.approx(math.sqrt(0.1 * 0.3))
    assert plot.labels["too high"].toPlainText() == "too high"
    assert "of 11" not in plot.toolTip()


def _record(lr: float):
    design = apply(sweep_design(LESSON), {"training.learning_rate": lr})
    return run_variant(LessonVariant("x", design, "")).record


def test_the_page_offers_the_sweep_and_its_check_reads_the_runs(qtbot, window):
    assert window.open_lesson("learning_rate_sweep")
    panel = window.lessons
    assert panel.run_sweep.isVisibleTo(panel) and not panel.run_all.isVisibleTo(panel)
    assert "0 of 11" in panel.check.text()
    assert panel.sweep_plot is None  # nothing to plot yet, and pyqtgraph stays unloaded
    # The runs a sweep records (here trained headless, then added as the sweep adds them).
    for lr in VALUES:
        window.document.model.add_run(_record(lr))
    qtbot.waitUntil(lambda: "Shown" in panel.check.text(), timeout=5000)
    assert "lowest at learning rate 0.1" in panel.check.text()
    assert panel.sweep_plot is not None and panel.sweep_plot.isVisibleTo(panel)
    assert set(panel.sweep_plot.region_items) == {"too low", "good", "too high"}
    # Another lesson hides the plot; back again, it is drawn from the runs.
    window.lessons.open_lesson("learning_rate")
    assert not panel.sweep_plot.isVisibleTo(panel)
    window.lessons.open_lesson("learning_rate_sweep")
    assert panel.sweep_plot.isVisibleTo(panel) and "Shown" in panel.check.text()


def test_run_the_sweep_trains_every_rate_in_the_window(qtbot, window, tmp_path,
                                                        monkeypatch):
    sweeps = getattr(window, "sweeps", None)
    if sweeps is None:
        pytest.skip("this tree has no window sweeps (gui.panels.sweep_runner) yet")
    monkeypatch.setenv("BACKPROP_STUDIO_DATA_DIR", str(tmp_path))  # the untitled study
    assert window.open_lesson("learning_rate_sweep")
    panel = window.lessons
    with qtbot.waitSignal(sweeps.controller.finished, timeout=120000):
        panel.run_sweep.click()
        assert panel.run_sweep.text() == "Stop the sweep"
    qtbot.waitUntil(lambda: "Shown" in panel.check.text(), timeout=5000)
    assert panel.run_sweep.text() == "Run the sweep"
    names = [r.name for r in window.runs_panel.runs()]
    assert sum(name.startswith("Sweep Lesson 12") for name in names) == len(VALUES)
