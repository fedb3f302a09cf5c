"""Finite values too large to train on are refused by line and column (issue 11): a
standardisation that overflows, and values beyond the training precision."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import main
from core import Design
from core.datasets import build_dataset, check_precision, load_csv, precision_problem
from core.errors import DatasetError
from core.files.design_file import load_design
from core.resources import resource_path
from core.training.trainer import Trainer


def write_rows(tmp_path: Path, header: str, rows: list[str], name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def feature_rows(n: int, bad: dict[int, str]) -> list[str]:
    """``a,b,y`` rows; row ``i`` (line ``i + 2``) gets ``bad[i]`` as its ``b`` cell."""
    return [f"{i * 0.01:.2f},{bad.get(i, f'{(i * 7) % 13 * 0.1:.1f}')},{i % 2}"
            for i in range(n)]


def test_one_1e200_cell_is_refused_not_turned_into_zeros(tmp_path):
    path = write_rows(tmp_path, "a,b,y", feature_rows(100, {40: "1e200"}))
    with pytest.raises(DatasetError) as info:
        load_csv(path, val_fraction=0.0)
    message = str(info.value)
    assert message.startswith('data.csv, line 42, column 2 "b": 1e+200 is too large to '
                              "standardise its column")
    assert "rescale the column" in message


def test_1_7e308_in_twenty_rows_is_refused_naming_one_of_them(tmp_path):
    bad = {i: "1.7e308" for i in range(0, 100, 5)}
    path = write_rows(tmp_path, "a,b,y", feature_rows(100, bad))
    for val_fraction in (0.0, 0.2):
        with pytest.raises(DatasetError, match="is too large to standardise") as info:
            load_csv(path, val_fraction=val_fraction)
        lines = {i + 2 for i in bad}
        named = int(str(info.value).split("line ")[1].split(",")[0])
        assert named in lines and 'column 2 "b": 1.7e+308' in str(info.value)


def test_a_huge_validation_value_is_refused_for_float32_only(tmp_path):
    # Training rows are ordinary, so the standardisation is finite; the one validation row
    # with 1e200 is 1e200 standard deviations away: fine in float64, inf in float32.
    path = write_rows(tmp_path, "a,b,y", feature_rows(100, {}))
    ds = load_csv(path, val_fraction=0.2, seed=3)
    victim = int(ds.val_origin.lines[0])
    rows = path.read_text().splitlines()
    rows[victim - 1] = rows[victim - 1].rsplit(",", 2)[0] + ",1e200," + rows[victim - 1][-1]
    path.write_text("\n".join(rows) + "\n")
    ds = load_csv(path, val_fraction=0.2, seed=3)
    assert precision_problem(ds, "float64") == ""
    problem = precision_problem(ds, "float32")
    assert problem.startswith(f'data.csv, line {victim}, column 2 "b": 1e+200 becomes ')
    assert "beyond the largest float32 number" in problem


def regression_csv(tmp_path: Path, big: str) -> Path:
    rows = [f"{i * 0.1:.1f},{big if i == 7 else f'{i * 0.5:.1f}'}" for i in range(40)]
    return write_rows(tmp_path, "x,y", rows)


def sine_design(dtype: str) -> Design:
    design = load_design(resource_path("examples", "sine_regression.json"))
    return dataclasses.replace(design, training=dataclasses.replace(design.training,
                                                                    dtype=dtype, epochs=1))


def test_1e39_target_is_refused_in_float32_by_the_trainer(tmp_path):
    ds = load_csv(regression_csv(tmp_path, "1e39"), task="regression")
    with pytest.raises(DatasetError) as info:
        Trainer(sine_design("float32"), ds)
    assert str(info.value).startswith(
        'data.csv, line 9, column 2 "y": the target 1e+39 is too large for float32 training')
    # float64 squares 1e39 to 1e78: fine.
    Trainer(sine_design("float64"), ds)
    assert precision_problem(ds, "float64") == ""


def test_targets_whose_square_overflows_are_refused_in_float64_too(tmp_path):
    ds = load_csv(regression_csv(tmp_path, "1e200"), task="regression")
    with pytest.raises(DatasetError, match=r'line 9, column 2 "y": the target 1e\+200'):
        check_precision(ds, "float64")


def test_cli_train_exits_2_naming_the_cell(tmp_path, capsys):
    path = regression_csv(tmp_path, "1e39")
    design = resource_path("examples", "sine_regression.json")
    rc = main.main(["train", str(design), "--csv", str(path), "--target", "y", "--epochs", "1",
                    "--out", str(tmp_path / "run"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2
    assert 'data.csv, line 9, column 2 "y": the target 1e+39 is too large for float32' in err
    assert "Traceback" not in err and "layers.0" not in err


def test_data_without_a_file_is_named_by_row(tmp_path):
    x = np.zeros((10, 2))
    x[3, 1] = 1e300
    x[4, 1] = -1e300
    with pytest.raises(DatasetError, match=r'blobs, training row \d+, input "x2": 1e\+300|'
                                           r'blobs, training row \d+, input "x2": -1e\+300'):
        build_dataset(name="blobs", task="classification", x_raw=x, y=np.arange(10) % 2,
                      raw_feature_names=("x1", "x2"), target_names=("c",),
                      class_names=("a", "b"), val_fraction=0.0)


def test_ordinary_large_values_still_load(tmp_path):
    # 1e150 squared is 1e300: the column's spread is finite, so it standardises.
    path = write_rows(tmp_path, "a,b,y", feature_rows(50, {10: "1e150", 20: "-3e149"}))
    ds = load_csv(path, val_fraction=0.0)
    assert np.isfinite(ds.x_train).all() and np.isfinite(ds.feature_std).all()
    assert precision_problem(ds, "float32") == ""
