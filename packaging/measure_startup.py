"""Measure the time from launch to the main window's first paint.

    .venv/bin/python packaging/measure_startup.py [--runs N] [--cold] [TARGET ...]

TARGET is ``onedir`` (dist/backprop-studio/backprop-studio), ``onefile``
(dist/backprop-studio-onefile) or ``source`` (``main.py`` run by the Python running this
script); default: all three, skipping a build that is not there. Each target is launched
with ``--startup-time`` (the app prints the seconds from the top of ``main.py`` to the
window's first paint, and then to the end of building its plots, and closes), once to
warm the disk cache and then N times (default 7). Three medians are printed per target:

- ``launch -> window``: wall time measured here, from starting the process to reading the
  app's line; it includes the interpreter's start and, for the one-file build, unpacking
  the bundle into a temporary folder: what a user waits for;
- ``main.py -> window``: the app's own figure (imports, building the window, first paint);
- ``main.py -> plots``: until the plots, built after the first frame, are there too.

``--cold`` empties the kernel's page cache before every launch (``/proc/sys/vm/drop_caches``:
root only; it slows every other program on the machine for a moment) and skips the
warm-up: each launch reads the interpreter, Qt and the app from disk.

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
    "source": [sys.executable, str(ROOT / "main.py")],
}
TIMEOUT_S = 60.0
DROP_CACHES = Path("/proc/sys/vm/drop_caches")


def drop_page_cache() -> None:
    """Empty the kernel's page cache (needs root)."""
    os.sync()
    DROP_CACHES.write_text("3\n")


def _seconds(line: str) -> float:
    return float(line.split("after ", 1)[1].split()[0])


def launch_once(command: list[str], env: dict[str, str],
                cold: bool = False) -> tuple[float, float, float]:
    """One launch: (wall seconds to the app's window line, the app's own figure for the
    window, and for the plots; NaN if the app does not say)."""
    if cold:
        drop_page_cache()
    t0 = time.perf_counter()
    proc = subprocess.Popen([*command, "--startup-time"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
    try:
        assert proc.stdout is not None
        wall = own = plots = float("nan")
        for line in proc.stdout:
            if line.startswith("startup: window shown after "):
                wall = time.perf_counter() - t0
                own = _seconds(line)
            elif line.startswith("startup: plots built after "):
                plots = _seconds(line)
        proc.wait(timeout=TIMEOUT_S)
        if wall != wall:  # NaN: no window line
            raise RuntimeError(f"{command[0]} exited ({proc.returncode}) without a startup line")
        return wall, own, plots
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", metavar="TARGET",
                        help=f"any of {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cold", action="store_true",
                        help="empty the page cache before each launch (root only)")
    args = parser.parse_args()
    names = args.targets or list(TARGETS)
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    if args.cold and not os.access(DROP_CACHES, os.W_OK):
        parser.error(f"--cold needs root: it writes {DROP_CACHES}")
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="bps-startup-") as config:
        env["XDG_CONFIG_HOME"] = config
        print(f"{'target':8} {'runs':>4} {'launch -> window':>17} {'main.py -> window':>18}"
              f" {'main.py -> plots':>17}   (medians, seconds{', cold' if args.cold else ''})")
        for name in names:
            command = TARGETS[name]
            if not Path(command[0]).exists():
                print(f"{name:8} skipped: {command[0]} not found (build it first)")
                continue
            if not args.cold:
                launch_once(command, env)  # warm-up: disk cache, font cache, settings file
            walls, owns, plots = zip(*(launch_once(command, env, args.cold)
                                       for _ in range(args.runs)), strict=True)
            print(f"{name:8} {args.runs:4d} {statistics.median(walls):17.3f} "
                  f"{statistics.median(owns):18.3f} {statistics.median(plots):17.3f}"
                  f"   (wall min {min(walls):.3f}, max {max(walls):.3f})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
