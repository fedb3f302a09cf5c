"""Heavy widget content built after the window's first frame.

The plots (pyqtgraph: about a fifth of a second to import, and tens of milliseconds per
plot to construct) are not needed for the first frame. A widget that holds them
constructs a light Qt shell and gives a :class:`LazyBuilder` the function that builds the
rest. While the application *holds* builds (``gui.app.run_gui`` does, from before the
window is constructed until its first paint), nothing is built: calls made meanwhile are
kept by the widget (histories, the dataset to show, the runs to compare) and drawn by its
build. :func:`release_builds` then builds every pending widget, the visible ones first,
one per pass of the event loop so the window stays responsive; a widget shown or used
before its turn builds at once.

When builds are not held (tests, benchmarks, widgets made after the first frame), a
builder builds in its constructor, so such widgets behave as if built eagerly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import QEvent, QObject, QSize, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget
from shiboken6 import isValid

_held = False
_pending: list[LazyBuilder] = []


def builds_held() -> bool:
    """Whether builds wait for :func:`release_builds` (the first frame)."""
    return _held


def hold_builds() -> None:
    """Keep builders created from now on unbuilt until :func:`release_builds`."""
    global _held
    _held = True


def release_builds() -> None:
    """Stop holding, and build every pending widget: the visible ones first, each in its
    own pass of the event loop (``QTimer.singleShot(0)``), so input is handled between."""
    global _held
    _held = False
    queue = sorted(_alive(), key=lambda b: not b.widget_visible())

    def build_next() -> None:
        while queue:
            builder = queue.pop(0)
            if isValid(builder) and not builder.built:
                builder.ensure_built()
                break
        if queue:
            QTimer.singleShot(0, build_next)

    if queue:
        QTimer.singleShot(0, build_next)


def pending_count() -> int:
    """Builders still waiting (for tests and the start-up report)."""
    return sum(1 for b in _alive() if not b.built)


@contextmanager
def held_builds() -> Iterator[None]:
    """Hold builds inside the ``with`` block (as the app does before its first frame);
    leaving it releases them (built in later passes of the event loop)."""
    hold_builds()
    try:
        yield
    finally:
        release_builds()


def _alive() -> list[LazyBuilder]:
    """The pending builders whose widget still exists (forgetting the others)."""
    _pending[:] = [b for b in _pending if isValid(b)]
    return list(_pending)


class LazyBuilder(QObject):
    """Calls ``build`` once: at construction if builds are not held, else on the
    widget's first show after the hold ends, at :func:`release_builds`, or on
    :meth:`ensure_built` (the widget calls it when something needs the built content).

    A child of ``widget``, so it goes with it.
    """

    def __init__(self, widget: QWidget, build: Callable[[], None]) -> None:
        super().__init__(widget)
        self._widget = widget
        self._build = build
        self.built = False
        if not _held:
            self.ensure_built()
            return
        _pending.append(self)
        widget.installEventFilter(self)

    def widget_visible(self) -> bool:
        return self._widget.isVisible()

    def ensure_built(self) -> None:
        """Build now unless done already."""
        if self.built:
            return
        self.built = True  # first: the build may show widgets (a Show event comes back)
        self._widget.removeEventFilter(self)
        if self in _pending:
            _pending.remove(self)
        self._build()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Show and not _held:
            self.ensure_built()  # shown before its turn in release_builds
        return False


class BuiltOnRead:
    """Mixin for a widget with a :class:`LazyBuilder` in ``_builder``: reading one of
    ``BUILT_NAMES`` (attributes its build sets) before the build builds first, so code
    that reads the plots need not know they are built late."""

    BUILT_NAMES: frozenset[str] = frozenset()

    def __getattr__(self, name: str):
        # Reached only for attributes not set yet.
        if name in type(self).BUILT_NAMES:
            self._builder.ensure_built()
            return object.__getattribute__(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


class Placeholder(QWidget):
    """The place of content not built yet, asking for the room the content will ask for
    (``minimum``, and ``hint`` if given), so the window's layout does not move when the
    content comes; filled with ``color`` if given."""

    def __init__(self, minimum: QSize, hint: QSize | None = None,
                 color: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(minimum)
        self._hint = hint if hint is not None else minimum
        if color is not None:
            self.setAutoFillBackground(True)
            palette = self.palette()
            palette.setColor(QPalette.ColorRole.Window, QColor(color))
            self.setPalette(palette)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return self._hint
