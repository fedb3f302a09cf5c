"""Downloading a dataset the command line was asked to train on (``--dataset mnist``).

A dataset downloaded on request that is not cached yet is fetched before training, with
a progress line on stderr (redrawn in place on a terminal, a few plain lines otherwise).
Ctrl+C stops it cleanly: the file under way is removed, the message says so and the
command exits with 130; files fetched completely before stay cached.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from core.datasets import DOWNLOADED, DatasetSpec, download, is_downloaded
from core.datasets.downloads import DownloadCancelled

__all__ = ["DownloadLine", "fetch_if_needed"]


class DownloadLine:
    """``progress(done, total)`` for ``download``: a line on ``stream``, on a terminal
    redrawn at most ten times a second, otherwise printed at each quarter."""

    def __init__(self, stream: TextIO, title: str) -> None:
        self.stream, self.title = stream, title
        self.tty = stream.isatty()
        self._last, self._quarter = 0.0, -1

    def __call__(self, done: int, total: int) -> bool:
        fraction = done / total if total else 1.0
        text = (f"downloading {self.title}: {done / 1e6:.1f} of {total / 1e6:.1f} MB "
                f"({fraction:.0%})")
        if self.tty:
            now = time.monotonic()
            if now - self._last >= 0.1 or done == total:
                self._last = now
                self.stream.write(f"\r\033[K{text}")
                self.stream.flush()
        elif int(fraction * 4) > self._quarter:
            self._quarter = int(fraction * 4)
            print(text, file=self.stream)
        return True

    def end(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def fetch_if_needed(spec: DatasetSpec, stream: TextIO | None = None) -> bool:
    """Download ``spec``'s dataset if it is a downloadable one not cached yet; True if
    something was fetched. Ctrl+C raises ``DownloadCancelled`` (nothing partial kept);
    no network raises ``OfflineError``, other failures ``DatasetError``."""
    if spec.kind != "builtin" or spec.name not in DOWNLOADED or is_downloaded(spec.name):
        return False
    stream = stream if stream is not None else sys.stderr
    line = DownloadLine(stream, DOWNLOADED[spec.name].title)
    try:
        download(spec.name, progress=line)
    except KeyboardInterrupt:
        line.end()
        raise DownloadCancelled(f"download of {DOWNLOADED[spec.name].title} cancelled "
                                "(Ctrl+C); nothing partial was kept") from None
    except BaseException:
        line.end()
        raise
    line.end()
    return True
