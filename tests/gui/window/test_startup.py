"""Starting fast: the first frame needs no pyqtgraph. Importing the main window does not
import it, the window is painted before it is imported, and the plots are built right
after (``gui.lazy_build``). Checked in fresh interpreters, where nothing is imported yet."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _python(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path))
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=120)


def test_importing_the_main_window_does_not_import_pyqtgraph(tmp_path):
    result = _python("import sys, gui.app, gui.main_window; "
                     "print(sorted(m for m in sys.modules if m.startswith('pyqtgraph')))",
                     tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_window_is_painted_before_the_plots_are_built(tmp_path):
    # Records, when the first paint releases the builds, whether pyqtgraph was loaded.
    code = """
import sys
from gui import app, lazy_build

release = lazy_build.release_builds
def recording_release():
    print("pyqtgraph at first paint:", "pyqtgraph" in sys.modules, flush=True)
    release()
lazy_build.release_builds = recording_release
code = app.run_gui(["--startup-time"])
print("pyqtgraph at the end:", "pyqtgraph" in sys.modules, "pending:", lazy_build.pending_count())
sys.exit(code)
"""
    result = _python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line]
    assert lines[0].startswith("startup: window shown after ")
    assert lines[1] == "pyqtgraph at first paint: False"
    assert lines[2].startswith("startup: plots built after ")
    assert lines[3] == "pyqtgraph at the end: True pending: 0"
    shown, built = (float(line.split("after ")[1].split()[0]) for line in lines[0::2][:2])
    assert 0 < shown <= built


def test_what_waits_for_the_first_paint_runs_once(qtbot):
    from PySide6.QtWidgets import QWidget

    from gui.app import _on_first_paint

    window, calls = QWidget(), []
    qtbot.addWidget(window)
    _on_first_paint(window, lambda: calls.append(window.isVisible()))
    assert calls == []
    window.show()
    qtbot.waitUntil(lambda: calls == [True])
    window.repaint()
    qtbot.wait(20)
    assert calls == [True]


def test_a_window_never_painted_starts_it_after_a_while(qtbot, monkeypatch):
    from PySide6.QtWidgets import QWidget

    from gui import app

    monkeypatch.setattr(app, "FIRST_PAINT_TIMEOUT_MS", 30)
    window, calls = QWidget(), []
    qtbot.addWidget(window)  # never shown
    app._on_first_paint(window, lambda: calls.append("started"))
    qtbot.waitUntil(lambda: calls == ["started"])
    qtbot.wait(50)
    assert calls == ["started"]
