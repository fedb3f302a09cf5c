"""Starting the window: QApplication set-up, the main window, the file named on the
command line (or the built-in example), errors shown in the window, and crash
recovery.

The window is shown before its plots exist: builds are held (``gui.lazy_build``) while
the window is constructed, and released by its first paint, so pyqtgraph is imported
and the plots are built in the event loop's next passes.
"""

from __future__ import annotations

import sys
import time

APP_NAME = "Backprop Studio"
# The .desktop file's name (packaging/backprop-studio.desktop): lets Wayland compositors
# match the window to the launcher entry and its icon.
DESKTOP_FILE_NAME = "backprop-studio"
ICON_FILES = ("backprop-studio.svg", "backprop-studio.png")
STARTUP_TIME_FLAG = "--startup-time"


def app_icon():  # -> QIcon
    """The application icon from ``resources/icons`` (SVG, with the 256 px PNG as a
    fallback where Qt's SVG image plugin is missing). Null if neither file is there."""
    from PySide6.QtGui import QIcon

    from core.resources import resource_path

    icon = QIcon()
    for name in ICON_FILES:
        path = resource_path("icons", name)
        if path.is_file():
            icon.addFile(str(path))
    return icon


def configure_application(app) -> None:  # app: QApplication
    """Names used by QSettings (layout, recent files) and the window system, and the
    icon every window gets."""
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("Backprop Studio")
    app.setApplicationDisplayName(APP_NAME)
    app.setDesktopFileName(DESKTOP_FILE_NAME)
    app.setWindowIcon(app_icon())


# If the window is never painted (started minimised, say), what waits for its first
# frame starts after this long anyway.
FIRST_PAINT_TIMEOUT_MS = 3000


def _on_first_paint(window, callback) -> None:
    """Call ``callback()`` once, when ``window`` receives its first paint event (or after
    ``FIRST_PAINT_TIMEOUT_MS`` without one)."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        done = False

        def fire(self) -> None:
            if not self.done:
                self.done = True
                window.removeEventFilter(self)
                self.deleteLater()  # and with it the timer
                callback()

        def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint:
                self.fire()
            return False

    first = FirstPaint(window)
    window.installEventFilter(first)
    QTimer.singleShot(FIRST_PAINT_TIMEOUT_MS, first, first.fire)


def _report_startup(app, window, started: float) -> None:
    """For ``--startup-time``: on the main window's first paint, print the seconds since
    ``started`` (and the banner, if a file could not be opened); once the plots are
    built too (``gui.lazy_build``), print that time and close the window."""
    from PySide6.QtCore import QTimer

    from gui.lazy_build import pending_count

    def elapsed() -> float:
        return time.perf_counter() - started

    def close_when_built() -> None:
        if pending_count():
            QTimer.singleShot(0, close_when_built)
            return
        print(f"startup: plots built after {elapsed():.3f} s", flush=True)
        window.close()

    def shown() -> None:
        print(f"startup: window shown after {elapsed():.3f} s", flush=True)
        if not window.banner.isHidden():
            print("banner: " + window.banner.text().replace("\n", " "), flush=True)
        QTimer.singleShot(0, close_when_built)

    _on_first_paint(window, shown)
    app.setQuitOnLastWindowClosed(True)


def run_gui(argv: list[str], started: float | None = None) -> int:
    """Open the main window on ``argv[0]`` if given, else the built-in example; start
    autosaving and offer to restore what a crash left (``gui.project.recovery_prompt``).

    With ``--startup-time`` anywhere in ``argv`` the program prints the seconds from
    ``started`` (a ``time.perf_counter()`` taken at the top of ``main.py``) to the main
    window's first paint, and exits (``packaging/measure_startup.py`` uses it).
    """
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gui.lazy_build import hold_builds, release_builds
    from gui.main_window import MainWindow

    report = STARTUP_TIME_FLAG in argv
    argv = [a for a in argv if a != STARTUP_TIME_FLAG]
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    configure_application(app)
    hold_builds()  # the plots wait for the first frame
    window = MainWindow()
    if argv:
        window.open_startup_file(argv[0])
    else:
        window.open_example()
    _on_first_paint(window, release_builds)
    if report:
        _report_startup(app, window, time.perf_counter() if started is None else started)
    else:
        # After the first frame too (about 40 ms: its imports, the recovery folder).
        _on_first_paint(window, lambda: QTimer.singleShot(0, lambda: _start_recovery(window)))
    window.show()
    return app.exec()


def _start_recovery(window) -> None:
    """Start autosaving, and offer what a crash left behind."""
    from gui.project.recovery_prompt import recovery_enabled, start_recovery

    if recovery_enabled():
        start_recovery(window)
