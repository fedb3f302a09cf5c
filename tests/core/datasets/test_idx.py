"""The IDX reader: every value type, gzip'd or not, and refusals naming the file."""

from __future__ import annotations

import gzip
import struct
import tracemalloc

import numpy as np
import pytest

from core.datasets.idx import MAX_IDX_ELEMENTS, read_idx
from core.errors import DatasetError
from tests.core.datasets.idx_server import idx_bytes, write_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32,
                                   np.float64])
@pytest.mark.parametrize("gz", [True, False])
def test_round_trip_every_type(tmp_path, dtype, gz):
    rng = np.random.default_rng(1)
    array = (rng.normal(size=(3, 4, 5)) * 50).astype(dtype)
    path = write_idx(tmp_path / "a.idx", array, gz=gz)
    back = read_idx(path)
    assert back.shape == (3, 4, 5) and back.dtype == np.dtype(dtype)
    assert back.dtype.byteorder in ("=", "|")  # native order, ready for arithmetic
    np.testing.assert_array_equal(back, array)


def test_gzip_detected_from_content_not_name(tmp_path):
    labels = np.arange(7, dtype=np.uint8)
    path = write_idx(tmp_path / "labels-no-suffix", labels, gz=True)
    np.testing.assert_array_equal(read_idx(path), labels)


def _refused(path) -> str:
    with pytest.raises(DatasetError) as info:
        read_idx(path)
    message = str(info.value)
    assert str(path) in message, message
    return message


def _refused_measured(path) -> tuple[str, int]:
    """The refusal's message and the peak bytes Python allocated meanwhile."""
    tracemalloc.start()
    try:
        return _refused(path), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_bad_magic(tmp_path):
    path = tmp_path / "bad.idx"
    path.write_bytes(b"PK\x03\x04" + bytes(20))
    assert "not an IDX file" in _refused(path)


def test_unknown_type(tmp_path):
    path = tmp_path / "type.idx"
    path.write_bytes(bytes([0, 0, 0x07, 1]) + struct.pack(">I", 2) + b"ab")
    assert "unknown IDX value type 0x07" in _refused(path)


@pytest.mark.parametrize("gz", [True, False])
def test_declared_sizes_must_match_file(tmp_path, gz):
    data = idx_bytes(np.zeros((4, 3), np.uint8))
    short = data[:-2]
    path = tmp_path / "short.idx"
    path.write_bytes(gzip.compress(short) if gz else short)
    message = _refused(path)
    assert "declares 4 x 3 values" in message and "size" in message


def test_trailing_bytes_refused(tmp_path):
    path = tmp_path / "long.idx"
    path.write_bytes(idx_bytes(np.zeros(5, np.uint8)) + b"extra")
    assert "declares 5 values" in _refused(path)


def test_truncated_gzip_refused(tmp_path):
    packed = gzip.compress(idx_bytes(np.arange(5000, dtype=np.int32)))
    path = tmp_path / "cut.idx.gz"
    path.write_bytes(packed[: len(packed) // 2])
    _refused(path)


def test_corrupt_gzip_refused(tmp_path):
    packed = bytearray(gzip.compress(idx_bytes(np.arange(5000, dtype=np.int32))))
    packed[len(packed) // 2] ^= 0xFF
    path = tmp_path / "flip.idx.gz"
    path.write_bytes(bytes(packed))
    _refused(path)


def test_huge_header_refused_before_allocating(tmp_path):
    """A 20-byte file declaring 4 x 10^9 values is refused without reading or
    allocating anything like it."""
    path = tmp_path / "huge.idx"
    path.write_bytes(bytes([0, 0, 0x0E, 2]) + struct.pack(">2I", 2_000_000, 2_000) + bytes(4))
    message, peak = _refused_measured(path)
    assert f"limit of {MAX_IDX_ELEMENTS:,}" in message
    assert peak < 1_000_000


def test_lying_gzip_header_refused_before_allocating(tmp_path):
    """Under the element cap but longer than the data: the gzip trailer's size says so
    before the values are read."""
    head = bytes([0, 0, 0x08, 1]) + struct.pack(">I", 50_000_000)
    path = tmp_path / "lie.idx.gz"
    path.write_bytes(gzip.compress(head + bytes(10)))
    message, peak = _refused_measured(path)
    assert "uncompressed size is 18 bytes" in message
    assert peak < 1_000_000


def test_cap_is_an_argument(tmp_path):
    path = write_idx(tmp_path / "a.idx", np.zeros((10, 10), np.uint8))
    assert "limit of 99" in _refused_with_cap(path, 99)


def _refused_with_cap(path, cap) -> str:
    with pytest.raises(DatasetError) as info:
        read_idx(path, max_elements=cap)
    return str(info.value)


def test_missing_file_named(tmp_path):
    _refused(tmp_path / "nope.idx")
