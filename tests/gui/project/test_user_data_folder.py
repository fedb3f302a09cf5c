"""The data folder core computes without Qt is the one Qt names for the installed app,
so the command line and the window share one dataset cache."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths

from core.storage.user_folder import APP_FOLDER, DATA_DIR_ENV, user_data_folder


def test_core_data_folder_is_qts_app_data_location(qapp, tmp_path, monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    names = qapp.organizationName(), qapp.applicationName()
    QStandardPaths.setTestModeEnabled(False)
    qapp.setOrganizationName(APP_FOLDER[0])
    qapp.setApplicationName(APP_FOLDER[1])
    try:
        qt = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    finally:
        qapp.setOrganizationName(names[0])
        qapp.setApplicationName(names[1])
        QStandardPaths.setTestModeEnabled(True)
    assert Path(qt) == user_data_folder()
    assert str(user_data_folder()).startswith(str(tmp_path))
