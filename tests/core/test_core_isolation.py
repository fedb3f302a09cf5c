"""``core`` is the headless engine: importing every module under it must not pull in Qt,
pyqtgraph or the GUI package. Checked in a fresh interpreter, so nothing imported by
other tests can hide an import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("PySide6", "shiboken6", "pyqtgraph", "gui", "PyQt5", "PyQt6")

SCRIPT = r"""
import importlib, json, pkgutil, sys
import core, core.training.step, core.storage.checked_io
names = ["core", "core.training.step", "core.storage.checked_io"]
for info in pkgutil.walk_packages(core.__path__, "core."):
    importlib.import_module(info.name)
    names.append(info.name)
forbidden = sorted(m for m in sys.modules if m.split(".")[0] in FORBIDDEN)
print(json.dumps({"modules": names, "forbidden": forbidden}))
"""


def test_core_imports_no_gui_toolkit():
    code = f"FORBIDDEN = {FORBIDDEN!r}\n" + SCRIPT
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # The walk really visited the engine, including sub-packages.
    expected = {"core.engine.activations", "core.training.build", "core.storage.checked_io",
                "core.engine.layers", "core.engine.losses", "core.engine.network",
                "core.engine.optimizers", "core.design.spec", "core.training.step"}
    assert expected <= set(report["modules"])
    assert any(m.startswith("core.datasets.") for m in report["modules"])
    assert report["forbidden"] == []


def test_the_check_can_fail():
    """The same script does report a GUI toolkit when one is imported."""
    code = f"FORBIDDEN = {FORBIDDEN!r}\nimport sys, types\nsys.modules['pyqtgraph'] = " \
           "types.ModuleType('pyqtgraph')\n" + SCRIPT
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["forbidden"] == ["pyqtgraph"]
