"""The first word on the command line: a command, a file for the window, or a usage error.

Run as a user would (``main.py`` in a subprocess, with a timeout): a mistyped command
used to open the window with a "file not found" banner, and hang where there is no screen.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_main(args: list[str], config_home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(config_home))
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args],
                          cwd=tmp_cwd(config_home), env=env, capture_output=True, text=True,
                          timeout=120)


def tmp_cwd(config_home: Path) -> Path:
    """Run in an empty folder, so a word cannot be an existing file by accident."""
    cwd = config_home / "cwd"
    cwd.mkdir(parents=True, exist_ok=True)
    return cwd


def test_mistyped_command_is_a_usage_error_listing_the_commands(tmp_path):
    result = run_main(["tarin", "x.json"], tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "invalid choice: 'tarin'" in result.stderr
    for command in ("check", "gradcheck", "train", "datasets"):
        assert f"'{command}'" in result.stderr
    assert "'tarin' is neither a command nor an existing file" in result.stderr
    assert "startup:" not in result.stdout and result.stdout == ""


def test_unknown_option_is_a_usage_error(tmp_path):
    result = run_main(["--bogus"], tmp_path)
    assert result.returncode == 2
    assert "unrecognized arguments: --bogus" in result.stderr


def test_word_with_another_suffix_is_a_usage_error(tmp_path):
    result = run_main(["notes.txt"], tmp_path)
    assert result.returncode == 2
    assert "invalid choice: 'notes.txt'" in result.stderr


def test_missing_design_path_still_opens_the_window_with_the_reason(tmp_path):
    missing = tmp_path / "missing.json"
    result = run_main([str(missing), "--startup-time"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    banner = next(line for line in result.stdout.splitlines() if line.startswith("banner: "))
    assert f"Could not open {missing}" in banner and "no such file" in banner


def test_existing_file_without_a_suffix_opens_in_the_window(tmp_path):
    design = tmp_path / "cwd" / "mydesign"
    design.parent.mkdir(parents=True)
    design.write_text((ROOT / "resources" / "examples" / "xor.json").read_text())
    result = run_main(["mydesign", "--startup-time"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "startup: window shown after" in result.stdout
    assert "banner:" not in result.stdout
