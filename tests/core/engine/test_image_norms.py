"""BatchNorm and Dropout on images (batch, channels, height, width).

Float64 central differences for the backward passes, and mirrors against PyTorch
(``torch.nn.functional``, the ``reference`` extra that CI installs) in float32 and
float64. The layers are made directly: specs for image layers come later.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - PyTorch's own spelling

from core.engine.layers import BatchNorm, Dropout

PIECE_TOL = 1e-7  # as tests/core/engine/test_gradients.py
EPS = 1e-5
IMAGE = (3, 2, 4, 5)  # (batch, channels, height, width)


def make_bn(shape: tuple[int, ...], dtype: type, momentum: float = 0.9,
            seed: int = 0) -> BatchNorm:
    """A BatchNorm for inputs of ``shape`` (2-D or images), bound to random gamma/beta."""
    dt = np.dtype(dtype)
    c = shape[1]
    channels = c if len(shape) > 2 else None
    bn = BatchNorm("bn", int(np.prod(shape[1:])), dt, momentum, EPS, channels=channels)
    rng = np.random.default_rng(seed)
    params = {d.name: rng.normal(1.0 if d.name == "weight" else 0.0, 0.5, d.shape).astype(dt)
              for d in bn.declare()}
    bn.bind(params, {k: np.zeros_like(v) for k, v in params.items()})
    return bn


def scaled_error(ours: np.ndarray, ref: np.ndarray) -> float:
    """max |ours - ref| / max |ref|: a margin that holds under any summation order."""
    return float(np.max(np.abs(ours - ref)) / max(float(np.max(np.abs(ref))), 1e-30))


# ------------------------------------------------------------ central differences


def test_batchnorm_image_gradients_match_central_differences(gradcheck):
    bn = make_bn(IMAGE, np.float64, seed=1)
    assert bn.params["weight"].shape == (IMAGE[1],)
    rng = np.random.default_rng(2)
    x = rng.normal(0.5, 2.0, IMAGE)
    R = rng.normal(size=IMAGE)

    def f() -> float:
        return float(np.sum(R * bn.forward(x, True)))

    f()
    analytic_x = bn.backward(R.copy(), True).copy()
    assert analytic_x.shape == IMAGE
    assert gradcheck.rel_error(analytic_x, gradcheck.numeric_grad(f, x)) <= PIECE_TOL
    f()
    bn.backward(R.copy(), True)
    for name in ("weight", "bias"):
        numeric = gradcheck.numeric_grad(f, bn.params[name])
        assert gradcheck.rel_error(bn.grads[name], numeric) <= PIECE_TOL, name
    # Without the input gradient the parameter gradients are the same.
    f()
    bn.backward(R.copy(), True)
    before = {k: v.copy() for k, v in bn.grads.items()}
    f()
    assert bn.backward(R.copy(), False) is None
    for name, g in bn.grads.items():
        np.testing.assert_allclose(g, before[name], rtol=1e-14, atol=1e-15)


def test_dropout_image_gradient_matches_central_differences(gradcheck):
    drop = Dropout("d", int(np.prod(IMAGE[1:])), np.dtype(np.float64), 0.4,
                   np.random.default_rng(3))
    drop.freeze_mask = True
    rng = np.random.default_rng(4)
    x = rng.normal(size=IMAGE)
    R = rng.normal(size=IMAGE)

    def f() -> float:
        return float(np.sum(R * drop.forward(x, True)))

    f()
    assert drop.mask.shape == IMAGE and 0 < np.count_nonzero(drop.mask) < drop.mask.size
    analytic = drop.backward(R.copy(), True)
    assert analytic.shape == IMAGE
    assert gradcheck.rel_error(analytic, gradcheck.numeric_grad(f, x)) <= PIECE_TOL


# ------------------------------------------------------------------ image layout


def test_batchnorm_image_statistics_are_per_channel_and_arrays_stay_contiguous():
    bn = make_bn((8, 3, 6, 7), np.float64, momentum=0.0)
    rng = np.random.default_rng(5)
    # Channels with very different means and spreads: a per-feature (H, W) or global
    # normalisation would leave them apart.
    x = rng.normal(size=(8, 3, 6, 7)) * np.array([1.0, 5.0, 0.1])[:, None, None] \
        + np.array([-3.0, 0.0, 7.0])[:, None, None]
    x_before = x.copy()
    y = bn.forward(x, True)
    np.testing.assert_array_equal(x, x_before)
    assert y.shape == x.shape and y.flags.c_contiguous
    xhat = (y - bn.params["bias"][:, None, None]) / bn.params["weight"][:, None, None]
    np.testing.assert_allclose(xhat.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    v = x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(xhat.var(axis=(0, 2, 3)), v / (v + EPS), rtol=1e-12)
    # momentum 0: the running statistics are this batch's, variance unbiased.
    np.testing.assert_allclose(bn.running_mean, x.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, x.var(axis=(0, 2, 3), ddof=1), rtol=1e-12)
    gx = bn.backward(rng.normal(size=x.shape), True)
    assert gx.shape == x.shape and gx.flags.c_contiguous
    # Two batch sizes in a row (full batches, then the last short one) get their own buffers.
    assert bn.forward(x[:5], False).shape == (5, 3, 6, 7)


def test_dropout_on_images_drops_single_values_not_whole_maps():
    drop = Dropout("d", 64 * 64, np.dtype(np.float32), 0.5, np.random.default_rng(6))
    x = np.ones((4, 2, 64, 64), dtype=np.float32)
    y = drop.forward(x, True)
    assert y.shape == x.shape and y.dtype == np.float32
    kept = (y != 0).reshape(8, -1).mean(axis=1)
    # Every map keeps about half its pixels (Dropout2d would keep all or none of each).
    assert np.all((kept > 0.4) & (kept < 0.6)), kept
    np.testing.assert_array_equal(drop.forward(x, False), x)


# ----------------------------------------------------------------- PyTorch mirrors


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(16, 5), (8, 3, 5, 6)], ids=["2d", "image"])
def test_batchnorm_mirrors_pytorch(shape, dtype):
    """Several training steps: outputs, all gradients and running statistics agree with
    ``F.batch_norm`` (PyTorch's momentum is 1 - ours); then evaluation agrees too."""
    tol = 2e-5 if dtype == np.float32 else 1e-11
    momentum = 0.9
    bn = make_bn(shape, dtype, momentum=momentum, seed=7)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in bn.params.items()}
    run_mean = torch.tensor(bn.running_mean)
    run_var = torch.tensor(bn.running_var)
    rng = np.random.default_rng(8)
    for step in range(4):
        x = rng.normal(0.3 * step, 1.0 + step, shape).astype(dtype)
        g = rng.normal(size=shape).astype(dtype)
        xt = torch.tensor(x, requires_grad=True)
        yt = F.batch_norm(xt, run_mean, run_var, t["weight"], t["bias"], training=True,
                          momentum=1.0 - momentum, eps=EPS)
        yt.backward(torch.tensor(g))
        y = bn.forward(x, True)
        assert y.dtype == dtype
        assert scaled_error(y, yt.detach().numpy()) <= tol, step
        gx = bn.backward(g.copy(), True)
        assert scaled_error(gx, xt.grad.numpy()) <= tol, step
        for name in ("weight", "bias"):
            assert scaled_error(bn.grads[name], t[name].grad.numpy()) <= tol, (step, name)
            t[name].grad = None
        assert scaled_error(bn.running_mean, run_mean.numpy()) <= tol, step
        assert scaled_error(bn.running_var, run_var.numpy()) <= tol, step
    x = rng.normal(0.5, 2.0, shape).astype(dtype)
    with torch.no_grad():
        ref = F.batch_norm(torch.tensor(x), run_mean, run_var, t["weight"], t["bias"],
                           training=False, eps=EPS).numpy()
    assert scaled_error(bn.forward(x, False), ref) <= tol


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_scaling_mirrors_pytorch(dtype):
    """Random streams differ, so compare what they share: kept values are scaled by
    exactly 1 / (1 - rate) in both, about 1 - rate of them are kept, the gradient passes
    through the kept ones with the same scale, and evaluation is the identity."""
    rate = 0.3
    shape = (16, 4, 12, 12)
    rng = np.random.default_rng(9)
    x = rng.uniform(0.5, 2.0, shape).astype(dtype)  # never 0, so 0 means dropped
    g = rng.normal(size=shape).astype(dtype)
    drop = Dropout("d", int(np.prod(shape[1:])), np.dtype(dtype), rate,
                   np.random.default_rng(10))
    y = drop.forward(x, True)
    gx = drop.backward(g.copy(), True)
    torch.manual_seed(11)
    xt = torch.tensor(x, requires_grad=True)
    yt = F.dropout(xt, p=rate, training=True)
    yt.backward(torch.tensor(g))
    yt, gt = yt.detach().numpy(), xt.grad.numpy()
    rtol = 1e-6 if dtype == np.float32 else 1e-15
    for out, grad in ((y, gx), (yt, gt)):
        assert out.dtype == dtype and out.shape == shape
        kept = out != 0
        assert abs(kept.mean() - (1 - rate)) < 0.02
        np.testing.assert_allclose(out[kept], x[kept] / (1 - rate), rtol=rtol)
        np.testing.assert_allclose(grad[kept], g[kept] / (1 - rate), rtol=rtol)
        assert not np.any(grad[~kept])
    np.testing.assert_array_equal(drop.forward(x, False), x)
    np.testing.assert_array_equal(F.dropout(torch.tensor(x), p=rate, training=False).numpy(), x)
