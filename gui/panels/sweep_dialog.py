"""Train > Sweep…: define a hyperparameter sweep of the design and get a ``SweepPlan``.

The left list holds every setting a sweep can vary (``gui.panels.sweep_rows.candidates``:
the field tables of the training and of each layer); ticking one adds a row where its
range or its choices are given. Below: the objective (only those that fit the dataset's
task), sampler, pruner, budget (trials and/or minutes), parallel workers, study name and
storage. The form builds the SPACE.json object and checks it as it is edited with
``core.sweeps.space.parse_space`` and ``SweepPlan.check``: a refused entry shows its
reason next to its row or field and keeps Start disabled. The dialog never starts
anything; the caller takes :meth:`SweepDialog.plan` when it is accepted.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core import OPTIMIZERS, SCHEDULES
from core.datasets.registry import DATASETS
from core.datasets.spec import DatasetSpec
from core.design.spec import Design
from core.errors import StudioError
from core.sweeps.plan import SweepPlan, default_storage, default_workers, is_url
from core.sweeps.space import TASK_OF_OBJECTIVE, Space, SpaceError, parse_space
from core.words import plural
from gui.colors import ERROR
from gui.editor.training_settings import (
    all_schedule_settings,
    optimizer_settings,
    schedule_settings,
)
from gui.panels.sweep_help import (
    OBJECTIVE_TEXT,
    PRUNER_TEXT,
    SAMPLER_TEXT,
    STORAGE_HELP,
    WORKERS_HELP,
)
from gui.panels.sweep_rows import ParamRow, candidates, default_entry
from gui.plain_text import plain

__all__ = ["SweepDialog", "dataset_task"]

FIRST_ENTRY = ("training.learning_rate", {"low": 1e-4, "high": 1.0, "log": True})
MAX_TRIALS = 100_000
MAX_MINUTES = 7 * 24 * 60.0

def dataset_task(design: Design) -> str | None:
    """The task (classification, regression) of ``design``'s dataset as far as its
    description tells without loading it; None when unknown (a CSV file with task
    ``auto``, no dataset)."""
    if design.dataset is None:
        return None
    try:
        spec = DatasetSpec.from_dict(design.dataset)
    except StudioError:
        return None
    if spec.kind == "csv":
        return None if spec.task == "auto" else spec.task
    if spec.kind == "images":
        return "classification"
    info = DATASETS.get(spec.name)
    return info.task if info is not None else None


def _error_label() -> QLabel:
    label = plain(QLabel())
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {ERROR.name()};")
    label.hide()
    return label


def _without_name(message: str, name: str) -> str:
    """A ``SpaceError`` about one parameter, without the name its row already shows."""
    text = message.removeprefix(f"{name}: ")
    return text[:1].upper() + text[1:]


class SweepDialog(QDialog):
    """Define a sweep of ``design``; ``plan()`` is the ``SweepPlan`` (None while invalid).

    ``project_path`` (None: untitled) sets the default storage; ``last_plan`` prefills
    the form (else the learning rate is ticked, 1e-4 to 1, log); ``task`` is the loaded
    dataset's task when the caller knows it (else read from the design's dataset).
    """

    def __init__(self, design: Design, project_path: Path | None = None,
                 parent: QWidget | None = None, *, last_plan: SweepPlan | None = None,
                 task: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sweep")
        self.design = design
        self.task = task or dataset_task(design)
        self.default_storage = default_storage(project_path)
        self.candidates = {c.name: c for c in candidates(design)}
        self.rows: dict[str, ParamRow] = {}
        self.items: dict[str, QTreeWidgetItem] = {}
        self._problem = ""
        self._plan: SweepPlan | None = None
        self._ready = False
        # The studies already in a storage file (local only: no network while the form
        # is edited), read once per storage, so a name is not taken by accident.
        self._studies: dict[str, dict[str, Any]] = {}
        self._spaces: dict[tuple[str, str], dict[str, Any] | None] = {}

        intro = QLabel(
            "Train the design many times with different settings and keep score. Tick the "
            "settings to vary on the left and give each a range or its choices. Every trial "
            "becomes a run in the Runs panel, grouped under the sweep.")
        intro.setWordWrap(True)
        self.tree = self._build_tree()
        self.rows_host = QWidget()
        self.rows_layout = QVBoxLayout(self.rows_host)
        self.rows_layout.setContentsMargins(4, 4, 4, 4)
        self.rows_layout.setSpacing(6)
        self.empty_label = QLabel("Tick a setting on the left to vary it.")
        self.empty_label.setStyleSheet("color: palette(placeholder-text);")
        self.rows_layout.addWidget(self.empty_label)
        self.rows_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.StyledPanel)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.rows_host)
        scroll.setToolTip("The settings the sweep varies, each with its range or choices.")
        self.rows_scroll = scroll
        top = QHBoxLayout()
        top.addWidget(self.tree, 2)
        top.addWidget(scroll, 3)

        self.problem_label = _error_label()
        self.start_button = QPushButton("Start sweep")
        self.start_button.setToolTip("Start the trials in the background; the Train "
                                     "workspace shows them as they run.")
        self.buttons = QDialogButtonBox()
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.addButton(self.start_button, QDialogButtonBox.ButtonRole.AcceptRole)
        for button in (self.start_button, cancel):  # Return commits a number, not the form
            button.setAutoDefault(False)
            button.setDefault(False)
        self.buttons.accepted.connect(self._on_accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(top, 1)
        layout.addWidget(self._build_search_box())
        layout.addWidget(self.problem_label)
        layout.addWidget(self.buttons)
        self._prefill(last_plan)
        self._ready = True
        self._refresh()
        screen = self.screen().availableGeometry() if self.screen() else None
        width, height = 980, 660
        if screen is not None:
            width, height = min(width, int(screen.width() * 0.95)), \
                min(height, int(screen.height() * 0.92))
        self.resize(width, height)

    # ------------------------------------------------------------- building
    def _build_tree(self) -> QTreeWidget:
        tree = QTreeWidget()
        tree.setHeaderLabels(["Settings to vary"])
        tree.setToolTip("Every number, choice and on/off setting of the training and of each "
                        "layer. Tick one to vary it in the sweep.")
        groups: dict[str, QTreeWidgetItem] = {}
        unread = self._unread_settings()
        for c in self.candidates.values():
            group = groups.get(c.group)
            if group is None:
                group = QTreeWidgetItem(tree, [c.group])
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                group.setExpanded(c.group == "Training")
                groups[c.group] = group
            item = QTreeWidgetItem(group, [c.info.label])
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable
                          | Qt.ItemFlag.ItemIsSelectable)
            item.setCheckState(0, Qt.CheckState.Unchecked)
            item.setData(0, Qt.ItemDataRole.UserRole, c.name)
            item.setToolTip(0, f"{c.info.help}\n\n{c.name}")
            if c.name in unread:
                # Listed (a sweep may vary the optimizer too) but greyed, with why.
                item.setForeground(0, self.palette().placeholderText())
                item.setToolTip(0, f"{c.info.help}\n\nNot read by the design's {unread[c.name]}"
                                   f" unless the sweep also varies it.\n\n{c.name}")
            self.items[c.name] = item
        tree.itemChanged.connect(self._on_item_changed)
        return tree

    def _unread_settings(self) -> dict[str, str]:
        """Training settings the design's optimizer or schedule does not read, with the
        words for which ("sgd optimizer")."""
        training = self.design.training
        unread: dict[str, str] = {}
        reads = OPTIMIZERS[training.optimizer].settings if training.optimizer in OPTIMIZERS \
            else ()
        for name in optimizer_settings():
            if name not in reads:
                unread[f"training.{name}"] = f"{training.optimizer} optimizer"
        reads = schedule_settings(training.schedule) if training.schedule in SCHEDULES else ()
        for name in all_schedule_settings():
            if name not in reads:
                unread[f"training.{name}"] = f"{training.schedule} learning-rate schedule"
        return unread

    def _build_search_box(self) -> QGroupBox:
        box = QGroupBox("Search")
        grid = QGridLayout(box)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(4)
        self.objective_combo = self._combo({k: v for k, v in OBJECTIVE_TEXT.items()
                                            if self._objective_fits(k)})
        self.objective_combo.setToolTip("What the sweep optimises: the value after each "
                                        "trial's last epoch." + (
                                            f" Only those that fit a {self.task} dataset."
                                            if self.task else ""))
        self.sampler_combo = self._combo(SAMPLER_TEXT)
        self.sampler_combo.setToolTip("How the next trial's settings are chosen.")
        self.pruner_combo = self._combo(PRUNER_TEXT)
        self.pruner_combo.setToolTip("Whether hopeless trials are stopped early.")

        self.trials_check = QCheckBox("Trials")
        self.trials_check.setChecked(True)
        self.trials_check.setToolTip("Stop after this many finished trials (completed, "
                                     "pruned or failed).")
        self.trials_spin = QSpinBox()
        self.trials_spin.setRange(1, MAX_TRIALS)
        self.trials_spin.setValue(20)
        self.trials_spin.setToolTip(self.trials_check.toolTip())
        self.time_check = QCheckBox("Time limit")
        self.time_check.setToolTip("Start no new trial after this many minutes; the running "
                                   "ones finish.")
        self.minutes_spin = QDoubleSpinBox()
        self.minutes_spin.setRange(0.1, MAX_MINUTES)
        self.minutes_spin.setDecimals(1)
        self.minutes_spin.setValue(10.0)
        self.minutes_spin.setSuffix(" min")
        self.minutes_spin.setToolTip(self.time_check.toolTip())
        self.workers_spin = QSpinBox()
        self.workers_spin.setRange(1, 256)
        self.workers_spin.setValue(default_workers())
        self.workers_spin.setToolTip(WORKERS_HELP)
        self.study_edit = QLineEdit(self._free_name("sweep", self.default_storage))
        self.study_edit.setToolTip("The study's name in the storage; its runs are named "
                                   "\"Sweep NAME #3: …\". Starting a name the storage "
                                   "already holds continues that study.")
        self.storage_edit = QLineEdit(self.default_storage)
        self.storage_edit.setPlaceholderText(self.default_storage)
        self.storage_edit.setToolTip(STORAGE_HELP)
        self.storage_edit.setCursorPosition(0)

        def label(text: str, buddy: QWidget, tip: str) -> QLabel:
            lab = QLabel(text)
            lab.setBuddy(buddy)
            lab.setToolTip(tip)
            return lab

        grid.addWidget(label("&Objective", self.objective_combo,
                             self.objective_combo.toolTip()), 0, 0)
        grid.addWidget(self.objective_combo, 0, 1)
        grid.addWidget(label("S&ampler", self.sampler_combo, self.sampler_combo.toolTip()),
                       1, 0)
        grid.addWidget(self.sampler_combo, 1, 1)
        grid.addWidget(label("&Pruner", self.pruner_combo, self.pruner_combo.toolTip()), 2, 0)
        grid.addWidget(self.pruner_combo, 2, 1)
        grid.addWidget(self.trials_check, 0, 2)
        grid.addWidget(self.trials_spin, 0, 3)
        grid.addWidget(self.time_check, 1, 2)
        grid.addWidget(self.minutes_spin, 1, 3)
        grid.addWidget(label("&Workers", self.workers_spin, WORKERS_HELP), 2, 2)
        grid.addWidget(self.workers_spin, 2, 3)
        self.budget_error = _error_label()
        grid.addWidget(self.budget_error, 3, 2, 1, 2)
        grid.addWidget(label("Stud&y name", self.study_edit, self.study_edit.toolTip()), 4, 0)
        grid.addWidget(self.study_edit, 4, 1, 1, 3)
        grid.addWidget(label("&Storage", self.storage_edit, STORAGE_HELP), 5, 0)
        grid.addWidget(self.storage_edit, 5, 1, 1, 3)
        self.study_error = _error_label()
        grid.addWidget(self.study_error, 6, 1, 1, 3)
        self.study_note = plain(QLabel())  # quotes the study's name
        self.study_note.setWordWrap(True)
        self.study_note.hide()
        grid.addWidget(self.study_note, 7, 1, 1, 3)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        for combo in (self.objective_combo, self.sampler_combo, self.pruner_combo):
            combo.currentIndexChanged.connect(self._refresh)
        for check in (self.trials_check, self.time_check):
            check.toggled.connect(self._refresh)
        for spin in (self.trials_spin, self.minutes_spin, self.workers_spin):
            spin.valueChanged.connect(self._refresh)
        for edit in (self.study_edit, self.storage_edit):
            edit.textChanged.connect(self._refresh)
        return box

    @staticmethod
    def _combo(texts: dict[str, tuple[str, str]]) -> QComboBox:
        combo = QComboBox()
        for i, (key, (text, tip)) in enumerate(texts.items()):
            combo.addItem(text, key)
            combo.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)
        return combo

    def _objective_fits(self, objective: str) -> bool:
        need = TASK_OF_OBJECTIVE.get(objective)
        return need is None or self.task is None or need == self.task

    def _prefill(self, plan: SweepPlan | None) -> None:
        if plan is None:
            name, entry = FIRST_ENTRY
            if name in self.candidates:
                self.add_parameter(name, entry)
            return
        space = plan.space.to_dict()
        for name, entry in space["parameters"].items():
            if name in self.candidates:  # a layer since removed is dropped
                self.add_parameter(name, entry)
        for combo, key in ((self.objective_combo, space["objective"]),
                           (self.sampler_combo, space["sampler"]),
                           (self.pruner_combo, space["pruner"])):
            i = combo.findData(key)
            if i >= 0:
                combo.setCurrentIndex(i)
        self.trials_check.setChecked(plan.trials is not None)
        if plan.trials is not None:
            self.trials_spin.setValue(plan.trials)
        self.time_check.setChecked(plan.time_limit is not None)
        if plan.time_limit is not None:
            self.minutes_spin.setValue(plan.time_limit / 60)
        self.workers_spin.setValue(plan.workers)
        storage = plan.storage or self.default_storage
        self.storage_edit.setText(storage)
        self.study_edit.setText(self._free_name(plan.study_name, storage))

    def _studies_in(self, storage: str) -> dict[str, Any]:
        """The studies (``StudyInfo`` by name) in a local ``storage`` file; {} for a URL,
        a file not there, or one that cannot be read (the sweep itself says why)."""
        if is_url(storage) or not Path(storage).expanduser().is_file():
            return {}
        if storage not in self._studies:
            from core.sweeps.storage import study_names  # imports Optuna: only when needed

            try:
                self._studies[storage] = {info.name: info for info in study_names(storage)}
            except (StudioError, OSError):
                self._studies[storage] = {}
        return self._studies[storage]

    def _free_name(self, base: str, storage: str) -> str:
        """``base``, or ``base-2``, ``base-3``… when ``storage`` holds a study of that
        name (a finished study's name would only continue it)."""
        taken = self._studies_in(storage)
        if base not in taken:
            return base
        stem = base.rsplit("-", 1)[0] if base.rsplit("-", 1)[-1].isdigit() else base
        return next(name for n in range(2, 10_000) if (name := f"{stem}-{n}") not in taken)

    def _stored_space(self, storage: str, name: str) -> dict[str, Any] | None:
        """The SPACE.json object study ``name`` in ``storage`` was made with (None when
        it cannot be read); read once per name."""
        key = (storage, name)
        if key not in self._spaces:
            from core.sweeps.storage import load_sweep  # imports Optuna

            try:
                self._spaces[key] = load_sweep(storage, name)[1].to_dict()
            except (StudioError, OSError):
                self._spaces[key] = None
        return self._spaces[key]

    # ------------------------------------------------------------------ API
    def add_parameter(self, name: str, entry: dict[str, Any] | None = None) -> ParamRow:
        """Vary setting ``name`` (ticks it): a row showing ``entry`` (default: a range
        around the design's value, or every choice)."""
        if name in self.rows:
            if entry is not None:
                self.rows[name].set_entry(entry)
            return self.rows[name]
        c = self.candidates[name]
        row = ParamRow(c, entry if entry is not None else default_entry(c))
        row.setAutoFillBackground(False)
        row.changed.connect(self._refresh)
        row.remove_requested.connect(self.remove_parameter)
        order = list(self.candidates)
        index = sum(1 for other in self.rows if order.index(other) < order.index(name))
        self.rows[name] = row
        self.rows_layout.insertWidget(index, row)
        self.empty_label.hide()
        item = self.items[name]
        if item.checkState(0) != Qt.CheckState.Checked:
            blocked = self.tree.blockSignals(True)
            item.setCheckState(0, Qt.CheckState.Checked)
            self.tree.blockSignals(blocked)
        item.parent().setExpanded(True)
        self._refresh()
        return row

    def remove_parameter(self, name: str) -> None:
        """Stop varying setting ``name`` (unticks it)."""
        row = self.rows.pop(name, None)
        if row is None:
            return
        row.hide()
        row.deleteLater()
        blocked = self.tree.blockSignals(True)
        self.items[name].setCheckState(0, Qt.CheckState.Unchecked)
        self.tree.blockSignals(blocked)
        self.empty_label.setVisible(not self.rows)
        self._refresh()

    def space_dict(self) -> dict[str, Any]:
        """The SPACE.json object the form describes now (not necessarily valid)."""
        return {"parameters": {name: row.entry() for name, row in self._ordered_rows()},
                "objective": self.objective_combo.currentData(),
                "sampler": self.sampler_combo.currentData(),
                "pruner": self.pruner_combo.currentData()}

    def plan(self) -> SweepPlan | None:
        """The sweep the form describes, checked; None while something is refused."""
        return self._plan

    def problem(self) -> str:
        """Why Start is disabled ('' when it is enabled)."""
        return self._problem

    # -------------------------------------------------------------- checking
    def _ordered_rows(self) -> list[tuple[str, ParamRow]]:
        return [(name, self.rows[name]) for name in self.candidates if name in self.rows]

    def _refresh(self, *_args) -> None:
        if not self._ready:
            return
        space_d = self.space_dict()
        row_errors = self._check_rows(space_d)
        plan, problem = None, ""
        if not self.rows:
            problem = "Tick at least one setting to vary."
        elif row_errors:
            name, why = next(iter(row_errors.items()))
            problem = f"{self.candidates[name].title}: {why}"
            if len(row_errors) > 1:
                problem = f"{problem.rstrip('.')} (and {len(row_errors) - 1} more)."
        self.budget_error.setText("")
        self.study_error.setText("")
        self.study_note.setText("")
        if not problem:
            plan, problem = self._check_plan(parse_space(space_d, self.design))
        for label in (self.budget_error, self.study_error, self.study_note):
            label.setVisible(bool(label.text()))
        self._plan, self._problem = plan, problem
        self.start_button.setEnabled(plan is not None)
        self.problem_label.setText(f"Start is disabled: {problem}" if problem else "")
        self.problem_label.setVisible(bool(problem))
        self.trials_spin.setEnabled(self.trials_check.isChecked())
        self.minutes_spin.setEnabled(self.time_check.isChecked())

    def _check_rows(self, space_d: dict[str, Any]) -> dict[str, str]:
        """Each row checked on its own (with the chosen sampler, which may refuse a range
        of decimals): the reason shown under it, by name."""
        errors: dict[str, str] = {}
        for name, row in self._ordered_rows():
            one = {**space_d, "parameters": {name: space_d["parameters"][name]}}
            if row.boxes and not one["parameters"][name]["choices"]:
                errors[name] = "Tick at least one value to try."  # the form's words
                row.set_error(errors[name])
                continue
            try:
                parse_space(one, self.design)
                row.set_error("")
            except SpaceError as exc:
                errors[name] = _without_name(str(exc), name)
                row.set_error(errors[name])
        return errors

    def _check_plan(self, space: Space) -> tuple[SweepPlan | None, str]:
        trials = self.trials_spin.value() if self.trials_check.isChecked() else None
        minutes = self.minutes_spin.value() if self.time_check.isChecked() else None
        if trials is None and minutes is None:
            self.budget_error.setText("Give a number of trials, a time limit, or both.")
            return None, self.budget_error.text()
        name = self.study_edit.text().strip()
        if not name:
            self.study_error.setText("Give the study a name.")
            return None, self.study_error.text()
        storage = self.storage_edit.text().strip() or self.default_storage
        if not is_url(storage) and Path(storage).is_dir():
            self.study_error.setText(f"The storage {storage} is a folder; give a file such "
                                     f"as {Path(storage) / 'study.sweeps.db'}.")
            return None, self.study_error.text()
        info = self._studies_in(storage).get(name)
        if info is not None:
            stored = self._stored_space(storage, name)
            if stored is not None and stored != space.to_dict():
                self.study_error.setText(
                    f"This storage holds a study named {name} made with another search "
                    f"space; give this sweep a new name (Train > Resume Sweep… continues "
                    f"that one).")
                return None, self.study_error.text()
            if trials is not None and info.finished >= trials:
                self.budget_error.setText(
                    f"The study {name} already holds {info.finished:,} finished trials: "
                    f"raise Trials above that to add more, or give a new study name.")
                return None, self.budget_error.text()
            self.study_note.setText(f"This storage holds a study named {name} with "
                                    f"{plural(info.finished, 'finished trial')}: Start "
                                    f"continues it.")
        plan = SweepPlan(space, trials=trials,
                         time_limit=minutes * 60 if minutes is not None else None,
                         workers=self.workers_spin.value(), study_name=name, storage=storage)
        try:
            plan.check()
        except SpaceError as exc:
            self.budget_error.setText(self._budget_words(space, trials, str(exc)))
            return None, self.budget_error.text()
        return plan, ""

    @staticmethod
    def _budget_words(space: Space, trials: int | None, message: str) -> str:
        """The plan's refusal in the form's words (the core names the CLI's options)."""
        if space.sampler == "grid" and trials is not None:
            size = math.prod(len(v) for v in space.grid().values())
            if size > trials:
                return (f"The grid has {size:,} combinations but the budget is {trials:,} "
                        f"trials: raise Trials to {size:,} or tick fewer values.")
        return message[:1].upper() + message[1:]

    # ----------------------------------------------------------------- slots
    def _on_item_changed(self, item: QTreeWidgetItem, _column: int) -> None:
        name = item.data(0, Qt.ItemDataRole.UserRole)
        if not name:
            return
        if item.checkState(0) == Qt.CheckState.Checked:
            self.add_parameter(name)
        else:
            self.remove_parameter(name)

    def _on_accept(self) -> None:
        if self._plan is not None:
            self.accept()
