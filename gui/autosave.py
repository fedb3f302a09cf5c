"""Autosave: every minute, and after each finished run, the open document goes to this
instance's crash-recovery copy (``core.recovery``).

The document is serialised on the GUI thread by the one project serialiser
(``FileActions.current_project`` + ``core.project.project_bytes``: what Save would
write), then written, fsynced and renamed by one worker thread, so the window never
waits for the disk. Nothing is written while the document has no unsaved changes, nor
when the bytes are those of the last copy. Saving the document (or closing the window
normally) removes the copy.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from core.project import project_bytes
from core.recovery import RecoveryEntry, RecoveryInfo, RecoverySession

AUTOSAVE_ENV = "BACKPROP_STUDIO_AUTOSAVE_SECONDS"
DEFAULT_INTERVAL_S = 60.0


def autosave_interval_s() -> float:
    """Seconds between autosaves: ``DEFAULT_INTERVAL_S``, or the environment variable
    ``BACKPROP_STUDIO_AUTOSAVE_SECONDS`` if it is a positive number."""
    try:
        value = float(os.environ.get(AUTOSAVE_ENV, ""))
    except ValueError:
        return DEFAULT_INTERVAL_S
    return value if 0.05 <= value <= 86400 else DEFAULT_INTERVAL_S


class AutoSaver(QObject):
    """Keeps ``session``'s copy up to date with ``window``'s document.

    Signals (always on the GUI thread): ``written(path)`` after a copy is on disk,
    ``cleared()`` after it was removed, ``failed(message)`` if writing failed (the next
    tick tries again).
    """

    written = Signal(str)
    cleared = Signal()
    failed = Signal(str)
    _done = Signal(object)  # emitted by the worker; queued to _on_done on the GUI thread

    def __init__(self, window, session: RecoverySession, interval_s: float) -> None:
        super().__init__(window)
        self._window = window
        self.session = session
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autosave")
        self._digest: bytes | None = None  # of the copy on disk (or queued), None if none
        self._closing = False
        self._done.connect(self._on_done)
        self.timer = QTimer(self)
        self.timer.setInterval(round(interval_s * 1000))
        self.timer.timeout.connect(self.autosave)
        self.timer.start()
        window.training.run_recorded.connect(self._on_run_recorded)
        window.document.pathChanged.connect(self._on_document_state)

    # ---------------------------------------------------------------- writing
    def autosave(self) -> bool:
        """Queue a write of the document if it has unsaved changes that differ from the
        last copy; True if a write was queued."""
        doc = self._window.document
        if self._closing or not doc.modified:
            return False
        data = project_bytes(self._window.files.current_project(doc.design))
        name = doc.path.name if doc.path else (doc.design.name or "Untitled")
        original = str(doc.path) if doc.path else None
        digest = hashlib.sha256(data + repr((name, original)).encode()).digest()
        if digest == self._digest:
            return False  # nothing new since the last copy
        self._digest = digest

        def write() -> None:
            self.session.write(data, RecoveryInfo(name, original, time.time()))

        self._submit("written", write, digest)
        return True

    def _on_run_recorded(self, *_args) -> None:
        # After the Runs panel has the run and the window its weights.
        QTimer.singleShot(0, self.autosave)

    def _on_document_state(self) -> None:
        if not self._window.document.modified and self._digest is not None:
            self._digest = None  # saved (or opened anew): the copy is not needed
            self._submit("cleared", self.session.clear, None)

    def _submit(self, kind: str, work: Callable[[], None], digest: bytes | None) -> None:
        if self._closing:
            return

        def run() -> None:  # on the worker thread
            try:
                work()
            except (OSError, ValueError) as exc:
                self._done.emit((kind, digest, getattr(exc, "strerror", None) or str(exc)))
            else:
                self._done.emit((kind, digest, None))

        self._pool.submit(run)

    def _on_done(self, result: tuple[str, bytes | None, str | None]) -> None:
        kind, digest, error = result
        if error is not None:
            if kind == "written" and self._digest == digest:
                self._digest = None  # try again at the next tick
            self.failed.emit(f"Autosave failed: {self.session.folder}: {error}")
        elif kind == "written":
            self.written.emit(str(self.session.project_path))
        else:
            self.cleared.emit()

    # -------------------------------------------------------------- restoring
    def restore(self, entry: RecoveryEntry) -> None:
        """Open a leftover's document in the window (unsaved, with its original path)
        and make the copy this session's own."""
        project = entry.project
        if project is None:
            raise ValueError(entry.error or "unreadable recovery copy")
        original = entry.original_path
        self._window.files.open_recovered(project, original)
        info = RecoveryInfo(entry.document, str(original) if original else None,
                            entry.saved_at)
        # Through the worker, after any queued write; waited for (a rename and a small
        # file): the restored work must be this session's before anything else happens.
        self._pool.submit(self.session.adopt, entry, info).result()
        self._digest = b"adopted"  # on disk, though not byte-for-byte ours yet

    # ---------------------------------------------------------------- closing
    def close(self) -> None:
        """Normal close: wait for a queued write, then remove the copy and its lock."""
        if self._closing:
            return
        self._closing = True
        self.timer.stop()
        self._pool.submit(self.session.close)
        self._pool.shutdown(wait=True)

    @property
    def folder(self) -> Path:
        return self.session.folder
