"""Shared set-up for the engine tests.

Every test under tests/core runs with floating-point overflow, invalid operations and
division by zero turned into errors: the engine must stay clean on valid inputs.
Underflow (e.g. exp(-1e4) -> 0 in a stable softmax) is expected and stays silent.

The ``gradcheck`` fixture (session-scoped, so hypothesis tests may use it) bundles the
central-difference helpers the gradient tests share.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
import pytest

import core
from core.engine.layers import Activation, Dropout

H = 1e-6  # central-difference step (float64)
KINKED = ("relu", "leaky_relu")  # activations whose derivative jumps at 0
KINK_MARGIN = 1e-3  # pre-activations closer than this to 0 are rejected


@pytest.fixture(autouse=True)
def _strict_floating_point():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        yield


def rel_error(analytic: np.ndarray, numeric: np.ndarray, floor: float = 0.0) -> float:
    """||a - n|| / max(||a||, ||n||, floor): 0 when both are exactly zero.

    ``floor`` keeps a gradient that is zero in exact arithmetic (a bias feeding a
    BatchNorm) from turning rounding noise of 1e-16 into a relative error of 1.
    """
    a = np.asarray(analytic, dtype=np.float64).ravel()
    n = np.asarray(numeric, dtype=np.float64).ravel()
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(n)), floor)
    if scale == 0.0:
        return 0.0
    return float(np.linalg.norm(a - n)) / scale


def numeric_grad(f: Callable[[], float], x: np.ndarray, h: float = H) -> np.ndarray:
    """df/dx by central differences, perturbing ``x`` (a writable array or view) in place."""
    g = np.zeros(x.shape, dtype=np.float64)
    flat = x.reshape(-1)
    assert np.shares_memory(flat, x), "x must be perturbable in place"
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        fp = f()
        flat[i] = old - h
        fm = f()
        flat[i] = old
        g.reshape(-1)[i] = (fp - fm) / (2.0 * h)
    return g


def freeze_dropout(net: core.Network) -> None:
    for layer in net.all_layers():
        if isinstance(layer, Dropout):
            layer.freeze_mask = True


def kink_distance(net: core.Network) -> float:
    """Smallest |pre-activation| over every ReLU/leaky-ReLU layer in the last forward pass
    (inf if there is none)."""
    d = np.inf
    for layer in net.all_layers():
        if isinstance(layer, Activation) and layer.info.name in KINKED:
            d = min(d, float(np.min(np.abs(layer._x))))
    return d


def network_check(net: core.Network, X: np.ndarray, loss: str | None = None,
                  Y: np.ndarray | None = None,
                  seed: int = 0) -> tuple[float, float, dict[str, float]]:
    """Gradient check of a whole float64 network.

    The scalar is ``loss(net(X), Y)`` (on logits if the loss is fused) or, with no loss, a
    fixed random projection sum(R * net(X)). Returns (rel. error of all parameter
    gradients, rel. error of the input gradient, rel. error per parameter name).
    Dropout masks are frozen first; the kink distance must be checked by the caller.
    """
    assert net.dtype == np.float64
    freeze_dropout(net)
    info = core.LOSSES[loss] if loss else None
    logits = bool(info and info.fused_activation)
    X = np.array(X, dtype=np.float64)
    out = net.forward(X, training=True, logits=logits)
    R = np.random.default_rng(seed).normal(size=out.shape)

    def value() -> float:
        o = net.forward(X, training=True, logits=logits)
        if info is None:
            return float(np.sum(o * R))
        return info.value(o, Y)

    # Analytic gradients at the unperturbed point.
    out = net.forward(X, training=True, logits=logits)
    grad = R.copy() if info is None else info.gradient(out, Y)
    gx = net.backward(grad, input_grad=True).copy()
    analytic = net.flat_grads.copy()
    named = {k: v.copy() for k, v in net.gradients().items()}
    # The named gradients are views of the flat buffer, not a stale copy of it.
    for name, g in net.gradients().items():
        assert np.shares_memory(g, net.flat_grads), name

    numeric = numeric_grad(value, net.flat_params)
    numeric_x = numeric_grad(value, X)
    # Map the flat numeric gradient onto names through the parameter views.
    per_name = {}
    floor = 1e-3 * float(np.linalg.norm(analytic))
    base = net.flat_params.__array_interface__["data"][0]
    item = net.flat_params.itemsize
    for name, p in net.parameters().items():
        start = (p.__array_interface__["data"][0] - base) // item
        per_name[name] = rel_error(named[name].ravel(), numeric[start:start + p.size],
                                   floor)
    return rel_error(analytic, numeric), rel_error(gx, numeric_x), per_name


@pytest.fixture(scope="session")
def gradcheck() -> SimpleNamespace:
    return SimpleNamespace(rel_error=rel_error, numeric_grad=numeric_grad,
                           network_check=network_check, kink_distance=kink_distance,
                           freeze_dropout=freeze_dropout, H=H, KINK_MARGIN=KINK_MARGIN)
