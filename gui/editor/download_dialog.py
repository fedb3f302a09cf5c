"""The dialog that downloads a dataset offered on request (MNIST, Fashion-MNIST), then
loads it, off the GUI thread, with a progress bar and Cancel.

The work runs through the dataset panel's pattern for slow loads
(``gui.project.dataset_state.BackgroundCall``: a worker thread, its result picked up on
the GUI thread by polling): :func:`download_job` downloads what is not cached (reporting
into a :class:`DownloadState`, a plain object the dialog polls, whose ``cancelled`` flag
the download checks between chunks) and then loads the dataset. Nothing crosses threads
through Qt signals. The dialog is window-modal and opened, never ``exec``-ed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core import StudioError
from core.datasets import (
    DOWNLOADED,
    Dataset,
    DatasetSpec,
    DownloadCancelled,
    OfflineError,
    download,
)
from gui.plain_text import verbatim
from gui.project.dataset_state import BackgroundCall, load_quietly

__all__ = ["DownloadDialog", "DownloadFlow", "DownloadResult", "DownloadState",
           "download_job", "show_offline"]

_POLL_MS = 100


class DownloadState:
    """Shared by the GUI thread and the worker: bytes done and total (written by the
    worker), ``loading`` once the files are in and being read, and ``cancelled``
    (written by the GUI thread). Called as ``progress(done, total) -> bool``."""

    def __init__(self) -> None:
        self.done, self.total = 0, 0
        self.loading = False
        self.cancelled = False

    def __call__(self, done: int, total: int) -> bool:
        self.done, self.total = done, total
        return not self.cancelled

    def cancel(self) -> None:
        self.cancelled = True


@dataclass(frozen=True)
class DownloadResult:
    """What :func:`download_job` ends with: the dataset, or why not (``error``; with
    ``offline`` when no mirror could be reached, ``cancelled`` when the user stopped)."""

    dataset: Dataset | None
    error: str = ""
    offline: bool = False
    cancelled: bool = False


def download_job(spec: DatasetSpec, state: DownloadState) -> DownloadResult:
    """Worker-thread job: download ``spec``'s files that are not cached, then load it.
    Never raises."""
    try:
        download(spec.name, progress=state)
    except DownloadCancelled:
        return DownloadResult(None, cancelled=True)
    except OfflineError as exc:
        return DownloadResult(None, str(exc), offline=True)
    except StudioError as exc:
        return DownloadResult(None, str(exc))
    except (OSError, ValueError, MemoryError) as exc:  # not expected; say so plainly
        return DownloadResult(None, f"could not download {spec.name}: {exc}")
    state.loading = True
    dataset, error, _ = load_quietly(spec, None)
    return DownloadResult(dataset, error)


def show_offline(parent: QWidget, title: str, message: str) -> QMessageBox:
    """A window-modal message box saying the download could not reach its server;
    opened, not ``exec``-ed, so the app stays usable."""
    box = QMessageBox(QMessageBox.Icon.Warning, f"Could not download {title}",
                      verbatim(message), QMessageBox.StandardButton.Ok, parent)
    box.setInformativeText("The design keeps its dataset. Try again once the computer is "
                           "online, or choose a shipped dataset.")
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


class DownloadDialog(QDialog):
    """Downloads and loads ``spec``'s dataset; ``done(result)`` is called on the GUI
    thread when the job ends (also after Cancel, with ``result.cancelled``)."""

    def __init__(self, spec: DatasetSpec, done: Callable[[DownloadResult], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        info = DOWNLOADED[spec.name]
        self.spec, self._done, self.title = spec, done, info.title
        self.state = DownloadState()
        self.setWindowTitle(f"Downloading {info.title}")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.label = QLabel(f"Downloading {info.title} ({info.download_bytes / 1e6:.1f} MB) "
                            "from its public mirror. It is kept for next time.")
        self.label.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setMinimumWidth(360)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setToolTip("Stop the download; nothing partial is kept and the "
                                      "design keeps its dataset.")
        self.buttons.rejected.connect(self._on_cancel_clicked)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.buttons)
        self._timer = QTimer(self)
        self._timer.setInterval(_POLL_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._call = BackgroundCall(self)
        self._show_progress()

    def start(self) -> None:
        """Open the dialog and start the download."""
        # Quitting the app (or closing the window) stops the download at its next chunk:
        # the worker thread must not keep the process alive.
        QApplication.instance().aboutToQuit.connect(self.state.cancel)
        self.destroyed.connect(self.state.cancel)
        self._call.start(download_job, self.spec, self.state, done=self._on_job_done)
        self._timer.start()
        self.open()

    def cancel(self) -> None:
        """Ask the download to stop at its next chunk."""
        if not self.state.cancelled:
            self.state.cancel()
            self.cancel_button.setEnabled(False)
            self.cancel_button.setText("Cancelling…")

    def reject(self) -> None:  # Escape, the close button: cancel, close when it stops
        self.cancel()

    def _show_progress(self) -> None:
        s = self.state
        if s.loading:
            self.bar.setRange(0, 0)  # busy: reading the files takes about a second
            self.bar.setFormat(f"Loading {self.title}…")
            return
        fraction = s.done / s.total if s.total else 0.0
        self.bar.setValue(round(1000 * min(1.0, fraction)))
        self.bar.setFormat(f"{s.done / 1e6:.1f} of {s.total / 1e6:.1f} MB ({fraction:.0%})"
                           if s.total else "Connecting…")

    def _on_timer_timeout(self) -> None:
        self._show_progress()

    def _on_cancel_clicked(self) -> None:
        self.cancel()

    def _on_job_done(self, result: DownloadResult) -> None:
        self._timer.stop()
        if self.state.cancelled and result.dataset is None:
            result = DownloadResult(None, cancelled=True)
        self.done(QDialog.DialogCode.Rejected if result.dataset is None
                  else QDialog.DialogCode.Accepted)
        self._done(result)


class DownloadFlow(QObject):
    """The dataset panel's part in downloads: ``start(spec, loaded)`` opens the dialog
    and calls ``loaded(dataset)`` once the set is in; an offline machine gets a message
    box, other failures ``failed(message)``, a cancel ``cancelled()``. ``button`` ("Download
    MNIST…", calling ``retry()``) is shown when the design names a set not downloaded."""

    def __init__(self, parent: QWidget, failed: Callable[[str], None],
                 cancelled: Callable[[], None], retry: Callable[[], None]) -> None:
        super().__init__(parent)
        self._parent, self._failed, self._cancelled = parent, failed, cancelled
        self.dialog: DownloadDialog | None = None
        self.message_box: QMessageBox | None = None
        self.button = QPushButton()
        self.button.setToolTip("Download the design's dataset from its public mirror.")
        self.button.clicked.connect(lambda _checked=False: retry())
        self.button.hide()

    @property
    def busy(self) -> bool:
        return self.dialog is not None

    def show_button(self, spec: DatasetSpec | None, missing: bool) -> None:
        """Offer the download when ``spec`` is a downloadable set that is ``missing``."""
        offer = missing and spec is not None and spec.kind == "builtin" \
            and spec.name in DOWNLOADED
        if offer:
            assert spec is not None
            self.button.setText(f"Download {DOWNLOADED[spec.name].title}…")
        self.button.setVisible(offer and not self.busy)

    def start(self, spec: DatasetSpec, loaded: Callable[[Dataset], None]) -> None:
        if self.dialog is not None:
            self.dialog.cancel()
            self.dialog.deleteLater()
        self.button.hide()
        self.dialog = DownloadDialog(spec, lambda r: self._on_done(r, loaded), self._parent)
        self.dialog.start()

    def _on_done(self, result: DownloadResult, loaded: Callable[[Dataset], None]) -> None:
        dialog, self.dialog = self.dialog, None
        title = dialog.title if dialog is not None else ""
        if dialog is not None:
            dialog.deleteLater()
        if result.dataset is not None:
            loaded(result.dataset)
        elif result.offline:
            self.message_box = show_offline(self._parent, title, result.error)
            self._cancelled()
        elif result.cancelled:
            self._cancelled()
        else:
            self._failed(result.error)
