"""The "Compare settings" dialog: the design's training settings as A (read-only, as they
are in the editor) next to an editable copy B, a live line saying how B differs from A,
and a Run button that is enabled only when B differs from A and every value is valid.

B's editors are the ``FieldInfo``-driven ones of ``gui.editor.field_editors`` (the same checks,
ranges and help as the training settings panel, grouped in its sections); a refused value
is shown in red under its field and keeps Run disabled. The seed, the network and the
dataset are not editable here: both runs share them (``core.training.compare.settings_variant``).
The dialog never edits the document; the caller takes :meth:`CompareDialog.variant`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from core import OPTIMIZERS, TrainConfig
from core.design.fields import FieldInfo, field_infos
from core.design.spec import Design
from core.errors import DesignError
from core.records.diff import design_diff
from core.records.record import dataset_label
from core.training.compare import FIXED_FOR_COMPARE, changed_settings, settings_variant
from core.words import plural
from gui.colors import ERROR
from gui.editor.field_editors import (
    ChoiceCombo,
    FieldEditor,
    choice_entries,
    format_number,
    parse_number,
    tooltip_for,
)
from gui.editor.training_settings import (
    SECTIONS,
    all_schedule_settings,
    optimizer_settings,
    schedule_settings,
)
from gui.plain_text import plain

__all__ = ["CompareDialog"]

MUTED = "palette(placeholder-text)"


def _shown_value(info: FieldInfo, value: Any) -> str:
    """A setting's value as the read-only A column shows it."""
    if info.type == "bool":
        return "on" if value else "off"
    if info.type == "choice":
        labels = {name: label for name, label, _ in choice_entries(info)}
        return labels.get(value, str(value))
    return format_number(value)


class CompareDialog(QDialog):
    """Edit settings B of a comparison of ``design`` (A) with itself under B."""

    def __init__(self, design: Design, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare settings")
        self.design_a = design
        self.editors: dict[str, FieldEditor] = {}
        self.a_labels: dict[str, QLabel] = {}
        self.name_labels: dict[str, QLabel] = {}
        self._rows: dict[str, tuple[QWidget, ...]] = {}
        self._infos = field_infos(TrainConfig)
        self._optimizer_fields = optimizer_settings()
        self._schedule_fields = all_schedule_settings()

        intro = QLabel(
            "Train this design twice, one run after the other: <b>A</b> with its own "
            "training settings, then <b>B</b> with the settings you change here. Both "
            "start from the same initial weights and see the same mini-batches, so any "
            "difference comes from the settings. The design in the editor is not changed.")
        intro.setWordWrap(True)
        training = design.training
        same = QLabel(f"Same for both runs: seed {training.seed}, dataset "
                      f"{dataset_label(design)}, the network "
                      f"({plural(design.network.parameter_count(), 'parameter')}).")
        same.setWordWrap(True)
        same.setStyleSheet(f"color: {MUTED};")
        same.setToolTip("A fair comparison changes only the training settings: the seed "
                        "fixes the initial weights, the shuffling and the dropout masks.")

        grid_host = QWidget()
        self._grid = QGridLayout(grid_host)
        self._grid.setContentsMargins(8, 4, 8, 8)
        self._grid.setHorizontalSpacing(12)
        self._grid.setVerticalSpacing(4)
        self._grid.setColumnStretch(2, 1)
        self._build_rows()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.StyledPanel)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(grid_host)

        self.diff_label = plain(QLabel())  # quotes settings and problems
        self.diff_label.setWordWrap(True)
        self.diff_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.diff_label.setToolTip("How B differs from A, as the Runs panel will show it.")
        self.buttons = QDialogButtonBox()
        self.run_button = QPushButton("Run A, then B")
        self.run_button.setToolTip("Train A to its end, then B, in the training process; "
                                   "while B trains, A is drawn dashed on the live plots. "
                                   "Both runs go into the Runs panel, overlaid.")
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.addButton(self.run_button, QDialogButtonBox.ButtonRole.AcceptRole)
        # Return commits a typed value; it must not start the runs.
        for button in (self.run_button, cancel):
            button.setAutoDefault(False)
            button.setDefault(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(same)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.diff_label)
        layout.addWidget(self.buttons)
        # Tall enough to show every setting without scrolling, if the screen allows.
        width = max(520, grid_host.sizeHint().width() + 40)
        height = layout.sizeHint().height() - scroll.sizeHint().height() \
            + grid_host.sizeHint().height() + 8
        screen = self.screen().availableGeometry().height() if self.screen() else 800
        self.resize(width, max(480, min(height, int(screen * 0.9))))
        self._refresh()

    # ------------------------------------------------------------------ rows
    def _build_rows(self) -> None:
        grid = self._grid
        bold = QFont(self.font())
        bold.setBold(True)
        for col, (text, tip) in enumerate((
                ("Setting", ""),
                ("A: this design", "The design's training settings as they are in the "
                                   "editor (change them there)."),
                ("B: the second run", "The settings of the second run: change one or "
                                      "more."))):
            head = QLabel(text)
            head.setFont(bold)
            head.setToolTip(tip)
            grid.addWidget(head, 0, col)
        grid.setRowMinimumHeight(0, grid.itemAtPosition(0, 0).widget().sizeHint().height() + 6)
        extras = {"optimizer": self._optimizer_fields, "schedule": self._schedule_fields}
        row, placed = 1, set(FIXED_FOR_COMPARE)
        sections = list(SECTIONS)
        rest = tuple(n for n in self._infos if not any(n in names for _, _, names in sections)
                     and n not in self._optimizer_fields and n not in self._schedule_fields)
        if rest:
            sections.append(("Other", "", rest))
        for title, tip, names in sections:
            fields = [n for name in names for n in (name, *extras.get(name, ()))
                      if n in self._infos and n not in placed]
            if not fields:
                continue
            heading = QLabel(title)
            heading.setFont(bold)
            heading.setToolTip(tip)
            if row > 1:  # room above every heading but the first
                grid.setRowMinimumHeight(row, heading.sizeHint().height() + 10)
            grid.addWidget(heading, row, 0, 1, 3, Qt.AlignmentFlag.AlignBottom)
            row += 1
            for name in fields:
                self._add_row(row, name, self._infos[name])
                placed.add(name)
                row += 1
        grid.setRowStretch(row, 1)
        # Changed settings turn bold: reserve the bold width so no label gets clipped.
        widest = max(QFontMetrics(bold).horizontalAdvance(label.text())
                     for label in self.name_labels.values())
        grid.setColumnMinimumWidth(0, widest + 4)

    def _add_row(self, row: int, name: str, info: FieldInfo) -> None:
        label = QLabel(info.label)
        label.setToolTip(tooltip_for(info))
        a_value = getattr(self.design_a.training, name)
        a_label = QLabel(_shown_value(info, a_value))
        a_label.setToolTip(f"A's {info.label.lower()}: {_shown_value(info, a_value)}")
        editor = FieldEditor(name, info)
        editor.set_value(a_value)
        label.setBuddy(editor.control)
        top = Qt.AlignmentFlag.AlignTop
        label.setMinimumHeight(editor.control.sizeHint().height())
        a_label.setMinimumHeight(editor.control.sizeHint().height())
        self._grid.addWidget(label, row, 0, top)
        self._grid.addWidget(a_label, row, 1, top)
        self._grid.addWidget(editor, row, 2)
        editor.control.entered.connect(self._on_b_changed)
        if hasattr(editor.control, "typed"):
            editor.control.typed.connect(self._on_b_changed)
        self.editors[name] = editor
        self.a_labels[name] = a_label
        self.name_labels[name] = label
        self._rows[name] = (label, a_label, editor)

    # ------------------------------------------------------------------- API
    def editor(self, name: str) -> FieldEditor:
        """B's editor of setting ``name``."""
        return self.editors[name]

    def set_b_value(self, name: str, value: Any) -> None:
        """Enter ``value`` for B's setting ``name`` as if typed and committed (an invalid
        value is shown with its reason, as a typed one is)."""
        control = self.editors[name].control
        control.set_value(value)
        control.entered.emit(value)

    def b_values(self) -> tuple[dict[str, Any], dict[str, str]]:
        """What B's editors show now: (valid values by name, reasons by name of the
        invalid ones)."""
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for name, editor in self.editors.items():
            info = editor.info
            value = editor.control.value()
            if info.type in ("int", "float") and isinstance(value, str):
                value = parse_number(value, info.type)
            if info.type == "float" and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            why = info.check(value)
            if why:
                errors[name] = f"{info.label} {why}"
            else:
                values[name] = value
        return values, errors

    def changes(self) -> dict[str, Any]:
        """B's valid settings that differ from A's."""
        values, _ = self.b_values()
        a = self.design_a.training
        return {n: v for n, v in values.items() if v != getattr(a, n)}

    def variant(self) -> Design | None:
        """Design B, or None while B is invalid or the same as A."""
        return self._check()[0]

    def problem(self) -> str:
        """Why Run is disabled ('' when it is enabled)."""
        return self._check()[1]

    # --------------------------------------------------------------- internal
    def _check(self) -> tuple[Design | None, str]:
        _, errors = self.b_values()
        if errors:
            return None, "B is not valid: " + "; ".join(f"{why}." for why in errors.values())
        try:
            variant = settings_variant(self.design_a, self.changes())
        except DesignError as exc:
            return None, "B is not valid: " + "; ".join(p.message for p in exc.problems)
        if not changed_settings(self.design_a, variant):
            return None, "B is the same as A: change at least one of B's settings."
        return variant, ""

    def _on_b_changed(self, *_args) -> None:
        self._refresh()

    def _refresh(self) -> None:
        variant, problem = self._check()
        values, errors = self.b_values()
        a = self.design_a.training
        for name, label in self.name_labels.items():
            differs = name in errors or (name in values and values[name] != getattr(a, name))
            font = label.font()
            font.setBold(differs)
            label.setFont(font)
        self._sync_visibility(values)
        self.run_button.setEnabled(variant is not None)
        if variant is None:
            self.diff_label.setText(problem)
            color = ERROR.name() if problem.startswith("B is not valid") else "palette(text)"
            self.diff_label.setStyleSheet(f"color: {color};")
            return
        self.diff_label.setStyleSheet("")
        self.diff_label.setText("B differs from A in: " +
                                "; ".join(design_diff(self.design_a, variant)))

    def _sync_visibility(self, values: dict[str, Any]) -> None:
        """Show an optimizer's or a schedule's own settings only when A or B uses them;
        grey A's value where A does not read it."""
        a = self.design_a.training
        b_opt = values.get("optimizer", a.optimizer)
        b_sched = values.get("schedule", a.schedule)
        a_reads = set(OPTIMIZERS[a.optimizer].settings) | set(schedule_settings(a.schedule))
        b_reads = set(OPTIMIZERS[b_opt].settings) | set(schedule_settings(b_sched))
        for name in (*self._optimizer_fields, *self._schedule_fields):
            if name not in self._rows:
                continue
            shown = name in a_reads or name in b_reads
            for widget in self._rows[name]:
                widget.setVisible(shown)
            label = self.a_labels[name]
            label.setEnabled(name in a_reads)
            label.setToolTip(f"A's {self._infos[name].label.lower()}"
                             + ("" if name in a_reads else
                                f" (not read by A's {a.optimizer} optimizer or "
                                f"{a.schedule} schedule)"))
        for name, editor in self.editors.items():
            if isinstance(editor.control, ChoiceCombo):
                continue
            editor.control.setEnabled(name not in self._optimizer_fields
                                      and name not in self._schedule_fields
                                      or name in b_reads)
