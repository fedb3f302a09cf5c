"""Gradient health flags on real runs and on constructed norms."""

from __future__ import annotations

import numpy as np

from core.datasets import DatasetSpec, load_dataset
from core.files.design_file import load_design
from core.records.snapshots import StepSnapshot
from core.training.diagnostics import gradient_health, health_hint
from core.training.trainer import Trainer

NAMES = ("layers.0", "layers.2", "layers.4")


def test_constructed_cases():
    healthy = np.array([[0.5, 0.6, 0.7]] * 5)
    assert set(gradient_health(NAMES, healthy, healthy[0]).values()) == {"ok"}
    vanishing = np.array([[1e-6, 1e-2, 0.7]] * 5)
    assert gradient_health(NAMES, vanishing, vanishing[0]) == {
        "layers.0": "vanishing", "layers.2": "ok", "layers.4": "ok"}
    first = np.array([0.1, 0.1, 0.1])
    grown = np.array([[0.1, 0.1, 0.1], [500.0, 0.2, np.inf]])
    status = gradient_health(NAMES, grown, first)
    assert status == {"layers.0": "exploding", "layers.2": "ok", "layers.4": "exploding"}
    hint = health_hint(status, {"layers.0": "Dense 16"})
    assert "Dense 16" in hint and "clipping" in hint


def test_one_noisy_step_does_not_flag():
    rows = np.array([[0.5, 0.6, 0.7]] * 19 + [[1e-9, 0.6, 0.7]])
    assert gradient_health(NAMES, rows, rows[0])["layers.0"] == "ok"


def grad_rows(design, steps: int) -> tuple[tuple[str, ...], np.ndarray]:
    """The layers with parameters of ``design`` and their gradient norms over its first
    ``steps`` steps (steps, layers)."""
    trainer = Trainer(design, load_dataset(DatasetSpec.from_dict(design.dataset)))
    rows = []
    for snap in trainer.run():
        if isinstance(snap, StepSnapshot):
            rows.append(snap.grad_norms)
            if len(rows) == steps:
                break
    return trainer.layer_names, np.array(rows)


def test_deep_sigmoid_example_flags_its_early_layers():
    names, norms = grad_rows(load_design("resources/examples/deep_sigmoid.json"), 100)
    status = gradient_health(names, norms, norms[0])
    assert status["layers.0"] == "vanishing"
    assert status[names[-1]] == "ok"
    assert "ReLU" in health_hint(status)


def test_xor_example_is_healthy():
    design = load_design("resources/examples/xor.json")
    trainer = Trainer(design, load_dataset(DatasetSpec.from_dict(design.dataset)))
    rows = [s.grad_norms for s, _ in zip(
        (s for s in trainer.run() if isinstance(s, StepSnapshot)), range(100), strict=False)]
    norms = np.array(rows)
    assert set(gradient_health(trainer.layer_names, norms, norms[0]).values()) == {"ok"}


def test_conv_layers_get_gradient_norms_and_the_diagnostics_name_them():
    from dataclasses import replace

    from core.design.edit import all_paths, layer_at, runtime_name
    from tests.scripts.conv_digits import conv_digits_design

    design = conv_digits_design()
    names, rows = grad_rows(design, 40)
    # Every layer with parameters has its curve: both convolutions (weights and bias in
    # one group each) and the dense layer, in order.
    assert names == ("layers.0", "layers.3", "layers.6")
    assert rows.shape == (40, 3) and np.all(np.isfinite(rows)) and np.all(rows > 0)
    assert set(gradient_health(names, rows, rows[0]).values()) == {"ok"}
    # The second convolution starting near zero (and plain SGD too slow to grow it)
    # starves the first of gradient (measured: 2e-4 of the dense layer's norm, against
    # the 1e-3 threshold): the first convolution is named vanishing.
    layers = list(design.network.layers)
    layers[3] = replace(layers[3], gain=1e-6)
    starved = replace(design, network=replace(design.network, layers=tuple(layers)),
                      training=replace(design.training, optimizer="sgd",
                                       learning_rate=1e-4))
    names, rows = grad_rows(starved, 40)
    status = gradient_health(names, rows, rows[0])
    assert status == {"layers.0": "vanishing", "layers.3": "ok", "layers.6": "ok"}
    labels = {runtime_name(p): layer_at(starved.network, p).summary()
              for p in all_paths(starved.network)}
    hint = health_hint(status, labels)
    assert "Gradients vanish before they reach " + labels["layers.0"] in hint
    assert "Conv" in labels["layers.0"]
