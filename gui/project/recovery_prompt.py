"""Crash recovery at start-up: start this instance's autosave, and offer to restore what
instances that did not close normally left behind.

Each leftover is offered in a window-modal message box (opened, never ``exec``-ed, so
nothing blocks): its document's name, when it was saved and what it holds. Restore opens
it as an unsaved document; Discard deletes it; Not Now keeps it for the next start. A
copy that cannot be read is only offered for discarding. After a restore the remaining
leftovers wait for the next start.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Qt, Signal
from PySide6.QtWidgets import QMessageBox

from core.files.recovery import RecoveryEntry, RecoveryStore
from core.words import plural
from gui.project.autosave import AutoSaver, autosave_interval_s

NO_RECOVERY_ENV = "BACKPROP_STUDIO_NO_RECOVERY"


def recovery_enabled() -> bool:
    """False when ``BACKPROP_STUDIO_NO_RECOVERY`` is set (scripts that start the window
    and must never see a prompt)."""
    return os.environ.get(NO_RECOVERY_ENV, "") in ("", "0")


def recovery_folder() -> Path:
    """``recovery/`` in the user's data folder (on Linux
    ``~/.local/share/Backprop Studio/Backprop Studio/recovery``)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) / "recovery"


def format_saved_at(saved_at: float, now: float | None = None) -> str:
    """"today at 17:32 (4 minutes ago)", "yesterday at 09:05", "Sun 22 Nov 2026 at 17:32"
    (local time)."""
    now = time.time() if now is None else now
    t, today = time.localtime(saved_at), time.localtime(now)
    clock = time.strftime("%H:%M", t)
    days = (time.mktime(today[:3] + (0, 0, 0, 0, 0, -1))
            - time.mktime(t[:3] + (0, 0, 0, 0, 0, -1))) / 86400
    if round(days) == 0:
        when = f"today at {clock}"
    elif round(days) == 1:
        when = f"yesterday at {clock}"
    else:
        when = time.strftime("%a %d %b %Y", t) + f" at {clock}"
    age = now - saved_at
    if 0 <= age < 3600:
        minutes = int(age // 60)
        ago = "less than a minute" if minutes == 0 else plural(minutes, "minute")
        when += f" ({ago} ago)"
    return when


class RecoveryPrompt(QObject):
    """Offers ``entries`` one at a time over ``window``. ``box`` is the open message box
    (None when done), with ``restore_button`` (None for an unreadable copy),
    ``discard_button`` and ``later_button``; ``finished`` fires when all are answered."""

    finished = Signal()

    def __init__(self, window, saver: AutoSaver, entries: list[RecoveryEntry]) -> None:
        super().__init__(window)
        self._window = window
        self._saver = saver
        self._entries = list(entries)
        self.box: QMessageBox | None = None
        self.restore_button = self.discard_button = self.later_button = None
        self.restored: RecoveryEntry | None = None

    def show_next(self) -> None:
        if not self._entries:
            self.box = None
            self.finished.emit()
            return
        entry = self._entries.pop(0)
        box = QMessageBox(self._window)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setTextFormat(Qt.TextFormat.PlainText)  # names are the user's: never markup
        box.setWindowTitle("Recover unsaved work")
        when = format_saved_at(entry.saved_at)
        where = f"\n(file: {entry.original_path})" if entry.original_path else ""
        if entry.project is not None:
            box.setIcon(QMessageBox.Icon.Question)
            box.setText(f"Backprop Studio did not close normally. Unsaved work on "
                        f"“{entry.document}” was saved {when}.{where}")
            box.setInformativeText(
                f"It holds {entry.summary()}.\n\nRestore opens it as an unsaved document; "
                "Discard deletes the recovery copy; Not Now keeps it for the next start.")
            self.restore_button = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
            self.discard_button = box.addButton("Discard",
                                                QMessageBox.ButtonRole.DestructiveRole)
            self.later_button = box.addButton("Not Now", QMessageBox.ButtonRole.RejectRole)
            box.setDefaultButton(self.restore_button)
        else:
            box.setIcon(QMessageBox.Icon.Warning)
            box.setText(f"A recovery copy of “{entry.document}” saved {when} cannot be read "
                        "and will not be opened.")
            box.setInformativeText(f"{entry.error}\n\nDiscard deletes it; Keep leaves it in "
                                   f"{entry.files.folder}.")
            self.restore_button = None
            self.discard_button = box.addButton("Discard",
                                                QMessageBox.ButtonRole.DestructiveRole)
            self.later_button = box.addButton("Keep", QMessageBox.ButtonRole.RejectRole)
            box.setDefaultButton(self.discard_button)
        box.setEscapeButton(self.later_button)
        box.finished.connect(lambda _result, e=entry, b=box: self._on_answer(e, b))
        self.box = box
        box.open()

    def _on_answer(self, entry: RecoveryEntry, box: QMessageBox) -> None:
        clicked = box.clickedButton()
        box.deleteLater()
        if clicked is not None and clicked is self.restore_button:
            try:
                self._saver.restore(entry)
            except (OSError, ValueError) as exc:
                entry.release()
                self._window.show_banner(f"Could not restore {entry.document}: {exc}")
            else:
                self.restored = entry
                self._window.statusBar().showMessage(
                    f"Restored “{entry.document}” as it was {format_saved_at(entry.saved_at)}"
                    ". Save to keep it.", 15000)
            for rest in self._entries:  # offered again at the next start
                rest.release()
            self._entries.clear()
        elif clicked is not None and clicked is self.discard_button:
            entry.discard()
        else:
            entry.release()
        self.show_next()


def start_recovery(window, folder: str | os.PathLike[str] | None = None,
                   interval_s: float | None = None) -> RecoveryPrompt | None:
    """Start autosaving ``window``'s document into ``folder`` (default
    ``recovery_folder()``) and offer the leftovers found there. Returns the prompt if
    there was something to offer. If the folder cannot be written, autosave is off and
    the status bar says why."""
    store = RecoveryStore(recovery_folder() if folder is None else folder)
    try:
        session = store.start_session()
    except OSError as exc:
        window.statusBar().showMessage(f"Autosave is off: cannot write {store.folder} "
                                       f"({exc.strerror or exc})", 15000)
        return None
    saver = AutoSaver(window, session, autosave_interval_s() if interval_s is None
                      else interval_s)
    saver.failed.connect(lambda message: window.statusBar().showMessage(message, 15000))
    window.autosaver = saver
    entries = store.leftovers()
    if not entries:
        return None
    prompt = RecoveryPrompt(window, saver, entries)
    prompt.show_next()
    return prompt
