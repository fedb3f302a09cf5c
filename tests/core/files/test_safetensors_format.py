"""Our safetensors reader/writer: round trips, layout, and a reader that trusts nothing.

Every malformed input must end in ``FileFormatError`` naming what is wrong, never in an
IndexError, ValueError, UnicodeDecodeError, MemoryError or a silently wrong array.
"""

from __future__ import annotations

import json
import random
import struct

import numpy as np
import pytest

from core import FileFormatError
from core.files.safetensors import (
    MAX_HEADER_BYTES,
    decode,
    encode,
    load_safetensors,
    save_safetensors,
)

SUPPORTED = {np.dtype("<f4"), np.dtype("<f8"), np.dtype("<i8"), np.dtype("<i4"),
             np.dtype("u1")}


def sample_tensors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "f32.scalar": np.array(3.5, dtype=np.float32),
        "f32.matrix": rng.normal(size=(3, 4)).astype(np.float32),
        "f32.empty": np.zeros((0,), dtype=np.float32),
        "f64.vector": rng.normal(size=(5,)),
        "f64.cube": rng.normal(size=(2, 3, 2)),
        "f64.empty2d": np.zeros((2, 0, 4)),
        "f64.scalar": np.array(-0.0),
        "i64.vector": np.array([-(2**62), -1, 0, 1, 2**62], dtype=np.int64),
        "i64.scalar": np.array(7, dtype=np.int64),
        "i64.row": np.arange(6, dtype=np.int64).reshape(1, 6),
        "i32.col": np.arange(3, dtype=np.int32).reshape(3, 1),
        "u8.bytes": np.arange(256, dtype=np.uint8),
    }


def raw_file(header: object, data: bytes = b"", pad: bool = True) -> bytes:
    """A safetensors file with an arbitrary (possibly hostile) header."""
    text = header if isinstance(header, bytes) else json.dumps(header).encode("utf-8")
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def entry(dtype: str, shape: list, begin: int, end: int) -> dict:
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def fails(data: bytes, *words: str) -> str:
    with pytest.raises(FileFormatError) as info:
        decode(data, "w.safetensors")
    message = str(info.value)
    assert message.startswith("w.safetensors"), message
    for word in words:
        assert word in message, message
    return message


def assert_well_formed(tensors: dict, metadata: dict, size: int) -> None:
    """What a successful load may return from a file of ``size`` bytes."""
    total = 0
    for name, arr in tensors.items():
        assert isinstance(name, str)
        assert isinstance(arr, np.ndarray) and arr.dtype in SUPPORTED
        assert arr.size == int(np.prod(arr.shape)) and arr.flags.c_contiguous
        total += arr.nbytes
    assert total <= size
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())


# ------------------------------------------------------------------- round trips


def test_round_trip_of_every_dtype_and_shape(tmp_path):
    tensors = sample_tensors()
    meta = {"format": "test", "note": "ünïcode ✓", "empty": ""}
    path = tmp_path / "w.safetensors"
    save_safetensors(path, tensors, meta)
    loaded, loaded_meta = load_safetensors(path)
    assert loaded_meta == meta
    assert set(loaded) == set(tensors)
    for name, arr in tensors.items():
        got = loaded[name]
        assert got.dtype == arr.dtype.newbyteorder("<"), name
        assert got.shape == arr.shape, name
        np.testing.assert_array_equal(got, arr, err_msg=name)
        assert got.flags.writeable, name  # a copy, not a view of the file's bytes
    assert np.signbit(loaded["f64.scalar"])  # -0.0 survives bit for bit


def test_no_metadata_and_no_tensors():
    assert decode(encode({}), "x") == ({}, {})
    tensors, meta = decode(encode({"a": np.ones(2)}), "x")
    assert meta == {} and list(tensors) == ["a"]


def test_big_endian_and_non_contiguous_inputs_are_stored_little_endian():
    big = np.arange(6, dtype=">f8").reshape(2, 3)
    strided = np.arange(12, dtype=np.float32).reshape(3, 4).T
    data = encode({"big": big, "strided": strided})
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    assert header["big"]["dtype"] == "F64" and header["strided"]["shape"] == [4, 3]
    tensors, _ = decode(data, "x")
    np.testing.assert_array_equal(tensors["big"], big)
    np.testing.assert_array_equal(tensors["strided"], strided)
    # The bytes themselves are little-endian.
    begin, end = header["big"]["data_offsets"]
    assert data[8 + length + begin:8 + length + end] == np.arange(6, dtype="<f8").tobytes()


@pytest.mark.parametrize("arr", [np.array([True]), np.array([1j]), np.array(["a"]),
                                 np.zeros(2, dtype=np.float16)])
def test_writer_refuses_dtypes_it_cannot_store(arr):
    with pytest.raises(ValueError, match="cannot be stored"):
        encode({"t": arr})


def test_header_and_tensor_data_are_8_byte_aligned():
    for n in range(1, 20):  # header lengths of every residue
        tensors = {"x" * n: np.ones(3), "b": np.arange(n, dtype=np.float32)}
        data = encode(tensors, {"k": "v" * n})
        (length,) = struct.unpack("<Q", data[:8])
        assert length % 8 == 0 and (8 + length) % 8 == 0
        text = data[8:8 + length].rstrip(b" ")  # padded with JSON whitespace only
        assert text.endswith(b"}") and length - len(text) < 8
        assert decode(data, "x")[1] == {"k": "v" * n}


def test_names_are_sorted_and_offsets_contiguous():
    data = encode({"b": np.ones(2), "a": np.ones(3, dtype=np.float32), "c": np.zeros(0)})
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    assert [k for k in header] == ["a", "b", "c"]
    assert header["a"]["data_offsets"] == [0, 12]
    assert header["b"]["data_offsets"] == [12, 28]
    assert header["c"]["data_offsets"] == [28, 28]
    assert len(data) == 8 + length + 28


# ------------------------------------------------------------- truncation, fuzzing


def test_every_truncation_point_raises_file_format_error():
    data = encode({"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array(2.0),
                   "c": np.arange(3, dtype=np.int64)}, {"k": "v"})
    for cut in range(len(data)):
        with pytest.raises(FileFormatError, match="truncated"):
            decode(data[:cut], "w.safetensors")
    assert decode(data, "x")[1] == {"k": "v"}


def test_random_byte_mutations_load_well_formed_or_raise_file_format_error():
    base = encode(sample_tensors(), {"format": "test", "n": "1"})
    outcomes = {"loaded": 0, "rejected": 0}
    for seed in range(400):
        rng = random.Random(seed)
        data = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(data))
            kind = rng.random()
            if kind < 0.5:
                data[i] = rng.randrange(256)
            elif kind < 0.8:  # bytes that keep JSON plausible: digits, brackets, quotes
                data[i] = rng.choice(b'0123456789[]{},:"-.eE \\')
            elif kind < 0.9:
                del data[i]
            else:
                data.insert(i, rng.randrange(256))
        try:
            tensors, meta = decode(bytes(data), "w.safetensors")
        except FileFormatError:
            outcomes["rejected"] += 1
        else:
            assert_well_formed(tensors, meta, len(data))
            outcomes["loaded"] += 1
    # Both paths were exercised (mutations inside tensor data still load).
    assert outcomes["loaded"] > 0 and outcomes["rejected"] > 0


def test_load_of_missing_file_or_folder(tmp_path):
    with pytest.raises(FileFormatError, match="no such file"):
        load_safetensors(tmp_path / "nope.safetensors")
    with pytest.raises(FileFormatError, match="folder"):
        load_safetensors(tmp_path)


# ----------------------------------------------------------------- hostile headers


def test_header_length_beyond_the_file_says_truncated():
    data = encode({"a": np.ones(4)})
    fails(struct.pack("<Q", len(data)) + data[8:], "truncated")
    fails(b"\x05\x00\x00", "truncated")


@pytest.mark.parametrize("claim", [MAX_HEADER_BYTES + 1, 17 * 1024 * 1024, 2**63, 2**64 - 1])
def test_oversized_header_length_is_refused_before_reading(claim):
    message = fails(struct.pack("<Q", claim) + b"{}      ", "limit")
    assert f"{claim:,}" in message


def test_offsets_overlapping():
    header = {"a": entry("F32", [2], 0, 8), "b": entry("F32", [2], 4, 12)}
    fails(raw_file(header, bytes(12)), "overlaps or leaves a gap")


def test_offsets_leaving_a_gap():
    header = {"a": entry("F32", [1], 0, 4), "b": entry("F32", [1], 8, 12)}
    fails(raw_file(header, bytes(12)), "overlaps or leaves a gap", "4")


def test_offsets_beyond_the_data():
    header = {"a": entry("F64", [2], 0, 16)}
    fails(raw_file(header, bytes(8)), "truncated", "16")


def test_bytes_after_the_last_tensor():
    header = {"a": entry("F32", [1], 0, 4)}
    fails(raw_file(header, bytes(12)), "8 bytes after the last tensor")


def test_two_tensors_sharing_the_same_bytes():
    header = {"a": entry("F32", [2], 0, 8), "b": entry("F32", [2], 0, 8)}
    fails(raw_file(header, bytes(8)), "overlaps")


@pytest.mark.parametrize("dtype", ["BF16", "F16", "BOOL", "f32", "", 5, None, ["F32"]])
def test_unsupported_dtype(dtype):
    fails(raw_file({"a": entry(dtype, [1], 0, 4)}, bytes(4)), "unsupported dtype", repr(dtype))


@pytest.mark.parametrize("shape,offsets", [
    ([2, 3], [0, 20]),    # 24 bytes expected
    ([2, 3], [0, 28]),
    ([], [0, 0]),         # a 0-d tensor holds one value
    ([0], [0, 4]),
    ([2**32, 2**32], [0, 0]),  # 2**64 elements: wraps to 0 in int64 arithmetic
    ([2**39] * 2, [0, 0]),
    ([2], [8, 0]),        # end before begin
    ([2], [-8, 0]),
])
def test_shape_and_offsets_disagree(shape, offsets):
    data = raw_file({"a": entry("F32", shape, *offsets)}, bytes(24))
    fails(data, "do not fit shape")


@pytest.mark.parametrize("shape", [[-1], [1.5], [True], ["2"], [2**40], [1] * 9, 3, None])
def test_bad_shape(shape):
    fails(raw_file({"a": entry("F32", shape, 0, 4)}, bytes(4)), "bad shape")


@pytest.mark.parametrize("offsets", [[0], [0, 4, 8], [0.0, 4], [False, True], "0,4", None])
def test_bad_offsets(offsets):
    header = {"a": {"dtype": "F32", "shape": [1], "data_offsets": offsets}}
    fails(raw_file(header, bytes(4)), "bad data_offsets")


@pytest.mark.parametrize("info", [[1, 2], "F32", {"dtype": "F32", "shape": [1]},
                                  {"dtype": "F32", "shape": [1], "data_offsets": [0, 4],
                                   "extra": 1}])
def test_tensor_entry_must_have_exactly_the_three_keys(info):
    fails(raw_file({"a": info}, bytes(4)), "dtype, shape and data_offsets")


@pytest.mark.parametrize("text,words", [
    (b'{"a": {"dtype": "F32", "shape": [NaN], "data_offsets": [0, 4]}}', ["NaN"]),
    (b'{"a": {"dtype": "F32", "shape": [Infinity], "data_offsets": [0, 4]}}', ["Infinity"]),
    (b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, '
     b'"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', ["duplicate key 'a'"]),
    (b'{"__metadata__": {"k": "1", "k": "2"}}', ["duplicate key 'k'"]),
    (b"[" * 100_000 + b"]" * 100_000, ["nested too deeply"]),
    (b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", ["nested too deeply"]),
    (b"[]", ["not a JSON object"]),
    (b'"text"', ["not a JSON object"]),
    (b"12", ["not a JSON object"]),
    (b"null", ["not a JSON object"]),
    (b'{"a": 1', ["not valid JSON"]),
    (b"", ["not valid JSON"]),
    (b'{"\xff": 1}', ["not UTF-8"]),
    (b'{"a": 1' + b"0" * 5000 + b"}", []),  # int() refuses > 4300 digits with ValueError
])
def test_hostile_json_in_the_header(text, words):
    fails(raw_file(text, b""), *words)


@pytest.mark.parametrize("meta", [{"k": 1}, {"k": None}, {"k": ["v"]}, {"k": {"v": "w"}},
                                  {"k": True}, [], 0, "text", False])
def test_metadata_must_map_strings_to_strings(meta):
    fails(raw_file({"__metadata__": meta}), "__metadata__ must map strings to strings")


def test_null_metadata_reads_as_empty():
    assert decode(raw_file({"__metadata__": None}), "x") == ({}, {})


def test_lone_surrogate_in_metadata_becomes_a_replacement_character():
    # A lone surrogate cannot be encoded as UTF-8: kept, it fails later in an export.
    tensors, meta = decode(raw_file(b'{"__metadata__": {"k": "a\\ud800b"}}'), "x")
    assert meta == {"k": "a\ufffdb"} and tensors == {}
    meta["k"].encode("utf-8")


# ------------------------------------------------------------ the reference reader


def test_the_safetensors_package_reads_our_files(tmp_path):
    # A test dependency (the dev extra), so this runs everywhere the suite runs.
    import safetensors.numpy as st_numpy

    tensors = sample_tensors()
    path = tmp_path / "w.safetensors"
    save_safetensors(path, tensors, {"format": "test"})
    loaded = st_numpy.load_file(str(path))
    assert set(loaded) == set(tensors)
    for name, arr in tensors.items():
        np.testing.assert_array_equal(loaded[name], arr, err_msg=name)
        assert loaded[name].dtype == arr.dtype
    # And we read what the package writes.
    theirs = tmp_path / "theirs.safetensors"
    st_numpy.save_file({"x": np.arange(5.0), "y": np.ones((2, 2), np.float32)}, str(theirs),
                       metadata={"a": "b"})
    ours, meta = load_safetensors(theirs)
    assert meta == {"a": "b"}
    np.testing.assert_array_equal(ours["x"], np.arange(5.0))
