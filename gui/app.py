"""Starting the window: QApplication set-up, the main window, the file named on the
command line (or the built-in example), and errors shown in the window."""

from __future__ import annotations

import sys


def run_gui(argv: list[str]) -> int:
    """Open the main window on ``argv[0]`` if given, else the built-in example."""
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    app.setApplicationName("Backprop Studio")
    app.setOrganizationName("Backprop Studio")
    window = MainWindow()
    if argv:
        window.open_path(argv[0])
    else:
        window.open_example()
    window.show()
    return app.exec()
