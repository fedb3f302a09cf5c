"""A label for text that changes many times a second (the training status).

A QLabel whose size follows its text asks its parent layout to re-lay out on every
change; in the main window that cascades through the splitters and repaints the whole
centre, tens of milliseconds each time. A fixed-size label never asks.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget


class LiveLabel(QLabel):
    """A QLabel of fixed size, wide enough for ``sample`` (longer text is clipped)."""

    def __init__(self, sample: str, parent: QWidget | None = None,
                 align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft) -> None:
        super().__init__(parent)
        metrics = self.fontMetrics()
        margins = self.contentsMargins()
        self.setFixedSize(metrics.horizontalAdvance(sample) + margins.left() + margins.right()
                          + 4, metrics.height() + margins.top() + margins.bottom() + 2)
        self.setAlignment(align | Qt.AlignmentFlag.AlignVCenter)
