"""Design files: a design as human-readable JSON, loaded with every problem named.

Loads read at most ``MAX_JSON_BYTES`` through the checked reader and fail with one error
type, ``FileFormatError`` (its ``problems`` list every design problem); saves are atomic.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from core.design.spec import Design
from core.errors import DesignError, FileFormatError
from core.storage.checked_io import MAX_JSON_BYTES, atomic_write_bytes, parse_json, read_bytes


def design_to_json(design: Design) -> str:
    """The design as human-readable JSON text."""
    return json.dumps(design.to_dict(), indent=2, allow_nan=False) + "\n"


def save_design(design: Design, path: str | os.PathLike[str]) -> None:
    """Save ``design`` as JSON atomically; ``OSError`` on failure leaves the old file."""
    atomic_write_bytes(path, design_to_json(design).encode("utf-8"))


def load_design(path: str | os.PathLike[str]) -> Design:
    """Load and check a design file. Raises ``FileFormatError`` whether the file is
    unreadable or its content invalid (then ``problems`` lists every problem)."""
    data = read_bytes(path, MAX_JSON_BYTES)
    name = Path(path).name
    obj = parse_json(data, name)
    try:
        return Design.from_dict(obj)
    except DesignError as exc:
        lines = "\n".join(f"  {p}" for p in exc.problems)
        raise FileFormatError(f"{name} is not a valid design:\n{lines}", exc.problems) from None
