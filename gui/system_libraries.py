"""Which system libraries Qt is missing, and the Debian/Ubuntu packages that bring them.

The bundle carries Qt but relies on the system for OpenGL/EGL and the font set-up; on a
bare machine ``import PySide6.QtGui`` then fails with ``ImportError: libGL.so.1: cannot
open shared object file``. ``main.py`` calls :func:`qt_problem` before importing any
window code and prints its one line instead of a traceback. This module must not import
Qt at module level: it runs exactly when Qt cannot be loaded.
"""

from __future__ import annotations

import re

__all__ = ["BASE_PACKAGES", "EXIT_NO_QT", "PACKAGES", "explain_qt_import_error", "qt_problem"]

#: Exit code of ``main.py`` when the window cannot start because Qt cannot be loaded.
EXIT_NO_QT = 4

#: What a minimal Debian/Ubuntu needs for the window (README, "System libraries").
BASE_PACKAGES = ("libgl1", "libegl1", "fontconfig-config")

#: Shared object (as named in the loader's message) -> Debian/Ubuntu package.
PACKAGES: dict[str, str] = {
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
    "libGLdispatch.so.0": "libglvnd0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libz.so.1": "zlib1g",
}

_SHARED_OBJECT = re.compile(r"(lib[\w.+-]*?\.so(?:\.\d+)*)")


def explain_qt_import_error(exc: ImportError) -> str:
    """One line saying what is missing and the command that installs it."""
    text = str(exc)
    found = _SHARED_OBJECT.search(text)
    if found is None:
        return (f"error: the window cannot start: Qt (PySide6) could not be loaded ({text}); "
                "headless commands such as 'train' and 'check' still work")
    library = found.group(1)
    package = PACKAGES.get(library)
    packages = list(BASE_PACKAGES)
    if package is not None and package not in packages:
        packages.insert(0, package)
    which = f"package {package}" if package else "a system library package"
    return (f"error: the window cannot start: the system library {library} is missing "
            f"({which}); install the window's libraries with: sudo apt-get install "
            f"--no-install-recommends {' '.join(packages)} (headless commands such as "
            "'train' and 'check' work without them)")


def qt_problem() -> str:
    """Import Qt's GUI module; "" if it loads, else :func:`explain_qt_import_error`'s line."""
    try:
        import PySide6.QtGui  # noqa: F401 - the import is the check
    except ImportError as exc:
        return explain_qt_import_error(exc)
    return ""
