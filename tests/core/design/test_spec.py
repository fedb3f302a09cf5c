"""Designs: from_dict / validate / build_network reject bad input with messages that name
the field, and report every problem at once."""

from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np
import pytest

import core
from core.design.fields import field_infos
from core.design.spec import (
    DESIGN_VERSION,
    MAX_DEPTH,
    ActivationSpec,
    BatchNormSpec,
    DenseSpec,
    Design,
    DropoutSpec,
    NetworkSpec,
    ResidualSpec,
    TrainConfig,
    layer_from_dict,
)


def paths(problems) -> list[str]:
    return [p.path for p in problems]


def design_error(d) -> core.DesignError:
    with pytest.raises(core.DesignError) as info:
        Design.from_dict(d)
    assert info.value.problems, "a DesignError must carry its problems"
    return info.value


def good_design_dict() -> dict:
    return Design(
        NetworkSpec(2, (DenseSpec(8), ActivationSpec("relu"), DropoutSpec(0.1),
                        ResidualSpec((DenseSpec(8), BatchNormSpec())), DenseSpec(3),
                        ActivationSpec("softmax"))),
        TrainConfig(loss="softmax_cross_entropy", optimizer="adam"),
        name="demo").to_dict()


def test_good_design_parses_and_validates():
    design = Design.from_dict(good_design_dict())
    assert design.validate() == []
    assert design.validate(task="classification") == []
    core.build_network(design.network)


# ------------------------------------------------------------------ layer kinds


def test_unknown_layer_kind():
    d = good_design_dict()
    d["network"]["layers"][1] = {"kind": "conv3d", "filters": 3}
    err = design_error(d)
    assert paths(err.problems) == ["network.layers[1].kind"]
    assert "unknown layer kind 'conv3d'" in err.problems[0].message
    assert "dense" in err.problems[0].message  # lists the choices
    with pytest.raises(core.DesignError, match=r"layer\.kind"):
        layer_from_dict({"kind": None})
    with pytest.raises(core.DesignError, match=r"layer\.kind"):
        layer_from_dict({"units": 3})


def test_unknown_activation():
    d = good_design_dict()
    d["network"]["layers"][1]["function"] = "swish"
    err = design_error(d)
    assert paths(err.problems) == ["network.layers[1].function"]
    assert "swish" in err.problems[0].message
    spec = NetworkSpec(2, (DenseSpec(3), ActivationSpec("swish"), DenseSpec(1)))
    assert paths(spec.validate()) == ["layers[1].function"]


@pytest.mark.parametrize("units", [0, -3])
def test_non_positive_units(units):
    spec = NetworkSpec(2, (DenseSpec(4), ActivationSpec("tanh"), DenseSpec(4),
                           DenseSpec(units), DenseSpec(1)))
    problems = spec.validate()
    assert paths(problems) == ["layers[3].units"]
    assert f"got {units}" in problems[0].message
    assert str(problems[0]).startswith("layers[3].units: ")
    assert "network.layers[3].units" in paths(Design(spec).validate())
    d = Design(NetworkSpec(2, spec.layers[:3] + (DenseSpec(5), DenseSpec(1)))).to_dict()
    d["network"]["layers"][3]["units"] = units
    assert paths(design_error(d).problems) == ["network.layers[3].units"]


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5, 0.995])
def test_dropout_rate_outside_range(rate):
    spec = NetworkSpec(2, (DenseSpec(4), DropoutSpec(rate), DenseSpec(1)))
    assert paths(spec.validate()) == ["layers[1].rate"]
    d = Design(NetworkSpec(2, (DenseSpec(4), DropoutSpec(0.5), DenseSpec(1)))).to_dict()
    d["network"]["layers"][1]["rate"] = rate
    assert paths(design_error(d).problems) == ["network.layers[1].rate"]


@pytest.mark.parametrize("rate", [0.0, 0.5, 0.99])
def test_dropout_rate_inside_range(rate):
    assert NetworkSpec(2, (DenseSpec(4), DropoutSpec(rate), DenseSpec(1))).validate() == []


def test_residual_shape_mismatch_and_projection_fix():
    block = ResidualSpec((DenseSpec(3), ActivationSpec("relu")))
    spec = NetworkSpec(4, (DenseSpec(4), block, DenseSpec(1)))
    problems = spec.validate()
    assert paths(problems) == ["layers[1]"]
    assert "3" in problems[0].message and "4" in problems[0].message
    assert "projection" in problems[0].message
    with pytest.raises(core.DesignError, match="projection"):
        core.build_network(spec)
    fixed = NetworkSpec(4, (DenseSpec(4), dataclasses.replace(block, projection=True),
                            DenseSpec(1)))
    assert fixed.validate() == []
    net = core.build_network(fixed)
    assert net.parameters()["layers.1.projection"].shape == (4, 3)
    assert net.forward(np.ones((2, 4))).shape == (2, 1)
    assert fixed.parameter_count() == net.parameter_count
    # Projection on a block that keeps the width adds nothing.
    same = NetworkSpec(4, (ResidualSpec((DenseSpec(4),), projection=True), DenseSpec(1)))
    assert "layers.0.projection" not in core.build_network(same).parameters()
    assert same.parameter_count() == core.build_network(same).parameter_count


def test_softmax_cross_entropy_with_one_output():
    spec = NetworkSpec(2, (DenseSpec(4), DenseSpec(1), ActivationSpec("softmax")))
    design = Design(spec, TrainConfig(loss="softmax_cross_entropy"))
    problems = design.validate()
    assert "training.loss" in paths(problems)
    assert any("at least 2 outputs" in p.message for p in problems)
    # A softmax over one output is flagged on the layer, whatever the loss.
    assert "network.layers[2].function" in paths(Design(spec).validate())


def test_fused_loss_needs_its_final_activation_and_task_fit():
    spec = NetworkSpec(2, (DenseSpec(4), DenseSpec(3)))
    problems = Design(spec, TrainConfig(loss="binary_cross_entropy")).validate()
    assert paths(problems) == ["training.loss"]
    assert "Sigmoid" in problems[0].message
    problems = Design(spec, TrainConfig(loss="softmax_cross_entropy")).validate("regression")
    assert paths(problems) == ["training.loss", "training.loss"]


def test_softmax_not_last():
    spec = NetworkSpec(2, (DenseSpec(3), ActivationSpec("softmax"), DenseSpec(2)))
    problems = spec.validate()
    assert paths(problems) == ["layers[1].function"]
    assert "last layer" in problems[0].message
    # Last inside a residual block that is itself last is still not the network's last.
    nested = NetworkSpec(2, (DenseSpec(3), ResidualSpec((DenseSpec(3),
                                                         ActivationSpec("softmax")))))
    assert paths(nested.validate()) == ["layers[1].layers[1].function"]


def test_empty_network():
    problems = NetworkSpec(2, ()).validate()
    assert paths(problems) == ["layers"]
    with pytest.raises(core.DesignError, match="no layers"):
        core.build_network(NetworkSpec(2, ()))


def test_network_without_parameters():
    problems = NetworkSpec(2, (ActivationSpec("tanh"), DropoutSpec(0.1))).validate()
    assert paths(problems) == ["layers"]
    assert "no learnable parameters" in problems[0].message


def test_empty_residual():
    spec = NetworkSpec(2, (DenseSpec(3), ResidualSpec(()), DenseSpec(1)))
    problems = spec.validate()
    assert paths(problems) == ["layers[1].layers"]
    assert "empty" in problems[0].message
    d = Design(NetworkSpec(2, (DenseSpec(3), ResidualSpec((DenseSpec(3),)),
                               DenseSpec(1)))).to_dict()
    d["network"]["layers"][1]["layers"] = []
    # An empty block is well-formed (an editor may hold it) but not trainable.
    assert "network.layers[1].layers" in paths(Design.from_dict(d).validate())


def test_residual_nesting_limit():
    inner: core.LayerSpec = DenseSpec(3)
    for _ in range(MAX_DEPTH + 1):
        inner = ResidualSpec((inner,))
    spec = NetworkSpec(3, (inner,))
    problems = spec.validate()
    assert any("nested deeper" in p.message for p in problems)
    err = design_error(Design(spec).to_dict())
    assert any("nested deeper" in p.message for p in err.problems)
    ok = DenseSpec(3)
    for _ in range(MAX_DEPTH):
        ok = ResidualSpec((ok,))
    assert NetworkSpec(3, (ok,)).validate() == []
    assert Design.from_dict(Design(NetworkSpec(3, (ok,))).to_dict()).network.layers == (ok,)


# ------------------------------------------------------------------ JSON types


WRONG_TYPES = [
    (("network", "layers", 0, "units"), "8", "network.layers[0].units", "integer"),
    (("network", "layers", 0, "units"), True, "network.layers[0].units", "integer"),
    (("network", "layers", 0, "units"), 8.0, "network.layers[0].units", "integer"),
    (("network", "layers", 0, "units"), None, "network.layers[0].units", "integer"),
    (("network", "layers", 0, "bias"), 1, "network.layers[0].bias", "true or false"),
    (("network", "layers", 0, "gain"), "1", "network.layers[0].gain", "number"),
    (("network", "layers", 0, "gain"), False, "network.layers[0].gain", "number"),
    (("network", "layers", 0, "init"), ["he_normal"], "network.layers[0].init", "string"),
    (("network", "layers", 0), ["dense", 3], "network.layers[0]", "object"),
    (("network", "layers", 0), "dense", "network.layers[0]", "object"),
    (("network", "layers"), {"0": {"kind": "dense"}}, "network.layers", "list"),
    (("network", "inputs"), True, "network.inputs", "integer"),
    (("network",), [], "network", "object"),
    (("network",), "2-8-1", "network", "object"),
    (("training",), [], "training", "object"),
    (("training", "learning_rate"), True, "training.learning_rate", "number"),
    (("training", "learning_rate"), "0.1", "training.learning_rate", "number"),
    (("training", "epochs"), 10.5, "training.epochs", "integer"),
    (("training", "seed"), False, "training.seed", "integer"),
    (("training", "nesterov"), "yes", "training.nesterov", "true or false"),
    (("training", "loss"), 3, "training.loss", "string"),
    (("dataset",), [1, 2], "dataset", "object"),
    (("name",), 5, "name", "string"),
]


@pytest.mark.parametrize(("where", "value", "path", "word"), WRONG_TYPES,
                         ids=[w[2] + "=" + repr(w[1]) for w in WRONG_TYPES])
def test_wrong_json_types(where, value, path, word):
    d = good_design_dict()
    target = d
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    err = design_error(d)
    assert paths(err.problems) == [path]
    assert word in err.problems[0].message


def test_unknown_format_and_versions():
    d = good_design_dict()
    for version, word in ((DESIGN_VERSION + 1, "unknown format version"),
                          (0, "unknown format version"), (-1, "unknown format version"),
                          ("1", "integer"), (True, "integer"), (1.0, "integer"),
                          (None, "integer")):
        d["version"] = version
        err = design_error(d)
        assert paths(err.problems) == ["version"], version
        assert word in err.problems[0].message
    d = good_design_dict()
    d["format"] = "keras-model"
    assert paths(design_error(d).problems) == ["format"]
    del d["format"]
    assert paths(design_error(d).problems) == ["format"]
    for not_object in ([], "design", 3, None):
        assert design_error(not_object).problems[0].path == ""


def test_unknown_keys_everywhere():
    d = good_design_dict()
    d["colour"] = "blue"
    d["network"]["activation"] = "relu"
    d["network"]["layers"][0]["units_"] = 3
    d["network"]["layers"][3]["layers"][1]["scale"] = 2
    d["training"]["lr"] = 0.1
    err = design_error(d)
    assert sorted(paths(err.problems)) == sorted([
        "colour", "network.activation", "network.layers[0].units_",
        "network.layers[3].layers[1].scale", "training.lr"])
    # Every message says what is wrong, e.g. lists the known settings.
    assert all("unknown" in p.message for p in err.problems)
    assert "learning_rate" in next(p for p in err.problems if p.path == "training.lr").message


def test_kind_key_outside_a_layer_is_unknown():
    """'kind' names a layer's kind; in the network or training settings it is just an
    unknown key and must not be silently dropped."""
    d = good_design_dict()
    d["network"]["kind"] = "mlp"
    d["training"]["kind"] = "sgd"
    assert sorted(paths(design_error(d).problems)) == ["network.kind", "training.kind"]
    with pytest.raises(core.DesignError, match=r"training\.kind"):
        TrainConfig.from_dict({"kind": "sgd"})
    with pytest.raises(core.DesignError, match=r"network\.kind"):
        NetworkSpec.from_dict({"inputs": 2, "kind": "mlp", "layers": []})


def test_from_dict_reports_every_problem_at_once():
    d = good_design_dict()
    d["network"]["layers"][0]["units"] = 0
    d["network"]["layers"][1]["function"] = "swish"
    d["network"]["layers"][2]["rate"] = 2.0
    d["network"]["layers"][4] = {"kind": "pool"}
    d["training"]["learning_rate"] = -1.0
    d["training"]["optimizer"] = "lbfgs"
    d["extra"] = 1
    err = design_error(d)
    assert sorted(paths(err.problems)) == sorted([
        "network.layers[0].units", "network.layers[1].function", "network.layers[2].rate",
        "network.layers[4].kind", "training.learning_rate", "training.optimizer", "extra"])
    for p in err.problems:  # the exception's text lists them all too
        assert p.path in str(err)


def test_validate_reports_every_problem_at_once():
    spec = NetworkSpec(2, (
        DenseSpec(0),                                   # layers[0].units
        ActivationSpec("softmax"),                      # layers[1].function (not last)
        DropoutSpec(1.0),                               # layers[2].rate
        ResidualSpec(()),                               # layers[3].layers (empty)
        ActivationSpec("swish"),                        # layers[4].function (unknown)
        BatchNormSpec(epsilon=0.0),                     # layers[5].epsilon
        ResidualSpec((DenseSpec(7),)),                  # layers[6] (width mismatch)
        DenseSpec(3, gain=-1.0, init="magic"),          # layers[7].init, layers[7].gain
    ))
    expected = ["layers[0].units", "layers[1].function", "layers[2].rate",
                "layers[3].layers", "layers[4].function", "layers[5].epsilon", "layers[6]",
                "layers[7].init", "layers[7].gain"]
    assert sorted(paths(spec.validate())) == sorted(expected)
    with pytest.raises(core.DesignError) as info:
        core.build_network(spec)
    assert sorted(paths(info.value.problems)) == sorted(expected)
    config = TrainConfig(learning_rate=0.0, batch_size=0, loss="hinge", dtype="float16")
    assert sorted(paths(config.validate())) == sorted(
        ["learning_rate", "batch_size", "loss", "dtype"])
    design_paths = paths(Design(spec, config).validate())
    assert {"network." + p for p in expected} <= set(design_paths)
    assert {"training.learning_rate", "training.batch_size", "training.loss",
            "training.dtype"} <= set(design_paths)


# ------------------------------------------------- every field, every bad value

SPEC_CLASSES = [DenseSpec, ActivationSpec, DropoutSpec, BatchNormSpec, ResidualSpec]
BAD_VALUES = ["8", True, [1], None, {"a": 1}, math.nan, math.inf, 10**400]


def _bad_values_for(info) -> list:
    out = []
    for v in BAD_VALUES:
        if info.type == "bool" and isinstance(v, bool):
            continue
        if info.type in ("str", "choice") and isinstance(v, str) and (
                info.choices is None or v in info.choices()):
            continue
        if info.type == "int" and isinstance(v, int) and not isinstance(v, bool) and (
                info.maximum is None):
            continue
        out.append(v)
    return out


def _layer_cases():
    for cls in SPEC_CLASSES:
        for name, info in field_infos(cls).items():
            for value in _bad_values_for(info):
                yield cls, name, value


LAYER_FIELD_CASES = list(_layer_cases())


@pytest.mark.parametrize(("cls", "name", "value"), LAYER_FIELD_CASES,
                         ids=[f"{c.kind}.{n}={v!r}"[:60] for c, n, v in LAYER_FIELD_CASES])
def test_every_layer_field_rejects_bad_values(cls, name, value):
    """validate() names the field and build_network raises DesignError (never a
    TypeError from arithmetic on the bad value); from_dict likewise."""
    layer = dataclasses.replace(cls(**({"layers": (DenseSpec(4),)} if cls is ResidualSpec
                                       else {})), **{name: value})
    spec = NetworkSpec(4, (DenseSpec(4), layer, DenseSpec(2), DenseSpec(1)))
    problems = spec.validate()
    assert f"layers[1].{name}" in paths(problems)
    with pytest.raises(core.DesignError):
        core.build_network(spec)
    Design(spec, TrainConfig()).validate()  # must not raise either
    d = Design(NetworkSpec(4, (DenseSpec(4), dataclasses.replace(layer, **{
        name: getattr(cls(), name)}), DenseSpec(1)))).to_dict()
    d["network"]["layers"][1][name] = value
    assert f"network.layers[1].{name}" in paths(design_error(d).problems)


CONFIG_FIELD_CASES = [(n, v) for n, info in field_infos(TrainConfig).items()
                      for v in _bad_values_for(info)]


@pytest.mark.parametrize(("name", "value"), CONFIG_FIELD_CASES,
                         ids=[f"{n}={v!r}"[:60] for n, v in CONFIG_FIELD_CASES])
def test_every_training_field_rejects_bad_values(name, value):
    config = dataclasses.replace(TrainConfig(), **{name: value})
    assert name in paths(config.validate())
    spec = NetworkSpec(2, (DenseSpec(3), ActivationSpec("sigmoid")))
    design = Design(spec, config)
    assert f"training.{name}" in paths(design.validate())  # no crash, field named
    d = Design(spec).to_dict()
    d["training"][name] = value
    assert paths(design_error(d).problems) == [f"training.{name}"]


def _numeric_fields():
    for cls in [*SPEC_CLASSES, NetworkSpec, TrainConfig]:
        for name, info in field_infos(cls).items():
            if info.type in ("int", "float"):
                yield cls, name, info


NUMERIC_FIELDS = list(_numeric_fields())


@pytest.mark.parametrize(("cls", "name", "info"), NUMERIC_FIELDS,
                         ids=[f"{c.__name__}.{n}" for c, n, _ in NUMERIC_FIELDS])
def test_numeric_field_bounds(cls, name, info):
    """The bounds a field declares are the ones enforced, on both sides."""
    def problems_for(value):
        obj = dataclasses.replace(cls(), **{name: value})
        if cls in (NetworkSpec, TrainConfig):
            return [p for p in obj.validate() if p.path == name]
        spec = NetworkSpec(4, (DenseSpec(4), obj, DenseSpec(1)))
        return [p for p in spec.validate() if p.path == f"layers[1].{name}"]

    step = 1 if info.type == "int" else 1e-9 * max(1.0, abs(info.maximum or 1.0))
    if info.minimum is not None:
        lo = info.minimum
        assert bool(problems_for(lo)) == (info.exclusive_min and not (
            info.allow_zero and lo == 0))
        below = lo - (step if info.type == "int" else max(1e-12, abs(lo) * 1e-9))
        assert problems_for(int(below) if info.type == "int" else below)
    if info.maximum is not None:
        hi = info.maximum
        assert not problems_for(int(hi) if info.type == "int" else hi)
        above = hi + step if info.type == "int" else hi * (1 + 1e-9)
        assert problems_for(int(above) if info.type == "int" else above)


def test_design_error_text_and_problem_str():
    err = core.DesignError([core.Problem("a.b", "bad"), core.Problem("", "whole")])
    assert str(err) == "a.b: bad\nwhole"
    assert core.DesignError("oops").problems == [core.Problem("", "oops")]
    assert isinstance(err, core.StudioError)


def test_from_dict_does_not_mutate_its_input():
    d = good_design_dict()
    snapshot = copy.deepcopy(d)
    Design.from_dict(d)
    assert d == snapshot
