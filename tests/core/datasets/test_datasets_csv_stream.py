"""CSV files read as a stream in chunks: progress and cancel, errors past the first
chunk with their right line, text labels that appear late, and peak memory."""

from __future__ import annotations

import io
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from core.datasets import ImportCancelled, load_csv, read_csv_dataset
from core.datasets.csv_table import CHUNK_ROWS
from core.errors import DatasetError

ROWS = 3 * CHUNK_ROWS + 123  # several chunks and a partial one


def numbers_csv(path: Path, rows: int = ROWS, change: dict[int, str] | None = None) -> Path:
    """``x1,x2,y`` with y = 0/1; ``change[i]`` replaces data row ``i`` (line ``i + 2``)."""
    change = change or {}
    lines = [change.get(i, f"{i % 97 * 0.5},{i % 13 - 6},{i % 2}") for i in range(rows)]
    path.write_text("x1,x2,y\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_progress_rises_to_one_and_the_data_is_complete(tmp_path):
    seen: list[float] = []
    ds = load_csv(numbers_csv(tmp_path / "d.csv"), progress=lambda f: seen.append(f) or True)
    assert ds.n_train + ds.n_val == ROWS
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= ROWS // CHUNK_ROWS
    assert 0.0 < seen[0] < 0.5
    lines = np.sort(np.concatenate([ds.train_origin.lines, ds.val_origin.lines]))
    np.testing.assert_array_equal(lines, np.arange(2, ROWS + 2))


@pytest.mark.parametrize("stop_after", [0, 2])
def test_cancel_stops_reading(tmp_path, stop_after):
    calls: list[float] = []

    def progress(fraction: float) -> bool:
        calls.append(fraction)
        return len(calls) <= stop_after

    with pytest.raises(ImportCancelled, match="reading d.csv was cancelled"):
        load_csv(numbers_csv(tmp_path / "d.csv"), progress=progress)
    assert len(calls) == stop_after + 1  # stopped at the first "no"
    assert calls[0] < 1.0
    assert issubclass(ImportCancelled, DatasetError)


def test_a_stream_without_a_file_reads_too():
    text = "a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n"
    ds = read_csv_dataset(io.BytesIO(text.encode()), "mem.csv", val_fraction=0.0)
    assert ds.name == "mem" and ds.n_train == 4 and ds.class_names == ("0", "1")


def test_bad_cells_in_later_chunks_keep_file_order_and_lines(tmp_path):
    late = {CHUNK_ROWS + 5: "oops,1,0", 2 * CHUNK_ROWS + 9: "1,,1", 7: "1,2,maybe"}
    with pytest.raises(DatasetError) as info:
        load_csv(numbers_csv(tmp_path / "d.csv", change=late), task="regression")
    assert str(info.value).splitlines() == [
        'd.csv, line 9, column 3 "y": "maybe" is not a number',
        f'd.csv, line {CHUNK_ROWS + 7}, column 1 "x1": "oops" is not a number',
        f'd.csv, line {2 * CHUNK_ROWS + 11}, column 2 "x2": empty cell (missing values are '
        "not supported)",
    ]


def test_structural_errors_past_the_first_chunk(tmp_path):
    ragged = numbers_csv(tmp_path / "r.csv", change={2 * CHUNK_ROWS: "1,2"})
    with pytest.raises(DatasetError, match=rf"r.csv, line {2 * CHUNK_ROWS + 2}: 2 cells"):
        load_csv(ragged)
    blank = numbers_csv(tmp_path / "b.csv", change={CHUNK_ROWS + 1: ""})
    with pytest.raises(DatasetError, match=rf"b.csv, line {CHUNK_ROWS + 3}: blank line"):
        load_csv(blank)
    bad_byte = tmp_path / "u.csv"
    raw = bytearray(numbers_csv(bad_byte).read_bytes())
    at = raw.index(b"\n", len(raw) // 2) + 1  # start of a line in the middle
    line = raw[:at].count(b"\n") + 1
    raw[at:at] = b"\xff"
    bad_byte.write_bytes(bytes(raw))
    with pytest.raises(DatasetError, match=rf"u.csv, line {line}: byte 0xFF at character 1 "):
        load_csv(bad_byte)


def test_text_labels_after_many_numeric_ones(tmp_path):
    rows = {i: f"{i},{i},{('1', '2', 'x')[i % 3]}" for i in range(2 * CHUNK_ROWS, ROWS)}
    rows.update({i: f"{i},{i},{('1', '2')[i % 2]}" for i in range(2 * CHUNK_ROWS)})
    ds = load_csv(numbers_csv(tmp_path / "d.csv", change=rows), val_fraction=0.0)
    assert ds.task == "classification" and ds.class_names == ("1", "2", "x")
    x = ds.x_train_raw[:, 0].astype(int)
    expected = np.where(x >= 2 * CHUNK_ROWS, x % 3, x % 2)  # "1" -> 0, "2" -> 1, "x" -> 2
    np.testing.assert_array_equal(ds.y_train, expected)


def test_too_many_text_labels_are_refused(tmp_path):
    from core.datasets.csv_columns import MAX_TEXT_LABELS

    rows = {i: f"{i},{i},label{i}" for i in range(MAX_TEXT_LABELS + 5)}
    path = numbers_csv(tmp_path / "d.csv", rows=MAX_TEXT_LABELS + 5, change=rows)
    with pytest.raises(DatasetError, match=r'd.csv, line \d+, column 3 "y": the target holds '
                                           "text labels and more than 10,000"):
        load_csv(path)


sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
from csv_import import write_csv  # noqa: E402

ROWS_FOR_MEMORY = 80_000


@pytest.mark.parametrize("task", ["classification", "regression", "text"])
def test_peak_memory_stays_under_8x_the_file_size(tmp_path, task):
    path = tmp_path / "big.csv"
    write_csv(path, ROWS_FOR_MEMORY, "classification" if task == "text" else task)
    if task == "text":
        path.write_text(path.read_text().replace(",0\n", ",no\n").replace(",1\n", ",yes\n"))
    size = path.stat().st_size
    tracemalloc.start()
    try:
        ds = load_csv(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ds.n_train + ds.n_val == ROWS_FOR_MEMORY
    # Measured about 5x (tracemalloc counts NumPy buffers and Python objects); the
    # issue's goal is 8x. Before streaming it was about 33x.
    assert peak < 7 * size, peak / size


def test_the_stream_is_bounded_whatever_the_size_on_disk_says():
    proc = Path("/proc/self/maps")  # a regular file whose st_size is 0
    if not proc.is_file() or proc.stat().st_size != 0:
        pytest.skip("needs Linux /proc")
    with pytest.raises(DatasetError, match="maps is larger than the limit of 0.0 MB"):
        load_csv(proc, max_bytes=100)
