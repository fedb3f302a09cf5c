"""The training settings panel: loss, optimizer and its settings, learning rate, batches,
regularisation, schedule, stopping rules, initialisation, seed and precision.

Every field, label, range and help text comes from ``core.design.fields.field_infos(TrainConfig)``
(plus the network's default initialiser): this module only groups them into sections and
decides which are relevant. An optimizer's settings show only when that optimizer reads
them (``core.OPTIMIZERS[name].settings``), and the schedule's step size and gamma only
when the chosen schedule uses them. The learning rate has a logarithmic slider with an
exact entry. Each change is one undoable ``Document.set_design`` step (typing in one
field merges into one), then ``settings_edited`` tells a live run about it.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from core import OPTIMIZERS, SCHEDULES, NetworkSpec, TrainConfig
from core.design.fields import field_infos
from gui.editor.field_editors import (
    ChoiceCombo,
    FieldEditor,
    FieldForm,
    fill_with_scroll_area,
    lower_first,
)
from gui.editor.log_slider import LogSlider
from gui.project.document import Document

# How the fields are grouped; the optimizer's and the schedule's own settings are found
# from the engine's tables, and any field not named here still gets an editor ("Other").
SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Loss and optimizer", "What the network is trained to make small, and how gradients "
     "become weight updates.", ("loss", "optimizer", "learning_rate")),
    ("Batches", "How the training set is fed to the optimizer.", ("batch_size", "epochs")),
    ("Regularisation", "Penalties and limits that keep weights and gradients in check.",
     ("l2", "l1", "clip_norm", "clip_value")),
    ("Learning-rate schedule", "How the learning rate changes during the run.",
     ("schedule",)),
    ("Stopping", "When a run ends before its last epoch.",
     ("target_loss", "patience", "restore_best", "blow_up")),
    ("Weights and precision", "How the run starts and the numbers it computes with.",
     ("default_init", "seed", "dtype")),
)
_NETWORK_FIELDS = ("default_init",)  # network settings shown here (they shape training)
_DESCRIBED = ("loss", "optimizer", "schedule")  # choices whose description is shown


def optimizer_settings() -> tuple[str, ...]:
    """Every TrainConfig field some optimizer reads besides the learning rate, in the
    order TrainConfig declares them."""
    used = {s for info in OPTIMIZERS.values() for s in info.settings}
    return tuple(n for n in field_infos(TrainConfig) if n in used and n != "learning_rate")


@cache
def schedule_settings(name: str) -> tuple[str, ...]:
    """The settings (``step_size``, ``gamma``) that schedule ``name`` reads, from the
    schedules table."""
    return tuple(SCHEDULES[name].settings)


def all_schedule_settings() -> tuple[str, ...]:
    used = {s for name in SCHEDULES for s in schedule_settings(name)}
    return tuple(n for n in field_infos(TrainConfig) if n in used)


class TrainingSettingsPanel(QWidget):
    """Edits ``design.training`` (and the network's default initialiser).

    ``settings_edited(name)`` fires after a user's change to a training setting has been
    committed to the document (not on undo or refresh). ``form`` holds the editors;
    ``learning_rate`` is the log slider with its exact entry.
    """

    settings_edited = Signal(str)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc = document
        self.form = FieldForm()
        self.descriptions: dict[str, QLabel] = {}
        train_infos = field_infos(TrainConfig)
        net_infos = field_infos(NetworkSpec)
        self._optimizer_fields = optimizer_settings()
        self._schedule_fields = all_schedule_settings()
        extras = {"optimizer": self._optimizer_fields, "schedule": self._schedule_fields}

        self.learning_rate = LogSlider(train_infos["learning_rate"])
        placed: set[str] = set()
        sections = list(SECTIONS)
        rest = tuple(n for n in train_infos if not any(n in names for _, _, names in sections)
                     and n not in self._optimizer_fields and n not in self._schedule_fields)
        if rest:
            sections.append(("Other", "", rest))
        for title, tip, names in sections:
            self.form.add_section(title, tip)
            # A choice's dependent settings follow the section's own fields.
            dependent = [extra for name in names for extra in extras.get(name, ())]
            for name in (*names, *dependent):
                info = net_infos.get(name) if name in _NETWORK_FIELDS else train_infos.get(name)
                if info is None or name in placed:
                    continue
                if name == "learning_rate":
                    self.form.add_field(name, info, self.learning_rate, wide=True)
                else:
                    self.form.add_field(name, info)
                placed.add(name)
                if name in _DESCRIBED:
                    self._add_description(name)
        self.form.edited.connect(self._on_form_edited)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(10, 6, 10, 10)
        layout.addWidget(self.form)
        layout.addStretch(1)
        fill_with_scroll_area(self, content)

        document.designChanged.connect(self._on_document_design_changed)
        self.refresh()

    # -- public -----------------------------------------------------------------
    def editor(self, name: str) -> FieldEditor:
        return self.form.editors[name]

    def is_shown(self, name: str) -> bool:
        """Whether the field's row is shown (not hidden as irrelevant)."""
        return self.form.is_field_visible(name)

    def refresh(self) -> None:
        """Show the design's settings; never pushes an edit."""
        design = self._doc.design
        for name, editor in self.form.editors.items():
            source = design.network if name in _NETWORK_FIELDS else design.training
            with QSignalBlocker(editor):
                editor.set_value(getattr(source, name))
        training = design.training
        reads = set(OPTIMIZERS[training.optimizer].settings)
        for name in self._optimizer_fields:
            self.form.set_field_visible(name, name in reads)
        uses = set(schedule_settings(training.schedule))
        for name in self._schedule_fields:
            self.form.set_field_visible(name, name in uses)
        for name, label in self.descriptions.items():
            control = self.form.editors[name].control
            label.setText(control.description() if isinstance(control, ChoiceCombo) else "")

    # -- internals --------------------------------------------------------------
    def _add_description(self, name: str) -> None:
        # The chosen entry's description under its combo: what Adam or cosine annealing
        # does is worth reading without hovering.
        # Full width under the row: the field column alone is too narrow to read it.
        label = QLabel()
        label.setWordWrap(True)
        font = label.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        label.setFont(font)
        label.setStyleSheet("color: palette(placeholder-text);")
        label.setToolTip("What the chosen entry does.")
        self.form.add_widget(label)
        self.descriptions[name] = label

    def _on_document_design_changed(self) -> None:
        self.refresh()

    def _on_form_edited(self, name: str, value: Any) -> None:
        design = self._doc.design
        if name in _NETWORK_FIELDS:
            label = field_infos(NetworkSpec)[name].label
            new = dataclasses.replace(
                design, network=dataclasses.replace(design.network, **{name: value}))
            self._doc.set_design(new, f"Change {lower_first(label)}",
                                 merge_key=f"network:{name}")
            return
        label = field_infos(TrainConfig)[name].label
        new = dataclasses.replace(
            design, training=dataclasses.replace(design.training, **{name: value}))
        self._doc.set_design(new, f"Change {lower_first(label)}", merge_key=f"training:{name}")
        if self._doc.design is new:
            self.settings_edited.emit(name)
