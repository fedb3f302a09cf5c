"""The live sweep views draw what a SweepStatus of a real sweep says: the trial table, the
best-so-far curve, the objective per parameter (log where log), parallel coordinates,
importances, the running trials' curves, and why trials were pruned."""

from __future__ import annotations

import dataclasses
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from gui.colors import WARNING
from gui.training.sweep_views import SweepViews
from tests.gui.training.sweep_statuses import run_real_sweep, status_of

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """A real 30-trial sweep with the median pruner (some trials pruned)."""
    sweep = run_real_sweep(tmp_path_factory.mktemp("sweep"))
    states = [t.state for t in sweep.final.trials]
    assert states.count("pruned") >= 3 and states.count("complete") >= 5
    assert sweep.final.importances  # the driver measured them
    return sweep


@pytest.fixture
def views(qtbot):
    w = SweepViews()
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    qtbot.waitExposed(w)
    return w


def _finished(status, states=("complete", "pruned")):
    return [t for t in status.trials if t.state in states and math.isfinite(t.value)]


def test_the_table_has_a_row_per_trial_with_its_settings_value_and_state(views, sweep):
    status = status_of(sweep, upto=26, running=2)
    views.show_status(status)
    model = views.table.model_
    assert model.row_count() == 28
    assert [model.header(c) for c in range(model.columnCount())] == [
        "#", "learning_rate", "units", "optimizer", "val_loss", "state", "duration",
        "worker"]
    for trial in status.trials:
        row = model.row_of(trial.number)
        assert model.text(row, 0) == str(trial.number)
        lr = trial.params["training.learning_rate"]
        assert float(model.text(row, 1)) == pytest.approx(lr, rel=1e-3)
        assert model.text(row, 2) == str(trial.params["layers[0].units"])
        assert model.text(row, 3) == trial.params["training.optimizer"]
        assert model.text(row, 5) == {"fail": "failed"}.get(trial.state, trial.state)
        if trial.state == "running":
            assert model.text(row, 4) == "–"
        else:
            assert float(model.text(row, 4)) == pytest.approx(trial.value, rel=1e-3)
    pruned = next(t for t in status.trials if t.state == "pruned")
    index = model.index(model.row_of(pruned.number), 5)
    assert model.data(index, Qt.ItemDataRole.ForegroundRole) == WARNING


def test_sorting_by_the_objective_puts_the_best_first_and_trials_without_a_value_last(
        views, sweep):
    status = status_of(sweep, upto=26, running=2)
    views.show_status(status)
    views.table.sortByColumn(4, Qt.SortOrder.AscendingOrder)
    proxy = views.table.proxy
    first = proxy.index(0, 0).data()
    assert int(first) == status.best.number
    last_two = {proxy.index(proxy.rowCount() - i, 5).data() for i in (1, 2)}
    assert last_two == {"running"}


def test_an_unchanged_status_changes_no_row_and_a_finished_trial_changes_one(views, sweep):
    views.show_status(status_of(sweep, upto=20, running=1))
    changed = []
    views.table.model_.dataChanged.connect(lambda a, b: changed.append((a.row(), b.row())))
    views.show_status(status_of(sweep, upto=20, running=1))
    assert changed == []
    # The running trial finishes; the next one starts (a new row), the best may move.
    views.show_status(status_of(sweep, upto=21, running=1))
    rows = {a for a, _ in changed}
    assert views.table.model_.row_of(20) in rows
    assert len(rows) <= 3
    assert views.table.model_.row_count() == 22


def test_pruned_trials_say_why_value_against_the_pruners_threshold(views, sweep):
    status = status_of(sweep)
    views.show_status(status)
    pruned = [t for t in status.trials if t.state == "pruned"]
    lines = views.prune_lines()
    assert len(lines) == len(pruned)
    for trial, line in zip(pruned, lines, strict=True):
        match = re.fullmatch(r"#(\d+) pruned at epoch (\d+): val_loss (\S+) > median "
                             r"(\S+)", line)
        assert match, line
        assert int(match[1]) == trial.number and int(match[2]) == trial.pruned_step
        value, threshold = float(match[3]), float(match[4])
        assert threshold == pytest.approx(trial.threshold, rel=1e-3)
        assert value > threshold  # the line explains the decision
        model = views.table.model_
        tip = model.data(model.index(model.row_of(trial.number), 0),
                         Qt.ItemDataRole.ToolTipRole)
        assert line in tip
    assert views.pruned_list.isVisible()


def test_best_so_far_is_a_staircase_down_to_the_best(views, sweep):
    status = status_of(sweep)
    views.show_status(status)
    views.draw_all()
    curve = views.best_plot.best_curve
    ys = np.asarray(curve.yData)
    assert np.all(np.diff(ys) <= 0)  # minimising: the best never gets worse
    assert ys[-1] == pytest.approx(status.best.value)
    assert len(views.best_plot.dots.xData) == len(_finished(status))


def test_the_objective_per_parameter_is_on_a_log_axis_where_the_range_is_log(views,
                                                                              sweep):
    status = status_of(sweep)
    # One trial failed: it has no value and is left out of the plots.
    failed = _finished(status, ("complete",))[0]
    trials = tuple(dataclasses.replace(t, state="fail", value=math.nan)
                   if t.number == failed.number else t for t in status.trials)
    status = dataclasses.replace(status, trials=trials)
    views.show_status(status)
    views.draw_all()
    lr, units, optimizer = views.scatters.plots
    assert lr.plotItem.getAxis("bottom").logMode
    assert not units.plotItem.getAxis("bottom").logMode
    assert not optimizer.plotItem.getAxis("bottom").logMode
    ticks = optimizer.plotItem.getAxis("bottom")._tickLevels
    assert [text for _, text in ticks[0]] == ["sgd", "adam"]
    drawn = _finished(status)
    for plot in (lr, units, optimizer):
        assert set(plot.points()) == {t.number for t in drawn}
        assert failed.number not in plot.points()
    for t in drawn:
        x, y = lr.points()[t.number]
        assert x == pytest.approx(t.params["training.learning_rate"])
        assert y == pytest.approx(t.value)
        choice = optimizer.points()[t.number][0]
        assert round(choice) == ["sgd", "adam"].index(t.params["training.optimizer"])
    # Pruned trials are hollow (white inside), complete ones filled.
    brushes = lr.dots.opts["symbolBrush"]
    for t, brush in zip(drawn, brushes, strict=True):
        assert (brush.color().name() == "#ffffff") == (t.state == "pruned")


def test_parallel_coordinates_draw_a_line_per_finished_trial_normalised(views, sweep):
    status = status_of(sweep)
    views.show_status(status)
    views.draw_all()
    drawn = _finished(status)
    assert views.parallel.line_count() == len(drawn)
    values = np.array([t.value for t in drawn])
    # The objective's axis: the values' range, with outliers on the worse side (beyond
    # three interquartile ranges of the quartiles) at its end; val_loss is minimised.
    q1, q3 = np.percentile(values, [25, 75])
    lo = values.min()
    hi = min(values.max(), q3 + 3 * (q3 - q1))
    for t in drawn:
        u = views.parallel.line_units(t.number)
        lr = t.params["training.learning_rate"]
        assert u[0] == pytest.approx((math.log10(lr) + 4) / 4)  # log range 1e-4..1
        assert u[1] == pytest.approx((t.params["layers[0].units"] - 2) / 6)
        assert u[2] == ["sgd", "adam"].index(t.params["training.optimizer"])
        assert u[3] == pytest.approx(np.clip((t.value - lo) / (hi - lo), 0, 1))


def test_an_outlier_does_not_squash_the_others_it_sits_at_the_edge(views, sweep):
    status = status_of(sweep)
    drawn = _finished(status)
    worst = max(t.value for t in drawn)
    far = drawn[3]
    trials = tuple(dataclasses.replace(t, value=worst * 40) if t.number == far.number
                   else t for t in status.trials)
    status = dataclasses.replace(status, trials=trials)
    views.show_status(status)
    views.draw_all()
    plot = views.best_plot
    lo, hi = plot.plotItem.getViewBox().viewRange()[1]
    assert hi < worst * 2 and lo < min(t.value for t in drawn)
    symbols = plot.dots.opts["symbol"]
    numbers = list(plot.dots.xData)
    assert symbols[numbers.index(far.number)] == "t1"  # off the top, pointing up
    value = {t.number: t.value for t in status.trials}
    for number, symbol in zip(numbers, symbols, strict=True):
        # A dot where the value is in view; a triangle at the edge where it is not.
        assert (symbol == "o") == (lo <= value[int(number)] <= hi), number
    assert symbols.count("o") >= len(drawn) - 2
    assert views.parallel.line_units(far.number)[-1] == 1.0
    assert views.parallel._axes_for[2][1].startswith("≥ ")


def test_a_best_trial_far_ahead_of_the_others_is_never_cut_off(views, sweep):
    # As in the learning-rate lesson: most trials near 0.5, the best at 0.07.
    status = status_of(sweep)
    drawn = _finished(status)
    best = min(t.value for t in drawn)
    far = drawn[5]
    trials = tuple(dataclasses.replace(t, value=best / 40, state="complete")
                   if t.number == far.number else t for t in status.trials)
    status = dataclasses.replace(status, trials=trials)
    views.show_status(status)
    views.draw_all()
    lo, _hi = views.best_plot.plotItem.getViewBox().viewRange()[1]
    assert lo <= best / 40  # in view, a dot, and the best-so-far line reaches it
    numbers = list(views.best_plot.dots.xData)
    assert views.best_plot.dots.opts["symbol"][numbers.index(far.number)] == "o"
    assert views.parallel.line_units(far.number)[-1] == 0.0


def test_importances_are_bars_once_the_study_has_them_else_a_line_saying_when(views,
                                                                            sweep):
    status = status_of(sweep)
    assert status.importances
    views.show_status(status)
    views.draw_all()
    shown = dict(views.importances.shown)
    assert set(shown) == {"learning_rate", "units", "optimizer"}
    bars = views.importances.bars.opts["width"]
    assert sorted(bars) == pytest.approx(sorted(status.importances.values()))
    assert views.importances.stack.currentWidget() is views.importances.plot

    early = status_of(sweep, upto=3, importances=False)
    views.show_status(early)
    views.draw_all()
    complete = sum(t.state == "complete" for t in early.trials)
    assert views.importances.stack.currentWidget() is views.importances.note
    assert views.importances.note.text() == (
        f"Parameter importances appear once 4 trials have completed ({complete} so far).")


def test_running_trials_curves_are_overlaid_live_and_go_when_they_end(views, sweep):
    status = status_of(sweep, upto=20, running=2)
    views.show_status(status)
    views.draw_all()
    live = views.live
    layers = status.live[0].grads.shape[1] - 1
    assert live.curve_counts() == (2, 2 * layers)
    assert live.grad_widget.plotItem.getAxis("left").logMode
    first = status.live[0]
    np.testing.assert_allclose(live.loss_curves[first.number].yData, first.loss[:, 1])
    texts = [e.text for e in live.legend.entries]
    assert texts[0].startswith(f"#{first.number} learning_rate ")
    assert texts[1].startswith(f"#{status.live[1].number} ")
    assert live.note.isHidden()
    views.show_status(status_of(sweep, upto=22, running=0, state="finished"))
    views.draw_all()
    assert live.curve_counts() == (0, 0)
    assert not live.note.isHidden() and live.note.text() == "No trial is running."
    # Watching a study other processes run: running trials, but no curves come.
    watched = status_of(sweep, upto=20, running=2)
    views.show_status(dataclasses.replace(watched, live=()))
    views.draw_all()
    assert live.curve_counts() == (0, 0)
    assert live.note.text().startswith("2 trials running in other processes")


def test_only_the_visible_page_draws_and_a_page_shown_later_draws_then(views, sweep,
                                                                       monkeypatch):
    drawn = []
    for name in ("best_plot", "scatters", "parallel", "live"):
        part = getattr(views, name)
        monkeypatch.setattr(part, "draw", lambda *a, _n=name: drawn.append(_n))
    views.tabs.setCurrentIndex(0)
    views.show_status(status_of(sweep, upto=10, running=1))
    assert drawn == ["best_plot"]
    views.show_status(status_of(sweep, upto=10, running=1))  # nothing new
    assert drawn == ["best_plot"]
    views.tabs.setCurrentIndex(2)
    assert drawn == ["best_plot", "parallel"]
    views.tabs.setCurrentIndex(1)
    assert drawn == ["best_plot", "parallel", "scatters"]


def test_selecting_a_trial_rings_it_in_the_plots_and_darkens_its_line(views, sweep,
                                                                      qtbot):
    status = status_of(sweep)
    views.show_status(status)
    views.draw_all()
    target = _finished(status, ("complete",))[2]
    with qtbot.waitSignal(views.trial_selected) as signal:
        views.select_trial(target.number)
    assert signal.args == [target.number]
    ring = views.best_plot.ring
    assert list(ring.xData) == [target.number] and list(ring.yData) == [target.value]
    line = views.parallel.lines[target.number]
    assert line.opts["pen"].width() == 3 and line.zValue() == 20
    views.select_trial(None)
    assert views.best_plot.ring.xData is None or len(views.best_plot.ring.xData) == 0


def test_apply_best_sends_the_best_settings_and_stop_is_offered_while_running(views,
                                                                            sweep, qtbot):
    assert not views.apply_button.isEnabled() and not views.stop_button.isEnabled()
    status = status_of(sweep, upto=20, running=2)
    views.show_status(status)
    assert views.stop_button.isEnabled()
    with qtbot.waitSignal(views.apply_best_requested) as signal:
        views.apply_button.click()
    assert signal.args == [status.best.params]
    with qtbot.waitSignal(views.stop_requested):
        views.stop_button.click()
    views.show_status(status_of(sweep, state="finished"))
    assert not views.stop_button.isEnabled() and views.apply_button.isEnabled()
    assert "finished" in views.summary.text()
    assert f"best val_loss {status_of(sweep).best.value:.4g}" in views.summary.text()


def test_a_failed_sweep_says_why(views, sweep):
    status = dataclasses.replace(status_of(sweep, upto=0), state="failed",
                                 message="the storage s.db is used by another window")
    views.show_status(status)
    assert views.message.isVisibleTo(views)
    assert views.message.text() == "the storage s.db is used by another window"


def test_the_views_module_does_not_import_pyqtgraph(tmp_path):
    # The window may make the views before its first frame: their plots come later.
    code = ("import sys, gui.training.sweep_views; "
            "print(sorted(m for m in sys.modules if m.startswith('pyqtgraph')))")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, text=True,
                            capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_status_shown_before_the_plots_are_built_is_drawn_by_their_build(qtbot, sweep):
    from gui import lazy_build

    lazy_build.hold_builds()
    try:
        w = SweepViews()
        qtbot.addWidget(w)
        status = status_of(sweep)
        w.show_status(status)  # the table shows it; the plots wait
        assert not w._built and w.table.model_.row_count() == len(status.trials)
    finally:
        lazy_build.release_builds()
    w.resize(1280, 720)
    w.show()
    qtbot.waitUntil(lambda: w._built)
    assert len(w.best_plot.dots.xData) == len(_finished(status))


def test_a_halving_prune_names_the_rung_cut_off_and_a_maximised_objective_is_below_it(
        views, sweep):
    status = status_of(sweep)
    status = dataclasses.replace(status, pruner="halving", objective="val_accuracy",
                                 direction="maximize")
    views.show_status(status)
    pruned = next(t for t in status.trials if t.state == "pruned")
    assert views.prune_lines()[0] == (
        f"#{pruned.number} pruned at epoch {pruned.pruned_step}: val_accuracy "
        f"{pruned.value:.4g} < rung cut-off {pruned.threshold:.4g}")
