"""The dataset panel: built-in choices and options as undoable edits that also set the
network's input size, CSV import (good and bad files), previews and the summary line."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

import gui.project.dataset_state as dataset_state
from core import Design, NetworkSpec
from core.datasets import DATASETS, DERIVED_FEATURES, DatasetSpec
from core.errors import DatasetError
from gui.editor.dataset_panel import DatasetPanel
from gui.project.dataset_state import DatasetState
from gui.project.document import Document

GOOD_CSV = "height,weight,age,species\n" + "".join(
    f"{150 + i * 1.5:.1f},{50 + (i * 7) % 30:.1f},{20 + i % 40},{('cat', 'dog', 'fox')[i % 3]}\n"
    for i in range(60))
BAD_CSV = "height,weight,label\n1.0,2.0,0\n1.5,abc,1\n2.0,3.0,0\n2.5,3.5,1\n"


def make_panel(qtbot, design: Design, path: Path | None = None):
    doc = Document()
    doc.load(design, path)
    state = DatasetState(doc)
    panel = DatasetPanel(doc, state)
    qtbot.addWidget(panel)
    return doc, state, panel


def spiral_design() -> Design:
    return Design(NetworkSpec(inputs=2),
                  dataset=DatasetSpec.synthetic("spiral", samples=500).to_dict())


def select(panel: DatasetPanel, value: str) -> None:
    """Pick a combo entry as a user would (the item's data is the dataset name)."""
    index = panel.dataset_combo.findData(value)
    assert index >= 0, value
    panel.dataset_combo.setCurrentIndex(index)


def patch_dialog(monkeypatch, path: Path | str) -> list:
    calls = []

    def fake(*args, **kwargs):
        calls.append(args)
        return str(path), "CSV files (*.csv *.tsv *.txt)"

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(fake))
    return calls


# The downloaded sets open a download dialog: tests/gui/editor/test_dataset_download.py.
@pytest.mark.parametrize("name", [n for n, i in DATASETS.items() if i.kind != "download"])
def test_choosing_builtin_sets_dataset_and_inputs_in_one_undo_step(qtbot, name):
    start = Design(NetworkSpec(inputs=7), dataset=None)
    doc, state, panel = make_panel(qtbot, start)
    select(panel, name)
    assert doc.design.dataset["name"] == name
    assert doc.design.dataset["kind"] == DATASETS[name].kind
    assert doc.design.network.inputs == DATASETS[name].n_features
    assert doc.undo_stack.count() == 1
    assert doc.undo_stack.undoText() == f"Choose dataset {name}"
    assert state.dataset is not None and state.dataset.name == name
    doc.undo_stack.undo()
    assert doc.design == start
    assert panel.dataset_combo.currentIndex() == -1
    doc.undo_stack.redo()
    assert doc.design.network.inputs == DATASETS[name].n_features


def test_digits_sets_64_inputs_and_shows_labelled_thumbnails(qtbot):
    doc, state, panel = make_panel(qtbot, spiral_design())
    select(panel, "digits")
    assert doc.design.network.inputs == 64
    assert doc.design.dataset == DatasetSpec.builtin("digits").to_dict()
    assert panel.preview.mode == "images"
    thumbs = panel.preview.images.thumbnails
    assert len(thumbs) >= 24
    assert all(img.width() == 8 and img.height() == 8 for img, _ in thumbs)
    # round-robin over classes: the first ten are the digits 0..9
    assert [label for _, label in thumbs[:10]] == [str(d) for d in range(10)]
    assert panel.samples_spin.isHidden() or not panel.form.isRowVisible(panel.samples_spin)
    doc.undo_stack.undo()
    assert doc.design.network.inputs == 2
    assert doc.design.dataset["name"] == "spiral"
    assert panel.preview.mode == "scatter"


def test_switching_synthetic_sets_keeps_options_that_apply(qtbot):
    design = Design(NetworkSpec(inputs=3), dataset=DatasetSpec.synthetic(
        "xor", samples=300, noise=0.3, seed=4, val_fraction=0.3, features=["x1^2"]).to_dict())
    doc, _, panel = make_panel(qtbot, design)
    select(panel, "spiral")
    assert doc.design.dataset == DatasetSpec.synthetic(
        "spiral", 300, 0.3, 4, 0.3, ["x1^2"]).to_dict()
    assert doc.design.network.inputs == 3
    select(panel, "sine")  # one input: the x1 features survive, x2 ones could not
    assert doc.design.dataset["features"] == ["x1^2"]
    assert doc.design.network.inputs == 2


def test_samples_and_noise_edits_reload_and_merge(qtbot):
    doc, state, panel = make_panel(qtbot, spiral_design())
    assert panel.preview.mode == "scatter"
    assert panel.preview.scatter.point_count == 500
    for value in (450, 400, 300):  # typing / arrow clicks in one field: one undo step
        panel.samples_spin.setValue(value)
    assert doc.design.dataset["samples"] == 300
    assert state.dataset.n_train + state.dataset.n_val == 300
    assert panel.preview.scatter.point_count == 300
    assert doc.undo_stack.count() == 1
    first = state.dataset
    panel.noise_spin.setValue(0.2)
    assert doc.design.dataset["noise"] == pytest.approx(0.2)
    assert state.dataset is not first
    assert doc.undo_stack.count() == 2
    assert doc.undo_stack.undoText() == "Change dataset noise"
    doc.undo_stack.undo()
    assert doc.design.dataset["noise"] == 0.0
    assert panel.noise_spin.value() == 0.0
    doc.undo_stack.undo()
    assert panel.samples_spin.value() == 500
    assert panel.preview.scatter.point_count == 500


def test_validation_share_and_seed_edits(qtbot):
    doc, state, panel = make_panel(qtbot, spiral_design())
    panel.val_spin.setValue(0.5)
    assert doc.design.dataset["val_fraction"] == 0.5
    assert (state.dataset.n_train, state.dataset.n_val) == (250, 250)
    panel.seed_spin.setValue(9)
    assert doc.design.dataset["seed"] == 9
    assert doc.undo_stack.count() == 2


def test_derived_features_change_network_inputs(qtbot):
    doc, state, panel = make_panel(qtbot, spiral_design())
    panel.feature_boxes["x1^2"].setChecked(True)
    panel.feature_boxes["x1*x2"].setChecked(True)
    assert doc.design.dataset["features"] == ["x1^2", "x1*x2"]
    assert doc.design.network.inputs == 4
    assert state.dataset.n_features == 4
    assert "4 inputs (2 + 2 derived)" in panel.summary_label.text()
    assert len(DERIVED_FEATURES) == len(panel.feature_boxes)
    panel.feature_boxes["x1^2"].setChecked(False)
    assert doc.design.network.inputs == 3
    doc.undo_stack.undo()
    assert doc.design.network.inputs == 4
    assert panel.feature_boxes["x1^2"].isChecked()


def test_x2_features_disabled_for_sine(qtbot):
    doc, _, panel = make_panel(qtbot, spiral_design())
    select(panel, "sine")
    assert not panel.feature_boxes["x2^2"].isEnabled()
    assert not panel.feature_boxes["x1*x2"].isEnabled()
    assert panel.feature_boxes["sin(x1)"].isEnabled()
    panel.feature_boxes["sin(x1)"].setChecked(True)
    assert doc.design.network.inputs == 2


def test_summary_counts(qtbot):
    doc, _, panel = make_panel(qtbot, spiral_design())
    text = panel.summary_label.text()
    assert "Classification" in text
    assert "2 inputs" in text and "2 classes" in text
    assert "400 training / 100 validation" in text
    select(panel, "diabetes")
    text = panel.summary_label.text()
    assert "Regression" in text and "10 inputs" in text and "1 target" in text
    assert "354 training / 88 validation" in text


def test_regression_previews(qtbot):
    _, _, panel = make_panel(qtbot, spiral_design())
    select(panel, "plane")  # two inputs coloured by the target, with a colour bar
    assert panel.preview.mode == "scatter"
    assert panel.preview.scatter.color_bar is not None
    select(panel, "sine")  # one input against the target
    assert panel.preview.scatter.color_bar is None
    assert panel.preview.scatter.plot.getAxis("left").labelText == "y"


def test_iris_scatter_picks_separating_features(qtbot):
    _, _, panel = make_panel(qtbot, spiral_design())
    select(panel, "iris")
    plot = panel.preview.scatter.plot
    assert plot.getAxis("bottom").labelText.startswith("petal")
    assert "setosa" in panel.preview.scatter.legend.text()


def test_csv_import_fills_target_combo_table_and_design(qtbot, tmp_path, monkeypatch):
    path = tmp_path / "animals.csv"
    path.write_text(GOOD_CSV)
    doc, state, panel = make_panel(qtbot, spiral_design())
    calls = patch_dialog(monkeypatch, path)
    select(panel, "csv")
    assert len(calls) == 1
    qtbot.waitUntil(lambda: doc.design.dataset["kind"] == "csv", timeout=10000)
    assert doc.design.dataset["path"] == str(path)
    assert doc.design.network.inputs == 3
    assert doc.undo_stack.count() == 1
    assert doc.undo_stack.undoText() == "Import dataset animals.csv"
    assert [panel.target_combo.itemText(i) for i in range(panel.target_combo.count())] == [
        "height", "weight", "age", "species"]
    assert panel.target_combo.currentText() == "species"
    assert panel.preview.mode == "table"
    assert panel.preview.table.rowCount() == 20
    assert panel.preview.table.item(0, 3).text() == "cat"
    assert state.dataset is not None and state.dataset.n_classes == 3
    assert "3 classes" in panel.summary_label.text()

    doc.undo_stack.undo()
    assert doc.design.dataset["name"] == "spiral"
    assert doc.design.network.inputs == 2
    assert panel.dataset_combo.currentData() == "spiral"
    assert panel.preview.mode == "scatter"
    doc.undo_stack.redo()  # the loaded file is cached: no second read
    assert not state.loading and state.dataset is not None
    assert panel.preview.mode == "table"


def test_csv_target_and_task_edits(qtbot, tmp_path, monkeypatch):
    path = tmp_path / "numbers.csv"
    path.write_text("a,b,c,label\n" + "".join(
        f"{i},{i * 0.5:.2f},{(i * 37) % 11},{i % 2}\n" for i in range(40)))
    doc, state, panel = make_panel(qtbot, spiral_design())
    patch_dialog(monkeypatch, path)
    panel.browse_button.click()
    qtbot.waitUntil(lambda: doc.design.dataset["kind"] == "csv", timeout=10000)
    assert state.dataset is not None and state.dataset.task == "classification"
    panel.target_combo.setCurrentIndex(panel.target_combo.findText("b"))
    qtbot.waitUntil(lambda: doc.design.dataset.get("target") == "b", timeout=10000)
    assert doc.undo_stack.undoText() == "Change dataset target"
    assert doc.design.network.inputs == 3
    panel.task_combo.setCurrentIndex(panel.task_combo.findData("regression"))
    qtbot.waitUntil(lambda: doc.design.dataset.get("task") == "regression", timeout=10000)
    qtbot.waitUntil(lambda: state.dataset is not None and state.dataset.task == "regression",
                    timeout=10000)
    assert "Regression" in panel.summary_label.text()
    assert panel.preview.mode == "table"
    # the target column is the tinted, bold one
    assert panel.preview.table.horizontalHeaderItem(1).font().bold()


def test_bad_target_choice_keeps_the_design(qtbot, tmp_path, monkeypatch):
    path = tmp_path / "animals.csv"
    path.write_text(GOOD_CSV)
    doc, state, panel = make_panel(qtbot, spiral_design())
    patch_dialog(monkeypatch, path)
    panel.browse_csv()
    qtbot.waitUntil(lambda: doc.design.dataset["kind"] == "csv", timeout=10000)
    before, count = doc.design, doc.undo_stack.count()
    panel.target_combo.setCurrentIndex(2)  # age: then the species text would be an input
    qtbot.waitUntil(lambda: not panel.error_label.isHidden(), timeout=10000)
    assert 'column 4 "species": "cat" is not a number' in panel.error_label.text()
    assert doc.design == before and doc.undo_stack.count() == count
    assert "Not imported" in panel.summary_label.text()
    panel.target_combo.setCurrentIndex(3)  # back to species: imports again, error gone
    qtbot.waitUntil(lambda: doc.design.dataset["target"] == "species", timeout=10000)
    assert panel.error_label.isHidden()
    assert doc.undo_stack.undoText() == "Import dataset animals.csv"


def test_bad_csv_shows_line_and_column_and_keeps_previous_dataset(qtbot, tmp_path,
                                                                   monkeypatch):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_CSV)
    doc, state, panel = make_panel(qtbot, spiral_design())
    before = doc.design
    patch_dialog(monkeypatch, path)
    select(panel, "csv")
    qtbot.waitUntil(lambda: not panel.error_label.isHidden(), timeout=10000)
    message = panel.error_label.text()
    assert "bad.csv, line 3, column 2" in message and '"abc" is not a number' in message
    assert "Traceback" not in message
    assert doc.design == before
    assert doc.undo_stack.count() == 0
    assert state.dataset is not None and state.dataset.name == "spiral"
    assert "The design keeps its dataset: spiral" in panel.summary_label.text()
    # the rows that could be read are shown, the offending cell (and only it) marked
    assert panel.preview.mode == "table"
    assert panel.preview.table.item(1, 1).text() == "abc"
    assert panel.preview.table.item(1, 1).toolTip()
    assert marked_cells(panel) == {(1, 1)}
    # choosing a built-in set again leaves the pending import
    select(panel, "moons")
    assert panel.error_label.isHidden()
    assert doc.design.dataset["name"] == "moons"


def test_structural_csv_error_is_shown(qtbot, tmp_path, monkeypatch):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,label\n1,2,0\n3,4\n")
    doc, _, panel = make_panel(qtbot, spiral_design())
    patch_dialog(monkeypatch, path)
    panel.browse_csv()
    qtbot.waitUntil(lambda: not panel.error_label.isHidden(), timeout=10000)
    assert "ragged.csv, line 3" in panel.error_label.text()
    assert doc.design.dataset["name"] == "spiral"
    assert panel.preview.mode == "message"


def test_cancelled_dialog_restores_the_choice(qtbot, monkeypatch):
    doc, _, panel = make_panel(qtbot, spiral_design())
    patch_dialog(monkeypatch, "")
    select(panel, "csv")
    assert panel.dataset_combo.currentData() == "spiral"
    assert doc.undo_stack.count() == 0


def test_design_with_csv_loads_in_background_and_reports_errors(qtbot, tmp_path):
    path = tmp_path / "animals.csv"
    path.write_text(GOOD_CSV)
    design = Design(NetworkSpec(inputs=3), dataset=DatasetSpec.csv(str(path)).to_dict())
    doc, state, panel = make_panel(qtbot, design)
    qtbot.waitUntil(lambda: state.dataset is not None, timeout=10000)
    qtbot.waitUntil(lambda: panel.preview.mode == "table", timeout=10000)
    assert panel.dataset_combo.currentData() == "csv"
    assert "48 training / 12 validation" in panel.summary_label.text()

    missing = replace(design, dataset=DatasetSpec.csv(str(tmp_path / "gone.csv")).to_dict())
    doc.load(missing, None)
    qtbot.waitUntil(lambda: bool(state.error), timeout=10000)
    qtbot.waitUntil(lambda: not panel.error_label.isHidden(), timeout=10000)
    assert "gone.csv" in panel.error_label.text()
    assert state.dataset is None


def test_relative_csv_path_resolves_against_design_folder(qtbot, tmp_path):
    (tmp_path / "animals.csv").write_text(GOOD_CSV)
    design = Design(NetworkSpec(inputs=3), dataset=DatasetSpec.csv("animals.csv").to_dict())
    doc, state, panel = make_panel(qtbot, design, tmp_path / "design.json")
    qtbot.waitUntil(lambda: state.dataset is not None, timeout=10000)
    assert state.error == ""
    qtbot.waitUntil(lambda: panel.preview.mode == "table", timeout=10000)


def test_refresh_does_not_echo_edits(qtbot):
    doc, _, panel = make_panel(qtbot, spiral_design())
    other = replace(doc.design, dataset=DatasetSpec.synthetic(
        "moons", samples=200, noise=0.4, seed=3, features=["sin(x2)"]).to_dict(),
        network=replace(doc.design.network, inputs=3))
    doc.set_design(other, "external edit")
    assert doc.undo_stack.count() == 1
    assert panel.dataset_combo.currentData() == "moons"
    assert panel.samples_spin.value() == 200
    assert panel.noise_spin.value() == pytest.approx(0.4)
    assert panel.seed_spin.value() == 3
    assert panel.feature_boxes["sin(x2)"].isChecked()
    assert doc.design == other


def test_no_dataset_disables_options(qtbot):
    _, _, panel = make_panel(qtbot, Design())
    assert panel.dataset_combo.currentIndex() == -1
    assert not panel.samples_spin.isEnabled()
    assert panel.preview.mode == "message"


def marked_cells(panel: DatasetPanel) -> set[tuple[int, int]]:
    """(row, column) of the preview cells drawn as named by the error."""
    table = panel.preview.table
    return {(r, c) for r in range(table.rowCount()) for c in range(table.columnCount())
            if table.item(r, c).toolTip() == "This cell is named in the error message."}


def test_preview_marks_the_cells_the_error_carries_not_its_words(qtbot, tmp_path,
                                                                 monkeypatch):
    # The message names no line or column; the error's cells alone say which to mark
    # (file lines 2 and 4, columns 1 and 3: preview rows 0 and 2).
    path = tmp_path / "fine.csv"
    path.write_text("a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n")

    def refuse(*args, **kwargs):
        raise DatasetError("these values look wrong, line 3, column 2",
                           cells=((2, 1), (4, 3)))

    doc, state, panel = make_panel(qtbot, spiral_design())
    assert state.dataset is not None and panel.error_label.isHidden()
    monkeypatch.setattr(dataset_state, "load_dataset", refuse)
    patch_dialog(monkeypatch, path)
    select(panel, "csv")
    qtbot.waitUntil(lambda: not panel.error_label.isHidden(), timeout=10000)
    qtbot.waitUntil(lambda: panel.preview.mode == "table", timeout=10000)
    assert "these values look wrong" in panel.error_label.text()
    assert marked_cells(panel) == {(0, 0), (2, 2)}  # not (1, 1) from the words
    assert doc.design.dataset["name"] == "spiral" and state.error == ""


def test_controls_have_tooltips(qtbot):
    _, _, panel = make_panel(qtbot, spiral_design())
    widgets = [panel.dataset_combo, panel.samples_spin, panel.noise_spin, panel.val_spin,
               panel.seed_spin, panel.path_edit, panel.browse_button, panel.target_combo,
               panel.task_combo, *panel.feature_boxes.values()]
    assert all(w.toolTip() for w in widgets)
    model = panel.dataset_combo.model()
    for name, info in DATASETS.items():
        item = model.item(panel.dataset_combo.findData(name))
        assert info.description in item.toolTip()
