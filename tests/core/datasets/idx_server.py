"""Test helpers: small IDX files written by the tests, and a local HTTP server for them.

``write_idx`` writes an array as an IDX file (gzip'd by default); ``fake_set`` writes a
small MNIST-like set (four files) and returns a ``DownloadedSet`` whose table holds their
real sizes and SHA-256 sums (``fake_mirror`` installs one for a test); ``serve`` runs
``http.server`` on 127.0.0.1 in a thread, optionally slowed down (a pause between
chunks) so a download can be caught mid-way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gzip
import hashlib
import http.server
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from core.datasets.downloaded import DOWNLOADED, DownloadedSet
from core.datasets.downloads import RemoteFile
from core.storage.user_folder import DATA_DIR_ENV

_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
          np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` in the IDX format (uncompressed)."""
    a = np.asarray(array)
    head = bytes([0, 0, _CODES[a.dtype], a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
    return head + a.astype(a.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, array: np.ndarray, gz: bool = True) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def fake_set(folder: Path, name: str = "mnist", n_train: int = 40, n_test: int = 20,
             seed: int = 0) -> DownloadedSet:
    """Write a small set shaped like ``name``'s into ``folder`` (the mirror's files) and
    return ``name``'s table entry with these files' sizes and sums."""
    rng = np.random.default_rng(seed)
    real = DOWNLOADED[name]
    _, h, w = real.image_shape
    arrays = (rng.integers(0, 256, (n_train, h, w), dtype=np.uint8),
              (np.arange(n_train) % 10).astype(np.uint8),
              rng.integers(0, 256, (n_test, h, w), dtype=np.uint8),
              (np.arange(n_test) % 10).astype(np.uint8))
    files = []
    for remote, array in zip(real.files, arrays, strict=True):
        path = write_idx(folder / remote.name, array)
        data = path.read_bytes()
        files.append(RemoteFile(remote.name, len(data), hashlib.sha256(data).hexdigest()))
    return dataclasses.replace(real, files=tuple(files), n_train=n_train, n_test=n_test)


class _Handler(http.server.SimpleHTTPRequestHandler):
    pause_s = 0.0

    def copyfile(self, source, outputfile) -> None:  # noqa: D102 - slowed copy
        while chunk := source.read(4096):
            outputfile.write(chunk)
            if self.pause_s:
                time.sleep(self.pause_s)

    def log_message(self, *args) -> None:  # quiet
        pass


@contextlib.contextmanager
def serve(folder: Path, pause_s: float = 0.0) -> Iterator[str]:
    """Serve ``folder`` over HTTP on 127.0.0.1; yields the base URL (ending in "/")."""
    handler = type("Handler", (_Handler,), {"pause_s": pause_s})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def fake_mirror(tmp_path: Path, monkeypatch, n_train: int = 40, n_test: int = 20) -> Path:
    """A folder to serve holding a small fake MNIST, ``DOWNLOADED["mnist"]`` pointing at
    its files, and an empty data folder (``BACKPROP_STUDIO_DATA_DIR``); returns the
    folder."""
    served = tmp_path / "served"
    served.mkdir()
    monkeypatch.setitem(DOWNLOADED, "mnist", fake_set(served, n_train=n_train, n_test=n_test))
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    return served


def closed_port_url() -> str:
    """A base URL where nothing listens (a server started, then stopped)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}/"
