"""The IDX format of MNIST and Fashion-MNIST: one array per file, gzip'd or not.

A file starts with a magic number: two zero bytes, a type code (``0x08`` unsigned byte,
``0x09`` signed byte, ``0x0B`` int16, ``0x0C`` int32, ``0x0D`` float32, ``0x0E``
float64) and the number of dimensions; then one big-endian uint32 per dimension; then
the values, big-endian, in C order. Files starting with gzip's ``1f 8b`` are
decompressed as they are read.

Memory stays bounded whatever a header declares: the declared size is checked against
:data:`MAX_IDX_ELEMENTS` and against the file's size (for gzip, the uncompressed size
its trailer records) *before* anything is allocated, and the values are read with a
bounded reader, so a file shorter than it claims is refused without reading more.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from core.errors import DatasetError, FileFormatError
from core.storage.checked_io import open_user_file, read_at_most

__all__ = ["IDX_TYPES", "MAX_IDX_ELEMENTS", "read_idx"]

#: The most values one IDX file may hold (100 million: MNIST's training images are
#: 47 million bytes); a header declaring more is refused before anything is read.
MAX_IDX_ELEMENTS = 100_000_000
_MAX_DIMS = 8

#: Type code -> big-endian NumPy dtype of the values.
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _gzip_size(fh: BinaryIO) -> int:
    """The uncompressed size (mod 2**32) a gzip file's trailer records."""
    fh.seek(-4, os.SEEK_END)
    (size,) = struct.unpack("<I", fh.read(4))
    fh.seek(0)
    return size


def _read_exact(stream: BinaryIO, n: int, path: Path, what: str) -> bytes | bytearray:
    try:
        data = read_at_most(stream, n, path)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DatasetError(f"{path}: the gzip data is damaged ({exc})") from None
    if len(data) != n:
        raise DatasetError(f"{path}: the file ends early: its header declares {what}, "
                           f"but it holds only {len(data):,} of those bytes (truncated?)")
    return data


def _read_at_end(stream: BinaryIO, path: Path) -> bytes:
    """One byte past the values (b"" at the end); gzip checks its CRC here."""
    try:
        return stream.read(1)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DatasetError(f"{path}: the gzip data is damaged ({exc})") from None


def read_idx(path: str | os.PathLike[str],
             max_elements: int = MAX_IDX_ELEMENTS) -> np.ndarray:
    """Read one IDX file.

    Parameters
    ----------
    path : str or path-like
        The file, gzip'd (detected from its first bytes, not its name) or not.
    max_elements : int
        Refuse a file declaring more values than this.

    Returns
    -------
    ndarray
        Shape as declared (``(n, 28, 28)`` for MNIST images, ``(n,)`` for labels),
        in native byte order; ``uint8`` for unsigned-byte files.

    Raises
    ------
    DatasetError
        Naming the file: not an IDX file (bad magic), an unknown type code, more values
        than ``max_elements``, sizes that do not match the file (short, long, damaged).
    """
    p = Path(path)
    try:
        with open_user_file(p) as raw:
            packed = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            file_bytes = _gzip_size(raw) if packed else os.fstat(raw.fileno()).st_size
            if packed:
                with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                    return _read_stream(stream, p, file_bytes, packed, max_elements)
            return _read_stream(raw, p, file_bytes, packed, max_elements)
    except FileFormatError as exc:
        raise DatasetError(str(exc)) from None
    except OSError as exc:  # a gzip file too short for its trailer, a read error
        raise DatasetError(f"{p}: cannot read ({exc.strerror or exc})") from None


def _read_stream(stream: BinaryIO, path: Path, file_bytes: int, packed: bool,
                 max_elements: int) -> np.ndarray:
    head = _read_exact(stream, 4, path, "a 4-byte magic number")
    if head[0] != 0 or head[1] != 0:
        raise DatasetError(f"{path}: not an IDX file (it starts with bytes "
                           f"{bytes(head[:4]).hex(' ')}, expected 00 00 <type> <dims>)")
    code, ndim = head[2], head[3]
    if code not in IDX_TYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_TYPES)
        raise DatasetError(f"{path}: unknown IDX value type 0x{code:02X} (known: {known})")
    if not 1 <= ndim <= _MAX_DIMS:
        raise DatasetError(f"{path}: an IDX file needs 1 to {_MAX_DIMS} dimensions, "
                           f"its header declares {ndim}")
    dims = struct.unpack(f">{ndim}I", _read_exact(stream, 4 * ndim, path,
                                                  f"{ndim} dimension sizes"))
    count = math.prod(dims)
    if count > max_elements:
        raise DatasetError(f"{path}: declares {' x '.join(map(str, dims))} = {count:,} "
                           f"values, more than the limit of {max_elements:,}")
    dtype = IDX_TYPES[code]
    n_data = count * dtype.itemsize
    expected = 4 + 4 * ndim + n_data
    # The file's own size says whether the header tells the truth, before allocating:
    # gzip's trailer records the uncompressed size modulo 2**32.
    recorded = expected % 2**32 if packed else expected
    if file_bytes != recorded:
        kind = "uncompressed size" if packed else "size"
        raise DatasetError(f"{path}: its header declares {' x '.join(map(str, dims))} "
                           f"values ({expected:,} bytes), but the file's {kind} is "
                           f"{file_bytes:,} bytes")
    data = _read_exact(stream, n_data, path, f"{n_data:,} bytes of values")
    if _read_at_end(stream, path):
        raise DatasetError(f"{path}: more bytes follow the {count:,} declared values")
    values = np.frombuffer(data, dtype=dtype, count=count).reshape(dims)
    return values.astype(dtype.newbyteorder("="), copy=dtype.itemsize > 1)
