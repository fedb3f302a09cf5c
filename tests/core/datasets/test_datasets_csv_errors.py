"""Bad CSV files: each raises DatasetError naming the line and, where it applies, the column."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.datasets import load_csv, read_csv_table
from core.errors import DatasetError


def write(tmp_path: Path, content: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def error_of(path: Path, **kwargs: object) -> str:
    with pytest.raises(DatasetError) as info:
        load_csv(path, **kwargs)  # type: ignore[arg-type]
    return str(info.value)


def test_row_with_too_few_cells(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a,b,y\n1,2,0\n3,4\n5,6,1\n"))
    assert message.startswith("data.csv, line 3:")
    assert "2 cells but the header has 3 columns" in message
    assert 'column 3 "y" is missing' in message


def test_row_with_too_many_cells(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a,b,y\n1,2,0\n3,4,1\n5,6,1,9\n"))
    assert "line 4:" in message and "4 cells but the header has 3 columns" in message
    assert 'column 4 ("9") has no header' in message


def test_non_numeric_feature_cell(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a,b,y\n1,2,0\n3,abc,1\n"))
    assert message == 'data.csv, line 3, column 2 "b": "abc" is not a number'


def test_missing_value_markers_are_not_numbers(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a,b,y\n1,2,0\nNA,4,1\n"))
    assert 'line 3, column 1 "a": "NA" is not a number' in message


def test_empty_feature_cell(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a,b,y\n1,2,0\n3,,1\n"))
    assert 'line 3, column 2 "b": empty cell' in message


def test_empty_target_cell(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a,b,label\n1,2,cat\n3,4,\n5,6,dog\n"))
    assert 'line 3, column 3 "label": empty cell' in message


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-Infinity", "+inf"])
def test_nan_and_inf_feature_cells(tmp_path: Path, cell: str) -> None:
    message = error_of(write(tmp_path, f"a,b,y\n1,2,0\n3,4,1\n5,{cell},0\n"))
    assert f'line 4, column 2 "b": "{cell}" is not a finite number' in message


def test_nan_in_text_target_is_rejected(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a,kind\n1,cat\n2,NaN\n3,dog\n"))
    assert 'line 3, column 2 "kind": "NaN" is not a finite number' in message


def test_text_target_forced_to_regression(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a,y\n1,2.5\n2,high\n"), task="regression")
    assert 'line 3, column 2 "y": "high" is not a number' in message


def test_decimal_commas_get_a_hint(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a;b;y\n1,5;2;0\n"))
    assert 'line 2, column 1 "a": "1,5" is not a number (use "." as the decimal point)' in message


def test_several_bad_cells_are_listed_in_file_order(tmp_path: Path) -> None:
    rows = "".join(f"x{i},{i},0\n" for i in range(8))
    message = error_of(write(tmp_path, "a,b,y\n" + rows.replace("3,0", "zz,0")))
    lines = message.splitlines()
    assert lines[0] == 'data.csv, line 2, column 1 "a": "x0" is not a number'
    assert lines[1].startswith("data.csv, line 3, column 1")
    assert lines[-1] == "... and 4 more unusable cells"


def test_line_numbers_count_lines_inside_quoted_cells(tmp_path: Path) -> None:
    content = 'a,note,y\n1,"two\nlines",0\n2,ok,1\nbad,ok,1\n'
    message = error_of(write(tmp_path, content), target="y")
    assert 'line 5, column 1 "a": "bad" is not a number' in message


def test_empty_file(tmp_path: Path) -> None:
    assert "data.csv is empty" in error_of(write(tmp_path, b""))
    assert "data.csv is empty" in error_of(write(tmp_path, "\n\n  \n"))
    assert "data.csv is empty" in error_of(write(tmp_path, b"\xef\xbb\xbf"))


def test_header_only(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a,b,y\n\n"))
    assert message == "data.csv has a header row (line 1) but no data rows"


def test_blank_first_line(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "\na,b,y\n1,2,0\n"))
    assert message.startswith("data.csv, line 1: is blank")


def test_blank_line_between_rows(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a,b,y\n1,2,0\n\n3,4,1\n"))
    assert message.startswith("data.csv, line 3: blank line between data rows")


def test_missing_header_row(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "1,2,0\n3,4,1\n"))
    assert "line 1: holds only numbers" in message and "header row" in message


def test_duplicate_column_names(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a,b,a ,y\n1,2,3,0\n"))
    assert message == (
        'data.csv, line 1: column name "a" is used by columns 1 and 3; column names must be unique'
    )


def test_empty_column_name(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a,,y\n1,2,0\n"))
    assert "line 1, column 2: the header cell is empty" in message


def test_target_with_only_one_class(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a,b,kind\n1,2,cat\n3,4,cat\n"))
    assert "target column 3 \"kind\" has only one class ('cat')" in message


def test_forced_classification_of_constant_numbers(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a,y\n1,7\n2,7\n3,7\n"), task="classification")
    assert "column 2 \"y\" has only one class ('7')" in message


def test_target_column_that_does_not_exist(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a,b,y\n1,2,0\n"), target="label")
    assert 'no column named "label"' in message
    assert 'available columns: "a", "b", "y"' in message


def test_target_index_out_of_range(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a,b,y\n1,2,0\n"), target=3)
    assert "target column index 3 is out of range" in message and '"a", "b", "y"' in message


def test_single_column_file(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "y\n1\n2\n"))
    assert 'only one column ("y")' in message


def test_file_over_size_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b,y\n" + "1,2,0\n1,2,1\n" * 200)  # 2406 bytes
    message = error_of(path, max_bytes=1000)
    assert "data.csv is 0.0 MB (2,406 bytes)" in message
    assert "larger than the limit of 0.0 MB (1,000 bytes)" in message
    assert load_csv(path).n_train + load_csv(path).n_val == 400


def test_non_utf8_bytes(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, b"a,b,y\n1,2,0\n3,caf\xe9,1\n"))
    assert message.startswith("data.csv, line 3: byte 0xE9 at character 6 is not valid UTF-8")


def test_nul_character(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, b"a,b\n1,2\n3,\x004\n"))
    assert message.startswith("data.csv, line 3: contains a NUL character")


def test_utf16_file(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a,y\n1,0\n".encode("utf-16")))
    assert "line 1: the file is UTF-16 encoded; save it as UTF-8" in message


def test_unclosed_quote(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, 'a,b,y\n1,2,0\n3,"4,1\n5,6,0\n'))
    assert message.startswith("data.csv, line 3: a quoted cell opened here is never closed")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert "cannot read" in error_of(tmp_path / "nope.csv")
    assert "is a folder" in error_of(tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"task": "clustering"}, "task must be one of auto, classification, regression"),
        ({"val_fraction": 1.0}, "val_fraction must be between 0 and 0.9"),
        ({"seed": -3}, "seed must be a non-negative integer"),
        ({"target": 1.5}, "target must be a column name or index"),
    ],
)
def test_bad_options(tmp_path: Path, kwargs: dict, message: str) -> None:
    assert message in error_of(write(tmp_path, "a,y\n1,0\n2,1\n"), **kwargs)


def test_read_csv_table_reports_the_same_structural_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"line 3: 2 cells"):
        read_csv_table(write(tmp_path, "a,b,y\n1,2,0\n3,4\n"))
