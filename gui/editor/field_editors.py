"""Editors generated from the engine's ``FieldInfo`` metadata, shared by the inspector and
the training settings panel.

One table drives every form: ``make_control(info)`` picks the widget for a field (a
number entry with steps inside the field's range, a check box, or a combo box filled from
the engine's table with each entry's label and description), and ``FieldEditor`` checks
what the user enters with ``info.check`` so an invalid value is never committed and the
reason is shown in red under the field. ``FieldForm`` lays out labelled editors (with
section headings and hideable rows). Controls report *entered* values, valid or not;
only ``FieldEditor.edited`` carries values that passed the check. Setting values from the
design (``set_value``) never emits anything, so panels can refresh without echoing edits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont, QValidator, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from core.design.fields import FieldInfo
from gui.colors import ERROR
from gui.plain_text import plain

_NUMBER_TYPES = ("int", "float")


# ------------------------------------------------------------------- text <-> number


def format_number(value: Any) -> str:
    """The text shown for a number: integers as they are, floats as the shortest text that
    reads back to the same float (``0.0123``, ``1e-08``), without a trailing ``.0``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return str(value)
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def parse_number(text: str, kind: str) -> int | float | str:
    """The number typed in ``text`` for a field of type ``kind`` (``int``/``float``).

    Returns the text itself when it is not a number, so ``FieldInfo.check`` can say why.
    An int field accepts integral floats (``1e3``); ``2.5`` comes back as a float, which the
    check rejects with "must be an integer".
    """
    s = text.strip().replace(",", ".") if kind == "float" else text.strip()
    if kind == "int":
        try:
            return int(s)
        except ValueError:
            pass
    try:
        number = float(s)
    except ValueError:
        return text
    if kind == "int" and math.isfinite(number) and number.is_integer():
        return int(number)
    return number


def range_text(info: FieldInfo) -> str:
    """The allowed range in words for a tooltip, e.g. ``1 to 100000`` or ``above 0``."""
    lo, hi = info.minimum, info.maximum
    parts = []
    if lo is not None and hi is not None:
        parts.append(f"{'above ' if info.exclusive_min else ''}{lo:g} to {hi:g}")
    elif lo is not None:
        parts.append(f"{'above' if info.exclusive_min else 'at least'} {lo:g}")
    elif hi is not None:
        parts.append(f"at most {hi:g}")
    if info.allow_zero:
        parts.append("0 turns it off")
    return "; ".join(parts)


def tooltip_for(info: FieldInfo) -> str:
    """The field's help, with its range for numbers."""
    if info.type in _NUMBER_TYPES and (words := range_text(info)):
        return f"{info.help} ({words}.)"
    return info.help


def choice_entries(info: FieldInfo) -> list[tuple[str, str, str]]:
    """``(name, label, description)`` for every choice of a ``choice`` field, from the
    engine's table. Entries without words (``None``, e.g. ``default`` or ``float32``) show
    their name and the field's help."""
    table: Mapping[str, Any] = info.choices() if info.choices is not None else {}
    out = []
    for name, entry in table.items():
        label = getattr(entry, "label", None) or name
        description = getattr(entry, "description", None) or info.help
        out.append((name, label, description))
    return out


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def lower_first(label: str) -> str:
    """``Learning rate`` -> ``learning rate`` for undo texts; acronyms (``L2``, ``LR
    schedule``) stay as they are."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


# ------------------------------------------------------------------------- controls


class NumberEdit(QAbstractSpinBox):
    """A number entry for an int or float field: any text may be typed (the field editor
    says why it is wrong); the arrows, keys and wheel step inside the field's range.

    ``typed`` reports every keystroke (for checking as you type); ``entered`` reports the
    value when typing is finished (Return or leaving the field) and after every step.
    Committing only then keeps half-typed numbers (the 2 of 256) out of the design.

    Integers are Python ints of any size (a seed goes up to 2**32 - 1, beyond QSpinBox).
    Floats step by one unit of their leading digit (0.01 -> 0.02, 0.1 -> 0.2), which
    suits both rates near zero and large clip thresholds.
    """

    entered = Signal(object)  # the finished or stepped value (or the text, if not a number)
    typed = Signal(object)  # the value being typed

    def __init__(self, info: FieldInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._info = info
        self._value: Any = info.minimum if info.minimum is not None else 0
        # Scrolling a panel must not change the value under the mouse: the wheel only
        # steps once the entry has focus.
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.setAccelerated(True)
        self.lineEdit().textEdited.connect(self._on_text_edited)
        self.editingFinished.connect(self._on_editing_finished)

    # -- value ------------------------------------------------------------------
    def value(self) -> Any:
        """What the text reads as now (a number, or the text when it is not one)."""
        return parse_number(self.text(), self._info.type)

    def set_value(self, value: Any) -> None:
        """Show ``value`` without emitting ``entered``."""
        self._value = value
        self.lineEdit().setText(format_number(value))

    # -- QAbstractSpinBox -------------------------------------------------------
    def validate(self, text: str, pos: int) -> QValidator.State:  # noqa: N802 - Qt's name
        # Never Invalid: a half-typed or wrong entry stays visible with its reason.
        ok = isinstance(parse_number(text, self._info.type), int | float)
        return QValidator.State.Acceptable if ok else QValidator.State.Intermediate

    def fixup(self, text: str) -> str:
        return text  # keep what the user typed; the editor shows why it is invalid

    def stepEnabled(self) -> QAbstractSpinBox.StepEnabledFlag:  # noqa: N802 - Qt's name
        flag = QAbstractSpinBox.StepEnabledFlag
        if self.isReadOnly():
            return flag.StepNone
        return flag.StepUpEnabled | flag.StepDownEnabled

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt's name
        current = self.value()
        start = current if isinstance(current, int | float) and math.isfinite(current) else (
            self._value)
        value = start
        for _ in range(abs(steps)):
            value = step_number(value, 1 if steps > 0 else -1, self._info)
        if value != current:
            self.lineEdit().setText(format_number(value))
            self.entered.emit(value)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt's name
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()  # let the scroll area scroll

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        hint = super().sizeHint()
        width = self.fontMetrics().horizontalAdvance("0.000123456") + 36
        return QSize(max(hint.width(), width), hint.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        hint = super().minimumSizeHint()
        width = self.fontMetrics().horizontalAdvance("0.00012") + 30
        return QSize(max(hint.width(), width), hint.height())

    def _on_text_edited(self, text: str) -> None:
        self.typed.emit(parse_number(text, self._info.type))

    def _on_editing_finished(self) -> None:
        if not self.isReadOnly():
            self.entered.emit(self.value())


def step_number(value: int | float, direction: int, info: FieldInfo) -> int | float:
    """One step up (``direction`` 1) or down (-1) from ``value``, kept inside the field's
    range (a step that would leave it stays put)."""
    lo, hi = info.minimum, info.maximum
    if info.type == "int":
        new: int | float = int(value) + direction
    elif value == 0:
        new = 0.01 * direction
    else:
        # One unit of the leading digit; going down from 1 the unit is 0.1 (1 -> 0.9).
        size = abs(value) * (0.999 if direction * value < 0 else 1.0)
        unit = 10.0 ** math.floor(math.log10(size))
        new = float(f"{value + direction * unit:.12g}")
        if not info.log and direction < 0 and 0 < new < 0.01 and info.check(0.0) is None:
            new = 0.0  # non-log fields reach "off" instead of creeping towards zero
    if hi is not None and new > hi:
        new = type(new)(hi)
    if lo is not None and new < lo:
        new = type(new)(lo)
    if info.check(new) is not None:
        return value
    return new


class ChoiceCombo(QComboBox):
    """A combo box of a ``choice`` field's table: the entries' labels, their descriptions
    as tooltips, their names as item data."""

    entered = Signal(object)

    def __init__(self, info: FieldInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._info = info
        self._setting = False
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(8)
        for i, (name, label, description) in enumerate(choice_entries(info)):
            self.addItem(label, name)
            self.setItemData(i, description, Qt.ItemDataRole.ToolTipRole)
        self._update_tooltip()
        self.currentIndexChanged.connect(self._on_index_changed)

    def names(self) -> list[str]:
        """The choices' names in order (from the engine's table)."""
        return [self.itemData(i) for i in range(self.count())]

    def value(self) -> str | None:
        return self.currentData()

    def set_value(self, value: Any) -> None:
        self._setting = True
        try:
            self.setCurrentIndex(self.findData(value))
        finally:
            self._setting = False
        self._update_tooltip()

    def set_item_text(self, name: str, text: str) -> None:
        """Relabel one choice (e.g. say what 'default' currently means)."""
        i = self.findData(name)
        if i >= 0:
            self.setItemText(i, text)

    def description(self) -> str:
        """The current choice's description."""
        i = self.currentIndex()
        return self.itemData(i, Qt.ItemDataRole.ToolTipRole) if i >= 0 else ""

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt's name
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()

    def _update_tooltip(self) -> None:
        chosen = self.description()
        self.setToolTip(f"{self._info.help}\n\n{self.currentText()}: {chosen}"
                        if chosen and chosen != self._info.help else self._info.help)

    def _on_index_changed(self, _index: int) -> None:
        self._update_tooltip()
        if not self._setting:
            self.entered.emit(self.currentData())


class BoolCheck(QCheckBox):
    """A check box for a ``bool`` field."""

    entered = Signal(object)

    def __init__(self, info: FieldInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._setting = False
        self.toggled.connect(self._on_toggled)

    def value(self) -> bool:
        return self.isChecked()

    def set_value(self, value: Any) -> None:
        self._setting = True
        try:
            self.setChecked(bool(value))
        finally:
            self._setting = False

    def _on_toggled(self, checked: bool) -> None:
        if not self._setting:
            self.entered.emit(checked)


def make_control(info: FieldInfo, parent: QWidget | None = None) -> QWidget:
    """The widget for a field of ``info.type`` (int/float, bool, choice)."""
    if info.type in _NUMBER_TYPES:
        return NumberEdit(info, parent)
    if info.type == "bool":
        return BoolCheck(info, parent)
    if info.type == "choice":
        return ChoiceCombo(info, parent)
    raise ValueError(f"no editor for fields of type {info.type!r}")


# --------------------------------------------------------------------------- editor


class FieldEditor(QWidget):
    """One field: its control and, under it, why the last entry was refused (red).

    ``control`` is any widget with ``entered(object)`` and ``set_value(value)`` (one of
    the above, or a custom one such as the learning-rate slider), and optionally
    ``typed(object)`` for checking as the user types. ``edited(name, value)`` fires only
    for entered values that pass ``info.check`` and differ from the current one.
    """

    edited = Signal(str, object)

    def __init__(self, name: str, info: FieldInfo, control: QWidget | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name, self.info = name, info
        self.control = control if control is not None else make_control(info)
        if not isinstance(self.control, ChoiceCombo):  # a combo explains its choice itself
            self.control.setToolTip(tooltip_for(info))
        self._value: Any = None
        self.error_label = plain(QLabel())  # may quote the value entered
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {ERROR.name()};")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.control)
        layout.addWidget(self.error_label)
        self.control.entered.connect(self._on_control_entered)
        if hasattr(self.control, "typed"):
            self.control.typed.connect(self._on_control_typed)

    def value(self) -> Any:
        """The last valid value (set from the design or entered by the user)."""
        return self._value

    def error(self) -> str:
        """Why the current entry is refused, or '' if it is fine."""
        return self.error_label.text() if not self.error_label.isHidden() else ""

    def set_value(self, value: Any) -> None:
        """Show ``value`` from the design; emits nothing.

        When the value has not changed, a refused entry the user is still correcting
        stays as typed (a refresh caused by another edit must not wipe it).
        """
        if value == self._value and type(value) is type(self._value):
            return
        self._value = value
        self.control.set_value(value)
        self._show_error("")

    def _checked(self, value: Any) -> tuple[Any, str]:
        if self.info.type == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        why = self.info.check(value)
        return value, f"{self.info.label} {why}." if why else ""

    def _on_control_typed(self, value: Any) -> None:
        self._show_error(self._checked(value)[1])

    def _on_control_entered(self, value: Any) -> None:
        value, why = self._checked(value)
        self._show_error(why)
        if why:
            return
        if value == self._value and type(value) is type(self._value):
            return
        self._value = value
        self.edited.emit(self.name, value)

    def _show_error(self, text: str) -> None:
        self.error_label.setText(_capitalised(text))
        self.error_label.setVisible(bool(text))


# ----------------------------------------------------------------------------- form


class FieldForm(QWidget):
    """Labelled field editors in two aligned columns, with optional section headings.

    ``edited(name, value)`` forwards every editor's valid edits. Rows can be hidden
    (settings the current optimizer does not read) with ``set_field_visible``. Rows are
    box layouts rather than a QFormLayout: QFormLayout keeps stale heights for word-wrapped
    labels (error lines, descriptions) whose text changes, and clips them.
    """

    edited = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editors: dict[str, FieldEditor] = {}
        self.labels: dict[str, QLabel] = {}
        self.rows: dict[str, QWidget] = {}
        self._aligned: list[QLabel] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)

    def add_section(self, title: str, tooltip: str = "") -> QLabel:
        """A bold heading across the form."""
        heading = QLabel(title)
        font = QFont(heading.font())
        font.setBold(True)
        heading.setFont(font)
        heading.setToolTip(tooltip)
        if self._layout.count():
            self._layout.addSpacing(6)
        self._layout.addWidget(heading)
        return heading

    def add_widget(self, widget: QWidget) -> None:
        """Any widget across the form (e.g. a description)."""
        self._layout.addWidget(widget)

    def add_field(self, name: str, info: FieldInfo, control: QWidget | None = None,
                  wide: bool = False) -> FieldEditor:
        """Add an editor for ``info``; ``wide`` puts the label above a full-width control."""
        editor = FieldEditor(name, info, control)
        label = QLabel(info.label)
        label.setToolTip(tooltip_for(info))
        label.setBuddy(editor.control)
        row = QWidget()
        if wide:
            box: QVBoxLayout | QHBoxLayout = QVBoxLayout(row)
            box.setSpacing(2)
            box.addWidget(label)
            box.addWidget(editor)
        else:
            box = QHBoxLayout(row)
            box.setSpacing(8)
            # Top-aligned and as tall as the control, so an error line under the control
            # does not push the label down.
            label.setMinimumHeight(editor.control.sizeHint().height())
            box.addWidget(label, 0, Qt.AlignmentFlag.AlignTop)
            box.addWidget(editor, 1)
            self._aligned.append(label)
            self._align_labels()
        box.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(row)
        editor.edited.connect(self.edited)
        self.editors[name] = editor
        self.labels[name] = label
        self.rows[name] = row
        return editor

    def add_fields(self, infos: Mapping[str, FieldInfo]) -> None:
        for name, info in infos.items():
            self.add_field(name, info)

    def add_note(self, label: str, text: str, tooltip: str = "") -> QLabel:
        """A read-only row (e.g. a value set elsewhere); returns the value label."""
        caption = QLabel(label)
        caption.setToolTip(tooltip)
        value = QLabel(text)
        value.setWordWrap(True)
        value.setToolTip(tooltip)
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(8)
        box.addWidget(caption, 0, Qt.AlignmentFlag.AlignTop)
        box.addWidget(value, 1)
        self._aligned.append(caption)
        self._align_labels()
        self._layout.addWidget(row)
        return value

    def _align_labels(self) -> None:
        width = max(label.sizeHint().width() for label in self._aligned)
        for label in self._aligned:
            label.setFixedWidth(width)

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Show ``values`` (by field name) without emitting ``edited``."""
        for name, value in values.items():
            editor = self.editors.get(name)
            if editor is not None:
                editor.set_value(value)

    def set_field_visible(self, name: str, visible: bool) -> None:
        self.rows[name].setVisible(visible)

    def is_field_visible(self, name: str) -> bool:
        return name in self.rows and not self.rows[name].isHidden()


def fill_with_scroll_area(owner: QWidget, content: QWidget) -> QScrollArea:
    """Make ``content`` the vertically scrolling, frameless body of ``owner`` (a panel
    taller than its dock scrolls instead of being squeezed)."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidget(content)
    outer = QVBoxLayout(owner)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(scroll)
    return scroll
