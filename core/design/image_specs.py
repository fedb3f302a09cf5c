"""The layer specs that only take images ``(C, H, W)``: Conv2D, MaxPool, AvgPool, Flatten
and GlobalAvgPool. Output sizes follow PyTorch (floor mode; ``same`` padding gives
ceil(size / stride)), computed by the engine's own shape rules (``core.engine.image_shapes``)
so the check and the built network never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.design.fields import FieldInfo, setting
from core.design.layer_specs import LayerSpec, gain_field, init_field
from core.design.shapes import Shape, ShapeError, need_image
from core.engine.image_shapes import same_padding, window_count

MAX_FILTERS = 4096
MAX_KERNEL = 64
PADDINGS = {"same": "Zero-pad so the output keeps the input's size (÷ stride).",
            "valid": "No padding: the output shrinks by the kernel size minus 1."}


def _window_out(label: str, what: str, field: str, size: tuple[int, int], window: int,
                stride: int) -> tuple[int, int]:
    """(height, width) after sliding a ``window``² by ``stride`` over ``size``, or a
    ``ShapeError`` on ``field`` when the window does not fit (a zero-sized map)."""
    h, w = size
    if window > h or window > w:
        raise ShapeError(f"the {what} {window}×{window} is larger than its {h}×{w} input, "
                         f"which would leave a zero-sized map; make the {what} at most "
                         f"{min(h, w)}", field)
    return window_count(h, window, stride), window_count(w, window, stride)


@dataclass(frozen=True)
class Conv2DSpec(LayerSpec):
    """A 2-D convolution: ``filters`` kernels of ``kernel``² × C weights slide over the image."""

    kind: ClassVar[str] = "conv2d"
    label: ClassVar[str] = "Conv2D"
    needs_image: ClassVar[bool] = True
    filters: int = setting(8, FieldInfo(
        "Filters", "How many filters (output channels): each learns to detect one pattern "
        "anywhere in the image.", "int", 1, MAX_FILTERS))
    kernel: int = setting(3, FieldInfo(
        "Kernel", "Size of each filter's square window, in pixels: what one output "
        "value sees of the image.", "int", 1, MAX_KERNEL))
    stride: int = setting(1, FieldInfo(
        "Stride", "How many pixels the window moves between outputs: 2 halves the "
        "height and width.", "int", 1, MAX_KERNEL))
    padding: str = setting("same", FieldInfo(
        "Padding", "'same' pads the border with zeros so the image keeps its size; "
        "'valid' uses only whole windows, so the image shrinks.", "choice",
        choices=lambda: PADDINGS))
    bias: bool = setting(True, FieldInfo("Bias", "Add a learnable offset per filter.", "bool"))
    init: str = init_field()
    gain: float = gain_field()

    def output_shape(self, shape: Shape) -> Shape:
        c, h, w = need_image(self.label, shape)
        k, s = self.kernel, self.stride
        if self.padding == "same":
            h += sum(same_padding(h, k, s))
            w += sum(same_padding(w, k, s))
        ho, wo = _window_out(self.label, "kernel", "kernel", (h, w), k, s)
        return self.filters, ho, wo

    def parameters_for(self, shape: Shape) -> int:
        f, k = self.filters, self.kernel
        return f * shape[0] * k * k + (f if self.bias else 0)

    def summary(self) -> str:
        text = f"Conv2D {self.filters}@{self.kernel}×{self.kernel}"
        return text + (f" /{self.stride}" if self.stride != 1 else "")


@dataclass(frozen=True)
class _PoolSpec(LayerSpec):
    """A window sliding over each channel, keeping one value per position."""

    needs_image: ClassVar[bool] = True
    size: int = setting(2, FieldInfo(
        "Size", "The pooling window's height and width in pixels.", "int", 1, MAX_KERNEL))
    stride: int = setting(2, FieldInfo(
        "Stride", "How many pixels the window moves between outputs (usually its size, "
        "so windows do not overlap).", "int", 1, MAX_KERNEL))

    def output_shape(self, shape: Shape) -> Shape:
        c, h, w = need_image(self.label, shape)
        ho, wo = _window_out(self.label, "pooling window", "size", (h, w), self.size,
                             self.stride)
        return c, ho, wo

    def summary(self) -> str:
        text = f"{self.label} {self.size}×{self.size}"
        return text + (f" /{self.stride}" if self.stride != self.size else "")


@dataclass(frozen=True)
class MaxPool2DSpec(_PoolSpec):
    """Keeps the largest value of each window: the strongest response of a filter nearby."""

    kind: ClassVar[str] = "maxpool2d"
    label: ClassVar[str] = "MaxPool"


@dataclass(frozen=True)
class AvgPool2DSpec(_PoolSpec):
    """Keeps the mean of each window."""

    kind: ClassVar[str] = "avgpool2d"
    label: ClassVar[str] = "AvgPool"


@dataclass(frozen=True)
class FlattenSpec(LayerSpec):
    """Lays an image's channels, rows and columns out as one row of features."""

    kind: ClassVar[str] = "flatten"
    label: ClassVar[str] = "Flatten"
    needs_image: ClassVar[bool] = True

    def output_shape(self, shape: Shape) -> Shape:
        c, h, w = need_image(self.label, shape)
        return (c * h * w,)


@dataclass(frozen=True)
class GlobalAvgPoolSpec(LayerSpec):
    """The mean of each channel over the whole image: one feature per channel."""

    kind: ClassVar[str] = "global_avgpool"
    label: ClassVar[str] = "GlobalAvgPool"
    needs_image: ClassVar[bool] = True

    def output_shape(self, shape: Shape) -> Shape:
        c, _, _ = need_image(self.label, shape)
        return (c,)
