"""Plain-Python undo history: commands with ``do``/``undo`` on one stack.

A ``Command`` changes its target in ``do`` and puts it back in ``undo``. ``UndoStack``
keeps them in order with a current index (commands below it are done, those above it
undone and redoable) and a clean index (where the target was last saved), as Qt's
QUndoStack does, so a window can show it in its Edit menu through a thin adapter while
the command line and tests use it headless.
"""

from __future__ import annotations

from collections.abc import Callable


class Command:
    """One undoable step. ``text`` says what it does ("Delete 2 runs"); commands with
    the same non-None ``merge_key`` pushed one after the other merge into one step
    (typing into one field) through ``merge``."""

    text: str = ""
    merge_key: str | None = None

    def do(self) -> None:
        raise NotImplementedError

    def undo(self) -> None:
        raise NotImplementedError

    def merge(self, other: Command) -> bool:
        """Absorb ``other`` (already done) into this step; False if it cannot."""
        return False


class UndoStack:
    """The history of ``Command`` objects, with a clean (saved) index.

    ``listeners`` are called with no arguments after every change of the history
    (push, undo, redo, clear, clean state)."""

    def __init__(self) -> None:
        self._commands: list[Command] = []
        self._index = 0  # commands[:index] are done
        self._clean = 0  # -1: the saved state is no longer reachable
        self.listeners: list[Callable[[], None]] = []

    # ---------------------------------------------------------------- queries
    def count(self) -> int:
        return len(self._commands)

    def index(self) -> int:
        return self._index

    def can_undo(self) -> bool:
        return self._index > 0

    def can_redo(self) -> bool:
        return self._index < len(self._commands)

    def next_undo(self) -> Command | None:
        """The command ``undo`` would undo, or None."""
        return self._commands[self._index - 1] if self._index > 0 else None

    def next_redo(self) -> Command | None:
        """The command ``redo`` would redo, or None."""
        return self._commands[self._index] if self.can_redo() else None

    def undo_text(self) -> str:
        cmd = self.next_undo()
        return cmd.text if cmd is not None else ""

    def redo_text(self) -> str:
        cmd = self.next_redo()
        return cmd.text if cmd is not None else ""

    def is_clean(self) -> bool:
        return self._index == self._clean

    # ---------------------------------------------------------------- changes
    def push(self, command: Command) -> None:
        """Do ``command`` and make it the newest step (dropping what was undone);
        merged into the previous step when their ``merge_key`` matches, unless that
        step is the saved state."""
        command.do()
        del self._commands[self._index:]
        if self._clean > self._index:
            self._clean = -1
        top = self._commands[-1] if self._commands else None
        if (top is not None and command.merge_key is not None
                and top.merge_key == command.merge_key and self._index != self._clean
                and top.merge(command)):
            self._notify()
            return
        self._commands.append(command)
        self._index += 1
        self._notify()

    def undo(self) -> None:
        if self._index > 0:
            self._index -= 1
            self._commands[self._index].undo()
            self._notify()

    def redo(self) -> None:
        if self.can_redo():
            self._commands[self._index].do()
            self._index += 1
            self._notify()

    def clear(self) -> None:
        """Forget every step; the current state becomes the clean one."""
        self._commands.clear()
        self._index = self._clean = 0
        self._notify()

    def set_clean(self) -> None:
        """The current state is the saved one."""
        self._clean = self._index
        self._notify()

    def _notify(self) -> None:
        for listener in list(self.listeners):
            listener()


__all__ = ["Command", "UndoStack"]
