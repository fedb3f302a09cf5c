"""The window's workspaces: Build (design the network) and Train (watch it learn).

Each workspace is an inner ``QMainWindow`` (:class:`Workspace`) with its own docks
around its own centre, so each remembers its arrangement on its own (``saveState``, plus
its splitters, in ``QSettings``). The window shows one at a time in a stack;
:class:`WorkspaceSwitcher` owns the checkable actions that switch (Ctrl+1, Ctrl+2; shown
as a segmented control in the toolbar and listed in the View menu). A widget both
workspaces show (the network diagram, the lessons) has a :class:`WidgetSlot` in each and
moves into the shown workspace's slot on every switch.

No pyqtgraph here: this module is imported before the window's first frame.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFrame,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabBar,
    QVBoxLayout,
    QWidget,
)

__all__ = ["BUILD", "TRAIN", "WidgetSlot", "Workspace", "WorkspaceSwitcher", "ScrollPanel"]

BUILD, TRAIN = "build", "train"
# key: (menu text, shortcut, tip)
WORKSPACE_ACTIONS: dict[str, tuple[str, str, str]] = {
    BUILD: ("&Build", "Ctrl+1", "Design the network: layers, dataset, settings, the network "
                                "check, lessons and the backprop step-through"),
    TRAIN: ("T&rain", "Ctrl+2", "Watch it learn: the live plots, the network diagram, the "
                                "recorded runs and their comparison, the training settings"),
}


class ScrollPanel(QScrollArea):
    """A panel (``widget()``) that scrolls inside its dock instead of making the window
    taller: as short as a few lines, as narrow as the panel's own minimum width (or
    narrower, scrolling sideways too, with ``horizontal``)."""

    def __init__(self, content: QWidget, horizontal: bool = False) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded if horizontal
                                          else Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(content)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the panel's fields
        content.installEventFilter(self)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        hint = super().minimumSizeHint()
        if self.horizontalScrollBarPolicy() != Qt.ScrollBarPolicy.ScrollBarAlwaysOff:
            return hint
        width = (self.widget().minimumSizeHint().width() + 2 * self.frameWidth()
                 + self.verticalScrollBar().sizeHint().width())
        return QSize(max(hint.width(), width), hint.height())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # the panel's minimum width may have changed
        return super().eventFilter(watched, event)


class WidgetSlot(QWidget):
    """A place for a widget both workspaces show; :meth:`take` moves it here."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"{name}_slot")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def take(self, widget: QWidget) -> None:
        if widget.parentWidget() is not self:
            self._layout.addWidget(widget)
        widget.show()


class Workspace(QMainWindow):
    """One workspace: docks around a centre, arranged and remembered on its own.

    ``slots`` are the places of shared widgets; ``splitters`` are saved with the
    layout. Dock tab bars never elide their titles (they scroll instead).
    """

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Widget)
        self.key = key
        self.setObjectName(f"{key}_workspace")
        self.setDockNestingEnabled(True)
        self.slots: dict[str, WidgetSlot] = {}
        self.splitters: dict[str, QSplitter] = {}
        self.docks: list[QDockWidget] = []
        self.default_sizes: Callable[[Workspace], None] | None = None
        self._sized = False  # the default sizes were applied, or a layout restored
        self._away: list[QDockWidget] = []  # floating docks hidden while another is shown

    def set_shown(self, shown: bool) -> None:
        """Called as the workspace is shown or hidden: its floating docks (windows of
        their own, which the stack does not hide) go and come back with it."""
        if shown:
            for dock in self._away:
                dock.show()
            self._away = []
        else:
            self._away = [d for d in self.docks if d.isFloating() and d.isVisible()]
            for dock in self._away:
                dock.hide()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._sized:
            # Dock sizes need the workspace's real size: after its first layout.
            self._sized = True
            QTimer.singleShot(0, self.apply_default_sizes)

    def apply_default_sizes(self) -> None:
        """Give the docks their first sizes (``default_sizes(self)``), fractions of the
        workspace's size."""
        if self.default_sizes is not None:
            self.default_sizes(self)

    def dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea,
             name: str) -> QDockWidget:
        """A dock named ``name`` (its key in the saved layout) holding ``widget``."""
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks.append(dock)
        return dock

    def slot(self, name: str) -> WidgetSlot:
        """The place of the shared widget ``name`` in this workspace."""
        if name not in self.slots:
            self.slots[name] = WidgetSlot(name)
        return self.slots[name]

    def splitter(self, name: str, orientation: Qt.Orientation) -> QSplitter:
        """A splitter saved with this workspace's layout."""
        split = QSplitter(orientation)
        split.setObjectName(name)
        split.setChildrenCollapsible(False)
        self.splitters[name] = split
        return split

    def event(self, event: QEvent) -> bool:
        # Qt makes the tab bars of tabbed docks itself (and again when docks move), with
        # elided titles ("Ins…"): whole titles; the bar's width is then the docks' minimum.
        if event.type() == QEvent.Type.ChildPolished:
            child = event.child()
            if isinstance(child, QTabBar):
                child.setElideMode(Qt.TextElideMode.ElideNone)
                child.setUsesScrollButtons(False)  # so the dock area is as wide as its tabs
                child.setExpanding(False)
        return super().event(event)

    # ------------------------------------------------------------- persistence
    def _key(self, what: str) -> str:
        return f"workspace/{self.key}/{what}"

    def save_layout(self, settings: QSettings, version: int) -> None:
        away = self._away
        self.set_shown(True)  # floating docks saved as open, as the user left them
        settings.setValue(self._key("state"), self.saveState(version))
        if away:
            self.set_shown(False)
        for name, split in self.splitters.items():
            settings.setValue(self._key(name), split.saveState())

    def restore_layout(self, settings: QSettings, version: int) -> bool:
        """Restore the saved arrangement; False if none (or an older version's) was
        saved, and the default arrangement stays."""
        state = settings.value(self._key("state"))
        if state is None or not self.restoreState(state, version):
            return False
        for name, split in self.splitters.items():
            saved = settings.value(self._key(name))
            if saved is not None:
                split.restoreState(saved)
        self._sized = True  # the restored sizes stay
        return True


class WorkspaceSwitcher(QObject):
    """Shows one workspace of ``stack`` at a time; ``actions`` (checkable, exclusive,
    with shortcuts) switch. ``shared`` maps a shared widget's slot name to the widget,
    moved into the shown workspace's slot. ``changed(key)`` after each switch."""

    changed = Signal(str)

    def __init__(self, parent: QWidget, stack: QStackedWidget,
                 workspaces: dict[str, Workspace], shared: dict[str, QWidget]) -> None:
        super().__init__(parent)
        self.stack = stack
        self.workspaces = workspaces
        self.shared = shared
        self.group = QActionGroup(self)
        self.group.setExclusive(True)
        self.actions: dict[str, QAction] = {}
        for key, ws in workspaces.items():
            text, keys, tip = WORKSPACE_ACTIONS[key]
            action = QAction(text, parent)
            action.setObjectName(f"{key}_workspace_action")
            action.setCheckable(True)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.setToolTip(f"{text.replace('&', '')} workspace: {tip} ({keys})")
            action.setStatusTip(tip)
            action.triggered.connect(lambda _checked=False, k=key: self.show(k))
            self.group.addAction(action)
            self.actions[key] = action
            stack.addWidget(ws)
        self._current = ""
        self.show(next(iter(workspaces)))

    @property
    def current(self) -> str:
        """The shown workspace's key."""
        return self._current

    def workspace(self, key: str | None = None) -> Workspace:
        """The workspace ``key`` (default: the shown one)."""
        return self.workspaces[key or self._current]

    def show(self, key: str) -> None:
        """Show workspace ``key`` (the shared widgets move into it)."""
        ws = self.workspaces[key]
        for name, widget in self.shared.items():
            if name in ws.slots:
                ws.slots[name].take(widget)
        self.actions[key].setChecked(True)
        if key == self._current:
            return
        if self._current:
            self.workspace().set_shown(False)
        self._current = key
        self.stack.setCurrentWidget(ws)
        ws.set_shown(True)
        focus = QApplication.focusWidget()
        if focus is not None and not focus.isVisible():
            # It was in the hidden workspace: keyboard users go on in the shown one.
            ws.setFocus(Qt.FocusReason.OtherFocusReason)
            ws.focusNextChild()
        self.changed.emit(key)
