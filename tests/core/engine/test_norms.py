"""Norms that do not overflow, and divergence messages that name the layer.

The float32 sum of squares of a gradient overflows once its norm passes about 1.8e19,
while every element is still finite. Before, that made the trainer report "the weight
update became non-finite" naming no layer (digits or sine with SGD at learning rate 1e4),
and made clipping zero a finite gradient.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from core import DenseSpec, Design, NetworkSpec, TrainConfig, build_network
from core.datasets import DatasetSpec, load_dataset
from core.engine.norms import combine_norms, stable_norm
from core.files.design_file import load_design
from core.records.snapshots import RunEnd, StepSnapshot
from core.training.step import TrainStep
from core.training.trainer import Trainer

EXAMPLES = Path(__file__).resolve().parents[3] / "resources" / "examples"


def test_stable_norm_of_huge_finite_float32_values_is_finite_and_right():
    x = np.array([3e20, -4e20], dtype=np.float32)
    with np.errstate(over="ignore"):
        assert not math.isfinite(float(np.dot(x, x)))  # the naive check overflows
    assert stable_norm(x) == pytest.approx(5e20, rel=1e-6)
    big = np.full(1000, 3e38, dtype=np.float32)  # near float32's largest value
    assert stable_norm(big) == pytest.approx(3e38 * math.sqrt(1000), rel=1e-6)
    assert combine_norms(np.array([3e200, 4e200])) == pytest.approx(5e200)


def test_stable_norm_keeps_real_infinities_and_nans():
    assert stable_norm(np.array([1.0, np.inf], dtype=np.float32)) == math.inf
    assert math.isnan(stable_norm(np.array([np.nan, 1.0])))
    assert stable_norm(np.zeros(3)) == 0.0 and stable_norm(np.zeros(0)) == 0.0


def test_group_norms_recompute_only_the_groups_that_overflowed():
    net = build_network(NetworkSpec(2, (DenseSpec(3), DenseSpec(1))), seed=0)
    flat = np.ones_like(net.flat_params)
    a, b = net.groups[0].start, net.groups[0].stop
    flat[a:b] = 1e20
    with np.errstate(over="ignore"):
        norms = net.group_norms(flat)
    assert norms[0] == pytest.approx(1e20 * math.sqrt(b - a), rel=1e-6)
    assert norms[1] == pytest.approx(math.sqrt(net.groups[1].stop - net.groups[1].start))
    assert net.nonfinite_groups(flat) == []
    flat[b] = np.inf
    assert net.nonfinite_groups(flat) == ["layers.1"]


def test_clipping_rescales_a_huge_finite_gradient_instead_of_zeroing_it():
    # A linear unit on inputs of 1e18: the float32 loss (1e36) and every gradient element
    # are finite, but the gradient's sum of squares is not.
    net = build_network(NetworkSpec(4, (DenseSpec(1),)), seed=0)
    X = np.full((8, 4), 1e18, dtype=np.float32)
    Y = np.zeros((8, 1), dtype=np.float32)
    step = TrainStep(net, TrainConfig(loss="mse", clip_norm=1.0))
    with np.errstate(over="ignore"):
        loss, _, norm = step.compute_gradients(X, Y)
    assert math.isfinite(loss) and math.isfinite(norm) and norm > 1e30
    assert np.all(np.isfinite(step.last_grad_norms))
    assert stable_norm(net.flat_grads) == pytest.approx(1.0, rel=1e-4)


def test_the_trainer_clips_a_huge_finite_gradient_and_goes_on():
    data = SimpleNamespace(task="regression", x_train=np.full((16, 4), 1e18),
                           y_train=np.zeros((16, 1)), x_val=np.zeros((0, 4)),
                           y_val=np.zeros((0, 1)), n_classes=0)
    design = Design(NetworkSpec(4, (DenseSpec(1),)),
                    TrainConfig(loss="mse", clip_norm=1.0, learning_rate=1e-20,
                                batch_size=8, epochs=1, blow_up="off"))
    with np.errstate(over="ignore"):
        snaps = list(Trainer(design, data).run())
    assert snaps[-1].reason == "finished"
    steps = [s for s in snaps if isinstance(s, StepSnapshot)]
    assert len(steps) == 2 and all(math.isfinite(s.grad_norm) for s in steps)
    assert all(math.isfinite(g) for s in steps for g in s.grad_norms)


@pytest.mark.parametrize("example", ["digits", "sine_regression"])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
def test_every_divergence_at_learning_rate_1e4_names_a_layer(example, optimizer):
    # Before: "the weight update became non-finite" in no layer, at step 3-4, while
    # every element of the update was finite.
    design = load_design(EXAMPLES / f"{example}.json")
    design = dataclasses.replace(design, training=dataclasses.replace(
        design.training, learning_rate=1e4, optimizer=optimizer, blow_up="off",
        epochs=3))
    trainer = Trainer(design, load_dataset(DatasetSpec.from_dict(design.dataset)))
    with np.errstate(over="ignore", invalid="ignore"):
        end = [s for s in trainer.run() if isinstance(s, RunEnd)][0]
    assert end.reason == "diverged"
    names = [layer.name for layer in trainer.network.all_layers()]
    assert end.layer in names
    assert f"non-finite in {end.layer}" in end.message
    assert np.all(np.isfinite(trainer.network.flat_params))


def test_a_float64_gradient_whose_norm_overflows_is_named_by_layer():
    # Every element finite (1.5e308), but the norm of the last layer's gradient is beyond
    # float64: the message names that layer and says it was the norm.
    data = SimpleNamespace(task="regression", x_train=np.full((4, 2), 1.5e308),
                           y_train=np.zeros((4, 1)), x_val=np.zeros((0, 2)),
                           y_val=np.zeros((0, 1)), n_classes=0)
    design = Design(NetworkSpec(2, (DenseSpec(1),)),
                    TrainConfig(loss="mae", batch_size=4, epochs=1, dtype="float64",
                                blow_up="off"))
    trainer = Trainer(design, data)
    trainer.network.flat_params[:] = 1e-300  # outputs ~3e8: a finite loss
    with np.errstate(over="ignore", invalid="ignore"):
        end = list(trainer.run())[-1]
    assert end.reason == "diverged", end.message
    assert end.layer == "layers.0" and "non-finite in layers.0" in end.message
