"""Where the application's read-only resource files live.

Shipped data (datasets, example designs) sits in a ``resources/`` folder next to the
``core`` package in a source checkout, and inside the unpacked bundle directory when the
app runs from a PyInstaller build. Everything in ``core`` and ``gui`` finds those files
through :func:`resource_path`, so there is exactly one place that knows the layout.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["resource_path", "resources_root"]


def resources_root() -> Path:
    """Return the ``resources`` directory of this installation.

    Returns
    -------
    pathlib.Path
        ``<bundle>/resources`` when frozen by PyInstaller (``sys._MEIPASS``), otherwise
        ``<checkout>/resources`` (the folder beside the ``core`` package).
    """
    bundle_dir = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle_dir is not None:
        return Path(bundle_dir) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """Return the path of a resource file or folder, e.g. ``resource_path("datasets", "iris.csv")``.

    Parameters
    ----------
    *parts : str
        Path components below ``resources/``.

    Returns
    -------
    pathlib.Path
        The absolute path; it is not checked for existence.
    """
    return resources_root().joinpath(*parts)
