"""The user's data folder, without Qt: where downloaded datasets are cached.

It is the folder Qt's ``QStandardPaths.AppDataLocation`` names for the installed app
(organisation and application "Backprop Studio"; the window keeps its crash-recovery
copies there too), so the command line and the window share one cache:

- Linux: ``$XDG_DATA_HOME`` or ``~/.local/share``, then ``Backprop Studio/Backprop Studio``;
- macOS: ``~/Library/Application Support/Backprop Studio/Backprop Studio``;
- Windows: ``%APPDATA%\\Backprop Studio\\Backprop Studio``.

``BACKPROP_STUDIO_DATA_DIR`` overrides it (tests, portable installs).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["APP_FOLDER", "DATA_DIR_ENV", "user_data_folder"]

DATA_DIR_ENV = "BACKPROP_STUDIO_DATA_DIR"
#: Organisation, then application name, as the window sets them for Qt.
APP_FOLDER = ("Backprop Studio", "Backprop Studio")


def user_data_folder() -> Path:
    """The per-user data folder (not created here)."""
    override = os.environ.get(DATA_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        xdg = os.environ.get("XDG_DATA_HOME", "").strip()
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".local" / "share"
    return base.joinpath(*APP_FOLDER)
