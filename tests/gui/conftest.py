"""GUI test set-up: settings (recent files, layout) go to a throw-away location."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, QStandardPaths


@pytest.fixture(autouse=True)
def isolated_settings(qapp, tmp_path, monkeypatch):
    QStandardPaths.setTestModeEnabled(True)
    qapp.setOrganizationName("Backprop Studio Tests")
    qapp.setApplicationName("Backprop Studio Tests")
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    QSettings().clear()
    yield
    QSettings().clear()


@pytest.fixture
def shown_window(qtbot, monkeypatch):
    """The real main window, shown; unsaved-changes questions answer Discard, and any
    training run is stopped and joined at the end."""
    from PySide6.QtWidgets import QMessageBox

    from gui.main_window import MainWindow

    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Discard)
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.training.shutdown()
