"""Without Qt's system libraries (libGL, libEGL...), ``main.py`` says in one line which
packages to install and exits 4; headless commands work without Qt at all.

The missing library is simulated in a subprocess: a ``sitecustomize`` module makes every
``PySide6`` import raise the loader's ImportError, as on a bare Debian.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gui.system_libraries import EXIT_NO_QT, explain_qt_import_error

ROOT = Path(__file__).resolve().parent.parent

SITECUSTOMIZE = '''
import sys

class _NoQt:
    """Every PySide6 import fails as it does without libGL.so.1."""
    def find_spec(self, name, path=None, target=None):
        if name == "PySide6" or name.startswith("PySide6."):
            raise ImportError({message!r})
        return None

sys.meta_path.insert(0, _NoQt())
'''


def run_without_qt(tmp_path: Path, args: list[str], message: str):
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE.format(message=message))
    env = dict(os.environ, PYTHONPATH=str(site), QT_QPA_PLATFORM="offscreen",
               XDG_CONFIG_HOME=str(tmp_path / "config"))
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)


LIBGL = "libGL.so.1: cannot open shared object file: No such file or directory"


@pytest.mark.parametrize("args", [[], ["design.json"], ["--self-test"]])
def test_window_without_libgl_names_the_package_in_one_line(tmp_path, args):
    # An existing file: opening it needs the window.
    (tmp_path / "design.json").write_text((ROOT / "resources/examples/xor.json").read_text())
    result = run_without_qt(tmp_path, args, LIBGL)
    assert result.returncode == EXIT_NO_QT
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "libGL.so.1 is missing (package libgl1)" in lines[0]
    assert "apt-get install --no-install-recommends libgl1 libegl1 fontconfig-config" in lines[0]


def test_headless_commands_work_without_qt(tmp_path):
    xor = str(ROOT / "resources/examples/xor.json")
    check = run_without_qt(tmp_path, ["check", xor], LIBGL)
    assert check.returncode == 0, check.stderr
    listing = run_without_qt(tmp_path, ["datasets"], LIBGL)
    assert listing.returncode == 0 and "spiral" in listing.stdout
    train = run_without_qt(tmp_path, ["train", xor, "--epochs", "2", "--quiet",
                                      "--out", str(tmp_path / "run")], LIBGL)
    assert train.returncode == 0, train.stderr
    assert (tmp_path / "run" / "weights.safetensors").is_file()


@pytest.mark.parametrize(("message", "expected"), [
    ("libEGL.so.1: cannot open shared object file", "libEGL.so.1 is missing (package libegl1)"),
    ("libxkbcommon.so.0: cannot open shared object file",
     "install the window's libraries with: sudo apt-get install --no-install-recommends "
     "libxkbcommon0 libgl1 libegl1 fontconfig-config"),
    ("libunknown.so.7: cannot open shared object file", "libunknown.so.7 is missing (a system"),
    ("No module named 'PySide6'", "Qt (PySide6) could not be loaded (No module named"),
])
def test_messages_map_the_library_to_its_package(message, expected):
    line = explain_qt_import_error(ImportError(message))
    assert expected in line and "\n" not in line
