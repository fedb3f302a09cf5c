"""Backprop Studio's entry point: the window by default, headless sub-commands otherwise.

Sub-commands that need no display (``train``, ``gradcheck``, ``datasets``...) are in
``core.cli`` and never import Qt; only the default (no sub-command, or a file to open)
imports the GUI.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    from core.cli import HEADLESS_COMMANDS, run_headless

    if args and args[0] in HEADLESS_COMMANDS:
        return run_headless(args)
    if args and args[0] in ("-h", "--help"):
        return run_headless(args)
    from gui.app import run_gui

    return run_gui(args)


if __name__ == "__main__":
    sys.exit(main())
