"""Safe bytes on disk: checked JSON in, bounded reads of user files, atomic writes out.

User files are opened only when they are regular files and read with a byte limit, never
trusting the size the file system reports. JSON is parsed strictly (no NaN, no duplicate
keys; huge numbers and lone surrogates are kept for the field checks to name). Every save
writes a temporary file in the same folder, flushes and fsyncs it, then renames it over
the target, so a crash mid-save leaves the previous file intact; the next save of that
file removes the temporary file such a crash left behind.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from core.errors import MAX_INT_DIGITS, FileFormatError, HugeNumber
from core.storage.locks import is_locked, lock_fd, process_alive

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


_NOT_A_FILE = {stat.S_IFDIR: "is a folder, not a file",
               stat.S_IFCHR: "is a device, not a file",
               stat.S_IFBLK: "is a device, not a file",
               stat.S_IFIFO: "is a pipe (FIFO), not a file",
               stat.S_IFSOCK: "is a socket, not a file"}


def size_text(n_bytes: int) -> str:
    """A byte count for messages: ``50.0 MB (52,428,800 bytes)``."""
    return f"{n_bytes / (1024 * 1024):.1f} MB ({n_bytes:,} bytes)"


def _require_regular_file(path: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        why = _NOT_A_FILE.get(stat.S_IFMT(mode), "is not a regular file")
        raise FileFormatError(f"{path}: {why}")


@contextlib.contextmanager
def open_user_file(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a file the user named (design, project, weights, CSV) for reading, binary.

    Only regular files: a folder, device (``/dev/zero``), pipe or socket is refused
    before any byte is read (a pipe is opened without blocking, then refused). Read it
    with ``read_limited``: its size on disk is a hint, never a bound. ``FileFormatError``
    names the file for every failure (missing, not a file, no permission).
    """
    p = Path(path)
    try:
        _require_regular_file(p, os.stat(p).st_mode)
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        fh = os.fdopen(os.open(p, flags), "rb")
    except FileNotFoundError:
        raise FileFormatError(f"{p}: no such file") from None
    except PermissionError:
        raise FileFormatError(f"{p}: permission denied") from None
    except OSError as exc:
        raise FileFormatError(f"{p}: cannot read ({exc.strerror or exc})") from None
    with fh:
        # The path may have been swapped for a device between stat and open.
        _require_regular_file(p, os.fstat(fh.fileno()).st_mode)
        yield fh


_CHUNK = 16 * 1024 * 1024


def read_at_most(fh: BinaryIO, n: int, source: str | os.PathLike[str]) -> bytes | bytearray:
    """The next bytes of ``fh``, at most ``n`` (fewer at its end); ``FileFormatError``
    names ``source`` if reading fails.

    Memory follows the bytes actually read, not ``n``: ``fh.read(n)`` would allocate
    ``n`` bytes up front, whatever a (possibly lying) header or limit says.
    """
    try:
        if n <= _CHUNK:
            return fh.read(n)
        buf = bytearray()
        while len(buf) < n:
            chunk = fh.read(min(_CHUNK, n - len(buf)))
            if not chunk:
                break
            buf += chunk
        return buf
    except OSError as exc:
        raise FileFormatError(f"{source}: cannot read ({exc.strerror or exc})") from None


def read_limited(fh: BinaryIO, limit: int,
                 source: str | os.PathLike[str]) -> bytes | bytearray:
    """Read ``fh`` to its end, refusing more than ``limit`` bytes (reads at most
    ``limit + 1``); ``FileFormatError`` names ``source``."""
    data = read_at_most(fh, limit + 1, source)
    if len(data) > limit:
        raise FileFormatError(f"{source}: larger than the limit of {size_text(limit)}")
    return data


def read_bytes(path: str | os.PathLike[str], limit: int) -> bytes | bytearray:
    """Read a whole user file, refusing one larger than ``limit`` bytes or one that is not
    a regular file (``open_user_file``); ``FileFormatError`` names the file."""
    with open_user_file(path) as fh:
        try:
            size = os.fstat(fh.fileno()).st_size
        except OSError:
            size = 0
        if size > limit:  # a cheap early refusal; the read below is the real bound
            raise FileFormatError(f"{path}: larger than the limit of {size_text(limit)}")
        return read_limited(fh, limit, path)
