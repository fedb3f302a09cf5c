"""Crash recovery: this instance's autosave copy of the open document, and the copies
that instances which did not close normally (killed, crashed) left behind.

The caller chooses the folder (the window passes the user's data folder, tests a
temporary one). Each running instance is a *session* ``<pid>-<random>`` with three
files there:

- ``<id>.lock``: created first and held under an exclusive ``flock`` for the session's
  whole life. The kernel drops the lock when the process dies, however it dies, so a
  lock that can be taken means the session's process is gone: its files are leftovers.
  A running instance's copy is therefore never offered to another instance, and two
  instances never write the same files.
- ``<id>.bpsproj``: the document, as the bytes ``core.files.project.project_bytes`` makes (the
  one project serialiser, so a recovery copy holds whatever a project file holds), read
  back with ``core.files.project.parse_project``'s full checks.
- ``<id>.json``: what the restore prompt shows: the document's name, its original file
  (if any) and when the copy was written.

Both data files are written atomically (``core.storage.checked_io.atomic_write_bytes``). A leftover
whose files cannot be read is reported with the reason and never loaded. Off POSIX
(no ``flock``) no leftovers are offered: they are kept, never taken for dead by mistake.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from core.errors import FileFormatError
from core.files.project import PROJECT_SUFFIX, Project, load_project
from core.storage.checked_io import atomic_write_bytes, parse_json, read_bytes
from core.storage.locks import LOCKS_WORK, close_quietly, lock_fd

RECOVERY_FORMAT = "backprop-studio-recovery"
RECOVERY_VERSION = 1
INFO_SUFFIX = ".json"
LOCK_SUFFIX = ".lock"
MAX_INFO_BYTES = 64 * 1024
_SESSION_ID = re.compile(r"[0-9]{1,10}-[0-9a-f]{8}")


@dataclass(frozen=True)
class RecoveryInfo:
    """What a recovery copy is: the document's display ``name``, the file it was opened
    from or last saved to (None if untitled), and when the copy was written (Unix
    seconds)."""

    document: str
    original_path: str | None
    saved_at: float

    def to_bytes(self) -> bytes:
        return json.dumps({"format": RECOVERY_FORMAT, "version": RECOVERY_VERSION,
                           "document": self.document, "original_path": self.original_path,
                           "saved_at": self.saved_at}, allow_nan=False).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes, source: str) -> RecoveryInfo:
        """Parse and check; ``FileFormatError`` names the problem."""
        obj = parse_json(data, source)
        if not isinstance(obj, dict) or obj.get("format") != RECOVERY_FORMAT:
            raise FileFormatError(f"{source}: not a recovery description")
        if obj.get("version") != RECOVERY_VERSION:
            raise FileFormatError(f"{source}: unknown version {obj.get('version')!r}")
        document, original, saved_at = (obj.get("document"), obj.get("original_path"),
                                        obj.get("saved_at"))
        if not isinstance(document, str):
            raise FileFormatError(f"{source}: document must be a string")
        if original is not None and not isinstance(original, str):
            raise FileFormatError(f"{source}: original_path must be a string or null")
        if isinstance(saved_at, bool) or not isinstance(saved_at, int | float):
            raise FileFormatError(f"{source}: saved_at must be a number")
        return cls(document, original, float(saved_at))


def describe(project: Project) -> str:
    """What a project holds, for the restore prompt: "the design, 3 runs and trained
    weights"."""
    parts = ["the design"]
    n = len(project.runs)
    if n:
        parts.append(f"{n} run" if n == 1 else f"{n} runs")
    if project.weights is not None:
        parts.append("trained weights")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


class _Files:
    """The three file names of session ``session_id`` in ``folder``."""

    def __init__(self, folder: Path, session_id: str) -> None:
        self.folder = folder
        self.id = session_id
        self.lock_path = folder / f"{session_id}{LOCK_SUFFIX}"
        self.project_path = folder / f"{session_id}{PROJECT_SUFFIX}"
        self.info_path = folder / f"{session_id}{INFO_SUFFIX}"

    def remove_data(self) -> None:
        # The document first: an info file alone is not offered.
        for path in (self.project_path, self.info_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


class RecoverySession(_Files):
    """This instance's recovery copy. ``write`` may run on a worker thread; calls must
    not overlap (the window sends them all through one worker)."""

    def __init__(self, folder: Path, session_id: str, fd: int) -> None:
        super().__init__(folder, session_id)
        self._fd: int | None = fd

    @property
    def closed(self) -> bool:
        return self._fd is None

    def write(self, data: bytes, info: RecoveryInfo) -> None:
        """Write the document (``project_bytes``) and its description, each atomically.
        ``OSError`` if the folder cannot be written; ``ValueError`` if asked to write
        over the user's own file or after ``close``."""
        if self._fd is None:
            raise ValueError("the recovery session is closed")
        if info.original_path is not None and _same_file(info.original_path,
                                                         self.project_path):
            raise ValueError(f"refusing to write the recovery copy over {info.original_path}")
        atomic_write_bytes(self.project_path, data)
        atomic_write_bytes(self.info_path, info.to_bytes())

    def clear(self) -> None:
        """Remove the copy (the document was saved, or is closing); the session stays."""
        self.remove_data()

    def close(self) -> None:
        """Normal end: remove the copy and the lock file, release the lock."""
        if self._fd is None:
            return
        self.remove_data()
        with contextlib.suppress(FileNotFoundError):
            self.lock_path.unlink()
        close_quietly(self._fd)
        self._fd = None

    def adopt(self, entry: RecoveryEntry, info: RecoveryInfo) -> None:
        """Make a restored leftover this session's copy (a rename in one folder, so the
        restored work is on disk under some name at every moment), then remove the
        leftover's other files."""
        if self._fd is None:
            raise ValueError("the recovery session is closed")
        os.replace(entry.project_path, self.project_path)
        atomic_write_bytes(self.info_path, info.to_bytes())
        entry.discard()


@dataclass(eq=False)
class RecoveryEntry:
    """A leftover of an instance that did not close normally, claimed (locked) by this
    process until ``discard`` or ``release``. Exactly one of ``project`` and ``error``
    is set: a copy that cannot be read is never loaded."""

    files: _Files
    fd: int | None
    project: Project | None
    info: RecoveryInfo | None
    error: str | None
    saved_at: float

    @property
    def project_path(self) -> Path:
        return self.files.project_path

    @property
    def document(self) -> str:
        """The document's display name."""
        if self.info is not None and self.info.document:
            return self.info.document
        if self.project is not None and self.project.design.name:
            return self.project.design.name
        return "Untitled"

    @property
    def original_path(self) -> Path | None:
        if self.info is None or self.info.original_path is None:
            return None
        return Path(self.info.original_path)

    def summary(self) -> str:
        """What it holds ("the design, 2 runs and trained weights")."""
        return describe(self.project) if self.project is not None else "unreadable"

    def discard(self) -> None:
        """Delete the leftover's files."""
        self.files.remove_data()
        with contextlib.suppress(FileNotFoundError):
            self.files.lock_path.unlink()
        self.release()

    def release(self) -> None:
        """Let go without deleting (offered again at the next start)."""
        close_quietly(self.fd)
        self.fd = None


class RecoveryStore:
    """The recovery folder: start this instance's session, find the leftovers."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self._own: set[str] = set()

    def start_session(self) -> RecoverySession:
        """Create and lock a new session's lock file (creating the folder). ``OSError``
        if the folder cannot be written."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for _ in range(10):
            files = _Files(self.folder, f"{os.getpid()}-{secrets.token_hex(4)}")
            try:
                fd = os.open(files.lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            lock_fd(fd, wait=True)
            # Another instance's scan may have taken this brand-new file for a leftover
            # and deleted it between our create and our lock: then start again.
            if _still_at(fd, files.lock_path):
                self._own.add(files.id)
                return RecoverySession(self.folder, files.id, fd)
            close_quietly(fd)
        raise OSError(f"{self.folder}: could not create a recovery session")

    def leftovers(self) -> list[RecoveryEntry]:
        """Copies left by instances whose process is gone, newest first, each claimed by
        this process. Leftovers with no document (an instance that never autosaved) are
        removed on the way. A running instance's session is never returned."""
        if not LOCKS_WORK:
            return []
        try:
            names = os.listdir(self.folder)
        except OSError:
            return []
        ids = set()
        for name in names:
            stem, dot, suffix = name.rpartition(".")
            if dot and f".{suffix}" in (LOCK_SUFFIX, PROJECT_SUFFIX, INFO_SUFFIX) \
                    and _SESSION_ID.fullmatch(stem) and stem not in self._own:
                ids.add(stem)
        entries = []
        for session_id in sorted(ids):
            files = _Files(self.folder, session_id)
            fd = _claim(files.lock_path)
            if fd is None:
                continue  # a live instance's
            entry = _read_entry(files, fd)
            if entry is None:
                files.remove_data()
                with contextlib.suppress(FileNotFoundError):
                    files.lock_path.unlink()
                close_quietly(fd)
            else:
                entries.append(entry)
        entries.sort(key=lambda e: e.saved_at, reverse=True)
        return entries


def _read_entry(files: _Files, fd: int) -> RecoveryEntry | None:
    """The leftover in ``files``, or None if it holds no document."""
    try:
        saved_at = files.project_path.stat().st_mtime
    except FileNotFoundError:
        return None
    except OSError as exc:
        return RecoveryEntry(files, fd, None, None, f"{files.project_path.name}: cannot "
                             f"read ({exc.strerror or exc})", time.time())
    info = None
    try:
        if files.info_path.exists():
            info = RecoveryInfo.from_bytes(read_bytes(files.info_path, MAX_INFO_BYTES),
                                           files.info_path.name)
            saved_at = info.saved_at
        project = load_project(files.project_path)
    except FileFormatError as exc:
        return RecoveryEntry(files, fd, None, info, str(exc), saved_at)
    return RecoveryEntry(files, fd, project, info, None, saved_at)


def _claim(lock_path: Path) -> int | None:
    """Lock ``lock_path`` (creating it if a leftover lost it) without waiting; None if a
    live process holds it."""
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return None
    if lock_fd(fd) and _still_at(fd, lock_path):
        return fd
    close_quietly(fd)
    return None


def _still_at(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (not deleted or replaced)."""
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _same_file(a: str | os.PathLike[str], b: Path) -> bool:
    try:
        return Path(a).resolve() == b.resolve()
    except OSError:
        return False
