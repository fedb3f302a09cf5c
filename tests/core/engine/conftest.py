"""Helpers shared by the image-layer tests (conv, pooling): binding a runtime layer's
parameters outside a network, checking its gradients by central differences, and
comparing with PyTorch."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from core.engine.layers import Layer


def bind(layer: Layer, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw ``layer``'s parameters (normal, scale 0.5, in its dtype) into fresh arrays
    and bind them with zeroed gradients, as the network would; returns the parameters."""
    params, grads = {}, {}
    for d in layer.declare():
        params[d.name] = (rng.normal(size=d.shape) * 0.5).astype(layer.dtype)
        grads[d.name] = np.zeros(d.shape, dtype=layer.dtype)
    layer.bind(params, grads)
    return params


def check_gradients(layer: Layer, x: np.ndarray, gradcheck, seed: int = 0) -> dict[str, float]:
    """Relative errors of the input gradient (key ``input``) and of every parameter
    gradient of the float64 ``layer`` at ``x``, against central differences of the
    scalar sum(R * layer(x)) for a fixed random R."""
    assert layer.dtype == np.float64
    R = np.random.default_rng(seed).normal(size=layer.forward(x, True).shape)

    def value() -> float:
        return float(np.sum(layer.forward(x, True) * R))

    layer.forward(x, True)
    gx = layer.backward(R.copy(), True)
    errors = {"input": gradcheck.rel_error(gx, gradcheck.numeric_grad(value, x))}
    analytic = {k: v.copy() for k, v in layer.grads.items()}
    for name, p in layer.params.items():
        errors[name] = gradcheck.rel_error(analytic[name], gradcheck.numeric_grad(value, p))
    return errors


def assert_torch_close(ours: np.ndarray, theirs, what: str) -> None:
    """``ours`` equals the torch tensor ``theirs`` within rtol 1e-5; the absolute margin
    scales with the values' magnitude (float32 sums round at about 1e-7 of it)."""
    ref = theirs.detach().numpy()
    assert ours.shape == ref.shape, what
    scale = max(float(np.abs(ref).max(initial=0.0)), 1.0)
    atol = (1e-5 if ours.dtype == np.float32 else 1e-12) * scale
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=atol, err_msg=what)


@pytest.fixture(scope="session")
def image_layers() -> SimpleNamespace:
    return SimpleNamespace(bind=bind, check_gradients=check_gradients,
                           assert_torch_close=assert_torch_close)
