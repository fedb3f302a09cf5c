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
from typing import Any

import numpy as np

from .errors import FileFormatError
from .io import atomic_write_bytes, parse_json, read_bytes

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


def decode(data: bytes, source: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Parse safetensors ``data``; returns (tensors, metadata). ``FileFormatError`` names
    what is wrong (truncated, header too large, offsets outside the file...)."""
    if len(data) < 8:
        raise FileFormatError(f"{source}: file is truncated ({len(data)} bytes; a weights file "
                              "starts with an 8-byte header length)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER_BYTES:
        raise FileFormatError(f"{source}: header claims {n:,} bytes, more than the "
                              f"{MAX_HEADER_BYTES:,}-byte limit (corrupt or not a weights file)")
    if 8 + n > len(data):
        raise FileFormatError(f"{source}: header claims {n:,} bytes but the file has only "
                              f"{len(data) - 8:,} after the length (truncated?)")
    header = parse_json(data[8:8 + n], source)
    if not isinstance(header, dict):
        raise FileFormatError(f"{source}: header is not a JSON object")
    buffer = memoryview(data)[8 + n:]
    metadata = header.pop("__metadata__", None)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise FileFormatError(f"{source}: __metadata__ must map strings to strings")
    tensors: dict[str, np.ndarray] = {}
    spans = []
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
        if end > len(buffer):
            raise FileFormatError(f"{where}: data ends at byte {end:,} but the file holds only "
                                  f"{len(buffer):,} bytes of data (truncated?)")
        spans.append((begin, end))
        tensors[name] = np.frombuffer(buffer[begin:end], dtype=dt).reshape(shape).copy()
    spans.sort()
    pos = 0
    for begin, end in spans:
        if begin != pos:
            raise FileFormatError(f"{source}: tensor data overlaps or leaves a gap at byte "
                                  f"{pos:,}")
        pos = end
    if pos != len(buffer):
        raise FileFormatError(f"{source}: {len(buffer) - pos:,} bytes after the last tensor "
                              "(corrupt file)")
    return tensors, metadata


def save_safetensors(path: str | os.PathLike[str], tensors: dict[str, np.ndarray],
                     metadata: dict[str, str] | None = None) -> None:
    """Write a safetensors file atomically."""
    atomic_write_bytes(path, encode(tensors, metadata))


def load_safetensors(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray],
                                                            dict[str, str]]:
    """Read and check a safetensors file; ``FileFormatError`` on any problem."""
    return decode(read_bytes(path, MAX_FILE_BYTES), str(path))
