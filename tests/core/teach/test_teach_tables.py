"""The step-through's presentation tables have an entry for every registry entry, and
each entry is what the step-through shows (issue 12)."""

from __future__ import annotations

import numpy as np
import pytest

from core import ACTIVATIONS, LOSSES, ActivationSpec, DenseSpec, NetworkSpec, build_network
from core.teach.stepthrough import ACTIVATION_FORMULAS, LOSS_WORDS, fmt, walk_step


def test_every_activation_has_its_formulas():
    assert set(ACTIVATION_FORMULAS) == set(ACTIVATIONS)


def test_every_loss_has_its_words():
    assert set(LOSS_WORDS) == set(LOSSES)


def walk(function: str, loss: str = "mse"):
    last = "sigmoid" if function == "tanh" else "tanh"  # another label than the one tested
    layers = (DenseSpec(3), ActivationSpec(function), DenseSpec(2), ActivationSpec(last))
    if function == "softmax":  # softmax only as the last layer
        layers = (DenseSpec(3), ActivationSpec("tanh"), DenseSpec(2), ActivationSpec("softmax"))
    net = build_network(NetworkSpec(inputs=2, layers=layers), seed=1, dtype=np.float64)
    X = np.array([[0.5, -1.2], [-0.3, 0.8]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    return net, walk_step(net, X, Y, loss, 0.1)


@pytest.mark.parametrize("function", sorted(ACTIVATIONS))
def test_activation_stages_write_the_functions_formulas(function):
    _, stages = walk(function)
    k = "²" if function == "softmax" else "¹"  # the Dense layer the activation follows
    z, a = f"z₁⁽{k}⁾", f"a₁⁽{k}⁾"
    label = ACTIVATIONS[function].label
    forward = next(s for s in stages if s.kind == "forward-activation" and label in s.title)
    zv, av = forward.values["z"][0, 0], forward.values["a"][0, 0]
    formulas = ACTIVATION_FORMULAS[function]
    assert f"{a} = {formulas.forward(z, zv)} = {fmt(av)}" in forward.text
    backward = next(s for s in stages if s.kind == "backward-activation" and label in s.title)
    assert f"· {formulas.slope(z, a, zv, av)[0]} = " in backward.text


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_loss_stage_explains_the_loss(loss):
    info = LOSSES[loss]
    _, stages = walk("softmax" if info.fused_activation == "softmax" else "tanh", loss)
    stage = next(s for s in stages if s.kind == "loss")
    assert stage.title == f"Error E ({info.label})"
    assert f"= {fmt(float(stage.values['E']))}" in stage.text
    if loss == "mse":  # worked term by term
        assert "squared differences" in stage.text
    else:
        assert info.description in stage.text
