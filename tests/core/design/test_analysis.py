"""The network check lists every problem of a design with its dataset."""

from __future__ import annotations

from core import (
    ActivationSpec,
    DenseSpec,
    Design,
    NetworkSpec,
    ResidualSpec,
    TrainConfig,
)
from core.design.check import DataShape, check, layer_rows

CLS2 = DataShape("classification", 2, 2)


def design(*layers, loss="mse", inputs=2):
    return Design(NetworkSpec(inputs, tuple(layers)), TrainConfig(loss=loss))


def paths(problems):
    return [p.path for p in problems]


def test_clean_design_has_no_problems():
    d = design(DenseSpec(4), ActivationSpec("tanh"), DenseSpec(1), ActivationSpec("sigmoid"),
               loss="binary_cross_entropy")
    assert check(d, CLS2) == []
    d = design(DenseSpec(4), ActivationSpec("relu"), DenseSpec(2), ActivationSpec("softmax"),
               loss="softmax_cross_entropy")
    assert check(d, CLS2) == []


def test_each_problem_is_flagged():
    assert paths(check(design(), CLS2)) == ["network.layers"]
    assert "dataset" in paths(check(design(DenseSpec(2)), None))
    wrong_inputs = check(design(DenseSpec(2), inputs=3), CLS2)
    assert "network.inputs" in paths(wrong_inputs)
    mismatch = check(design(DenseSpec(4), ResidualSpec((DenseSpec(3),)), DenseSpec(2)), CLS2)
    assert "network.layers[1]" in paths(mismatch)
    one_out = check(design(DenseSpec(1), ActivationSpec("softmax"),
                           loss="softmax_cross_entropy"), CLS2)
    assert any("at least 2 outputs" in p.message for p in one_out)
    reg = check(design(DenseSpec(1), ActivationSpec("sigmoid"), loss="binary_cross_entropy"),
                DataShape("regression", 2, 1))
    assert any("does not fit a regression" in p.message for p in reg)
    outputs = check(design(DenseSpec(4), DenseSpec(3)), DataShape("classification", 2, 10))
    assert "network.layers[1].units" in paths(outputs)
    assert any("set the last Dense layer's units to 10" in p.message for p in outputs)


def test_layer_rows_follow_shapes_into_blocks():
    d = design(DenseSpec(4), ResidualSpec((DenseSpec(4), ActivationSpec("relu"))),
               DenseSpec(1))
    rows = layer_rows(d)
    assert [r.path for r in rows] == [(0,), (1,), (1, 0), (1, 1), (2,)]
    assert [(r.inputs, r.outputs, r.parameters) for r in rows] == [
        (2, 4, 12), (4, 4, 20), (4, 4, 20), (4, 4, 0), (4, 1, 5)]
