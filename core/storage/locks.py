"""Is another process still using this file? Advisory locks and process liveness.

Two signs, used together by atomic saves (``core.storage.checked_io``) and crash recovery
(``core.files.recovery``): an exclusive ``flock`` held on an open file (released by the kernel
when its process dies, however it dies, so it cannot be fooled by a re-used process id),
and whether a process id is alive. ``flock`` locks belong to one open file, so two opens
in the same process exclude each other too (the tests rely on it). Off POSIX (no
``fcntl``) every lock "succeeds" and every process counts as alive: files are then kept,
never deleted by mistake.
"""

from __future__ import annotations

import contextlib
import os

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

LOCKS_WORK = fcntl is not None  # whether ``lock_fd`` can say "held by someone else"


def lock_fd(fd: int, wait: bool = False) -> bool:
    """Take an exclusive lock on open file ``fd``; False if another open file holds it
    (only possible with ``wait=False``)."""
    if fcntl is None:  # pragma: no cover - not POSIX
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def is_locked(path: str | os.PathLike[str]) -> bool:
    """Whether some open file holds an exclusive lock on ``path`` right now (False for a
    file that does not exist or cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        return not lock_fd(fd)  # closing fd releases our lock, if we got one
    finally:
        os.close(fd)


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (in this PID namespace). Conservative: True when it
    cannot be told (no permission to signal it, or not POSIX)."""
    if pid <= 0:
        return False
    if os.name != "posix":  # pragma: no cover - os.kill(pid, 0) terminates on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def close_quietly(fd: int | None) -> None:
    """Close ``fd`` (releasing its lock), ignoring errors; None is a no-op."""
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)
