"""The two small dialogs that name a study: Train > Resume Sweep… (a study of this
project's storage that has not finished) and Train > Watch Sweep… (a database URL and a
study that workers on other machines run).

Both list the storage's studies with ``core.sweeps.storage.study_names`` when asked
(opening, or the List button): a database over the network may take a moment, so it is
never read while typing. A storage that cannot be read says why in the dialog.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.errors import StudioError
from gui.plain_text import plain

__all__ = ["ResumeDialog", "WatchDialog", "resumable"]

URL_HINT = "postgresql://user@host/database"


def resumable(info) -> bool:
    """Whether a study (a ``StudyInfo``) has budget left: fewer finished trials than
    asked for, or a time-limited study (its limit counts per session)."""
    return info.budget is None or info.finished < info.budget


def _best_text(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.4g}"


class _StudyList(QWidget):
    """A storage field, a List button, and the storage's studies."""

    def __init__(self, storage: str, placeholder: str, only_resumable: bool) -> None:
        super().__init__()
        self.only_resumable = only_resumable
        self.storage = QLineEdit(storage)
        self.storage.setObjectName("sweep_storage")
        self.storage.setPlaceholderText(placeholder)
        self.storage.setToolTip("A sweep file (SQLite, beside the project by default) or a "
                                f"database URL such as {URL_HINT} shared by many machines")
        self.list_button = QPushButton("&List")
        self.list_button.setToolTip("Read the studies this storage holds")
        self.list_button.clicked.connect(lambda _checked=False: self.refresh())
        row = QHBoxLayout()
        row.addWidget(self.storage, 1)
        row.addWidget(self.list_button)
        self.tree = QTreeWidget()
        self.tree.setObjectName("sweep_studies")
        self.tree.setHeaderLabels(["Study", "Trials", "Best", "State"])
        self.tree.setRootIsDecorated(False)
        header = self.tree.header()
        header.setStretchLastSection(True)
        for col in range(3):  # names and numbers whole; the state takes the rest
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setMinimumHeight(120)
        self.message = plain(QLabel())  # it quotes paths and database errors
        self.message.setWordWrap(True)
        self.message.setObjectName("sweep_list_message")
        form = QFormLayout()
        form.addRow("Storage:", row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.message)

    def refresh(self) -> None:
        from core.sweeps.storage import study_names  # Optuna: only when asked

        self.tree.clear()
        storage = self.storage.text().strip()
        if not storage:
            self.message.setText("Give a storage: a sweep file or a database URL.")
            return
        try:
            infos = study_names(storage)
        except StudioError as exc:
            self.message.setText(f"Cannot read {storage}: {exc}")
            return
        for info in infos:
            budget = f"/{info.budget}" if info.budget is not None else ""
            state = ("stop asked" if info.stop_requested else
                     "can resume" if resumable(info) else "finished")
            item = QTreeWidgetItem([info.name, f"{info.finished}{budget}",
                                    _best_text(info.best), state])
            item.setData(0, Qt.ItemDataRole.UserRole, info.name)
            if self.only_resumable and not resumable(info):
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                item.setToolTip(0, "This study has all its trials: nothing to resume")
            self.tree.addTopLevelItem(item)
        enabled = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())
                   if self.tree.topLevelItem(i).flags() & Qt.ItemFlag.ItemIsEnabled]
        if enabled:
            self.tree.setCurrentItem(enabled[0])
        self.message.setText("" if infos else f"No sweeps in {storage} yet.")

    def chosen(self) -> str:
        item = self.tree.currentItem()
        if item is None or not item.flags() & Qt.ItemFlag.ItemIsEnabled:
            return ""
        return item.data(0, Qt.ItemDataRole.UserRole)


class _StudyDialog(QDialog):
    """An intro, the study list, maybe more rows, and Cancel beside an OK button."""

    def __init__(self, parent: QWidget | None, title: str, name: str, intro: str,
                 studies: _StudyList, ok: tuple[str, str], rows: QFormLayout | None = None
                 ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName(name)
        label = QLabel(intro)
        label.setWordWrap(True)
        self.studies = studies
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.addButton(ok[0], QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setToolTip(ok[1])
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(studies, 1)
        if rows is not None:
            layout.addLayout(rows)
        layout.addWidget(self.buttons)
        self.resize(540, 370)


class ResumeDialog(_StudyDialog):
    """Choose a study of ``storage`` to resume; ``choice()`` gives (storage, study)."""

    def __init__(self, storage: str, parent: QWidget | None = None) -> None:
        super().__init__(
            parent, "Resume Sweep", "resume_sweep_dialog",
            "Continue a sweep that was stopped, or cut short when the app quit: its "
            "finished trials are kept, and the trials that were running are tried again.",
            _StudyList(storage, "this project's sweep file", True),
            ("&Resume", "Run the chosen study's remaining trials"))
        self.studies.tree.currentItemChanged.connect(lambda *_: self._sync())
        self.studies.tree.itemDoubleClicked.connect(lambda *_: self.ok.click())
        self.studies.refresh()
        self._sync()

    def _sync(self) -> None:
        self.ok.setEnabled(bool(self.studies.chosen()))

    def choice(self) -> tuple[str, str] | None:
        name = self.studies.chosen()
        return (self.studies.storage.text().strip(), name) if name else None


class WatchDialog(_StudyDialog):
    """A database URL and a study run elsewhere; ``choice()`` gives (storage, study)."""

    def __init__(self, storage: str = "", study: str = "",
                 parent: QWidget | None = None) -> None:
        self.study = QLineEdit(study)
        self.study.setObjectName("watch_study_name")
        self.study.setPlaceholderText("the study's name")
        self.study.setToolTip("The name the workers were started with (--study NAME)")
        rows = QFormLayout()
        rows.addRow("Study:", self.study)
        super().__init__(
            parent, "Watch Sweep", "watch_sweep_dialog",
            "Watch a sweep that workers on other machines run (backprop-studio "
            "sweep-worker --storage URL --study NAME): its trials as they finish, and Stop "
            "or Apply best from here.",
            _StudyList(storage, URL_HINT, False),
            ("&Watch", "Show this study's trials live in the Train workspace"), rows)
        self.studies.tree.currentItemChanged.connect(self._on_picked)
        self.study.textChanged.connect(lambda _text: self._sync())
        self.studies.storage.textChanged.connect(lambda _text: self._sync())
        if storage:
            self.studies.refresh()
        self._sync()

    def _on_picked(self, item, _previous=None) -> None:
        if item is not None:
            self.study.setText(item.data(0, Qt.ItemDataRole.UserRole))

    def _sync(self) -> None:
        self.ok.setEnabled(bool(self.studies.storage.text().strip()
                                and self.study.text().strip()))

    def choice(self) -> tuple[str, str] | None:
        storage, study = self.studies.storage.text().strip(), self.study.text().strip()
        return (storage, study) if storage and study else None
