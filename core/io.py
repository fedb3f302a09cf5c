"""Reading and writing design files: checked JSON in, atomic writes out.

Every load is checked before anything is built and fails with one error type
(``FileFormatError`` for unreadable files, ``DesignError`` for readable files that are not
a valid design), naming what is wrong. Every save writes a temporary file in the same
folder, flushes and fsyncs it, then renames it over the target, so a crash mid-save
leaves the previous file intact; the next save of that file removes the temporary file
such a crash left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from .errors import DesignError, FileFormatError
from .locks import is_locked, lock_fd, process_alive
from .spec import Design

MAX_JSON_BYTES = 20 * 1024 * 1024
TEMP_SUFFIX = ".tmp"
# Temporary files written before they carried a process id (".NAME.abcd1234.tmp") are
# removed once they are this old: no save takes ten minutes.
LEGACY_TEMP_AGE_S = 600.0
_TEMP_TAIL = re.compile(r"(?:(?P<pid>[0-9]{1,10})-)?[a-z0-9_]{8}\.tmp")


def _temp_prefix(target: Path) -> str:
    return f".{target.name}."


def remove_stale_temps(path: str | os.PathLike[str]) -> list[Path]:
    """Delete temporary files that ``atomic_write_bytes`` left next to ``path`` when its
    process was killed mid-save; returns the ones removed.

    Only our own naming for this very target (``.NAME.<pid>-<8 random>.tmp``), and only
    files nobody is writing: not locked, and written by a process that is gone (files of
    the older ``.NAME.<8 random>.tmp`` form: not locked and older than
    ``LEGACY_TEMP_AGE_S``). Errors are ignored: cleaning up must never fail a save.
    """
    target = Path(path)
    prefix = _temp_prefix(target)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(TEMP_SUFFIX)):
            continue
        match = _TEMP_TAIL.fullmatch(entry.name[len(prefix):])
        try:
            if match is None or not entry.is_file(follow_symlinks=False):
                continue
            if match["pid"] is not None:
                stale = not process_alive(int(match["pid"]))
            else:
                stale = time.time() - entry.stat().st_mtime > LEGACY_TEMP_AGE_S
            if stale and not is_locked(entry.path):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename).

    The temporary file is named ``.NAME.<pid>-<8 random>.tmp`` and locked while it is
    written, so the next save can tell a leftover of a killed save (removed first, see
    ``remove_stale_temps``) from one being written right now.
    Raises ``OSError`` (no permission, disk full...) with the old file untouched.
    """
    target = Path(path)
    remove_stale_temps(target)
    fd, tmp = tempfile.mkstemp(prefix=f"{_temp_prefix(target)}{os.getpid()}-",
                               suffix=TEMP_SUFFIX, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            # Held until the file is closed, after the rename: "being written".
            lock_fd(fh.fileno(), wait=True)
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


def parse_json(data: bytes, source: str) -> Any:
    """Parse JSON strictly: UTF-8, no NaN/Infinity, no duplicate keys, bounded size."""
    if len(data) > MAX_JSON_BYTES:
        raise FileFormatError(f"{source}: file is {len(data):,} bytes, more than the "
                              f"{MAX_JSON_BYTES:,}-byte limit for a design")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileFormatError(
            f"{source}: not UTF-8 text (bad byte at offset {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"{source}: not valid JSON: {exc.msg} at line {exc.lineno}, "
                              f"column {exc.colno}") from None
    except ValueError as exc:
        raise FileFormatError(f"{source}: {exc}") from None
    except RecursionError:
        raise FileFormatError(f"{source}: JSON nested too deeply") from None


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
