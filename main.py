"""Backprop Studio's entry point: the window by default, headless sub-commands otherwise.

Sub-commands that need no display (``train``, ``gradcheck``, ``datasets``...) are in
``core.cli`` and never import Qt; only the default (no sub-command, or a file to open)
imports the GUI. ``--self-test`` runs the packaged-app check in ``gui.self_test``.
"""

from __future__ import annotations

import os
import sys
import time

STARTED = time.perf_counter()  # ``--startup-time`` measures from here

# One BLAS thread unless the user says otherwise: on a two-core machine a second
# OpenBLAS thread collapses whenever the other core is busy (the window, another
# program), measured at 10x slower. Must be set before NumPy is first imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] == "--self-test":
        if code := _qt_missing():
            return code
        from gui.self_test import run_self_test

        return run_self_test(args[1:])
    from core.cli import HEADLESS_COMMANDS, run_headless

    if args and args[0] in HEADLESS_COMMANDS:
        return run_headless(args)
    if args and args[0] in ("-h", "--help"):
        return run_headless(args)
    if code := _qt_missing():
        return code
    from gui.app import run_gui

    return run_gui(args, started=STARTED)


def _qt_missing() -> int:
    """0 if Qt loads; else print which system packages are missing (one line, no
    traceback) and return the exit code for it (4)."""
    from gui.system_libraries import EXIT_NO_QT, qt_problem

    problem = qt_problem()
    if not problem:
        return 0
    print(problem, file=sys.stderr)
    return EXIT_NO_QT


if __name__ == "__main__":
    # The trainer runs in a spawned child process (core.remote); in the packaged app the
    # child is this executable again, and this call turns it into the trainer.
    import multiprocessing

    multiprocessing.freeze_support()
    sys.exit(main())
