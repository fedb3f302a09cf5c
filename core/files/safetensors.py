"""Reading and writing the safetensors format without the safetensors package.

The format is small and fixed: an 8-byte little-endian header length N, N bytes of JSON
(``{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}``),
then the raw little-endian tensor bytes. PyTorch's ``safetensors.torch.load_file`` reads
what this writes. The reader trusts nothing: the header length, every offset and shape
are checked against the file's real size before any array is made, and nothing is ever
unpickled or executed.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import FileFormatError
from core.storage.checked_io import atomic_write_bytes, open_user_file, parse_json, read_at_most

MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024
_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I64": np.dtype("<i8"),
           "I32": np.dtype("<i4"), "U8": np.dtype("u1")}
_NAMES = {v: k for k, v in _DTYPES.items()}


def encode(tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    """The safetensors bytes of ``tensors`` (names sorted) with string ``metadata``."""
    header: dict[str, Any] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    chunks, offset = [], 0
    for name in sorted(tensors):
        arr = np.asarray(tensors[name])
        dt = arr.dtype.newbyteorder("<") if arr.dtype.byteorder == ">" else arr.dtype
        if np.dtype(dt) not in _NAMES:
            raise ValueError(f"{name}: dtype {arr.dtype} cannot be stored")
        data = np.ascontiguousarray(arr, dtype=dt).tobytes()
        header[name] = {"dtype": _NAMES[np.dtype(dt)], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    text += b" " * (-len(text) % 8)  # keep tensor data 8-byte aligned
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


@dataclass(frozen=True)
class TensorEntry:
    """One tensor as a file's header declares it: checked, but not yet read."""

    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    begin: int  # byte offsets into the data after the header
    end: int


@dataclass(frozen=True)
class Header:
    """A checked header: the tensors it declares (contiguous, in file order), the string
    metadata, where the data starts and how many bytes of data it declares."""

    entries: dict[str, TensorEntry]
    metadata: dict[str, str]
    data_start: int
    data_bytes: int


def _header_length(prefix: bytes, available: int | None, source: str) -> int:
    if len(prefix) < 8:
        raise FileFormatError(f"{source}: file is truncated ({len(prefix)} bytes; a weights "
                              "file starts with an 8-byte header length)")
    (n,) = struct.unpack("<Q", prefix[:8])
    if n > MAX_HEADER_BYTES:
        raise FileFormatError(f"{source}: header claims {n:,} bytes, more than the "
                              f"{MAX_HEADER_BYTES:,}-byte limit (corrupt or not a weights file)")
    if available is not None and 8 + n > available:
        raise FileFormatError(f"{source}: header claims {n:,} bytes but the file has only "
                              f"{available - 8:,} after the length (truncated?)")
    return n


def decode_header(data: bytes, source: str) -> Header:
    """Parse and check the header at the start of ``data`` (the file's first bytes; the
    tensor data need not follow). Every dtype, shape and offset is checked, and the
    tensors must tile the data exactly, before any array is made."""
    n = _header_length(data, len(data), source)
    header = parse_json(data[8:8 + n], source)
    if not isinstance(header, dict):
        raise FileFormatError(f"{source}: header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise FileFormatError(f"{source}: __metadata__ must map strings to strings")
    entries: dict[str, TensorEntry] = {}
    for name, info in header.items():
        where = f"{source}: tensor {name!r}"
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise FileFormatError(f"{where}: entry must have dtype, shape and data_offsets")
        dt = _DTYPES.get(info["dtype"]) if isinstance(info["dtype"], str) else None
        if dt is None:
            raise FileFormatError(f"{where}: unsupported dtype {info['dtype']!r}")
        shape, offs = info["shape"], info["data_offsets"]
        if not (isinstance(shape, list) and len(shape) <= 8 and all(
                isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**40
                for s in shape)):
            raise FileFormatError(f"{where}: bad shape {shape!r}")
        if not (isinstance(offs, list) and len(offs) == 2 and all(
                isinstance(o, int) and not isinstance(o, bool) for o in offs)):
            raise FileFormatError(f"{where}: bad data_offsets {offs!r}")
        begin, end = offs
        expected = math.prod(shape) * dt.itemsize  # Python ints: np.prod would wrap
        if not 0 <= begin <= end or end - begin != expected:
            raise FileFormatError(f"{where}: data_offsets {offs} do not fit shape {shape} of "
                                  f"{info['dtype']} ({expected} bytes)")
        entries[name] = TensorEntry(name, dt, tuple(shape), begin, end)
    pos = 0
    for entry in sorted(entries.values(), key=lambda e: (e.begin, e.end)):
        if entry.begin != pos:
            raise FileFormatError(f"{source}: tensor data overlaps or leaves a gap at byte "
                                  f"{pos:,}")
        pos = entry.end
    return Header(entries, metadata, 8 + n, pos)


def decode_tensors(header: Header, buffer: bytes | memoryview,
                   source: str) -> dict[str, np.ndarray]:
    """The arrays of a checked ``header`` from ``buffer``, the file's bytes after the
    header; ``FileFormatError`` if it is shorter (truncated) or longer than declared."""
    for entry in header.entries.values():
        if entry.end > len(buffer):
            raise FileFormatError(f"{source}: tensor {entry.name!r}: data ends at byte "
                                  f"{entry.end:,} but the file holds only {len(buffer):,} "
                                  "bytes of data (truncated?)")
    if len(buffer) != header.data_bytes:
        raise FileFormatError(f"{source}: {len(buffer) - header.data_bytes:,} bytes after the "
                              "last tensor (corrupt file)")
    view = memoryview(buffer)
    return {e.name: np.frombuffer(view[e.begin:e.end], dtype=e.dtype).reshape(e.shape).copy()
            for e in header.entries.values()}


def decode(data: bytes, source: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Parse safetensors ``data``; returns (tensors, metadata). ``FileFormatError`` names
    what is wrong (truncated, header too large, offsets outside the file...)."""
    header = decode_header(data, source)
    return decode_tensors(header, memoryview(data)[header.data_start:], source), \
        header.metadata


def read_safetensors(path: str | os.PathLike[str], limit: int = MAX_FILE_BYTES,
                     check: Callable[[Header], None] | None = None,
                     source: str | None = None,
                     ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a safetensors file header first: ``check(header)`` (which may raise) runs
    before any tensor byte is read, so a file is refused for what it declares without
    reading or allocating its data. At most ``limit`` bytes are read in all. Messages
    name the file as ``source`` (default: the path)."""
    source = str(path) if source is None else source
    with open_user_file(path) as fh:
        prefix = read_at_most(fh, 8, source)
        n = _header_length(prefix, None, source)
        rest = read_at_most(fh, n, source)
        if len(rest) < n:
            raise FileFormatError(f"{source}: header claims {n:,} bytes but the file has only "
                                  f"{len(rest):,} after the length (truncated?)")
        header = decode_header(prefix + rest, source)
        if check is not None:
            check(header)
        if header.data_start + header.data_bytes > limit:
            raise FileFormatError(f"{source}: declares {header.data_bytes:,} bytes of tensor "
                                  f"data, more than the {limit:,}-byte limit")
        data = read_at_most(fh, header.data_bytes + 1, source)
    return decode_tensors(header, data, source), header.metadata


def save_safetensors(path: str | os.PathLike[str], tensors: dict[str, np.ndarray],
                     metadata: dict[str, str] | None = None) -> None:
    """Write a safetensors file atomically."""
    atomic_write_bytes(path, encode(tensors, metadata))


def load_safetensors(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray],
                                                            dict[str, str]]:
    """Read and check a safetensors file; ``FileFormatError`` on any problem."""
    return read_safetensors(path)
