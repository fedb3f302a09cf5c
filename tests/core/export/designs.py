"""The designs every export format is tested on: each example design, and a generated set
that covers every layer kind and setting an export must translate (activations, dropout,
batch norm on features and images, residual blocks with and without projection, conv with
each padding, stride and bias, both pools, flatten, global pooling).

``sources()`` gives them with weights that are not their initial ones: every parameter
and batch-norm statistic is redrawn from a seeded generator, so a format that drops a
bias, a running mean or a transpose cannot pass by luck.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.design.spec import (
    ActivationSpec,
    AvgPool2DSpec,
    BatchNormSpec,
    Conv2DSpec,
    DenseSpec,
    Design,
    DropoutSpec,
    FlattenSpec,
    GlobalAvgPoolSpec,
    MaxPool2DSpec,
    NetworkSpec,
    ResidualSpec,
)
from core.engine.activations import ACTIVATIONS
from core.export.source import ExportSource, source_of
from core.files.design_file import load_design
from core.resources import resource_path

EXAMPLES = Path(resource_path("examples", "xor.json")).parent


def _net(inputs: int, *layers, input_shape=()) -> NetworkSpec:
    return NetworkSpec(inputs, tuple(layers), input_shape=input_shape)


HIDDEN_ACTIVATIONS = [name for name, info in ACTIVATIONS.items() if not info.output_only]

GENERATED: dict[str, NetworkSpec] = {
    "dense, every hidden activation": _net(
        5, *[layer for name in HIDDEN_ACTIVATIONS for layer in
             (DenseSpec(6), ActivationSpec(name))], DenseSpec(3), ActivationSpec("softmax")),
    "dense without bias, sigmoid output": _net(
        4, DenseSpec(6, bias=False), ActivationSpec("tanh"), DenseSpec(1),
        ActivationSpec("sigmoid")),
    "dropout and batch norm on features": _net(
        4, DenseSpec(8), BatchNormSpec(), ActivationSpec("relu"), DropoutSpec(0.5),
        DenseSpec(2)),
    "residual with and without projection": _net(
        4, DenseSpec(6), ResidualSpec((DenseSpec(6), ActivationSpec("relu"))),
        ResidualSpec((DenseSpec(9), ActivationSpec("tanh")), projection=True),
        DenseSpec(3), ActivationSpec("softmax")),
    "conv same, batch norm, max pool, flatten": _net(
        64, Conv2DSpec(4), BatchNormSpec(), ActivationSpec("relu"), MaxPool2DSpec(),
        FlattenSpec(), DenseSpec(10), ActivationSpec("softmax"), input_shape=(1, 8, 8)),
    "conv valid and strided, avg pool, global pool": _net(
        3 * 9 * 9, Conv2DSpec(5, kernel=3, padding="valid", bias=False),
        ActivationSpec("elu"), Conv2DSpec(6, kernel=2, stride=2, padding="same"),
        AvgPool2DSpec(2, 1), DropoutSpec(0.3), GlobalAvgPoolSpec(), DenseSpec(4),
        input_shape=(3, 9, 9)),
    "image residual blocks with a 1x1 projection": _net(
        2 * 7 * 7, Conv2DSpec(4), ResidualSpec((Conv2DSpec(4), ActivationSpec("relu"))),
        ResidualSpec((Conv2DSpec(8, stride=2), BatchNormSpec()), projection=True),
        GlobalAvgPoolSpec(), DenseSpec(2), ActivationSpec("softmax"), input_shape=(2, 7, 7)),
}


def designs() -> dict[str, Design]:
    """Every example design (by file name) and every generated one (by its words)."""
    out = {p.name: load_design(p) for p in sorted(EXAMPLES.glob("*.json"))}
    out.update({name: Design(net, name=name) for name, net in GENERATED.items()})
    return out


def redrawn(design: Design, seed: int = 0) -> ExportSource:
    """``design`` with every parameter and statistic redrawn from ``seed`` (variances
    positive), as trained weights."""
    initial = source_of(design, None, allow_initial=True)
    rng = np.random.default_rng(seed)
    weights = {}
    for key, value in initial.weights.items():
        drawn = rng.normal(0.0, 0.5, size=value.shape)
        weights[key] = (np.abs(drawn) + 0.5 if key.endswith("running_var") else drawn
                        ).astype(value.dtype)
    return source_of(design, weights)


def sources(seed: int = 0) -> dict[str, ExportSource]:
    """``designs()`` with redrawn weights and statistics (variances positive)."""
    return {name: redrawn(design, seed) for name, design in designs().items()}
