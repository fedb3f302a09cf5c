"""Train > Sweep…: the settings offered come from the field tables, every entry is checked
as it is edited (refused in the form, next to its row), and the result is a SweepPlan."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from core.datasets import DatasetSpec
from core.design.spec import (
    ActivationSpec,
    DenseSpec,
    Design,
    DropoutSpec,
    NetworkSpec,
    ResidualSpec,
    TrainConfig,
)
from core.sweeps.plan import SweepPlan, default_storage, default_workers
from core.sweeps.space import parse_space
from gui.panels.sweep_dialog import SweepDialog, dataset_task
from gui.panels.sweep_rows import candidates, default_entry

DESIGN = Design(
    NetworkSpec(2, (DenseSpec(8), ActivationSpec("tanh"), DropoutSpec(0.2),
                    ResidualSpec(layers=(DenseSpec(8), ActivationSpec("relu"))),
                    DenseSpec(2), ActivationSpec("softmax"))),
    TrainConfig(loss="softmax_cross_entropy", optimizer="adam", learning_rate=0.01),
    DatasetSpec.synthetic("circle").to_dict(), name="circle net")
REGRESSION = Design(NetworkSpec(1, (DenseSpec(8), ActivationSpec("tanh"), DenseSpec(1))),
                    TrainConfig(), DatasetSpec.synthetic("sine").to_dict(), name="sine")


def make(qtbot, design=DESIGN, path: Path | None = Path("/tmp/x/circle.bpsproj"), **kw):
    dialog = SweepDialog(design, path, **kw)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_candidates_are_the_field_tables_residual_children_included():
    names = {c.name: c for c in candidates(DESIGN)}
    assert "training.learning_rate" in names and "training.optimizer" in names
    assert names["layers[0].units"].title == "Layer 1 · Dense 8 · Units"
    assert names["layers[2].rate"].title == "Layer 3 · Dropout 0.2 · Rate"
    assert "layers[3].layers[0].units" in names  # inside the residual block
    assert names["layers[3].layers[0].units"].group.startswith("Layer 4.1 · Dense")
    assert "layers[3].projection" in names  # on/off settings are choices
    # Every name, with the entry a tick gives it, is one the space accepts.
    for c in names.values():
        parse_space({"parameters": {c.name: default_entry(c)}}, DESIGN)


def test_first_opening_varies_the_learning_rate_on_a_log_scale(qtbot):
    dialog = make(qtbot)
    assert list(dialog.rows) == ["training.learning_rate"]
    assert dialog.items["training.learning_rate"].checkState(0) == Qt.CheckState.Checked
    plan = dialog.plan()
    assert plan is not None and dialog.start_button.isEnabled()
    (p,) = plan.space.parameters
    assert (p.low, p.high, p.log) == (1e-4, 1.0, True)
    assert plan.workers == default_workers()
    assert plan.storage == default_storage(Path("/tmp/x/circle.bpsproj"))
    assert plan.storage.endswith("circle.sweeps.db")
    assert dialog.storage_edit.text() == plan.storage  # shown


def test_ticking_in_the_list_adds_a_row_and_the_cross_removes_it(qtbot):
    dialog = make(qtbot)
    dialog.items["layers[0].units"].setCheckState(0, Qt.CheckState.Checked)
    row = dialog.rows["layers[0].units"]
    assert row.entry() == {"low": 4, "high": 16, "log": False}  # around the design's 8
    assert [p.name for p in dialog.plan().space.parameters] == [
        "training.learning_rate", "layers[0].units"]
    row.remove_requested.emit("layers[0].units")
    assert "layers[0].units" not in dialog.rows
    assert dialog.items["layers[0].units"].checkState(0) == Qt.CheckState.Unchecked
    dialog.remove_parameter("training.learning_rate")
    assert dialog.plan() is None and not dialog.start_button.isEnabled()
    assert "at least one setting" in dialog.problem()


def test_low_not_below_high_is_refused_next_to_its_row(qtbot):
    dialog = make(qtbot)
    row = dialog.rows["training.learning_rate"]
    row.low.lineEdit().clear()
    qtbot.keyClicks(row.low.lineEdit(), "2")  # typed: checked at every keystroke
    assert dialog.plan() is None and not dialog.start_button.isEnabled()
    assert "must be below high" in row.error() and row.error_label.isVisible()
    assert dialog.problem().startswith("Learning rate: ")
    row.low.lineEdit().clear()
    qtbot.keyClicks(row.low.lineEdit(), "0.001")
    assert row.error() == "" and not row.error_label.isVisible()
    assert dialog.plan().space.parameters[0].low == 0.001


def test_a_log_range_must_be_positive_and_text_is_not_a_number(qtbot):
    dialog = make(qtbot)
    row = dialog.add_parameter("training.l2", {"low": 0.0, "high": 0.1, "log": True})
    assert "log range must be positive" in row.error()
    assert dialog.plan() is None
    row.log.setChecked(False)
    assert row.error() == "" and dialog.plan() is not None
    row.high.lineEdit().setText("lots")
    row.high.typed.emit(row.high.value())
    assert "must be a number" in row.error() and dialog.plan() is None


def test_an_empty_choice_list_is_refused(qtbot):
    dialog = make(qtbot)
    row = dialog.add_parameter("training.optimizer")
    assert {v for v, box in row.boxes if box.isChecked()} == {v for v, _ in row.boxes}
    for _, box in row.boxes:
        box.setChecked(False)
    assert "at least one value" in row.error() and dialog.plan() is None
    dict(row.boxes)["adam"].setChecked(True)
    dict(row.boxes)["sgd"].setChecked(True)
    optimizer, _ = dialog.plan().space.parameters  # in the list's order
    assert optimizer.name == "training.optimizer"
    assert set(optimizer.choices) == {"sgd", "adam"}


def test_a_grid_too_large_for_the_budget_is_refused_at_the_budget(qtbot):
    dialog = make(qtbot)
    dialog.sampler_combo.setCurrentIndex(dialog.sampler_combo.findData("grid"))
    # A range of decimals has no grid: refused at its row.
    assert "grid needs" in dialog.rows["training.learning_rate"].error()
    dialog.remove_parameter("training.learning_rate")
    dialog.add_parameter("layers[0].units", {"low": 4, "high": 40})
    dialog.add_parameter("training.optimizer", {"choices": ["sgd", "adam"]})
    assert dialog.plan() is None
    assert "74 combinations" in dialog.budget_error.text()
    assert "raise Trials to 74" in dialog.budget_error.text()
    dialog.trials_spin.setValue(74)
    plan = dialog.plan()
    assert plan is not None and plan.trials == 74 and plan.space.sampler == "grid"
    assert not dialog.budget_error.isVisible()


def test_budget_needs_trials_or_a_time_limit(qtbot):
    dialog = make(qtbot)
    dialog.trials_check.setChecked(False)
    assert dialog.plan() is None and "trials, a time limit" in dialog.budget_error.text()
    assert not dialog.trials_spin.isEnabled()
    dialog.time_check.setChecked(True)
    dialog.minutes_spin.setValue(2.5)
    plan = dialog.plan()
    assert plan.trials is None and plan.time_limit == pytest.approx(150.0)


def test_objectives_fit_the_task(qtbot):
    keys = lambda d: [d.objective_combo.itemData(i) for i in range(d.objective_combo.count())]  # noqa: E731
    assert keys(make(qtbot)) == ["val_loss", "val_accuracy"]
    assert keys(make(qtbot, REGRESSION)) == ["val_loss", "r2"]
    assert dataset_task(REGRESSION) == "regression"
    # The loaded dataset's task, when the window knows it, wins.
    assert keys(make(qtbot, REGRESSION, task="classification")) == ["val_loss", "val_accuracy"]


def test_study_name_and_storage(qtbot, tmp_path):
    dialog = make(qtbot, path=None)
    assert dialog.storage_edit.text() == default_storage(None)
    dialog.study_edit.setText("  ")
    assert dialog.plan() is None and "name" in dialog.study_error.text()
    dialog.study_edit.setText("lr-search")
    dialog.storage_edit.setText(str(tmp_path))
    assert dialog.plan() is None and "is a folder" in dialog.study_error.text()
    dialog.storage_edit.setText("postgresql://me@db.example/sweeps")
    plan = dialog.plan()
    assert plan.study_name == "lr-search"
    assert plan.storage == "postgresql://me@db.example/sweeps"


def test_reopening_shows_the_last_plan(qtbot):
    space = parse_space({"parameters": {
        "training.learning_rate": {"low": 0.001, "high": 0.5, "log": True},
        "layers[3].layers[0].units": {"low": 2, "high": 12},
        "training.optimizer": {"choices": ["rmsprop", "adam"]}},  # table order
        "objective": "val_accuracy", "sampler": "random", "pruner": "median"}, DESIGN)
    last = SweepPlan(space, trials=None, time_limit=300.0, workers=3, study_name="again",
                     storage="/tmp/elsewhere.db")
    plan = make(qtbot, last_plan=last).plan()
    assert plan is not None
    assert plan.space.to_dict() == {**space.to_dict(), "parameters": {
        k: space.to_dict()["parameters"][k] for k in (
            "training.optimizer", "training.learning_rate", "layers[3].layers[0].units")}}
    assert (plan.trials, plan.time_limit, plan.workers, plan.study_name, plan.storage) == (
        None, 300.0, 3, "again", "/tmp/elsewhere.db")
    # A setting the edited design no longer has is left out.
    smaller = Design(NetworkSpec(2, (DenseSpec(2), ActivationSpec("softmax"))),
                     DESIGN.training, DESIGN.dataset)
    plan = make(qtbot, smaller, last_plan=last).plan()
    assert [p.name for p in plan.space.parameters] == ["training.optimizer",
                                                       "training.learning_rate"]


def test_every_control_explains_itself(qtbot):
    dialog = make(qtbot)
    for widget in (dialog.objective_combo, dialog.sampler_combo, dialog.pruner_combo,
                   dialog.trials_spin, dialog.minutes_spin, dialog.workers_spin,
                   dialog.study_edit, dialog.storage_edit, dialog.start_button,
                   dialog.rows["training.learning_rate"].log):
        assert widget.toolTip(), widget
    for combo in (dialog.sampler_combo, dialog.pruner_combo):
        for i in range(combo.count()):
            assert combo.itemData(i, Qt.ItemDataRole.ToolTipRole)
    assert "median" in dialog.pruner_combo.itemData(
        dialog.pruner_combo.findData("median"), Qt.ItemDataRole.ToolTipRole)


def _stored_study(path: Path, name: str, space_d: dict, finished: int) -> None:
    """A study ``name`` in the SQLite file ``path`` holding ``finished`` complete trials
    (told by hand: nothing trains)."""
    from core.sweeps.storage import open_storage
    from core.sweeps.study import open_study

    space = parse_space(space_d, DESIGN)
    opened = open_storage(str(path))
    try:
        study = open_study(opened, DESIGN, SweepPlan(space, trials=20, workers=1,
                                                     study_name=name, storage=str(path)))
        for i in range(finished):
            trial = study.ask()
            study.tell(trial, 0.1 * (i + 1))
    finally:
        opened.close()


@pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")  # ask/tell by hand
def test_a_study_already_in_the_storage_is_not_taken_by_accident(qtbot, tmp_path):
    project = tmp_path / "circle.bpsproj"
    lr = {"parameters": {"training.learning_rate": {"low": 1e-4, "high": 1.0, "log": True}}}
    _stored_study(Path(default_storage(project)), "sweep", lr, 3)
    dialog = make(qtbot, path=project)
    assert dialog.study_edit.text() == "sweep-2"  # a free name by default
    dialog.study_edit.setText("sweep")  # the same space: Start continues that study
    assert dialog.plan() is not None
    assert "3 finished trials" in dialog.study_note.text() and "continues" in \
        dialog.study_note.text()
    dialog.trials_spin.setValue(3)  # nothing left to do within that budget
    assert dialog.plan() is None and "already holds 3" in dialog.budget_error.text()
    dialog.trials_spin.setValue(20)
    dialog.add_parameter("layers[0].units")  # another space under that name: refused
    assert dialog.plan() is None and "another search space" in dialog.study_error.text()
    dialog.study_edit.setText("units")
    assert dialog.plan() is not None and not dialog.study_note.isVisible()
    # Another storage file, given by the last plan, is read too.
    other = tmp_path / "other.sweeps.db"
    _stored_study(other, "units", lr, 1)
    space = parse_space(lr, DESIGN)
    dialog = make(qtbot, path=project, last_plan=SweepPlan(
        space, trials=20, workers=1, study_name="units", storage=str(other)))
    assert dialog.study_edit.text() == "units-2"
    assert dialog.plan().storage == str(other)
