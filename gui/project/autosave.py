"""Autosave: every minute, and after each finished run, the open document goes to this
instance's crash-recovery copy (``core.files.recovery``).

On the GUI thread a tick only takes a snapshot (``Document.snapshot``: what Save would
write, by reference); one worker thread serialises it with the one project
serialiser (``core.files.project.project_bytes``), writes, fsyncs and renames, so the window
never waits for the disk. A tick does nothing while the document has no unsaved changes
or nothing changed since the last copy (edits, runs and opened files mark it changed),
unless a run is live (its progress is unsaved work, saved as Save would: "unfinished");
the worker writes nothing when the bytes are those of the copy already on disk. Saving
the document, or closing the window normally, removes the copy.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QObject, QTimer, Signal

from core.files.project import project_bytes
from core.files.recovery import RecoveryEntry, RecoveryInfo, RecoverySession

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
    ``unchanged()`` when a tick found the copy on disk already up to date, ``cleared()``
    after the copy was removed, ``failed(message)`` if writing failed (the next tick tries
    again).
    """

    written = Signal(str)
    unchanged = Signal()
    cleared = Signal()
    failed = Signal(str)
    _done = Signal(object)  # emitted by the worker; queued to _on_done on the GUI thread

    def __init__(self, window, session: RecoverySession, interval_s: float) -> None:
        super().__init__(window)
        self._window = window
        self.session = session
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autosave")
        self._changed = True  # since the last snapshot (GUI thread)
        self._on_disk: bytes | None = None  # digest of the copy on disk (worker thread)
        self._closing = False
        self._done.connect(self._on_done)
        self.timer = QTimer(self)
        self.timer.setInterval(round(interval_s * 1000))
        self.timer.timeout.connect(self.autosave)
        self.timer.start()
        doc = window.document
        for signal in (doc.designChanged, doc.runsChanged, doc.weightsChanged,
                       window.files.opened):
            signal.connect(self.mark_changed)
        doc.pathChanged.connect(self._on_document_state)
        window.training.run_recorded.connect(self._on_run_recorded)

    def mark_changed(self, *_args) -> None:
        """Something the copy holds changed: the next tick takes a snapshot."""
        self._changed = True

    # ---------------------------------------------------------------- writing
    def autosave(self) -> bool:
        """Queue a snapshot of the document for writing if it has unsaved changes and
        something changed since the last one, or a run is live (its progress is in no
        file yet); True if queued."""
        doc = self._window.document
        live = self._window.training.controller.active
        if self._closing or not (live or (doc.modified and self._changed)):
            return False
        self._changed = False
        project = doc.snapshot()
        name = doc.display_name
        original = str(doc.path) if doc.path else None

        def write() -> str:  # on the worker thread
            data = project_bytes(project)
            digest = hashlib.sha256(data + repr((name, original)).encode()).digest()
            if digest == self._on_disk:
                return "unchanged"
            self._on_disk = None  # until both files are written
            self.session.write(data, RecoveryInfo(name, original, time.time()))
            self._on_disk = digest
            return "written"

        self._submit(write)
        return True

    def _on_run_recorded(self, *_args) -> None:
        # After the Runs panel has the run and the window its weights.
        self._changed = True
        QTimer.singleShot(0, self.autosave)

    def _on_document_state(self) -> None:
        self._changed = True
        if not self._window.document.modified:  # saved, or opened anew: copy not needed

            def clear() -> str:
                self.session.clear()
                self._on_disk = None
                return "cleared"

            self._submit(clear)

    def _submit(self, work: Callable[[], str]) -> None:
        if self._closing:
            return

        def run() -> None:  # on the worker thread
            try:
                self._done.emit((work(), None))
            except (OSError, ValueError) as exc:
                self._done.emit(("failed", getattr(exc, "strerror", None) or str(exc)))

        self._pool.submit(run)

    def _on_done(self, result: tuple[str, str | None]) -> None:
        kind, error = result
        if kind == "failed":
            self._changed = True  # try again at the next tick
            self.failed.emit(f"Autosave failed: {self.session.folder}: {error}")
        elif kind == "written":
            self.written.emit(str(self.session.project_path))
        elif kind == "unchanged":
            self.unchanged.emit()
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
        info = RecoveryInfo(entry.document, str(original) if original else None,
                            entry.saved_at)
        self._window.files.open_recovered(project, original)
        # Through the worker, after what opening queued (clearing our empty copy), and
        # waited for (a rename and a small file): the restored work is on disk again.
        try:
            self._pool.submit(self.session.adopt, entry, info).result()
        except OSError:
            entry.release()  # the leftover stays where it is; write our own copy now
            self.autosave()

    # ---------------------------------------------------------------- closing
    def close(self) -> None:
        """Normal close: wait for a queued write, then remove the copy and its lock."""
        if self._closing:
            return
        self._closing = True
        self.timer.stop()
        self._pool.submit(self.session.close)
        self._pool.shutdown(wait=True)
