"""Backprop Studio's entry point: the window by default, headless sub-commands otherwise.

Sub-commands that need no display (``train``, ``gradcheck``, ``datasets``...) are in
``core.cli.commands`` and never import Qt; only the default (no sub-command, or a file to open)
imports the GUI. Any other first word is a usage error, as argparse reports it (exit 2).
``--self-test`` runs the packaged-app check in ``gui.self_test``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()  # ``--startup-time`` measures from here

# One BLAS thread unless the user says otherwise: on a two-core machine a second
# OpenBLAS thread collapses whenever the other core is busy (the window, another
# program), measured at 10x slower. Must be set before NumPy is first imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


WINDOW_FILE_SUFFIXES = (".json", ".bpsproj", ".onnx")


def _names_a_file(arg: str) -> bool:
    """Whether a first argument that is not a command is a file for the window to open.

    It is if it exists, or looks like a path to a design, project or ONNX model: a
    ``.json``, ``.bpsproj`` or ``.onnx`` suffix, or a folder part (``runs/x``). Such a
    missing file is reported in the window's banner; any other word is a usage error.
    """
    from gui.app import STARTUP_TIME_FLAG  # a plain module: no Qt is imported here

    if arg == STARTUP_TIME_FLAG:
        return True
    if arg.startswith("-"):
        return False
    path = Path(arg)
    return (path.exists() or path.suffix.lower() in WINDOW_FILE_SUFFIXES
            or len(path.parts) > 1)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] == "--self-test":
        if code := _qt_missing():
            return code
        from gui.self_test import run_self_test

        return run_self_test(args[1:])
    from core.cli.commands import HEADLESS_COMMANDS, run_headless

    if args and args[0] in HEADLESS_COMMANDS:
        return run_headless(args)
    if args and args[0] in ("-h", "--help"):
        return run_headless(args)
    if args and not _names_a_file(args[0]):
        # A mistyped command ("tarin") or an unknown option: argparse's usage error
        # (exit 2, the commands listed) instead of a window with a "not found" banner,
        # which on a machine without a screen would not even appear.
        code = run_headless(args)
        if not args[0].startswith("-"):
            print(f"backprop-studio: {args[0]!r} is neither a command nor an existing file "
                  f"(the window opens {' and '.join(WINDOW_FILE_SUFFIXES)} files)",
                  file=sys.stderr)
        return code
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
    # The trainer runs in a spawned child process (core.training.process); in the packaged app the
    # child is this executable again, and this call turns it into the trainer.
    import multiprocessing

    multiprocessing.freeze_support()
    sys.exit(main())
