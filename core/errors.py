"""Error types raised by ``core``: one family, each carrying messages a user can read.

Every error names what is wrong and where (a field path such as ``layers[3].units``,
or a file's line and column), so the GUI and the command line can show it as is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

LayerPath = tuple[int, ...]  # (i,) top-level layer i, (i, j) layer j inside block i


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a design or a file, and where it is.

    ``path`` is a dotted/indexed location such as ``network.layers[3].units``
    (empty for the whole object), shown to users; ``message`` says what is wrong in
    plain words. The location is also kept as data, so nothing has to read ``path``
    back: ``layer`` is the layer the problem is about (``(3,)``; ``(2, 0)`` for layer 0
    inside the block at 2; ``()`` for the network's layers as a whole; None when it is
    not about the layers) and ``field`` the setting to change (``"units"``, ``"loss"``;
    "" for none). ``fix`` names an edit that would cure it (``"insert_flatten"``),
    applied by ``core.design.fixes.apply_fix``; "" when there is none.
    """

    path: str
    message: str
    layer: LayerPath | None = None
    field: str = ""
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def under(self, prefix: str) -> Problem:
        """The same problem located inside ``prefix`` (``network`` + ``inputs`` ->
        ``network.inputs``)."""
        return replace(self, path=f"{prefix}.{self.path}" if self.path else prefix)


def layer_location(layer: LayerPath, field: str = "", root: str = "layers") -> str:
    """The path text of ``layer`` (and its ``field``): ``(2, 0)``, "units" ->
    ``layers[2].layers[0].units``; ``()`` is ``root`` itself."""
    text = root + "".join(f"[{i}]" if k == 0 else f".layers[{i}]"
                          for k, i in enumerate(layer))
    return f"{text}.{field}" if field else text


def layer_problem(layer: LayerPath, field: str, message: str,
                  root: str = "network.layers", fix: str = "") -> Problem:
    """A problem of ``layer``'s ``field`` ("" for the layer itself), located under
    ``root`` (the path of the top-level layer list), curable by the edit ``fix``."""
    return Problem(layer_location(layer, field, root), message, layer, field, fix)


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
    """A dataset could not be made or read (bad CSV, unknown name, bad options).

    Errors about a place in a file say where as data too: ``line`` (1-based file line)
    and ``column`` (1-based), each None when unknown, and ``cells``: every (line, column)
    the message names (several for a list of unusable cells), so a preview can mark
    them without reading the message.
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 cells: Iterable[tuple[int, int]] = ()) -> None:
        super().__init__(message)
        self.cells: tuple[tuple[int, int], ...] = tuple(cells)
        if not self.cells and line is not None and column is not None:
            self.cells = ((line, column),)
        if line is None and self.cells:
            line, column = self.cells[0]
        self.line, self.column = line, column


class FileFormatError(StudioError):
    """A design, weights or project file is unreadable, corrupt or of an unknown format.

    ``problems`` lists the individual problems when the file was readable but its content
    invalid (each with its place in the file)."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        self.problems: list[Problem] = list(problems or [])
        super().__init__(message)


def printable(text: str) -> str:
    """``text`` with every character that is not printable escaped (``\\x1b``, ``\\r``,
    ``\\u202e``, a lone surrogate ``\\ud800``...); line breaks and tabs are kept.

    Messages quote user content (CSV cells, names, file names); printed raw, an escape
    sequence from a file could clear or rewrite the user's terminal.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in "\n\t" else _escaped(ch) for ch in text)


def _escaped(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


MAX_INT_DIGITS = 40  # longer integers are no count, size or seed this program takes


class HugeNumber:
    """A JSON number too large for any setting: an integer of more than
    ``MAX_INT_DIGITS`` digits, or a number that overflows a float to infinity (``1e400``).

    ``core.storage.checked_io.parse_json`` keeps it as its text instead of failing inside
    the JSON parser with no location, so the checks that read the field report it with its path.
    It is
    neither an ``int`` nor a ``float``: type checks refuse it.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        digits = sum(ch.isdigit() for ch in self.text)
        shown = self.text if len(self.text) <= 24 else f"{self.text[:10]}…{self.text[-6:]}"
        if self.text.lstrip("-").isdigit():
            return f"{shown} (a {digits}-digit integer, far out of range)"
        return f"{shown} (beyond the range of a float: it overflows to infinity)"
