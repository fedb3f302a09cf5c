"""Good CSV files: format variants parse to the expected numbers; task detection and labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.datasets import detect_task, load_csv, read_csv_table
from core.datasets.dataset import Dataset

EXPECTED_X = [[1.5, -2.0], [3.0, 4.25], [-0.5, 1e3]]
EXPECTED_LABELS = ["no", "yes", "no"]


def write(tmp_path: Path, content: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def all_rows(ds: Dataset) -> list[tuple]:
    """Every (raw inputs..., label or target) row of a dataset, sorted: split-independent."""
    x = np.concatenate([ds.x_train_raw, ds.x_val_raw])
    y = np.concatenate([ds.y_train, ds.y_val])
    if ds.task == "classification":
        return sorted(
            (*row, ds.class_names[label]) for row, label in zip(x.tolist(), y, strict=True)
        )
    return sorted((*row, *target) for row, target in zip(x.tolist(), y.tolist(), strict=True))


def expected_rows() -> list[tuple]:
    return sorted((*row, label) for row, label in zip(EXPECTED_X, EXPECTED_LABELS, strict=True))


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("a,b,ok\n1.5,-2,no\n3,4.25,yes\n-0.5,1e3,no\n", id="plain"),
        pytest.param(b"\xef\xbb\xbfa,b,ok\n1.5,-2,no\n3,4.25,yes\n-0.5,1e3,no\n", id="bom"),
        pytest.param("a;b;ok\n1.5;-2;no\n3;4.25;yes\n-0.5;1e3;no\n", id="semicolon"),
        pytest.param("a\tb\tok\n1.5\t-2\tno\n3\t4.25\tyes\n-0.5\t1e3\tno\n", id="tab"),
        pytest.param("a,b,ok\r\n1.5,-2,no\r\n3,4.25,yes\r\n-0.5,1e3,no\r\n", id="crlf"),
        pytest.param("a,b,ok\r1.5,-2,no\r3,4.25,yes\r-0.5,1e3,no\r", id="cr"),
        pytest.param('"a","b","ok"\n"1.5","-2","no"\n3,"4.25",yes\n-0.5,1e3,"no"\n', id="quoted"),
        pytest.param(" a , b ,ok\n 1.5 ,-2 ,no\n3, 4.25,yes\n-0.5,1e3 , no\n", id="spaces"),
        pytest.param("a,b,ok\n1.5,-2,no\n3,4.25,yes\n-0.5,1e3,no", id="no-final-newline"),
        pytest.param(
            "a,b,ok\n1.5,-2,no\n3,4.25,yes\n-0.5,1e3,no\n\n  \n\r\n", id="trailing-blanks"
        ),
    ],
)
def test_format_variants_give_the_same_data(tmp_path: Path, content: str | bytes) -> None:
    ds = load_csv(write(tmp_path, content), val_fraction=0.0)
    assert ds.raw_feature_names == ("a", "b") and ds.target_names == ("ok",)
    assert ds.task == "classification" and ds.class_names == ("no", "yes")
    assert all_rows(ds) == expected_rows()
    assert ds.name == "data"


def test_quoted_commas_inside_cells(tmp_path: Path) -> None:
    content = 'width,"size, in cm",colour\n1,2.5,"red, dark"\n2,"3.5",blue\n3,1,"red, dark"\n'
    table = read_csv_table(write(tmp_path, content))
    assert table.header == ("width", "size, in cm", "colour")
    assert table.rows[0] == ("1", "2.5", "red, dark") and table.delimiter == ","
    ds = load_csv(table.path, val_fraction=0.0)
    assert ds.feature_names == ("width", "size, in cm")
    assert ds.class_names == ("blue", "red, dark")
    assert all_rows(ds) == [(1.0, 2.5, "red, dark"), (2.0, 3.5, "blue"), (3.0, 1.0, "red, dark")]


def test_semicolon_file_with_commas_in_text(tmp_path: Path) -> None:
    table = read_csv_table(write(tmp_path, "name;x;y\nSmith, J.;1;2\nDoe, A.;3;4\n"))
    assert table.delimiter == ";" and table.rows[0] == ("Smith, J.", "1", "2")


def test_read_csv_table_preview(tmp_path: Path) -> None:
    content = "a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(10)) + "oops\n"
    table = read_csv_table(write(tmp_path, content), max_rows=3)
    assert table.rows == (("0", "0"), ("1", "2"), ("2", "4"))
    assert table.line_numbers == (2, 3, 4) and table.truncated


def test_regression_target_and_index_selection(tmp_path: Path) -> None:
    content = "price,rooms,area\n100.5,3,70\n80.25,2,55\n120,4,90\n95.75,3,66\n"
    ds = load_csv(write(tmp_path, content), target=0, val_fraction=0.25)
    assert ds.task == "regression" and ds.target_names == ("price",)
    assert ds.feature_names == ("rooms", "area")
    assert ds.y_train.shape == (3, 1) and ds.y_val.shape == (1, 1) and ds.n_outputs == 1
    assert sorted(all_rows(ds)) == sorted(
        [(3.0, 70.0, 100.5), (2.0, 55.0, 80.25), (4.0, 90.0, 120.0), (3.0, 66.0, 95.75)]
    )
    same = load_csv(ds_path := tmp_path / "data.csv", target="price", val_fraction=0.25)
    np.testing.assert_array_equal(same.y_train, ds.y_train)
    assert load_csv(ds_path, target=-3).target_names == ("price",)


def test_standardised_on_training_rows_with_a_constant_column(tmp_path: Path) -> None:
    rows = "".join(f"{i},5,{i % 2}\n" for i in range(20))
    ds = load_csv(write(tmp_path, "a,const,y\n" + rows), val_fraction=0.3, seed=2)
    np.testing.assert_allclose(ds.feature_mean, ds.x_train_raw.mean(axis=0))
    np.testing.assert_array_equal(ds.x_train[:, 1], 0.0)
    np.testing.assert_allclose(ds.transform(ds.x_val_raw), ds.x_val)


@pytest.mark.parametrize(
    ("cells", "task"),
    [
        (["a", "b", "a", "b"], "classification"),
        (["1", "2", "x", "1"], "classification"),
        (["0", "1", "1", "0"], "classification"),
        (["1.0", "2.0", "1", "2"], "classification"),
        (["0.5", "1", "1", "0"], "regression"),
        ([str(i % 20) for i in range(100)], "classification"),
        ([str(i % 21) for i in range(100)], "regression"),
        (["1", "2", "3", "4"], "regression"),  # more classes than half the rows
        (["1", "2", "3", "1", "2", "3"], "classification"),
    ],
)
def test_detect_task_rule(cells: list[str], task: str) -> None:
    assert detect_task(cells) == task


def test_numeric_labels_sort_numerically(tmp_path: Path) -> None:
    content = "a,y\n" + "".join(f"{i},{label}\n" for i, label in enumerate([10, 2, 10, 2, 1.0, 1]))
    ds = load_csv(write(tmp_path, content), val_fraction=0.0)
    assert ds.class_names == ("1", "2", "10")
    assert all_rows(ds) == sorted(
        [(0.0, "10"), (1.0, "2"), (2.0, "10"), (3.0, "2"), (4.0, "1"), (5.0, "1")]
    )
    assert ds.task_detected and ds.task == "classification"
    # How to override is the front end's to say, in its own words.
    assert not any("task" in note for note in ds.notes)


def test_text_labels_sort_as_text_and_task_override(tmp_path: Path) -> None:
    content = "a,y\n" + "".join(f"{i},{c}\n" for i, c in enumerate("bcabca"))
    ds = load_csv(write(tmp_path, content), val_fraction=0.0, task="classification")
    assert ds.class_names == ("a", "b", "c") and ds.notes == ()
    ints = write(tmp_path, "a,y\n1,0\n2,1\n3,0\n4,1\n", "ints.csv")
    forced = load_csv(ints, task="regression", val_fraction=0.0)
    assert forced.task == "regression" and forced.y_train.dtype == np.float64
    floats = write(tmp_path, "a,y\n1,0.5\n2,1.5\n3,0.5\n4,1.5\n", "floats.csv")
    assert load_csv(floats, task="classification").class_names == ("0.5", "1.5")


def test_stratified_split_and_singleton_class_fallback(tmp_path: Path) -> None:
    labels = ["a"] * 10 + ["b"] * 5 + ["rare"]
    content = "x,label\n" + "".join(f"{i},{c}\n" for i, c in enumerate(labels))
    ds = load_csv(write(tmp_path, content), val_fraction=0.2, seed=1)
    assert np.bincount(ds.y_val, minlength=3).tolist() == [2, 1, 0]
    assert np.bincount(ds.y_train).tolist() == [8, 4, 1]
    assert any("'rare' has only 1 sample" in note for note in ds.notes)
