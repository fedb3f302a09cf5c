"""One rule for "do the network's outputs fit the data": the network check reports a
mismatch exactly when the trainer's target encoding refuses the data (issue 12)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core import LOSSES, ActivationSpec, DenseSpec, Design, NetworkSpec, TrainConfig
from core.design.check import DataShape, check
from core.design.outputs import target_layout
from core.errors import DesignError
from core.training.targets import encode_targets


def design(outputs: int, loss: str) -> Design:
    final = LOSSES[loss].fused_activation or "linear"
    if final == "softmax" and outputs < 2:
        final = "sigmoid"  # a softmax over one output is a problem of its own
    net = NetworkSpec(inputs=2, layers=(DenseSpec(4), ActivationSpec("tanh"),
                                        DenseSpec(outputs), ActivationSpec(final)))
    return Design(net, TrainConfig(loss=loss))


CASES = [case for case in itertools.product(("classification", "regression"), (1, 2, 3),
                                           (1, 2, 3), sorted(LOSSES))
         if not (case[0] == "classification" and case[1] < 2)]  # two classes at least


@pytest.mark.parametrize(("task", "n_data", "outputs", "loss"), CASES)
def test_the_check_and_the_encoding_agree(task, n_data, outputs, loss):
    info = LOSSES[loss]
    mismatch = [p for p in check(design(outputs, loss), DataShape(task, 2, n_data))
                if p.field == "units"]
    y = np.arange(10) % n_data if task == "classification" else np.ones((10, n_data))
    try:
        encoded = encode_targets(y, task, n_data if task == "classification" else 0, outputs,
                                 info, np.dtype(np.float64))
    except DesignError as exc:
        assert mismatch, exc
        assert mismatch[0].message == exc.problems[0].message
        assert target_layout(task, n_data, outputs, info) is None
    else:
        assert not mismatch
        assert encoded.shape == (10, outputs)


def test_one_hot_losses_refuse_a_single_output_for_two_classes():
    softmax_ce, bce = LOSSES["softmax_cross_entropy"], LOSSES["binary_cross_entropy"]
    assert softmax_ce.one_hot and not bce.one_hot
    assert target_layout("classification", 2, 1, softmax_ce) is None
    assert target_layout("classification", 2, 1, bce) == "binary"
    assert target_layout("classification", 3, 3, bce) == "one-hot"
    assert target_layout("regression", 2, 2, LOSSES["mse"]) == "values"
