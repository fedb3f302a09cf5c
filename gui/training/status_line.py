"""The window's one status line: the latest message on the left, the training readout
(epoch, step, speed, loss) on the right, and neither ever draws over the other.

Messages stay in the window's ``QStatusBar`` (``showMessage`` from anywhere, with its
timeouts, and the actions' status tips on hover); the status line only changes how they
are drawn. ``QStatusBar`` paints its message up to the first permanent widget without
eliding it, so a long message ran into the readout ("…name.csvepoch 300"). Here the
message is a permanent widget that takes the width the readout leaves, elides the text
with "…" and keeps the whole text in its tooltip; the readout is a fixed-size
``LiveLabel`` wide enough for the longest readout, so it is never cut.

Both are fixed in size or paint themselves: a new message or readout repaints them and
never asks the window to re-lay out (see ``gui.training.live_label``).

Messages about a condition (the network check's "Cannot train: …", "Paused") are posted
under a key and withdrawn when the condition ends, so none of them outlives its cause.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QStatusBar, QWidget

from gui.training.live_label import LiveLabel

#: The longest readouts there are (a live run's, a reopened project's saved run): the
#: readout is as wide as the widest of them.
READOUT_SAMPLES = ("epoch 100,000 · step 10,000,000 · 10,000,000 samples/s · loss -1.2345e-05",
                   "saved run (unfinished) · epoch 100,000 · step 10,000,000 · "
                   "loss -1.2345e-05")


class MessageLine(QWidget):
    """One line of text, elided on the right to the widget's width; the whole text is
    the tooltip. Setting text repaints it and changes no size."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(self.fontMetrics().height() + 4)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 - QLabel's name
        if text != self._text:
            self._text = text
            self.setToolTip(text if self.is_elided() else "")
            self.update()

    def shown_text(self) -> str:
        """The text as drawn at the current width (ends in "…" when cut)."""
        return self.fontMetrics().elidedText(self._text, Qt.TextElideMode.ElideRight,
                                             max(0, self.width() - 4))

    def is_elided(self) -> bool:
        return self.shown_text() != self._text

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(200, self.fontMetrics().height() + 4)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.setToolTip(self._text if self.is_elided() else "")

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setPen(self.palette().windowText().color())
        painter.drawText(self.rect().adjusted(2, 0, -2, 0),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         self.shown_text())
        painter.end()


class StatusLine:
    """The status line of ``bar``: ``message`` (left, elided) shows the bar's current
    message; ``readout`` (right, fixed) shows the training figures.

    ``say(text, timeout_ms, key)`` posts a message; ``withdraw(key)`` clears it if it is
    still the one shown (a message about a condition that has ended)."""

    def __init__(self, bar: QStatusBar) -> None:
        self.bar = bar
        self.message = MessageLine()
        self.message.setObjectName("status_message")
        metrics = bar.fontMetrics()
        widest = max(READOUT_SAMPLES, key=metrics.horizontalAdvance)
        self.readout = LiveLabel(widest, align=Qt.AlignmentFlag.AlignRight)
        self.readout.setObjectName("status_readout")
        # Both permanent: QStatusBar hides its other widgets while a message shows, and
        # paints its own copy of the message only left of the first permanent widget,
        # which is where the message line starts (so it paints nothing visible).
        bar.addPermanentWidget(self.message, 1)
        bar.addPermanentWidget(self.readout, 0)
        bar.messageChanged.connect(self.message.setText)
        self._keyed: dict[str, str] = {}

    def say(self, text: str, timeout_ms: int = 0, key: str = "") -> None:
        """Show ``text`` (for ``timeout_ms``, or until replaced); under ``key`` it can be
        withdrawn when what it is about is over."""
        if key:
            self._keyed[key] = text
        self.bar.showMessage(text, timeout_ms)

    def withdraw(self, key: str, replacement: str = "", timeout_ms: int = 0) -> None:
        """If the message posted under ``key`` is still shown, replace it by
        ``replacement`` (or clear it); a message posted since then stays."""
        text = self._keyed.pop(key, None)
        if text is not None and self.bar.currentMessage() == text:
            if replacement:
                self.bar.showMessage(replacement, timeout_ms)
            else:
                self.bar.clearMessage()


__all__ = ["READOUT_SAMPLES", "MessageLine", "StatusLine"]
