"""The search space: every refusal names the parameter; ``apply`` edits one field, purely."""

from __future__ import annotations

import pytest

from core.design.spec import DenseSpec
from core.files.design_file import load_design
from core.resources import resource_path
from core.sweeps.space import SpaceError, apply, parse_space

XOR = load_design(resource_path("examples", "xor.json"))


def space(**params) -> dict:
    return {"parameters": params}


@pytest.mark.parametrize("d, words", [
    (space(**{"training.speed": {"low": 1, "high": 2}}), "training.speed: unknown training"),
    (space(**{"weights.x": {"low": 1, "high": 2}}), "weights.x: unknown parameter"),
    (space(**{"layers[9].units": {"low": 1, "high": 2}}), "layers[9].units: the design has no"),
    (space(**{"layers[1].units": {"low": 1, "high": 2}}), "layers[1].units: a "),
    (space(**{"training.learning_rate": {"low": 0.5, "high": 0.5}}),
     "training.learning_rate: low (0.5) must be below high"),
    (space(**{"training.l2": {"low": 0.0, "high": 1.0, "log": True}}),
     "training.l2: a log range must be positive"),
    (space(**{"training.optimizer": {"choices": []}}), "training.optimizer: choices must be"),
    (space(**{"training.optimizer": {"choices": ["sgd", "warp"]}}),
     "training.optimizer: choice 'warp' unknown choice"),
    (space(**{"layers[0].units": {"low": 0, "high": 8}}), "layers[0].units: low must be"),
    (space(**{"training.momentum": {"low": 0.1, "high": 2.0}}), "training.momentum: high must"),
    (space(**{"layers[0].units": {"low": 2.5, "high": 8}}), "layers[0].units: low must be an"),
    (space(**{"training.optimizer": {"low": 1, "high": 2}}), "training.optimizer: is a choice"),
    (space(**{"training.learning_rate": {"low": 0.1}}), "training.learning_rate: needs low"),
    ({"parameters": {}}, "at least one setting"),
    ({**space(**{"layers[0].units": {"low": 2, "high": 8}}), "objective": "speed"},
     "objective: unknown 'speed'"),
    ({**space(**{"layers[0].units": {"low": 2, "high": 8}}), "sampler": "cma"},
     "sampler: unknown 'cma'"),
    ({**space(**{"training.learning_rate": {"low": 0.1, "high": 1.0}}), "sampler": "grid"},
     "training.learning_rate: a grid needs"),
])
def test_refusals_name_the_parameter(d, words):
    with pytest.raises(SpaceError) as info:
        parse_space(d, XOR)
    assert words in str(info.value)


def test_a_grid_too_large_for_the_budget_is_refused():
    s = parse_space({**space(**{"layers[0].units": {"low": 2, "high": 5},
                                "training.optimizer": {"choices": ["sgd", "adam"]}}),
                     "sampler": "grid"}, XOR)
    s.check_budget(8)  # 4 x 2 fits
    with pytest.raises(SpaceError, match="8 combinations but only 7 trials"):
        s.check_budget(7)


def test_a_good_space_parses_with_its_kinds():
    s = parse_space({**space(**{"training.learning_rate": {"low": 1e-4, "high": 10, "log": True},
                                "layers[0].units": {"low": 4, "high": 64},
                                "training.optimizer": {"choices": ["sgd", "adam"]}}),
                     "objective": "val_accuracy", "pruner": "median"}, XOR)
    assert [p.kind for p in s.parameters] == ["float", "int", "choice"]
    assert s.parameters[1].layer == (0,)
    assert s.direction == "maximize"


def test_apply_edits_the_named_fields_and_leaves_the_design_alone():
    before = XOR
    after = apply(before, {"layers[2].units": 5, "training.learning_rate": 1,
                           "training.optimizer": "adam"})
    assert isinstance(after.network.layers[2], DenseSpec)
    assert after.network.layers[2].units == 5
    assert after.network.layers[0].units == before.network.layers[0].units == 8
    assert before.network.layers[2].units == 8
    assert after.training.learning_rate == 1.0 and isinstance(after.training.learning_rate,
                                                              float)
    assert after.training.optimizer == "adam" and before.training.optimizer == "sgd"
    assert not after.validate()


def test_apply_refuses_a_value_the_field_refuses():
    with pytest.raises(SpaceError, match="layers\\[0\\].units"):
        apply(XOR, {"layers[0].units": -3})
