"""Finite-difference gradient checks of a whole design, layer by layer, in float64.

Used by ``main.py gradcheck`` so a user can confirm that backpropagation's gradients are
the true derivatives of the loss for their own design.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .build import build_network
from .layers import Dropout
from .losses import get_loss
from .spec import Design


@dataclass(frozen=True)
class GradCheckRow:
    """One parameter tensor: its name, size, and max relative error vs finite differences."""

    name: str
    size: int
    relative_error: float


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """||a - n|| / (||a|| + ||n||): scale-free, and not fooled by elements whose true
    gradient is near zero (where finite differences only see rounding noise)."""
    denom = float(np.linalg.norm(analytic) + np.linalg.norm(numeric))
    return float(np.linalg.norm(analytic - numeric)) / denom if denom > 1e-300 else 0.0


def check_design(design: Design, samples: int = 8, seed: int = 0, eps: float = 1e-6,
                 max_per_tensor: int = 50) -> list[GradCheckRow]:
    """Compare backpropagation's gradients with central differences for ``design``.

    Random inputs (``samples``, inputs) and random targets of the output's shape are
    drawn from ``seed``; dropout masks are frozen so the loss is a fixed function. At most
    ``max_per_tensor`` randomly chosen elements of each tensor are perturbed.
    """
    net = build_network(design.network, seed=seed, dtype=np.float64)
    loss = get_loss(design.training.loss)
    logits = loss.fused_activation is not None
    rng = np.random.default_rng(seed + 1)
    X = rng.normal(size=(samples, net.inputs))
    if loss.fused_activation == "softmax":
        Y = np.eye(net.outputs)[rng.integers(0, net.outputs, samples)]
    elif loss.fused_activation == "sigmoid":
        Y = rng.integers(0, 2, size=(samples, net.outputs)).astype(np.float64)
    else:
        Y = rng.normal(size=(samples, net.outputs))
    for layer in net.all_layers():
        if isinstance(layer, Dropout):
            layer.freeze_mask = True

    def value() -> float:
        return loss.value(net.forward_buffer(X, True, logits), Y)

    out = net.forward_buffer(X, True, logits)
    _, grad = loss.value_and_grad(out, Y)
    net.backward(grad)
    analytic = {k: v.copy() for k, v in net.gradients().items()}
    rows = []
    for name, param in net.parameters().items():
        flat = param.reshape(-1)
        idx = np.arange(flat.size)
        if flat.size > max_per_tensor:
            idx = rng.choice(flat.size, max_per_tensor, replace=False)
        numeric = np.empty(idx.size)
        for j, i in enumerate(idx):
            old = flat[i]
            flat[i] = old + eps
            up = value()
            flat[i] = old - eps
            down = value()
            flat[i] = old
            numeric[j] = (up - down) / (2 * eps)
        rows.append(GradCheckRow(name, int(flat.size),
                                 relative_error(analytic[name].reshape(-1)[idx], numeric)))
    return rows
