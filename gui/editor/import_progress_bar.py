"""An inline progress bar with a Cancel button for a CSV file read on a worker thread.

The worker's reader reports into an :class:`~gui.project.dataset_state.ImportProgress` (a plain
object: the fraction read, a cancel flag); this row polls it a few times a second on the
GUI thread, so nothing crosses threads through Qt signals. Cancel sets the flag; the
reader stops at its next chunk of rows and the owner hears of it through its own result.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QWidget

from gui.project.dataset_state import ImportProgress

_POLL_MS = 100


class ImportProgressBar(QWidget):
    """``follow(progress, name)`` shows the row and tracks ``progress``; ``finish()``
    hides it. ``cancelRequested`` fires when Cancel is pressed (after the flag is set)."""

    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._progress: ImportProgress | None = None
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.bar.setToolTip("How much of the file has been read; the previous dataset stays "
                            "in the design until the new one has loaded.")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop reading the file and keep the design's dataset.")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.cancel_button)
        self._timer = QTimer(self)
        self._timer.setInterval(_POLL_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.hide()

    @property
    def progress(self) -> ImportProgress | None:
        """The import followed now, or None."""
        return self._progress

    def follow(self, progress: ImportProgress, name: str) -> None:
        self._progress = progress
        self._name = name
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel")
        self._show_fraction()
        self.show()
        self._timer.start()

    def finish(self) -> None:
        self._progress = None
        self._timer.stop()
        self.hide()

    def cancel(self) -> None:
        """Ask the followed import to stop (it ends at its next chunk of rows)."""
        if self._progress is not None and not self._progress.cancelled:
            self._progress.cancel()
            self.cancel_button.setEnabled(False)
            self.cancel_button.setText("Cancelling…")
            self.cancelRequested.emit()

    def _show_fraction(self) -> None:
        fraction = self._progress.fraction if self._progress is not None else 0.0
        self.bar.setValue(round(1000 * min(1.0, max(0.0, fraction))))
        self.bar.setFormat(f"Reading {self._name}… {fraction:.0%}")

    def _on_timer_timeout(self) -> None:
        if self._progress is not None:
            self._show_fraction()

    def _on_cancel_clicked(self) -> None:
        self.cancel()
