"""Compare mode, headless: design B from A and a few changed settings (checked per field,
seed and data kept), the runs' names, and two recorded runs from the same start."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from core import DesignError
from core.datasets import DatasetSpec, load_dataset
from core.files.design_file import load_design
from core.records.diff import design_diff
from core.resources import resource_path
from core.training.compare import compare, compare_names, settings_variant
from core.training.trainer import Trainer


@pytest.fixture(scope="module")
def xor():
    d = load_design(resource_path("examples", "xor.json"))
    return replace(d, training=replace(d.training, epochs=3))


def problem_paths(exc: pytest.ExceptionInfo) -> list[str]:
    return [p.path for p in exc.value.problems]


def test_variant_changes_only_the_given_settings(xor):
    b = settings_variant(xor, {"learning_rate": 1, "optimizer": "momentum"})
    assert b.training.learning_rate == 1.0 and isinstance(b.training.learning_rate, float)
    assert b.training.optimizer == "momentum"
    assert b.network == xor.network and b.dataset == xor.dataset and b.name == xor.name
    assert b.training.seed == xor.training.seed
    assert design_diff(xor, b) == [f"optimizer: {xor.training.optimizer} -> momentum",
                                   f"learning rate: {xor.training.learning_rate!r} -> 1.0"]


@pytest.mark.parametrize(("changes", "path", "words"), [
    ({"learning_rate": -1.0}, "training.learning_rate", "Learning rate must be a number > 0"),
    ({"batch_size": 2.5}, "training.batch_size", "Batch size must be an integer"),
    ({"optimizer": "lbfgs"}, "training.optimizer", "unknown choice 'lbfgs'"),
    ({"momentum": float("nan")}, "training.momentum", "must be a finite number"),
    ({"warmup": 3}, "training.warmup", "not a training setting"),
    ({"seed": 7}, "training.seed", "same seed"),
    ({"loss": "softmax_cross_entropy"}, "training.loss", "Softmax"),
])
def test_a_bad_change_names_the_field(xor, changes, path, words):
    with pytest.raises(DesignError) as exc:
        settings_variant(xor, changes)
    assert path in problem_paths(exc)
    assert words in str(exc.value)


def test_the_seed_may_be_given_unchanged(xor):
    assert settings_variant(xor, {"seed": xor.training.seed}) == xor


def test_names_say_what_differs(xor):
    lr = xor.training.learning_rate
    b = settings_variant(xor, {"learning_rate": 1.0})
    assert compare_names(xor, b) == (f"A: lr {lr!r}", "B: lr 1.0")
    many = settings_variant(xor, {"learning_rate": 1.0, "batch_size": 20, "l2": 0.01,
                                  "nesterov": True, "epochs": 4})
    a_name, b_name = compare_names(xor, many)
    assert b_name == "B: lr 1.0, nesterov on, batch size 20, +2 more"
    assert a_name == f"A: lr {lr!r}, nesterov off, batch size 10, +2 more"


def test_same_seed_same_start_different_course(xor):
    b = settings_variant(xor, {"learning_rate": 1.5})
    data = load_dataset(DatasetSpec.from_dict(xor.dataset))
    # The same initial weights: both trainers build the network from the same seed.
    wa = Trainer(xor, data).network.state_dict()
    wb = Trainer(b, data).network.state_dict()
    assert wa.keys() == wb.keys()
    assert all(np.array_equal(wa[k], wb[k]) for k in wa)

    ra, rb = compare(xor, {"learning_rate": 1.5})
    assert (ra.name, rb.name) == compare_names(xor, b)
    assert ra.design == xor and rb.design == b
    assert ra.seed == rb.seed == xor.training.seed
    assert ra.end_reason == rb.end_reason == "finished"
    assert ra.epochs == rb.epochs == 3 and ra.steps == rb.steps > 0
    # Step 1's loss is measured before the first update: identical. The updates differ,
    # so the courses part after it.
    assert ra.loss_curve[0, 0] == rb.loss_curve[0, 0] == 1
    assert ra.loss_curve[0, 1] == rb.loss_curve[0, 1]
    assert not np.array_equal(ra.loss_curve[1:, 1], rb.loss_curve[1:, 1])
    assert ra.final_train_loss != rb.final_train_loss
    assert len(ra.history) == len(rb.history) == 3


def test_compare_refuses_no_change_before_training(xor):
    with pytest.raises(DesignError, match="same settings as A"):
        compare(xor, {"learning_rate": xor.training.learning_rate})


def test_a_diverging_run_is_recorded_and_the_other_still_runs():
    d = load_design(resource_path("examples", "sine_regression.json"))
    d = replace(d, training=replace(d.training, optimizer="sgd", learning_rate=1000.0,
                                    epochs=2))
    ra, rb = compare(d, {"learning_rate": 0.01})
    assert ra.end_reason == "diverged" and "diverged" in ra.end_message
    assert rb.end_reason == "finished" and rb.epochs == 2
