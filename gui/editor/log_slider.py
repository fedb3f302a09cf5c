"""The learning-rate control: a logarithmic slider for finding the right order of
magnitude, next to an exact entry for the value itself.

The slider spans 1e-5 to 10 with equal room per decade (its middle is the geometric mean,
0.01); the values it produces are rounded to two significant digits so dragging gives
readable rates (0.003, 0.0031, ...). The exact entry accepts anything the field allows
(up to 1e4 for the learning rate); a value beyond the slider's span pins the slider to
its end. Like every field control it reports entered values through ``entered`` and is
set from the design with ``set_value`` without emitting.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QHBoxLayout, QSlider, QWidget

from core.design.fields import FieldInfo
from gui.editor.field_editors import NumberEdit, tooltip_for

SLIDER_MIN = 1e-5
SLIDER_MAX = 10.0
STEPS_PER_DECADE = 100


class _Slider(QSlider):
    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt's name
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()  # scrolling the panel must not change the rate


class LogSlider(QWidget):
    """A logarithmic slider (``slider``) plus an exact entry (``entry``) for a positive
    float field such as the learning rate."""

    entered = Signal(object)
    typed = Signal(object)

    def __init__(self, info: FieldInfo, minimum: float = SLIDER_MIN,
                 maximum: float = SLIDER_MAX, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._info = info
        self._log_lo, self._log_hi = math.log10(minimum), math.log10(maximum)
        self._setting = False
        self.slider = _Slider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        steps = round((self._log_hi - self._log_lo) * STEPS_PER_DECADE)
        self.slider.setRange(0, steps)
        self.slider.setSingleStep(1)
        self.slider.setPageStep(STEPS_PER_DECADE // 2)  # page = half a decade (x3.2)
        self.slider.setToolTip(f"Drag to change the order of magnitude ({minimum:g} to "
                               f"{maximum:g}, logarithmic).\n{info.help}")
        self.entry = NumberEdit(info)
        self.entry.setToolTip(f"The exact value. {tooltip_for(info)}")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.entry)
        self.slider.valueChanged.connect(self._on_slider_changed)
        self.entry.entered.connect(self._on_entry_entered)
        self.entry.typed.connect(self.typed)

    # -- mapping ----------------------------------------------------------------
    def value_at(self, position: int) -> float:
        """The (rounded) value of slider ``position``."""
        exponent = self._log_lo + position / STEPS_PER_DECADE
        return float(f"{10.0 ** exponent:.2g}")

    def position_of(self, value: float) -> int:
        """The slider position nearest ``value`` (pinned to the ends outside the span)."""
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            return self.slider.minimum()
        position = round((math.log10(value) - self._log_lo) * STEPS_PER_DECADE)
        return min(max(position, self.slider.minimum()), self.slider.maximum())

    # -- control protocol -------------------------------------------------------
    def value(self) -> Any:
        return self.entry.value()

    def set_value(self, value: Any) -> None:
        """Show ``value`` in the entry and on the slider without emitting."""
        self.entry.set_value(value)
        self._move_slider(value)

    def _move_slider(self, value: Any) -> None:
        # Leave the slider alone when it already shows this value (it is being dragged):
        # re-placing it from the rounded value would make it jitter under the mouse.
        if self.value_at(self.slider.value()) == value:
            return
        self._setting = True
        try:
            self.slider.setValue(self.position_of(value))
        finally:
            self._setting = False

    def _on_slider_changed(self, position: int) -> None:
        if self._setting:
            return
        value = self.value_at(position)
        self.entry.set_value(value)
        self.entered.emit(value)

    def _on_entry_entered(self, value: Any) -> None:
        if self._info.check(value) is None:
            self._move_slider(value)
        self.entered.emit(value)
