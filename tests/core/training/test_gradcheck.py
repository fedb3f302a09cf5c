"""``gradcheck`` on correct code passes, on a wrong backward pass fails.

Before: the deep sigmoid example FAILED (round-off with the fixed step 1e-6 on its tiny
first-layer gradients), and so did narrow ReLU networks (zero biases put units exactly
on the kink, where a central difference is no derivative).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

import main
from core import ACTIVATIONS
from core.design.spec import Design
from core.files.design_file import load_design
from core.training.gradcheck import check_design

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "resources" / "examples")
                  .glob("*.json"))
NARROW_RELU = {
    "format": "backprop-studio-design", "version": 1, "name": "narrow ReLU MLP",
    "network": {"inputs": 2, "layers": [
        {"kind": "dense", "units": 3}, {"kind": "activation", "function": "relu"},
        {"kind": "dense", "units": 3}, {"kind": "activation", "function": "relu"},
        {"kind": "dense", "units": 3}, {"kind": "activation", "function": "relu"},
        {"kind": "dense", "units": 1}]},
    "training": {"loss": "mse"},
}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("seed", [0, 1])
def test_every_example_design_passes(capsys, path, seed):
    rc = main.main(["gradcheck", str(path), "--seed", str(seed)])
    out, err = capsys.readouterr()
    assert rc == 0, out
    assert out.strip().splitlines()[-1].startswith("OK: ")


def test_deep_sigmoid_first_layer_is_checked_with_a_margin():
    rows = {r.name: r for r in check_design(load_design(
        next(p for p in EXAMPLES if p.stem == "deep_sigmoid")))}
    first = rows["layers.0.weight"]
    assert first.checked == first.size and first.kinks == 0
    # Measured (seeds 0-3): absolute error <= 1e-13 (tolerance 1e-11); relative 1e-6..7e-6.
    assert first.absolute_error < 1e-12


@pytest.mark.parametrize("seed", [0, 2, 5])
def test_narrow_relu_network_reports_kinks_not_failure(capsys, tmp_path, seed):
    path = tmp_path / "relu.json"
    path.write_text(json.dumps(NARROW_RELU))
    rows = check_design(load_design(path), seed=seed)
    assert sum(r.kinks for r in rows) > 0  # seeds 0, 2 and 5 put units on the kink
    assert all(r.passed() for r in rows)
    assert all(r.checked + r.kinks == min(r.size, 50) for r in rows)
    rc = main.main(["gradcheck", str(path), "--seed", str(seed)])
    out, _ = capsys.readouterr()
    assert rc == 0 and "across its kink" in out


@pytest.mark.parametrize("example, activation", [("xor", "tanh"),
                                                 ("deep_sigmoid", "sigmoid")])
def test_a_slightly_wrong_backward_pass_fails(capsys, monkeypatch, example, activation):
    info = ACTIVATIONS[activation]

    def wrong(x, y, g, out, scratch=None):  # the true derivative, 0.1 % too large
        res = info.backward(x, y, g, out, scratch)
        res *= 1.001
        return res

    monkeypatch.setitem(ACTIVATIONS, activation, replace(info, backward=wrong))
    path = str(next(p for p in EXAMPLES if p.stem == example))
    rc = main.main(["gradcheck", path])
    out, _ = capsys.readouterr()
    assert rc == 1
    assert "<-- above both tolerances" in out and out.strip().splitlines()[-1].startswith(
        "FAILED")


def test_a_wrong_relu_backward_fails_despite_the_kinks(monkeypatch):
    info = ACTIVATIONS["relu"]

    def wrong(x, y, g, out, scratch=None):
        res = info.backward(x, y, g, out, scratch)
        res *= 0.5
        return res

    monkeypatch.setitem(ACTIVATIONS, "relu", replace(info, backward=wrong))
    rows = check_design(Design.from_dict(NARROW_RELU), seed=1)
    assert not all(r.passed() for r in rows)
