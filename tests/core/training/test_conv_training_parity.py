"""Training conv designs step by step against PyTorch: the same initial weights, batches
and optimizer give the same losses and weights to round-off in float64.

This checks the whole path a user's design takes (spec -> build_network -> TrainStep:
loss, backward through every image layer, optimizer), not one layer alone.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.design.spec import (
    ActivationSpec,
    AvgPool2DSpec,
    BatchNormSpec,
    Conv2DSpec,
    DenseSpec,
    DropoutSpec,
    FlattenSpec,
    GlobalAvgPoolSpec,
    MaxPool2DSpec,
    NetworkSpec,
    ResidualSpec,
    TrainConfig,
)
from core.engine.conv import Conv2D
from core.engine.layers import Activation, BatchNorm, Dense, Dropout, Layer, Residual
from core.engine.pooling import AvgPool2D, Flatten, GlobalAvgPool, MaxPool2D
from core.training.build import build_network
from core.training.step import TrainStep

nn = torch.nn
F = torch.nn.functional
TORCH_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


class _Residual(nn.Module):
    def __init__(self, branch: nn.Module, projection: nn.Module | None) -> None:
        super().__init__()
        self.branch, self.projection = branch, projection

    def forward(self, x):
        skip = x if self.projection is None else self.projection(x)
        return self.branch(x) + skip


def _conv(layer: Conv2D) -> nn.Module:
    (top, bottom), (left, right) = layer.pad_h, layer.pad_w
    conv = nn.Conv2d(layer.in_shape[0], layer.filters, layer.kernel, layer.stride,
                     bias=layer.has_bias, dtype=torch.float64)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(layer.params["weight"]))
        if layer.has_bias:
            conv.bias.copy_(torch.from_numpy(layer.params["bias"]))
    if top == bottom == left == right == 0:
        return conv
    return nn.Sequential(nn.ZeroPad2d((left, right, top, bottom)), conv)


def mirror(layer: Layer) -> nn.Module:
    """The PyTorch module computing what our runtime ``layer`` computes, with its weights."""
    if isinstance(layer, Conv2D):
        return _conv(layer)
    if isinstance(layer, Dense):
        lin = nn.Linear(layer.n_in, layer.n_out, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(layer.params["weight"].T.copy()))
            lin.bias.copy_(torch.from_numpy(layer.params["bias"]))
        return lin
    if isinstance(layer, Activation):
        return TORCH_ACTIVATIONS[layer.info.name]()
    if isinstance(layer, BatchNorm):
        kind = nn.BatchNorm2d if layer.features != layer.n_in else nn.BatchNorm1d
        bn = kind(layer.features, eps=layer.epsilon, momentum=1 - layer.momentum,
                  dtype=torch.float64)
        with torch.no_grad():
            bn.weight.copy_(torch.from_numpy(layer.params["weight"]))
            bn.bias.copy_(torch.from_numpy(layer.params["bias"]))
        return bn
    if isinstance(layer, MaxPool2D):
        return nn.MaxPool2d(layer.size, layer.stride)
    if isinstance(layer, AvgPool2D):
        return nn.AvgPool2d(layer.size, layer.stride)
    if isinstance(layer, GlobalAvgPool):
        return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
    if isinstance(layer, Flatten):
        return nn.Flatten()
    if isinstance(layer, Residual):
        children = layer.children()
        projection = None
        if len(children) > len(layer.layers):  # an image projection: the first child
            projection = mirror(children[0])
        return _Residual(nn.Sequential(*[mirror(c) for c in layer.layers]), projection)
    if isinstance(layer, Dropout):
        assert layer.rate == 0.0, "random masks cannot be mirrored"
        return nn.Identity()
    raise AssertionError(f"no mirror for {layer!r}")


DIGITS = (1, 8, 8)
DESIGNS = {
    "digits conv, adam": (
        NetworkSpec(64, (Conv2DSpec(6), ActivationSpec("relu"), MaxPool2DSpec(),
                         Conv2DSpec(8), ActivationSpec("relu"), GlobalAvgPoolSpec(),
                         DenseSpec(10), ActivationSpec("softmax")), input_shape=DIGITS),
        TrainConfig(loss="softmax_cross_entropy", optimizer="adam", learning_rate=0.01)),
    "lenet valid, momentum": (
        NetworkSpec(144, (Conv2DSpec(4, padding="valid"), ActivationSpec("tanh"),
                          AvgPool2DSpec(), Conv2DSpec(6, kernel=2, stride=2, padding="valid",
                                                      bias=False),
                          FlattenSpec(), DenseSpec(10), ActivationSpec("softmax")),
                    input_shape=(1, 12, 12)),
        TrainConfig(loss="softmax_cross_entropy", optimizer="momentum", learning_rate=0.05)),
    "residual, batch norm, projection, sgd": (
        NetworkSpec(2 * 49, (Conv2DSpec(4, kernel=3), BatchNormSpec(), ActivationSpec("relu"),
                             ResidualSpec((Conv2DSpec(6, stride=2), BatchNormSpec(),
                                           ActivationSpec("relu")), projection=True),
                             DropoutSpec(0.0), MaxPool2DSpec(2, 1), GlobalAvgPoolSpec(),
                             DenseSpec(3)), input_shape=(2, 7, 7)),
        TrainConfig(loss="mse", optimizer="sgd", learning_rate=0.1)),
}


@pytest.mark.parametrize("key", list(DESIGNS))
def test_conv_design_trains_like_pytorch(key):
    spec, config = DESIGNS[key]
    assert spec.validate() == []
    net = build_network(spec, seed=5, dtype=np.float64)
    layers = net.layers
    if config.loss == "softmax_cross_entropy":
        layers = layers[:-1]  # the fused softmax: PyTorch's cross_entropy takes logits
    model = nn.Sequential(*[mirror(layer) for layer in layers])
    step = TrainStep(net, config)
    torch_opt = {
        "adam": lambda p: torch.optim.Adam(p, lr=config.learning_rate),
        "momentum": lambda p: torch.optim.SGD(p, lr=config.learning_rate, momentum=0.9),
        "sgd": lambda p: torch.optim.SGD(p, lr=config.learning_rate),
    }[config.optimizer](model.parameters())
    rng = np.random.default_rng(11)
    outputs = spec.outputs
    for _ in range(6):
        x = rng.normal(size=(8, spec.inputs))
        labels = rng.integers(0, outputs, 8)
        y = np.eye(outputs)[labels] if config.loss != "mse" else rng.normal(size=(8, outputs))
        ours = step.run(x, y).loss
        torch_opt.zero_grad()
        out = model(torch.from_numpy(x).reshape(8, *spec.in_shape))
        if config.loss == "mse":
            loss = F.mse_loss(out, torch.from_numpy(y))
        else:
            loss = F.cross_entropy(out, torch.from_numpy(labels))
        loss.backward()
        torch_opt.step()
        assert ours == pytest.approx(loss.item(), rel=1e-10, abs=1e-12)
    ours_weights = sorted(float(np.abs(v).sum()) for v in net.parameters().values())
    torch_weights = sorted(float(p.detach().abs().sum()) for p in model.parameters())
    # (a conv bias before batch norm gets no gradient: round-off around 1e-17 stays)
    np.testing.assert_allclose(ours_weights, torch_weights, rtol=1e-9, atol=1e-12)
