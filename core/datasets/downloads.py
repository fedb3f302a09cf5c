"""Fetching published files into a cache folder, checked against their SHA-256 sums.

:func:`fetch_files` downloads the files of a :class:`RemoteFile` table that are not
cached yet (or whose cached copy does not match its checksum) from the first mirror that
answers, in chunks, reporting ``progress(bytes done, bytes total)`` between chunks; the
callback returning False cancels (:class:`DownloadCancelled`). Each file is written to a
temporary file beside its target (``.NAME.<pid>-<random>.tmp``, locked while written,
the same naming as ``core.storage.checked_io``'s atomic writes, so a copy left by a
killed process is removed next time) and renamed into place only once its size and
checksum match: the cache never holds a partial or corrupt file under its real name.

Without network access :class:`OfflineError` says so plainly. ``BACKPROP_STUDIO_MIRROR``
(or the ``mirror`` argument) replaces the public mirrors with one base URL: tests point
it at a local server, and users at a local copy.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.errors import DatasetError, StudioError
from core.storage.checked_io import TEMP_SUFFIX, remove_stale_temps
from core.storage.locks import lock_fd

__all__ = [
    "MIRROR_ENV",
    "DownloadCancelled",
    "DownloadProgress",
    "OfflineError",
    "RemoteFile",
    "cached_ok",
    "fetch_files",
    "file_sha256",
    "mirrors_for",
]

MIRROR_ENV = "BACKPROP_STUDIO_MIRROR"
_CHUNK = 64 * 1024
_TIMEOUT_S = 30.0

#: ``progress(bytes_done, bytes_total) -> bool``; False cancels the download.
DownloadProgress = Callable[[int, int], bool]


class DownloadCancelled(StudioError):
    """The download was cancelled (the progress callback said stop, or Ctrl+C);
    nothing partial was kept."""


class OfflineError(DatasetError):
    """No mirror could be reached (no network access, host down)."""


@dataclass(frozen=True)
class RemoteFile:
    """One published file: its ``name`` (also its name in the cache), its ``size`` in
    bytes and its published lowercase hex ``sha256``."""

    name: str
    size: int
    sha256: str


def mirrors_for(public: Sequence[str], mirror: str | None = None) -> tuple[str, ...]:
    """The base URLs to try: ``mirror``, else ``$BACKPROP_STUDIO_MIRROR``, else
    ``public`` in order. Each ends with "/"."""
    chosen = mirror or os.environ.get(MIRROR_ENV, "").strip()
    bases = (chosen,) if chosen else tuple(public)
    return tuple(b if b.endswith("/") else b + "/" for b in bases)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cached_ok(folder: Path, remote: RemoteFile, verify: bool = True) -> bool:
    """Whether ``folder`` holds ``remote`` intact: the right size and (``verify``) the
    published checksum."""
    path = folder / remote.name
    try:
        if not path.is_file() or path.stat().st_size != remote.size:
            return False
        return not verify or file_sha256(path) == remote.sha256
    except OSError:
        return False


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


def _offline_message(url: str, reason: object, fallback: str) -> str:
    return (f"Could not reach {_host(url)}: no network access ({reason}). "
            f"{fallback}")


class _Fetch:
    """One run of :func:`fetch_files`: the byte counts the progress reports."""

    def __init__(self, total: int, progress: DownloadProgress | None, timeout: float):
        self.done, self.total = 0, total
        self.progress, self.timeout = progress, timeout

    def report(self) -> None:
        if self.progress is not None and not self.progress(self.done, self.total):
            raise DownloadCancelled("Download cancelled; nothing was saved.")

    def one(self, url: str, remote: RemoteFile, target: Path) -> None:
        """Download ``url`` to ``target`` via a locked temporary file; raises
        ``DatasetError`` (bad size or checksum), ``OSError``/``URLError`` (network)."""
        remove_stale_temps(target)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}-",
                                   suffix=TEMP_SUFFIX, dir=target.parent)
        start = self.done
        try:
            with os.fdopen(fd, "wb") as out:
                lock_fd(out.fileno(), wait=True)
                digest, got = hashlib.sha256(), 0
                with urllib.request.urlopen(url, timeout=self.timeout) as response:
                    while chunk := response.read(_CHUNK):
                        got += len(chunk)
                        if got > remote.size:
                            raise DatasetError(f"{url} is larger than the published "
                                               f"{remote.size:,} bytes; nothing was saved")
                        out.write(chunk)
                        digest.update(chunk)
                        self.done = start + got
                        self.report()
                if got != remote.size:
                    raise DatasetError(f"{url} ended after {got:,} of its {remote.size:,} "
                                       "bytes (the connection broke?); nothing was saved")
                if digest.hexdigest() != remote.sha256:
                    raise DatasetError(f"{url} does not match its published SHA-256 "
                                       "checksum (a damaged or altered copy); nothing was "
                                       "saved")
                out.flush()
                os.fsync(out.fileno())
                os.replace(tmp, target)
        except BaseException:
            self.done = start
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def fetch_files(folder: Path, files: Sequence[RemoteFile], mirrors: Sequence[str], *,
                progress: DownloadProgress | None = None, timeout: float = _TIMEOUT_S,
                offline_hint: str = "") -> list[str]:
    """Make ``folder`` hold every file of ``files`` intact, downloading what is missing.

    Parameters
    ----------
    folder : pathlib.Path
        The cache folder (created if needed).
    files : sequence of RemoteFile
    mirrors : sequence of str
        Base URLs (ending in "/"), tried in order for each file.
    progress : callable, optional
        ``progress(done, total)`` in bytes over the files still to fetch, called before
        the first byte and after every chunk; returning False cancels.
    timeout : float
        Seconds to wait for a mirror to connect or send the next chunk.
    offline_hint : str
        A sentence appended to the offline message (what still works).

    Returns
    -------
    list of str
        The names of the files downloaded (empty when all were cached).

    Raises
    ------
    DownloadCancelled
        Cancelled; the files fetched before stay, the one under way is removed.
    OfflineError
        No mirror could be reached for a file.
    DatasetError
        Every reachable mirror failed (HTTP error, wrong size or checksum), naming each.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"cannot create the dataset folder {folder} "
                           f"({exc.strerror or exc})") from None
    todo = [f for f in files if not cached_ok(folder, f)]
    run = _Fetch(sum(f.size for f in todo), progress, timeout)
    run.report()
    fetched: list[str] = []
    for remote in todo:
        _fetch_one(run, folder, remote, mirrors, offline_hint)
        fetched.append(remote.name)
    return fetched


def _fetch_one(run: _Fetch, folder: Path, remote: RemoteFile, mirrors: Sequence[str],
               offline_hint: str) -> None:
    failures: list[str] = []
    unreachable: tuple[str, object] | None = None
    for base in mirrors:
        url = base + remote.name
        try:
            run.one(url, remote, folder / remote.name)
            return
        except urllib.error.HTTPError as exc:
            failures.append(f"{url}: the server answered {exc.code} {exc.reason}")
        except urllib.error.URLError as exc:
            unreachable = unreachable or (url, exc.reason)
        except (TimeoutError, ConnectionError) as exc:
            unreachable = unreachable or (url, exc)
        except OSError as exc:
            raise DatasetError(f"cannot write {folder / remote.name} "
                               f"({exc.strerror or exc})") from None
        except DatasetError as exc:
            failures.append(str(exc))
        except http.client.HTTPException as exc:  # e.g. the server closed mid-file
            failures.append(f"{url}: the transfer broke off ({exc!r}); nothing was saved")
    if not failures and unreachable is not None:
        raise OfflineError(_offline_message(*unreachable, offline_hint))
    raise DatasetError(f"could not download {remote.name}: " + "; ".join(failures))
