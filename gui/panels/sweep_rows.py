"""What a sweep can vary, and one row of the Sweep dialog per varied setting.

``candidates(design)`` lists every numeric, choice and on/off setting of the training and
of each layer (residual children included; ``core.sweeps.best.sweep_settings``), named as
SPACE.json names them (``training.learning_rate``, ``layers[2].layers[0].units``) and
labelled as the inspector labels them; it reads the field tables (``FieldInfo``), so a
new setting appears here without code. A ``ParamRow`` edits one parameter's range (low,
high, log) or its choices and gives its SPACE.json entry; the dialog checks it with
``parse_space``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core import LAYER_KINDS
from core.design.edit import LayerPath, layer_at
from core.design.fields import FieldInfo
from core.design.spec import Design
from core.sweeps.best import sweep_settings
from gui.colors import ERROR
from gui.editor.field_editors import NumberEdit, choice_entries, format_number, tooltip_for
from gui.plain_text import plain

__all__ = ["Candidate", "ParamRow", "candidates", "default_entry"]

CHOICE_COLUMNS = 4  # choice boxes per line

LOG_HELP = ("Draw values evenly on a logarithmic scale: as many trials between 0.001 and "
            "0.01 as between 0.1 and 1. Right for settings that matter by their order of "
            "magnitude, such as a learning rate; the range must be positive.")


@dataclass(frozen=True)
class Candidate:
    """A setting a sweep can vary: its SPACE.json ``name``, the ``group`` it is listed
    under ("Training", "Layer 2 · Dense 8"), its ``FieldInfo`` and its value in the
    design."""

    name: str
    group: str
    info: FieldInfo
    value: Any

    @property
    def title(self) -> str:
        """"Learning rate", "Layer 2 · Dense 8 · Units": what a row is called."""
        return self.info.label if self.group == "Training" else \
            f"{self.group} · {self.info.label}"


def candidates(design: Design) -> list[Candidate]:
    """Every setting of ``design`` a sweep can vary (``core.sweeps.best.sweep_settings``),
    grouped as the editor shows them: "Training", then "Layer 2 · Dense 8"."""
    groups: dict[LayerPath, str] = {}
    out = []
    for s in sweep_settings(design):
        if s.layer is None:
            group = "Training"
        elif s.layer in groups:
            group = groups[s.layer]
        else:
            layer = layer_at(design.network, s.layer)
            kind = LAYER_KINDS.get(layer.kind)
            label = kind.label if kind is not None else layer.kind
            summary = layer.summary()
            what = summary if summary.startswith(label) else f"{label} ({summary})"
            group = groups[s.layer] = \
                f"Layer {'.'.join(str(i + 1) for i in s.layer)} · {what}"
        out.append(Candidate(s.name, group, s.info, s.value))
    return out


def _choices(info: FieldInfo) -> list[tuple[Any, str, str]]:
    """(value, label, description) of every value a choice or on/off field takes."""
    if info.type == "bool":
        return [(True, "on", info.help), (False, "off", info.help)]
    return list(choice_entries(info))


def _inside(info: FieldInfo, value: float) -> bool:
    return info.check(int(value) if info.type == "int" else float(value)) is None


def default_entry(c: Candidate) -> dict[str, Any]:
    """A first SPACE.json entry for a newly ticked setting: every choice, or a range
    around the design's value inside the field's range (log where the field is)."""
    info = c.info
    if info.type in ("choice", "bool"):
        return {"choices": [value for value, _, _ in _choices(info)]}
    value = c.value if isinstance(c.value, int | float) else 1
    lo, hi = info.minimum, info.maximum
    if info.log and value > 0:
        low, high = value / 10, value * 10
    elif lo is not None and hi is not None and hi <= 1:  # a share or a decay: its range
        low, high = lo, hi
    elif value > 0:
        low, high = value / 2, value * 2
    else:
        low, high = (lo or 0), (lo or 0) + (4 if info.type == "int" else 1)
    if lo is not None and not _inside(info, low):
        low = max(low, lo) if not info.exclusive_min else max(low, value)
    if hi is not None and high > hi:
        high = hi
    if info.type == "int":
        low, high = int(math.floor(low)), int(math.ceil(high))
        if high <= low:
            high = low + 1
    else:
        low, high = float(f"{low:.6g}"), float(f"{high:.6g}")
    return {"low": low, "high": high, "log": bool(info.log and low > 0)}


class ParamRow(QWidget):
    """One varied setting: its title, then low/high and Log for a number or a box per
    value for a choice, and the reason the entry is refused (red, below).

    ``changed()`` on every edit; ``remove_requested(name)`` from the × button.
    """

    changed = Signal()
    remove_requested = Signal(str)

    def __init__(self, candidate: Candidate, entry: dict[str, Any],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.candidate = candidate
        info = candidate.info
        self.low: NumberEdit | None = None
        self.high: NumberEdit | None = None
        self.log: QCheckBox | None = None
        self.boxes: list[tuple[Any, QCheckBox]] = []
        title = plain(QLabel(candidate.title))
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        title.setToolTip(f"{tooltip_for(info)}\n\nIn SPACE.json: {candidate.name}. "
                         f"In the design now: {format_number(candidate.value)}.")
        remove = QToolButton()
        remove.setText("×")
        remove.setAutoRaise(True)
        remove.setToolTip(f"Stop varying {info.label.lower()} (keep the design's value)")
        remove.clicked.connect(lambda: self.remove_requested.emit(candidate.name))
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(title, 1)
        head.addWidget(remove)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addLayout(head)
        if info.type in ("choice", "bool"):
            layout.addLayout(self._build_choices(entry))
        else:
            layout.addLayout(self._build_range(entry))
        self.error_label = plain(QLabel())
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {ERROR.name()};")
        self.error_label.hide()
        layout.addWidget(self.error_label)

    def _build_range(self, entry: dict[str, Any]) -> QHBoxLayout:
        info = self.candidate.info
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        self.low, self.high = NumberEdit(info), NumberEdit(info)
        for edit, key, tip in ((self.low, "low", "The smallest value a trial may get."),
                               (self.high, "high", "The largest value a trial may get.")):
            edit.set_value(entry.get(key, 0))
            edit.setToolTip(f"{tip} {tooltip_for(info)}")
            edit.typed.connect(self.changed)
            edit.entered.connect(self.changed)
        self.log = QCheckBox("Log")
        self.log.setChecked(bool(entry.get("log", False)))
        self.log.setToolTip(LOG_HELP)
        self.log.toggled.connect(self.changed)
        kind = "whole numbers" if info.type == "int" else "numbers"
        for widget in (QLabel("from"), self.low, QLabel("to"), self.high, self.log,
                       QLabel(f"({kind})")):
            row.addWidget(widget)
        row.addStretch(1)
        return row

    def _build_choices(self, entry: dict[str, Any]) -> QGridLayout:
        chosen = entry.get("choices", [])
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(12)
        for i, (value, label, description) in enumerate(_choices(self.candidate.info)):
            box = QCheckBox(label)
            box.setChecked(value in chosen)
            box.setToolTip(f"Let trials try {label}. {description}")
            box.toggled.connect(self.changed)
            self.boxes.append((value, box))
            grid.addWidget(box, i // CHOICE_COLUMNS, i % CHOICE_COLUMNS)
        return grid

    # ------------------------------------------------------------------- API
    @property
    def name(self) -> str:
        return self.candidate.name

    def entry(self) -> dict[str, Any]:
        """The SPACE.json entry as the row shows it (a number not yet typed right stays
        text, so ``parse_space`` names it)."""
        if self.low is None or self.high is None or self.log is None:
            return {"choices": [value for value, box in self.boxes if box.isChecked()]}
        low, high = self.low.value(), self.high.value()
        if self.candidate.info.type == "float":  # 1 typed in a float field is 1.0
            low, high = (float(v) if isinstance(v, int) else v for v in (low, high))
        return {"low": low, "high": high, "log": self.log.isChecked()}

    def set_entry(self, entry: dict[str, Any]) -> None:
        """Show ``entry`` (as ``default_entry`` or a saved plan gives it)."""
        if self.low is not None and self.high is not None and self.log is not None:
            self.low.set_value(entry["low"])
            self.high.set_value(entry["high"])
            self.log.setChecked(bool(entry.get("log", False)))
        else:
            for value, box in self.boxes:
                box.setChecked(value in entry.get("choices", []))
        self.changed.emit()

    def set_error(self, text: str) -> None:
        """Show why the entry is refused ('' hides it)."""
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def error(self) -> str:
        return self.error_label.text()
