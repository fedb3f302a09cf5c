"""``main.py --self-test`` and a bad file on the command line, run as a user would: in a
subprocess from the checkout, offscreen, with settings in a temporary folder.

The same self-test runs against the PyInstaller build in CI (.ci/run), where it also
proves that the bundle carries its resources and package metadata.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_main(args: list[str], config_home: Path, timeout: float = 120.0):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(config_home))
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_self_test_trains_and_round_trips_a_project(tmp_path):
    result = run_main(["--self-test"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    steps = re.search(r"trained (\d+) steps in the training process", out)
    assert steps is not None, out
    assert int(steps.group(1)) >= 300
    assert "project round trip" in out and "design and 6 weight arrays equal" in out
    assert "Help > About shows version 0.1.0" in out
    assert "bad startup file corrupt.bpsproj shown in the window" in out
    assert "bad startup file missing.json shown in the window" in out
    assert "export: onnx: verified on 256 samples" in out
    assert "export: numpy: verified on 256 samples" in out
    assert re.search(r"self-test: passed in [\d.]+ s", out)
    # The settings went to the user's config folder, and the self-test's own file is gone.
    assert f"settings written to {tmp_path}" in out
    assert not list(tmp_path.rglob("*self-test*.conf"))


def test_corrupt_file_on_the_command_line_is_shown_in_the_window(tmp_path):
    corrupt = tmp_path / "broken.bpsproj"
    corrupt.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    result = run_main(["--startup-time", str(corrupt)], tmp_path / "config")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"startup: window shown after [\d.]+ s", result.stdout)
    banner = next(line for line in result.stdout.splitlines() if line.startswith("banner: "))
    assert f"Could not open {corrupt}" in banner
    assert "truncated" in banner


def test_watchdog_ends_a_self_test_that_takes_too_long(tmp_path):
    result = run_main(["--self-test", "--timeout", "0.05"], tmp_path)
    assert result.returncode == 2
    assert "self-test FAILED: timed out after 0.05 s" in result.stderr


def test_unknown_self_test_argument_is_refused(tmp_path):
    result = run_main(["--self-test", "--bogus"], tmp_path)
    assert result.returncode == 1
    assert "unknown self-test argument '--bogus'" in result.stderr


def test_the_bundle_carries_every_export_format():
    # The formats load by name and import onnx/onnxruntime inside functions, which
    # PyInstaller's analysis cannot see: the spec names them.
    from core.export.formats import EXPORT_FORMATS

    spec = (ROOT / "packaging" / "backprop-studio.spec").read_text()
    hidden = re.search(r"hiddenimports=\[(.*?)\]", spec, re.S)
    assert hidden is not None
    names = set(re.findall(r'"([\w.]+)"', hidden.group(1)))
    # ... and the PostgreSQL driver SQLAlchemy imports by name for a sweep's database.
    postgres = {"psycopg", "psycopg_binary", "sqlalchemy.dialects.postgresql.psycopg"}
    assert {f.module for f in EXPORT_FORMATS.values()} | {"onnx", "onnxruntime"} | \
        postgres == names
