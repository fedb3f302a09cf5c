"""Starting the window: QApplication set-up, the main window, the file named on the
command line (or the built-in example), and errors shown in the window."""

from __future__ import annotations

import sys

APP_NAME = "Backprop Studio"


def configure_application(app) -> None:  # app: QApplication
    """Names used by QSettings (layout, recent files) and the window system."""
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("Backprop Studio")
    app.setApplicationDisplayName(APP_NAME)


def run_gui(argv: list[str]) -> int:
    """Open the main window on ``argv[0]`` if given, else the built-in example."""
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    configure_application(app)
    window = MainWindow()
    if argv:
        window.open_startup_file(argv[0])
    else:
        window.open_example()
    window.show()
    return app.exec()
