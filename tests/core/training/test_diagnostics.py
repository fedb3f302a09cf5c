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


def test_deep_sigmoid_example_flags_its_early_layers():
    design = load_design("resources/examples/deep_sigmoid.json")
    trainer = Trainer(design, load_dataset(DatasetSpec.from_dict(design.dataset)))
    rows = []
    for snap in trainer.run():
        if isinstance(snap, StepSnapshot):
            rows.append(snap.grad_norms)
        if len(rows) == 100:
            break
    norms = np.array(rows)
    status = gradient_health(trainer.layer_names, norms, norms[0])
    assert status["layers.0"] == "vanishing"
    assert status[trainer.layer_names[-1]] == "ok"
    assert "ReLU" in health_hint(status)


def test_xor_example_is_healthy():
    design = load_design("resources/examples/xor.json")
    trainer = Trainer(design, load_dataset(DatasetSpec.from_dict(design.dataset)))
    rows = [s.grad_norms for s, _ in zip(
        (s for s in trainer.run() if isinstance(s, StepSnapshot)), range(100), strict=False)]
    norms = np.array(rows)
    assert set(gradient_health(trainer.layer_names, norms, norms[0]).values()) == {"ok"}
