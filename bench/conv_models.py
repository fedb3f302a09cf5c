"""The convolutional benchmark models (e) and (f) of the images issue, as designs.

Shared by ``bench/trainer.py`` (steps per second against PyTorch), ``bench/conv_profile.py``
(time per layer kind, share of the matmul peak) and ``bench/conv_memory.py`` (resident
memory of the training process). Each model is a ``Design`` built with
``core.build_network``, exactly as the trainer builds a user's design, and has a PyTorch
twin that takes the same initial weights. Data stay flat ``(batch, C*H*W)`` as in the app;
the network (ours) and ``nn.Unflatten`` (PyTorch) view them as images.

Not part of the test suite. See bench/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from core import ActivationSpec, DenseSpec, Design, NetworkSpec, TrainConfig
from core.design.spec import Conv2DSpec, FlattenSpec, GlobalAvgPoolSpec, MaxPool2DSpec


@dataclass(frozen=True)
class ConvModel:
    """One conv benchmark model; the fields ``bench/trainer.py`` reads of every model."""

    key: str
    title: str
    image: tuple[int, int, int]   # (C, H, W) of one sample
    layers: tuple                 # layer specs, final softmax included
    batch: int
    lr: float
    steps: int                    # steps per timed round at --steps-scale 1
    target_ratio: float           # ours / PyTorch steps per second to reach
    outputs: int = 10
    loss: str = "softmax_cross_entropy"
    target_peak: float | None = None

    @property
    def inputs(self) -> int:
        c, h, w = self.image
        return c * h * w

    def spec(self) -> NetworkSpec:
        return NetworkSpec(inputs=self.inputs, input_shape=self.image, layers=self.layers)

    def design(self, epochs: int = 1) -> Design:
        """The model as a design file would hold it: plain SGD, this batch size."""
        training = replace(TrainConfig(), loss=self.loss, optimizer="sgd",
                           learning_rate=self.lr, batch_size=self.batch, epochs=epochs,
                           dtype="float32")
        return Design(network=self.spec(), training=training, name=f"bench ({self.key})")

    def torch_model(self, params: dict[str, np.ndarray]):
        """The PyTorch twin with our initial weights (conv weights are (F, C, kh, kw) in
        both; our Dense weight is (in, out), ``nn.Linear``'s (out, in))."""
        import torch
        nn = torch.nn
        mods: list = [nn.Unflatten(1, self.image)]
        named: list[tuple[str, nn.Module]] = []
        channels = self.image[0]
        features = 0
        for i, spec in enumerate(self.layers):
            name = f"layers.{i}"
            if isinstance(spec, Conv2DSpec):
                mod = nn.Conv2d(channels, spec.filters, spec.kernel, spec.stride,
                                padding=spec.padding, bias=spec.bias)
                channels = spec.filters
                named.append((name, mod))
            elif isinstance(spec, MaxPool2DSpec):
                mod = nn.MaxPool2d(spec.size, spec.stride)
            elif isinstance(spec, GlobalAvgPoolSpec):
                mod = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
                features = channels
            elif isinstance(spec, FlattenSpec):
                mod = nn.Flatten()
                features = int(np.prod(self.spec().layer_shapes()[i]))
            elif isinstance(spec, DenseSpec):
                mod = nn.Linear(features, spec.units, bias=spec.bias)
                features = spec.units
                named.append((name, mod))
            elif isinstance(spec, ActivationSpec) and spec.function == "relu":
                mod = nn.ReLU()
            elif isinstance(spec, ActivationSpec) and spec.function == "softmax":
                continue  # inside F.cross_entropy, as our fused loss
            else:
                raise ValueError(f"no PyTorch twin for {spec}")
            mods.append(mod)
        model = nn.Sequential(*mods).float()
        with torch.no_grad():
            for name, mod in named:
                w = params[name + ".weight"]
                w = w.T if isinstance(mod, nn.Linear) else w
                mod.weight.copy_(torch.from_numpy(np.ascontiguousarray(w)))
                if mod.bias is not None:
                    mod.bias.copy_(torch.from_numpy(params[name + ".bias"].copy()))
        return model

    def conv_flops(self) -> float:
        """Matrix-product FLOPs of the convolutions in one training step: per conv layer
        2·F·(C·kh·kw)·(Ho·Wo)·B for the forward product, the same for the weight
        gradient, and again for the input gradient except in the first layer."""
        total, shapes = 0.0, self.spec().layer_shapes()
        in_shape = self.image
        first = True
        for spec, out in zip(self.layers, shapes, strict=True):
            if isinstance(spec, Conv2DSpec):
                f, ho, wo = out
                one = 2.0 * f * in_shape[0] * spec.kernel ** 2 * ho * wo * self.batch
                total += one * (2 if first else 3)
                first = False
            in_shape = out
        return total


def _relu() -> ActivationSpec:
    return ActivationSpec(function="relu")


CONV_MODELS = [
    ConvModel(
        "e", "LeNet-style 28x28x1: conv 8@3x3, ReLU, maxpool 2, conv 16@3x3, ReLU, "
        "maxpool 2, flatten, Dense 10, softmax CE, batch 64", (1, 28, 28),
        (Conv2DSpec(filters=8, kernel=3, padding="valid"), _relu(),
         MaxPool2DSpec(size=2, stride=2),
         Conv2DSpec(filters=16, kernel=3, padding="valid"), _relu(),
         MaxPool2DSpec(size=2, stride=2), FlattenSpec(), DenseSpec(units=10),
         ActivationSpec(function="softmax")),
        64, 0.01, 60, 1.0),
    ConvModel(
        "f", "8x8 digits: conv 16@3x3 same, ReLU, maxpool 2, conv 32@3x3 same, ReLU, "
        "global average pool, Dense 10, softmax CE, batch 32", (1, 8, 8),
        (Conv2DSpec(filters=16, kernel=3, padding="same"), _relu(),
         MaxPool2DSpec(size=2, stride=2),
         Conv2DSpec(filters=32, kernel=3, padding="same"), _relu(),
         GlobalAvgPoolSpec(), DenseSpec(units=10), ActivationSpec(function="softmax")),
        32, 0.05, 400, 2.0),
]
