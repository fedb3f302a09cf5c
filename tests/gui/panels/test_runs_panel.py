"""The run history panel: adding, sorting, renaming, annotating and deleting runs; the
overlay of selected runs with their design differences; restore, baseline and CSV export."""

from __future__ import annotations

import csv
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from core.files.design_file import load_design
from core.records.record import RunRecord
from core.resources import resource_path
from gui.panels.runs import RunsPanel

NAMES = ("layers.0", "layers.2", "layers.4")


def make_run(design, lr: float, final_loss: float, name: str = "") -> RunRecord:
    """A run with a real design and plausible curves (the recorder is tested in core)."""
    design = replace(design, training=replace(design.training, learning_rate=lr))
    steps = np.arange(1, 101, dtype=np.float64)
    loss = np.column_stack([steps, np.geomspace(0.7, final_loss, 100)])
    grads = np.column_stack([steps, *(np.geomspace(1, 0.01 * (j + 1), 100) for j in range(3))])
    history = [{"epoch": e, "step": 20.0 * e, "train_loss": final_loss * (6 - e),
                "val_loss": final_loss * (7 - e), "train_metric": 0.5 + 0.1 * e,
                "val_metric": 0.45 + 0.1 * e} for e in range(1, 6)]
    return RunRecord(design, name=name, seed=design.training.seed, duration=lr * 10,
                     started="2025-01-02T03:04:05", end_reason="finished",
                     end_message="Finished 5 epochs (100 steps).", steps=100, epochs=5,
                     metric_name="accuracy", history=history, loss_curve=loss,
                     grad_curves=grads, layer_names=NAMES)


@pytest.fixture
def xor():
    return load_design(resource_path("examples", "xor.json"))


@pytest.fixture
def panel(qtbot, xor):
    p = RunsPanel()
    qtbot.addWidget(p)
    p.resize(900, 600)
    p.show()
    for i, (lr, final) in enumerate(((0.3, 0.01), (0.03, 0.2), (3.0, 0.001)), start=1):
        p.add_run(make_run(xor, lr, final, name=f"Run {i}"))
    return p


def column_texts(panel: RunsPanel, column: int) -> list[str]:
    m = panel.proxy
    return [m.index(r, column).data() for r in range(m.rowCount())]


def test_added_runs_are_named_and_listed(panel, xor):
    assert [r.name for r in panel.runs()] == ["Run 1", "Run 2", "Run 3"]
    assert column_texts(panel, 1) == ["xor"] * 3
    assert column_texts(panel, 9) == ["finished"] * 3
    assert panel.selected_runs() == [panel.runs()[-1]]  # the newest run is selected
    assert "3 runs" in panel.count_label.text()
    panel.add_run(make_run(xor, 1.0, 0.1))  # unnamed: named by what changed since Run 3
    assert panel.runs()[-1].name == "lr 1.0"


def test_add_emits_runs_changed(panel, qtbot, xor):
    with qtbot.waitSignal(panel.runs_changed):
        panel.add_run(make_run(xor, 1.0, 0.1, name="mine"))
    assert panel.runs()[-1].name == "mine"


def test_sort_by_final_train_loss_and_back(panel):
    panel.table.sortByColumn(5, Qt.SortOrder.AscendingOrder)
    assert column_texts(panel, 0) == ["Run 3", "Run 1", "Run 2"]
    panel.table.sortByColumn(5, Qt.SortOrder.DescendingOrder)
    assert column_texts(panel, 0) == ["Run 2", "Run 1", "Run 3"]
    panel.table.sortByColumn(8, Qt.SortOrder.AscendingOrder)  # duration: lr * 10 s
    assert column_texts(panel, 0) == ["Run 2", "Run 1", "Run 3"]
    assert panel.runs()[0].name == "Run 1"  # sorting never reorders the history


def test_rename_through_the_model(panel, qtbot):
    index = panel.proxy.index(0, 0)
    assert index.flags() & Qt.ItemFlag.ItemIsEditable
    assert not panel.proxy.index(0, 1).flags() & Qt.ItemFlag.ItemIsEditable
    with qtbot.waitSignal(panel.runs_changed):
        assert panel.proxy.setData(index, "  baseline tanh ")
    assert panel.runs()[0].name == "baseline tanh"
    assert not panel.proxy.setData(index, "   ")  # an empty name is refused


def test_note_edit_annotates_the_selected_run(panel, qtbot):
    panel.select_runs([panel.runs()[1]])
    assert panel.note_edit.isEnabled()
    panel.note_edit.setText("too slow")
    with qtbot.waitSignal(panel.runs_changed):
        panel.note_edit.editingFinished.emit()
    assert panel.runs()[1].note == "too slow"
    assert "too slow" in panel.proxy.index(1, 0).data(Qt.ItemDataRole.ToolTipRole)


def test_delete_key_and_button(panel, qtbot):
    first, second, third = panel.runs()
    panel.select_runs([second])
    panel.table.setFocus()
    with qtbot.waitSignal(panel.runs_changed):
        panel.delete_action.trigger()
    assert panel.runs() == [first, third]
    panel.select_runs([first, third])
    panel.delete_button.click()
    assert panel.runs() == []
    assert "0 runs" in panel.count_label.text()


def test_two_selected_runs_are_overlaid_with_their_diff(panel):
    first, _, third = panel.runs()
    panel.select_runs([first, third])
    view = panel.compare
    assert view.runs() == [first, third]
    assert view.curve_count("loss") == 2
    assert view.curve_count("metric") == 2
    assert view.curve_count("grad") == 2 * len(NAMES)
    assert [e.text for e in view.legend.entries] == ["Run 1", "Run 3"]
    assert [e.pen.color() for e in view.legend.entries][0] != \
        [e.pen.color() for e in view.legend.entries][1]
    text = view.diff_text.toPlainText()
    assert "Run 3 vs Run 1" in text and "learning rate: 0.3 -> 3.0" in text
    assert not panel.restore_button.isEnabled()


def test_restore_emits_the_selected_record(panel, qtbot):
    run = panel.runs()[1]
    panel.select_runs([run])
    assert panel.restore_button.isEnabled()
    with qtbot.waitSignal(panel.restore_requested) as blocker:
        panel.restore_button.click()
    assert blocker.args == [run]


def test_baseline_pin_unpin_and_delete(panel, qtbot):
    run = panel.runs()[0]
    panel.select_runs([run])
    with qtbot.waitSignal(panel.baseline_changed) as blocker:
        panel.baseline_button.click()
    assert blocker.args == [run] and panel.baseline() is run
    assert panel.proxy.index(0, 0).data(Qt.ItemDataRole.FontRole).bold()
    assert "baseline: Run 1" in panel.count_label.text()
    panel.select_runs([panel.runs()[1]])
    assert not panel.baseline_button.isChecked()
    panel.select_runs([run])
    assert panel.baseline_button.isChecked()
    with qtbot.waitSignal(panel.baseline_changed) as blocker:
        panel.baseline_button.click()
    assert blocker.args == [None] and panel.baseline() is None
    panel.set_baseline(run)
    with qtbot.waitSignal(panel.baseline_changed) as blocker:
        panel.delete_selected()
    assert blocker.args == [None]


def test_set_runs_replaces_without_marking_modified(panel, qtbot, xor):
    runs = [make_run(xor, 0.1, 0.05, name="a"), make_run(xor, 0.2, 0.05, name="b")]
    with qtbot.assertNotEmitted(panel.runs_changed):
        panel.set_runs(runs)
    assert panel.runs() == runs and column_texts(panel, 0) == ["a", "b"]


def test_export_csv_writes_a_file(panel, tmp_path, monkeypatch):
    target = tmp_path / "runs.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), "CSV files (*.csv)")))
    panel.export_button.click()
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [r["name"] for r in rows] == ["Run 1", "Run 2", "Run 3"]
    assert rows[2]["final_train_loss"] and rows[0]["ended"] == "finished"


def test_export_cancelled_writes_nothing(panel, tmp_path, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: ("", "")))
    panel.export_csv()
    assert list(tmp_path.iterdir()) == []


def test_delete_is_undoable_in_place_with_the_baseline(panel, qtbot):
    stack = panel.document.undo_stack  # the project model's one history
    first, second, third = panel.runs()
    panel.set_baseline(second)
    panel.select_runs([first, second])
    with qtbot.waitSignal(panel.runs_changed):
        panel.delete_selected()
    assert panel.runs() == [third] and panel.baseline() is None
    assert stack.undoText() == "Delete 2 runs"
    with qtbot.waitSignal(panel.runs_changed):
        stack.undo()
    assert panel.runs() == [first, second, third]  # back where they were
    assert panel.baseline() is second
    assert panel.selected_runs() == [first, second]
    stack.redo()
    assert panel.runs() == [third] and panel.baseline() is None


def test_deleted_runs_come_back_with_edit_undo_in_the_window(shown_window, xor):
    window = shown_window
    run = make_run(xor, 0.3, 0.01)
    window.runs_panel.add_run(run)
    window.runs_panel.select_runs([run])
    window.runs_panel.delete_selected()
    assert window.runs_panel.runs() == []
    assert window.undo_action.isEnabled() and "Delete 1 run" in window.undo_action.text()
    window.undo_action.trigger()
    assert window.runs_panel.runs() == [run]


def test_comparison_sits_beside_the_table_when_wide_and_below_when_tall(panel, qtbot):
    panel.select_runs(panel.runs()[:2])
    panel.resize(1200, 300)  # docked along the bottom of the window
    qtbot.waitUntil(lambda: panel.splitter.orientation() == Qt.Orientation.Horizontal,
                    timeout=2000)
    assert panel.compare.geometry().left() > panel.table.geometry().left()
    assert panel.compare.height() > 200 and panel.table.height() > 100
    panel.resize(450, 900)  # floated or docked at a side
    qtbot.waitUntil(lambda: panel.splitter.orientation() == Qt.Orientation.Vertical,
                    timeout=2000)
    assert panel.compare.isVisible() and panel.compare.height() > 200
