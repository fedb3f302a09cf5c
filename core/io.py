"""Reading and writing design files: checked JSON in, atomic writes out.

Every load is checked before anything is built and fails with one error type
(``FileFormatError`` for unreadable files, ``DesignError`` for readable files that are not
a valid design), naming what is wrong. Every save writes a temporary file in the same
folder, flushes and fsyncs it, then renames it over the target, so a crash mid-save
leaves the previous file intact.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from .errors import MAX_INT_DIGITS, DesignError, FileFormatError, HugeNumber
from .spec import Design

MAX_JSON_BYTES = 20 * 1024 * 1024


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename).

    Raises ``OSError`` (no permission, disk full...) with the old file untouched.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if target.exists():
            # Keep the file's permission bits; mkstemp creates 0600.
            os.chmod(tmp, target.stat().st_mode & 0o777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed (numbers must be finite)")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _parse_int(text: str) -> int | HugeNumber:
    # Python refuses more than 4300 digits inside json.loads, where no field path is known.
    return int(text) if len(text) <= MAX_INT_DIGITS + 1 else HugeNumber(text)


def _parse_float(text: str) -> float | HugeNumber:
    value = float(text)
    return value if math.isfinite(value) else HugeNumber(text)


def parse_json(data: bytes, source: str) -> Any:
    """Parse JSON strictly: UTF-8, no NaN/Infinity, no duplicate keys, bounded size.

    Numbers too large for any setting (over ``MAX_INT_DIGITS`` digits, or beyond a float's
    range such as ``1e400``) become ``HugeNumber`` for the field checks to report; a lone
    surrogate left by a ``\\ud800`` escape becomes U+FFFD."""
    if len(data) > MAX_JSON_BYTES:
        raise FileFormatError(f"{source}: file is {len(data):,} bytes, more than the "
                              f"{MAX_JSON_BYTES:,}-byte limit for a design")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileFormatError(
            f"{source}: not UTF-8 text (bad byte at offset {exc.start})") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant,
                           object_pairs_hook=_no_duplicates, parse_int=_parse_int,
                           parse_float=_parse_float)
        # Only a "\\udXXX" escape can leave a lone surrogate (UTF-8 decoding refuses them).
        return _no_lone_surrogates(value) if _SURROGATE_ESCAPE.search(text) else value
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"{source}: not valid JSON: {exc.msg} at line {exc.lineno}, "
                              f"column {exc.colno}") from None
    except ValueError as exc:
        raise FileFormatError(f"{source}: {exc}") from None
    except RecursionError:
        raise FileFormatError(f"{source}: JSON nested too deeply") from None


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_lone_surrogates(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings (keys too) replaced by U+FFFD.

    A lone surrogate from a JSON escape loads as a Python string but cannot be encoded
    as UTF-8: writing it anywhere later (a CSV export, a label) fails far from here.
    """
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_no_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_no_lone_surrogates(k): _no_lone_surrogates(v) for k, v in value.items()}
    return value


def read_bytes(path: str | os.PathLike[str], limit: int) -> bytes:
    """Read a whole file, refusing one larger than ``limit`` bytes; ``FileFormatError``
    names the file for every failure (missing, a folder, no permission)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if p.is_dir():
            raise FileFormatError(f"{p}: is a folder, not a file")
        if size > limit:
            raise FileFormatError(f"{p}: file is {size:,} bytes, more than the {limit:,}-byte "
                                  "limit")
        with open(p, "rb") as fh:
            return fh.read(limit + 1)
    except FileNotFoundError:
        raise FileFormatError(f"{p}: no such file") from None
    except PermissionError:
        raise FileFormatError(f"{p}: permission denied") from None
    except OSError as exc:
        raise FileFormatError(f"{p}: cannot read ({exc.strerror or exc})") from None


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
