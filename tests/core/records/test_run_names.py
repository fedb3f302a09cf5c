"""Run names from what made a run: a short diff against the previous run."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.design.spec import DropoutSpec
from core.files.design_file import load_design
from core.files.project_model import ProjectModel
from core.records.record import RunRecord
from core.records.run_names import default_run_name, short_changes, unique_name
from core.resources import resource_path


@pytest.fixture(scope="module")
def xor():
    return load_design(resource_path("examples", "xor.json"))


def training(design, **changes):
    return replace(design, training=replace(design.training, **changes))


def test_the_first_run_and_a_repeat_are_numbered(xor):
    assert default_run_name(xor, []) == "Run 1"
    runs = [RunRecord(xor, name="Run 1")]
    assert default_run_name(replace(xor, name="renamed"), runs) == "Run 2"


def test_a_setting_change_names_the_new_value(xor):
    runs = [RunRecord(xor, name="Run 1")]
    assert default_run_name(training(xor, learning_rate=0.1), runs) == "lr 0.1"
    assert default_run_name(training(xor, batch_size=32), runs) == "batch size 32"
    two = training(xor, learning_rate=0.1, l2=0.01)
    assert default_run_name(two, runs) == "lr 0.1, L2 0.01"


def test_layer_changes_are_named_by_the_layer(xor):
    net = xor.network
    layers = net.layers
    added = replace(xor, network=replace(net, layers=(*layers[:2], DropoutSpec(rate=0.2),
                                                      *layers[2:])))
    assert short_changes(xor, added) == ["+dropout 0.2"]
    assert short_changes(added, xor) == ["−dropout 0.2"]
    act = next(i for i, layer in enumerate(layers) if layer.kind == "activation")
    other = "relu" if layers[act].function != "relu" else "tanh"
    swapped = replace(xor, network=replace(
        net, layers=tuple(replace(layer, function=other) if i == act else layer
                          for i, layer in enumerate(layers))))
    assert short_changes(xor, swapped) == [other]


def test_many_changes_are_counted_and_names_stay_unique(xor):
    runs = [RunRecord(xor, name="Run 1")]
    many = training(xor, learning_rate=0.1, l2=0.01, epochs=7, batch_size=5, seed=9)
    name = default_run_name(many, runs)
    assert name.endswith(", +2 more") and name.count(",") == 3
    lr = training(xor, learning_rate=0.1)
    runs.append(RunRecord(lr, name="lr 0.1"))
    runs.append(RunRecord(xor, name="Run 2"))
    assert default_run_name(lr, runs) == "lr 0.1 (2)"
    assert unique_name("a", ["a", "a (2)"]) == "a (3)"


def test_the_project_model_names_an_unnamed_run_against_the_previous_one(xor):
    model = ProjectModel(xor)
    first = model.add_run(RunRecord(xor))
    second = model.add_run(RunRecord(training(xor, learning_rate=0.1)))
    named = model.add_run(RunRecord(xor, name="mine"))
    assert (first.name, second.name, named.name) == ("Run 1", "lr 0.1", "mine")
