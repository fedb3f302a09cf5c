"""Errors carry where they are as data: a CSV error's ``line``/``column``/``cells`` and a
design problem's ``layer``/``field``, equal to what their messages say (issue 12)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from core import ActivationSpec, DenseSpec, Design, NetworkSpec, ResidualSpec, TrainConfig
from core.datasets import load_csv, precision_error
from core.design.check import DataShape, check
from core.errors import DatasetError, Problem, layer_location


def csv_error(tmp_path: Path, content: str | bytes, **kwargs: object) -> DatasetError:
    path = tmp_path / "data.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    with pytest.raises(DatasetError) as info:
        load_csv(path, **kwargs)  # type: ignore[arg-type]
    return info.value


def test_unusable_cells_carry_every_line_and_column(tmp_path):
    error = csv_error(tmp_path, "a,b,y\n1,2,0\n3,abc,1\nx,4,0\n5,6,1\n")
    assert error.cells == ((3, 2), (4, 1))
    assert (error.line, error.column) == (3, 2)
    assert "line 3, column 2" in str(error) and "line 4, column 1" in str(error)


@pytest.mark.parametrize(("content", "line"), [
    ("a,b,y\n1,2,0\n3,4\n5,6,1\n", 3),  # too few cells
    ("a,b,y\n1,2,0\n3,4,1,9\n", 3),  # too many
    ("a,b,y\n1,2,0\n\n3,4,1\n", 3),  # blank line between rows
    ('a,b,y\n1,2,0\n3,"4,1\n5,6,1\n', 3),  # unclosed quote
    ("1,2,3\n4,5,6\n", 1),  # a header of numbers
    (b"a,b,y\n1,2,0\n3,\xff,1\n", 3),  # not UTF-8
])
def test_structural_errors_carry_their_line(tmp_path, content, line):
    error = csv_error(tmp_path, content)
    assert error.line == line and f"line {line}" in str(error)
    assert error.column is None and error.cells == ()


def test_header_errors_name_their_cells(tmp_path):
    empty = csv_error(tmp_path, "a,,y\n1,2,0\n")
    assert (empty.line, empty.column, empty.cells) == (1, 2, ((1, 2),))
    twice = csv_error(tmp_path, "a,b,a\n1,2,0\n")
    assert twice.line == 1 and twice.cells == ((1, 1), (1, 3))


def test_standardisation_overflow_names_its_cell(tmp_path):
    rows = "".join(f"{i * 0.01:.2f},{'1e200' if i == 40 else '0.5'},{i % 2}\n"
                   for i in range(100))
    error = csv_error(tmp_path, "a,b,y\n" + rows, val_fraction=0.0)
    assert error.cells == ((42, 2),)
    assert str(error).startswith('data.csv, line 42, column 2 "b"')


def test_precision_error_names_the_target_cell(tmp_path):
    path = tmp_path / "data.csv"
    rows = [f"{i * 0.1:.1f},{'1e39' if i == 7 else f'{i * 0.5:.1f}'}" for i in range(40)]
    path.write_text("x,y\n" + "\n".join(rows) + "\n")
    ds = load_csv(path, task="regression")
    assert precision_error(ds, "float64") is None
    error = precision_error(ds, "float32")
    assert error is not None and error.cells == ((9, 2),)
    assert str(error).startswith('data.csv, line 9, column 2 "y"')


def test_layer_location_writes_nested_paths():
    assert layer_location((2, 0), "units") == "layers[2].layers[0].units"
    assert layer_location((), "", "network.layers") == "network.layers"
    assert layer_location((4,), "", "network.layers") == "network.layers[4]"


def test_design_problems_carry_layer_and_field():
    block = ResidualSpec(layers=(DenseSpec(0), DenseSpec(5)))
    net = NetworkSpec(inputs=3, layers=(DenseSpec(4), block, ActivationSpec("softmax"),
                                        DenseSpec(2)))
    problems = Design(net, TrainConfig(loss="nope")).validate()
    by_path = {p.path: p for p in problems}
    units = by_path["network.layers[1].layers[0].units"]
    assert (units.layer, units.field) == ((1, 0), "units")
    softmax = by_path["network.layers[2].function"]
    assert (softmax.layer, softmax.field) == ((2,), "function")
    mismatch = by_path["network.layers[1]"]
    assert (mismatch.layer, mismatch.field) == ((1,), "")
    loss = by_path["training.loss"]
    assert (loss.layer, loss.field) == (None, "loss")
    for p in problems:  # the text and the data say the same place
        if p.layer is not None:
            assert p.path == layer_location(p.layer, p.field, "network.layers")


def test_check_problems_carry_layer_and_field():
    net = NetworkSpec(inputs=2, layers=(DenseSpec(8), ActivationSpec("tanh"), DenseSpec(3)))
    problems = check(Design(net), DataShape("regression", 5, 1))
    inputs = next(p for p in problems if p.path == "network.inputs")
    assert (inputs.layer, inputs.field) == (None, "inputs")
    outputs = next(p for p in problems if "output(s)" in p.message)
    assert (outputs.layer, outputs.field) == ((2,), "units")
    empty = check(Design(NetworkSpec(inputs=2)), None, need_dataset=False)
    assert any(p.layer == () and p.path == "network.layers" for p in empty)


def test_problem_under_keeps_its_location():
    p = Problem("layers[0].units", "bad", (0,), "units")
    moved = p.under("network")
    assert moved == dataclasses.replace(p, path="network.layers[0].units")
