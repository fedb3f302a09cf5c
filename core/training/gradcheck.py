"""Finite-difference gradient checks of a whole design, layer by layer, in float64.

Used by ``main.py gradcheck`` so a user can confirm that backpropagation's gradients are
the true derivatives of the loss for their own design. Two things make a naive check
report failures on correct code, and both are handled here:

- *The step size.* A central difference with step h has a truncation error of order
  h² and a round-off error of order 1e-16·|E|/h. For a tiny gradient (the first layers
  of a deep sigmoid network) one fixed h leaves round-off larger than the gradient.
  Each entry is therefore differenced with several steps, ``STEPS`` times
  max(1, |θ|). For neighbouring steps, the gap between their estimates (truncation)
  plus the smaller step's rounding error ``ROUND_OFF``·|E|/h bounds the smaller step's
  error; the estimate with the smallest bound is kept. The choice never looks at the
  analytic gradient, so a wrong backward pass still fails.
- *Kinks.* ReLU's slope jumps at 0. With zero initial biases, a unit whose inputs are
  all zero sits exactly on the kink, and a difference stepping across it is no
  derivative at all. A step that moves any unit of a kinked activation
  (``ActivationInfo.kink``) across 0 is not used; an entry whose every step does is
  reported as a *kink* and left out of the errors (as PyTorch's gradcheck and CS231n
  advise).

Each tensor's absolute error (largest |analytic - numeric|) and relative error
(||a - n|| / (||a|| + ||n||)) are reported separately; it passes when either is within
its tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.design.spec import Design
from core.engine.layers import Activation, Dropout
from core.engine.losses import get_loss
from core.training.build import build_network

STEPS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7)  # relative to max(1, |θ|), largest first
ROUND_OFF = 1e-15  # relative rounding error of a computed loss (a few float64 ulps)
RELATIVE_TOLERANCE = 1e-5
# About 100x the rounding floor (ROUND_OFF·|E|/h at the largest step) and 100x below the
# smallest gradients of the examples (the deep sigmoid network's first layer, ~1e-9).
ABSOLUTE_TOLERANCE = 1e-11


@dataclass(frozen=True)
class GradCheckRow:
    """One parameter tensor: its name and size, how many entries were compared
    (``checked``), how many were left out at a kink (``kinks``), and the errors of the
    compared entries against central differences."""

    name: str
    size: int
    relative_error: float
    absolute_error: float = 0.0
    checked: int = 0
    kinks: int = 0

    def passed(self, rtol: float = RELATIVE_TOLERANCE,
               atol: float = ABSOLUTE_TOLERANCE) -> bool:
        """Within either tolerance (a gradient that is ~0 only has an absolute error)."""
        return self.relative_error <= rtol or self.absolute_error <= atol


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """||a - n|| / (||a|| + ||n||): scale-free, and not fooled by elements whose true
    gradient is near zero (where finite differences only see rounding noise)."""
    denom = float(np.linalg.norm(analytic) + np.linalg.norm(numeric))
    return float(np.linalg.norm(analytic - numeric)) / denom if denom > 1e-300 else 0.0


def _best_estimate(estimates: list[tuple[float, float] | None]) -> float | None:
    """From (estimate, rounding error) per step, largest step first (None where the
    step crossed a kink): the smaller step of the neighbouring pair whose gap plus that
    step's rounding error is smallest."""
    best, bound = None, np.inf
    for big, small in zip(estimates, estimates[1:], strict=False):
        if big is not None and small is not None:
            b = abs(big[0] - small[0]) + small[1]
            if b < bound:
                best, bound = small[0], b
    if best is None:  # no two usable neighbours: any usable one
        best = next((e[0] for e in estimates if e is not None), None)
    return best


def check_design(design: Design, samples: int = 8, seed: int = 0,
                 max_per_tensor: int = 50,
                 steps: tuple[float, ...] = STEPS) -> list[GradCheckRow]:
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
    if loss.one_hot:
        Y = np.eye(net.outputs)[rng.integers(0, net.outputs, samples)]
    elif "regression" not in loss.tasks:  # yes/no targets
        Y = rng.integers(0, 2, size=(samples, net.outputs)).astype(np.float64)
    else:
        Y = rng.normal(size=(samples, net.outputs))
    kinked = [layer for layer in net.all_layers()
              if isinstance(layer, Activation) and layer.info.kink]
    for layer in net.all_layers():
        if isinstance(layer, Dropout):
            layer.freeze_mask = True

    def value() -> tuple[float, list[np.ndarray]]:
        """The loss, and which side of the kink every kinked unit is on."""
        e = loss.value(net.forward_buffer(X, True, logits), Y)
        # ReLU and leaky ReLU outputs are positive exactly where their inputs are.
        return e, [layer.last_output > 0 for layer in kinked if layer.last_output is not None]

    _, base_sides = value()
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
        numeric, used = [], []
        for i in idx:
            old = float(flat[i])
            estimates: list[tuple[float, float] | None] = []
            for step in steps:
                h = step * max(1.0, abs(old))
                flat[i] = old + h
                up, up_sides = value()
                flat[i] = old - h
                down, down_sides = value()
                flat[i] = old
                same_side = all(np.array_equal(a, b) and np.array_equal(a, c) for a, b, c
                                in zip(base_sides, up_sides, down_sides, strict=True))
                noise = ROUND_OFF * max(abs(up), abs(down)) / h
                estimates.append(((up - down) / (2 * h), noise) if same_side else None)
            best = _best_estimate(estimates)
            if best is not None:
                numeric.append(best)
                used.append(i)
        a = analytic[name].reshape(-1)[np.asarray(used, dtype=np.intp)]
        n = np.asarray(numeric, dtype=np.float64)
        abs_err = float(np.max(np.abs(a - n))) if n.size else 0.0
        rows.append(GradCheckRow(name, int(flat.size), relative_error(a, n), abs_err,
                                 len(used), len(idx) - len(used)))
    return rows
