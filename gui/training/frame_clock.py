"""The window's one frame pace: a clock that ticks about thirty times a second while
anything needs it and is still otherwise.

Each tick has two phases, in this order, so whatever arrives in a frame is drawn in the
same frame:

- ``deliver``: sources hand over what arrived since the last frame (the training
  controller pulls the run's progress and emits it as one batch);
- ``draw``: views redraw what changed (the training plots, only on their visible page).

The clock ticks while someone holds it (``hold``/``release``: the controller, for the
length of a run) and for one more frame after each ``request()`` (a view with something
left to draw asks for the next frame). Nothing else in the window keeps its own redraw
timer: the pace is set here, by ``FRAME_MS``.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal

FRAME_MS = 33  # about 30 frames a second: smooth curves, little of the GUI thread's time


class FrameClock(QObject):
    """Ticks every ``interval_ms`` while held or requested; see the module docstring.

    Signals (GUI thread): ``deliver()`` then ``draw()``, once per tick.
    """

    deliver = Signal()
    draw = Signal()

    def __init__(self, parent: QObject | None = None, interval_ms: int = FRAME_MS) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        # A coarse timer may fire up to 5% late, which shows as an uneven frame rate.
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._holders: set[int] = set()  # ids, so a holder is never kept alive by this
        self._requested = False
        self.ticks = 0  # frames ticked since construction (for tests and benchmarks)

    @property
    def interval_ms(self) -> int:
        return self._timer.interval()

    @property
    def active(self) -> bool:
        """True while the clock ticks (someone holds it, or a frame was requested)."""
        return self._timer.isActive()

    def hold(self, holder: object) -> None:
        """Tick every frame until ``release(holder)`` (holding twice is holding once)."""
        self._holders.add(id(holder))
        self._start()

    def release(self, holder: object) -> None:
        """End ``holder``'s hold; the clock stops after the next frame nobody needs."""
        self._holders.discard(id(holder))

    def request(self) -> None:
        """Tick at least once more (within one frame interval)."""
        self._requested = True
        self._start()

    def _start(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _tick(self) -> None:
        self._requested = False  # a receiver that still needs a frame asks again
        self.ticks += 1
        self.deliver.emit()
        self.draw.emit()
        if not self._holders and not self._requested:
            self._timer.stop()
