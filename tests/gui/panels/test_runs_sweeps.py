"""A sweep's trials in the Runs panel: one expandable row per sweep, its trials inside,
still selectable, sortable, renamable, pinnable and deletable like any run; selecting the
sweep's row overlays them all; Apply best puts the best trial's settings into the design
as one undoable step, refused when the design no longer has them."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from core.design.spec import ActivationSpec, NetworkSpec
from core.files.design_file import load_design
from core.resources import resource_path
from gui.panels.run_tree import SweepGroup
from gui.panels.runs import RunsPanel
from gui.panels.sweep_apply import UNDO_TEXT, apply_best
from tests.gui.panels.test_runs_panel import make_run


@pytest.fixture
def xor():
    return load_design(resource_path("examples", "xor.json"))


def trial(design, number: int, lr: float, units: int, final: float, sweep: str = "lr",
          end_reason: str = "finished"):
    design = dataclasses.replace(design, network=dataclasses.replace(
        design.network, layers=(dataclasses.replace(design.network.layers[0], units=units),
                                *design.network.layers[1:])))
    run = make_run(design, lr, final)
    return dataclasses.replace(run, name=f"Sweep {sweep} #{number}: lr {lr}, units {units}",
                               sweep=sweep, trial=number, end_reason=end_reason)


@pytest.fixture
def panel(qtbot, xor):
    p = RunsPanel()
    qtbot.addWidget(p)
    p.resize(1000, 600)
    p.show()
    p.add_run(make_run(xor, 0.3, 0.05, name="Run 1"))
    # make_run's final val loss is 2x ``final``: #1 (0.01) is the best, #3 (0.005) was
    # pruned ("stopped"), which the study never calls best.
    for t in (trial(xor, 0, 0.1, 4, 0.2), trial(xor, 1, 0.03, 16, 0.01),
              trial(xor, 2, 1.0, 8, 0.5), trial(xor, 3, 3.0, 8, 0.005, end_reason="stopped")):
        p.add_run(t)
    p.add_run(make_run(xor, 0.5, 0.02, name="Run 2"))
    return p


def top_texts(panel: RunsPanel, column: int = 0) -> list[str]:
    return [panel.proxy.index(r, column).data() for r in range(panel.proxy.rowCount())]


def group_index(panel: RunsPanel, name: str = "lr"):
    return panel.proxy.mapFromSource(panel.model.index_of(panel.model.groups[name]))


def child_texts(panel: RunsPanel, column: int = 0, name: str = "lr") -> list[str]:
    g = group_index(panel, name)
    return [panel.proxy.index(r, column, g).data() for r in range(panel.proxy.rowCount(g))]


def test_trials_sit_under_one_row_per_sweep(panel):
    assert top_texts(panel) == ["Run 1", "Sweep lr: 4 trials, best val loss 0.02 (#1)",
                                "Run 2"]
    assert [t.split(":")[0] for t in child_texts(panel)] == [
        "Sweep lr #0", "Sweep lr #1", "Sweep lr #2", "Sweep lr #3"]
    assert top_texts(panel, 9)[1] == "3 finished, 1 pruned"
    assert "6 runs (1 sweep)" in panel.count_label.text()
    assert panel.selected_runs()[0].name == "Run 2"  # the last plain run, not a trial
    assert not panel.table.isExpanded(group_index(panel))  # collapsed: compact
    tip = group_index(panel).data(Qt.ItemDataRole.ToolTipRole)
    assert "Sweep lr #1" in tip and "apply the best" in tip


def test_a_sweep_row_selects_its_trials_for_the_comparison(panel):
    panel.table.selectionModel().select(
        group_index(panel), panel.table.selectionModel().SelectionFlag.ClearAndSelect
        | panel.table.selectionModel().SelectionFlag.Rows)
    trials = [r for r in panel.runs() if r.sweep]
    assert panel.selected_runs() == trials
    assert panel.compare._runs == trials
    assert panel.selected_group() is panel.model.groups["lr"]
    assert not panel.restore_button.isEnabled()  # one run at a time
    # One trial: restorable and pinnable as any run.
    panel.select_runs([trials[1]])
    assert panel.table.isExpanded(group_index(panel))
    assert panel.selected_runs() == [trials[1]]
    assert panel.restore_button.isEnabled() and panel.baseline_button.isEnabled()
    panel.baseline_button.click()
    assert panel.baseline() is trials[1]
    g = group_index(panel)
    assert panel.proxy.index(1, 0, g).data(Qt.ItemDataRole.FontRole).bold()


def test_sorting_orders_runs_and_sweeps_by_their_best_and_trials_inside(panel):
    panel.table.sortByColumn(6, Qt.SortOrder.AscendingOrder)  # final val loss
    assert [t.split(":")[0] for t in top_texts(panel)] == ["Sweep lr", "Run 2", "Run 1"]
    assert top_texts(panel, 6)[1:] == ["0.04", "0.1"]
    assert [t.split(":")[0] for t in child_texts(panel)] == [
        "Sweep lr #3", "Sweep lr #1", "Sweep lr #0", "Sweep lr #2"]
    panel.table.sortByColumn(6, Qt.SortOrder.DescendingOrder)
    assert [t.split(":")[0] for t in top_texts(panel)] == ["Run 1", "Run 2", "Sweep lr"]
    panel.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
    assert top_texts(panel)[0] == "Run 1" and top_texts(panel)[2] == "Run 2"


def test_trials_rename_delete_and_come_back_into_their_group(panel, qtbot):
    g = group_index(panel)
    assert panel.proxy.setData(panel.proxy.index(0, 0, g), "first try")
    assert panel.runs()[1].name == "first try" and child_texts(panel)[0] == "first try"
    assert isinstance(panel.model.item(panel.proxy.mapToSource(g)), SweepGroup)
    assert not g.flags() & Qt.ItemFlag.ItemIsEditable  # a sweep's row is not a run
    assert not panel.proxy.setData(g, "renamed sweep")
    trials = [r for r in panel.runs() if r.sweep]
    panel.select_runs(trials[:2])
    panel.delete_selected()
    assert top_texts(panel)[1].startswith("Sweep lr: 2 trials, best val loss 1 (#2)")
    panel.select_runs(trials[2:])
    panel.delete_selected()
    assert top_texts(panel) == ["Run 1", "Run 2"]  # an empty sweep has no row
    stack = panel.document.undo_stack
    stack.undo()
    stack.undo()
    assert top_texts(panel)[1] == "Sweep lr: 4 trials, best val loss 0.02 (#1)"
    assert [r.name for r in panel.runs()][1] == "first try"


def test_new_trials_join_without_taking_the_selection(panel, xor):
    runs = panel.runs()
    panel.select_runs([runs[0]])
    panel.add_run(trial(xor, 4, 0.01, 32, 0.001))
    assert panel.selected_runs() == [runs[0]]
    assert top_texts(panel)[1] == "Sweep lr: 5 trials, best val loss 0.002 (#4)"
    panel.add_run(trial(xor, 0, 0.1, 4, 0.3, sweep="other"))  # a second sweep
    assert top_texts(panel)[3] == "Sweep other: 1 trial, best val loss 0.6 (#0)"


def test_a_reopened_project_shows_its_sweeps(panel, xor):
    runs = panel.runs()
    panel.set_runs(list(reversed(runs)))
    assert [t.split(":")[0] for t in top_texts(panel)] == ["Run 2", "Sweep lr", "Run 1"]
    assert [t.split(":")[0] for t in child_texts(panel)] == [
        "Sweep lr #3", "Sweep lr #2", "Sweep lr #1", "Sweep lr #0"]


def test_the_best_follows_the_sweeps_objective(panel):
    # make_run's metric rises by epoch the same for all: accuracy 0.95 everywhere, so the
    # first complete trial is the best by accuracy.
    panel.set_sweep_objective("lr", "val_accuracy")
    assert top_texts(panel)[1] == "Sweep lr: 4 trials, best val accuracy 95.0 % (#0)"


def test_apply_best_is_one_undoable_step(panel):
    doc = panel.document
    doc.set_design(panel.runs()[0].design, "start")
    before = doc.design
    assert panel.apply_best(panel.model.groups["lr"])
    assert doc.design.training.learning_rate == 0.03
    assert doc.design.network.layers[0].units == 16
    assert doc.undo_stack.undoText() == UNDO_TEXT
    doc.undo()
    assert doc.design == before
    # One trial's settings, from its context menu.
    sweep_runs = [r for r in panel.runs() if r.sweep]
    assert panel.apply_best(panel.model.groups["lr"], sweep_runs[2])
    assert doc.design.training.learning_rate == 1.0


def test_apply_best_refuses_settings_the_design_no_longer_has(panel, monkeypatch):
    said = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: said.append(a[2]))
    doc = panel.document
    edited = dataclasses.replace(panel.runs()[0].design, network=NetworkSpec(
        2, (ActivationSpec("tanh"),)))
    doc.set_design(edited, "edit")
    assert not apply_best(doc, {"layers[0].units": 16, "training.learning_rate": 0.03})
    assert doc.design == edited and doc.undo_stack.undoText() == "edit"
    assert "no longer fit the design" in said[0] and "layers[0].units" in said[0]


def test_the_sweep_menu_offers_apply_best(panel):
    g = group_index(panel)
    menu = panel.context_menu(g)
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts == ["Apply Best Settings", "Compare All Trials", "Delete runs"]
    menu = panel.context_menu(panel.proxy.index(0, 0, g))
    actions = {a.text(): a for a in menu.actions()}
    assert "Apply This Trial's Settings" in actions
    actions["Compare All Trials"].trigger()
    assert len(panel.selected_runs()) == 4
    plain = panel.context_menu(panel.proxy.index(0, 0))  # Run 1: not a sweep's
    assert [a.text() for a in plain.actions()] == ["Delete runs"]
