"""A small conv net of runtime layers chained by hand (conv, activation, dropout, pools,
flatten, dense): its gradients against float64 central differences and its outputs and
gradients against the same net in PyTorch. Checks that the image layers compose with
the existing Activation, Dropout and Dense layers on (N, C, H, W) arrays."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812

import core
from core.engine.conv import Conv2D
from core.engine.layers import Activation, Dense, Dropout, Layer
from core.engine.pooling import AvgPool2D, Flatten, GlobalAvgPool, MaxPool2D

NETWORK_TOL = 1e-5  # as tests/core/engine/test_gradients.py for whole networks


def stack(dtype, activation: str, head: str) -> list[Layer]:
    """(N, 2, 11, 10) -> conv 4@3×3 same -> f -> maxpool 2 -> conv 3@3×3 stride 2
    -> f -> dropout -> head (avgpool 2 + flatten, or global average) -> dense 3."""
    act, dtype = core.ACTIVATIONS[activation], np.dtype(dtype)
    layers: list[Layer] = [Conv2D("layers.0", (2, 11, 10), 4, 3, 1, "same", True, dtype, None)]
    layers += [Activation("layers.1", 4 * 11 * 10, dtype, act),
               MaxPool2D("layers.2", (4, 11, 10), 2, None, dtype),
               Conv2D("layers.3", (4, 5, 5), 3, 3, 2, "valid", True, dtype, None),
               Activation("layers.4", 3 * 2 * 2, dtype, act),
               Dropout("layers.5", 3 * 2 * 2, dtype, 0.25, np.random.default_rng(5))]
    if head == "avgpool":
        layers += [AvgPool2D("layers.6", (3, 2, 2), 2, None, dtype),
                   Flatten("layers.7", (3, 1, 1), dtype)]
    else:
        layers.append(GlobalAvgPool("layers.6", (3, 2, 2), dtype))
    layers.append(Dense("layers.8", 3, 3, dtype, True, None))
    layers[5].freeze_mask = True  # one mask for every evaluation
    return layers


def forward(layers: list[Layer], x: np.ndarray) -> np.ndarray:
    for layer in layers:
        x = layer.forward(x, True)
    return x


def backward(layers: list[Layer], g: np.ndarray) -> np.ndarray:
    for layer in reversed(layers):
        g = layer.backward(g, True)
    return g


def torch_stack(layers: list[Layer], x: np.ndarray, activation: str, head: str):
    xt = torch.tensor(x, requires_grad=True)
    p = {f"{layer.name}.{k}": torch.tensor(v, requires_grad=True)
         for layer in layers for k, v in layer.params.items()}
    f = torch.relu if activation == "relu" else torch.tanh
    h = f(F.conv2d(xt, p["layers.0.weight"], p["layers.0.bias"], padding="same"))
    h = F.max_pool2d(h, 2)
    h = f(F.conv2d(h, p["layers.3.weight"], p["layers.3.bias"], stride=2))
    h = h * torch.tensor(layers[5].mask)
    h = torch.flatten(F.avg_pool2d(h, 2), 1) if head == "avgpool" else h.mean(dim=(2, 3))
    return xt, p, h @ p["layers.8.weight"] + p["layers.8.bias"]


@pytest.mark.parametrize("head", ["avgpool", "global"])
def test_conv_stack_gradients_match_central_differences(head, gradcheck, image_layers):
    rng = np.random.default_rng(0)
    layers = stack(np.float64, "tanh", head)  # smooth: no ReLU kinks to step across
    for layer in layers:
        image_layers.bind(layer, rng)
    x = rng.normal(size=(3, 2, 11, 10))
    R = rng.normal(size=forward(layers, x).shape)

    def value() -> float:
        return float(np.sum(forward(layers, x) * R))

    forward(layers, x)
    gx = backward(layers, R.copy())
    assert gradcheck.rel_error(gx, gradcheck.numeric_grad(value, x)) < NETWORK_TOL
    analytic = {(layer.name, k): v.copy() for layer in layers for k, v in layer.grads.items()}
    for layer in layers:
        for k, p in layer.params.items():
            err = gradcheck.rel_error(analytic[layer.name, k], gradcheck.numeric_grad(value, p))
            assert err < NETWORK_TOL, (layer.name, k, err)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("head", ["avgpool", "global"])
def test_conv_stack_matches_pytorch(head, dtype, image_layers):
    rng = np.random.default_rng(1)
    layers = stack(dtype, "relu", head)
    for layer in layers:
        image_layers.bind(layer, rng)
    x = rng.normal(size=(4, 2, 11, 10)).astype(dtype)
    y = forward(layers, x).copy()
    g = rng.normal(size=y.shape).astype(dtype)
    gx = backward(layers, g.copy())
    xt, p, yt = torch_stack(layers, x, "relu", head)
    yt.backward(torch.tensor(g))
    image_layers.assert_torch_close(y, yt, "output")
    image_layers.assert_torch_close(gx, xt.grad, "input gradient")
    for layer in layers:
        for k, grad in layer.grads.items():
            image_layers.assert_torch_close(grad, p[f"{layer.name}.{k}"].grad,
                                            f"{layer.name}.{k}")
