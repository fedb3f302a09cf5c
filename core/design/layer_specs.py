"""The layer specs that work on features and images alike: Dense, Activation, Dropout,
BatchNorm and the Residual block, each a frozen dataclass of settings with its
``FieldInfo`` table (``core.design.fields``).

Every spec says what it does to the shape flowing through it (``output_shape``, raising
``ShapeError`` when it cannot take it) and how many parameters it has for that input
(``parameters_for``). The int versions (``output_features``, ``parameter_count``) serve
flat data only. The image layers are in ``core.design.image_specs``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from core.design.fields import FieldInfo, field_infos, setting
from core.design.shapes import (
    ADD_PROJECTION,
    INSERT_FLATTEN,
    Shape,
    ShapeError,
    is_image,
    need_features,
    shape_words,
    size,
)
from core.engine.activations import ACTIVATIONS
from core.engine.initializers import INITIALIZERS

MAX_UNITS = 100_000


@dataclass(frozen=True)
class LayerSpec:
    """Base of every layer spec. ``kind`` is the name in the design file, ``label`` the
    name the window shows; ``needs_image`` marks the layers that only take images."""

    kind: ClassVar[str] = ""
    label: ClassVar[str] = ""
    needs_image: ClassVar[bool] = False

    def output_features(self, n_in: int) -> int:
        """Number of features this layer outputs for ``n_in`` input features."""
        return n_in

    def parameter_count(self, n_in: int) -> int:
        """Number of learnable parameters for ``n_in`` input features."""
        return 0

    def output_shape(self, shape: Shape) -> Shape:
        """The shape this layer outputs for an input of ``shape``; ``ShapeError`` when it
        cannot take it. The default keeps an image's shape (element-wise layers)."""
        return shape if is_image(shape) else (self.output_features(shape[0]),)

    def parameters_for(self, shape: Shape) -> int:
        """Learnable parameters for an input of ``shape`` (0 when it cannot take it)."""
        return 0 if is_image(shape) else self.parameter_count(shape[0])

    def summary(self) -> str:
        """A few words with the key settings, for cards and logs."""
        return self.label

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind}
        for name in field_infos(self):
            d[name] = getattr(self, name)
        return d


def init_field() -> Any:
    """The initialiser setting shared by Dense and Conv2D."""
    return setting("default", FieldInfo(
        "Initialiser", "How the weights are drawn before training; 'default' uses the "
        "network's default initialiser.", "choice",
        choices=lambda: {"default": None, **INITIALIZERS}))


def gain_field() -> Any:
    """The initial-weight multiplier shared by Dense and Conv2D."""
    return setting(1.0, FieldInfo(
        "Init gain", "Multiplies the initial weights. Large gains make gradients explode in "
        "deep networks; small ones make them vanish.", "float", 0.0, 1e6, exclusive_min=True,
        log=True))


@dataclass(frozen=True)
class DenseSpec(LayerSpec):
    """A fully connected layer: y = x W + b."""

    kind: ClassVar[str] = "dense"
    label: ClassVar[str] = "Dense"
    units: int = setting(8, FieldInfo("Units", "How many neurons (outputs) the layer has.", "int",
                                 1, MAX_UNITS))
    bias: bool = setting(True, FieldInfo("Bias", "Add a learnable offset b to every output.",
                                    "bool"))
    init: str = init_field()
    gain: float = gain_field()

    def output_features(self, n_in: int) -> int:
        return self.units

    def parameter_count(self, n_in: int) -> int:
        return n_in * self.units + (self.units if self.bias else 0)

    def output_shape(self, shape: Shape) -> Shape:
        need_features(self.label, shape)
        return (self.units,)

    def summary(self) -> str:
        return f"Dense {self.units}"


@dataclass(frozen=True)
class ActivationSpec(LayerSpec):
    """An element-wise activation function."""

    kind: ClassVar[str] = "activation"
    label: ClassVar[str] = "Activation"
    function: str = setting("relu", FieldInfo("Function", "The non-linearity applied to every "
                                         "input.", "choice", choices=lambda: ACTIVATIONS))

    def output_shape(self, shape: Shape) -> Shape:
        info = ACTIVATIONS.get(self.function) if isinstance(self.function, str) else None
        if is_image(shape) and info is not None and info.joint:
            # Softmax over (C, H, W) would mix channels and pixels into one distribution.
            raise ShapeError(f"{info.label} turns features into class probabilities but its "
                             f"input is {shape_words(shape)}; insert a Flatten (or a "
                             "GlobalAvgPool) and a Dense layer before it", "function",
                             INSERT_FLATTEN)
        return shape

    def summary(self) -> str:
        known = isinstance(self.function, str) and self.function in ACTIVATIONS
        return ACTIVATIONS[self.function].label if known else "?"


@dataclass(frozen=True)
class DropoutSpec(LayerSpec):
    """Inverted dropout: zero a random fraction of inputs while training."""

    kind: ClassVar[str] = "dropout"
    label: ClassVar[str] = "Dropout"
    rate: float = setting(0.2, FieldInfo("Rate", "Fraction of inputs set to zero at each training "
                                    "step (none at evaluation).", "float", 0.0, 0.99))

    def summary(self) -> str:
        return f"Dropout {self.rate:g}"


@dataclass(frozen=True)
class BatchNormSpec(LayerSpec):
    """Batch normalisation with learnable scale and shift (per channel for images)."""

    kind: ClassVar[str] = "batchnorm"
    label: ClassVar[str] = "BatchNorm"
    momentum: float = setting(0.9, FieldInfo(
        "Momentum", "How slowly the running mean and variance (used at evaluation) follow "
        "each batch's: running = momentum x running + (1 - momentum) x batch.", "float",
        0.0, 1.0))
    epsilon: float = setting(1e-5, FieldInfo("Epsilon", "Added to the variance before the square "
                                        "root, so it never divides by zero.", "float", 0.0,
                                        1.0, exclusive_min=True, log=True))

    def parameter_count(self, n_in: int) -> int:
        return 2 * n_in

    def parameters_for(self, shape: Shape) -> int:
        return 2 * shape[0]  # one scale and shift per feature, or per image channel


def projection_stride(shape: Shape, out: Shape) -> tuple[int, int]:
    """The stride of the 1×1 convolution that maps a residual block's input image
    ``shape`` onto its output ``out`` ((1, 1) for features); ``ShapeError`` when no
    projection can (an image turned into features, or sizes a stride cannot match)."""
    if is_image(shape) != is_image(out):
        raise ShapeError(f"the block turns {shape_words(shape)} into {shape_words(out)}; "
                         "its output must be added to its input, so keep Flatten and "
                         "GlobalAvgPool outside residual blocks")
    if not is_image(shape):
        return 1, 1
    strides = []
    for n_in, n_out in zip(shape[1:], out[1:], strict=True):
        s = math.ceil(n_in / n_out)
        if n_out > n_in or (n_in - 1) // s + 1 != n_out:
            raise ShapeError(f"the block turns {shape_words(shape)} into "
                             f"{shape_words(out)}; no 1×1 projection with a stride maps one "
                             "onto the other, so make the sizes match")
        strides.append(s)
    return strides[0], strides[1]


@dataclass(frozen=True)
class ResidualSpec(LayerSpec):
    """A block of layers whose output is added to the block's input (a skip connection)."""

    kind: ClassVar[str] = "residual"
    label: ClassVar[str] = "Residual block"
    layers: tuple[LayerSpec, ...] = ()
    projection: bool = setting(False, FieldInfo(
        "Projection", "When the block changes the shape, pass the input through a learned "
        "linear map (no bias; a 1×1 convolution for images) so it can still be added.",
        "bool"))

    def output_features(self, n_in: int) -> int:
        n = n_in
        for layer in self.layers:
            n = layer.output_features(n)
        return n

    def parameter_count(self, n_in: int) -> int:
        return self.parameters_for((n_in,))

    def branch_shape(self, shape: Shape) -> Shape:
        """The shape the block's layers output (``ShapeError`` from the first that fails)."""
        for layer in self.layers:
            shape = layer.output_shape(shape)
        return shape

    def output_shape(self, shape: Shape) -> Shape:
        out = self.branch_shape(shape)
        if out != shape:
            projection_stride(shape, out)
            if not self.projection:
                raise ShapeError(f"the block outputs {shape_words(out)} but its input is "
                                 f"{shape_words(shape)}; they must match to be added (make "
                                 "them equal, or turn on projection)", fix=ADD_PROJECTION)
        return out

    def parameters_for(self, shape: Shape) -> int:
        total, s = 0, shape
        for layer in self.layers:
            total += layer.parameters_for(s)
            s = layer.output_shape(s)
        if self.projection and s != shape:
            total += shape[0] * s[0] if is_image(shape) else size(shape) * size(s)
        return total

    def summary(self) -> str:
        return f"Residual ({len(self.layers)} layers)"

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["layers"] = [layer.to_dict() for layer in self.layers]
        return d
