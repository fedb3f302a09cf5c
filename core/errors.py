"""Error types raised by ``core``: one family, each carrying messages a user can read.

Every error names what is wrong and where (a field path such as ``layers[3].units``,
or a file's line and column), so the GUI and the command line can show it as is.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a design or a file, and where it is.

    ``path`` is a dotted/indexed location such as ``network.layers[3].units``
    (empty for the whole object); ``message`` says what is wrong in plain words.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class StudioError(Exception):
    """Base class of every error ``core`` raises on bad input."""


class DesignError(StudioError):
    """A design (network or training settings) is invalid; carries every problem found."""

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class DatasetError(StudioError):
    """A dataset could not be made or read (bad CSV, unknown name, bad options)."""


class FileFormatError(StudioError):
    """A design, weights or project file is unreadable, corrupt or of an unknown format.

    ``problems`` lists the individual problems when the file was readable but its content
    invalid (each with its place in the file)."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        self.problems: list[Problem] = list(problems or [])
        super().__init__(message)
