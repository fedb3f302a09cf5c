"""Measure the time from launch to the main window's first paint.

    .venv/bin/python packaging/measure_startup.py [--runs N] [TARGET ...]

TARGET is ``onedir`` (dist/backprop-studio/backprop-studio), ``onefile``
(dist/backprop-studio-onefile) or ``source`` (``.venv/bin/python main.py``); default: all
three, skipping a build that is not there. Each target is launched with ``--startup-time``
(the app prints the seconds from the top of ``main.py`` to the window's first paint, then
closes), once to warm the disk cache and then N times (default 7). Two medians are
printed per target:

- ``launch -> window``: wall time measured here, from starting the process to reading the
  app's line; it includes the interpreter's start and, for the one-file build, unpacking
  the bundle into a temporary folder: what a user waits for;
- ``main.py -> window``: the app's own figure (imports, building the window, first paint).

Runs offscreen unless ``QT_QPA_PLATFORM`` is set, with settings in a throw-away folder.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {
    "onedir": [str(ROOT / "dist" / "backprop-studio" / "backprop-studio")],
    "onefile": [str(ROOT / "dist" / "backprop-studio-onefile")],
    "source": [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "main.py")],
}
TIMEOUT_S = 60.0


def launch_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """One launch: (wall seconds to the app's startup line, the app's own figure)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([*command, "--startup-time"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("startup: window shown after "):
                wall = time.perf_counter() - t0
                own = float(line.split("after ", 1)[1].split()[0])
                proc.wait(timeout=TIMEOUT_S)
                return wall, own
        raise RuntimeError(f"{command[0]} exited ({proc.wait()}) without a startup line")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", metavar="TARGET",
                        help=f"any of {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    names = args.targets or list(TARGETS)
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="bps-startup-") as config:
        env["XDG_CONFIG_HOME"] = config
        print(f"{'target':8} {'runs':>4} {'launch -> window':>17} {'main.py -> window':>18}"
              "   (medians, seconds)")
        for name in names:
            command = TARGETS[name]
            if not Path(command[0]).exists():
                print(f"{name:8} skipped: {command[0]} not found (build it first)")
                continue
            launch_once(command, env)  # warm-up: disk cache, font cache, settings file
            walls, owns = zip(*(launch_once(command, env) for _ in range(args.runs)),
                              strict=True)
            print(f"{name:8} {args.runs:4d} {statistics.median(walls):17.3f} "
                  f"{statistics.median(owns):18.3f}   (wall min {min(walls):.3f}, "
                  f"max {max(walls):.3f})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
