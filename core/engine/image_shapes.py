"""Shape arithmetic shared by the image layers (``conv``, ``pooling``).

Images travel between layers as ``(batch, channels, height, width)`` arrays; a layer's
per-sample shape is an ``ImageShape`` ``(channels, height, width)``. The functions here
compute output sizes and paddings the way PyTorch does, and raise ``DesignError`` naming
the layer when a shape is impossible (kernel larger than its input, zero-sized output).
"""

from __future__ import annotations

import numpy as np

from core.errors import DesignError

ImageShape = tuple[int, int, int]  # (channels, height, width) of one sample


def pair(value: int | tuple[int, int]) -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; ``(3, 5)`` stays (height, width)."""
    if isinstance(value, int | np.integer):
        return int(value), int(value)
    h, w = value
    return int(h), int(w)


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) zero padding along one axis so the output has ceil(size / stride)
    elements. The smaller half goes before, as PyTorch's ``padding="same"`` splits it
    (for stride 1 the total is kernel - 1, exactly PyTorch's)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def window_count(size: int, kernel: int, stride: int) -> int:
    """Number of positions of a ``kernel`` window sliding by ``stride`` over ``size``
    elements (PyTorch's floor mode); 0 or less when the window does not fit."""
    return (size - kernel) // stride + 1 if size >= kernel else 0


def check_windows(name: str, label: str, what: str, size: tuple[int, int],
                  kernel: tuple[int, int], stride: tuple[int, int]) -> tuple[int, int]:
    """Output (height, width) of sliding ``kernel`` over ``size`` (already padded), or a
    ``DesignError`` naming the layer when the kernel does not fit or nothing is left."""
    if min(kernel) < 1 or min(stride) < 1:
        raise DesignError(f"{name} ({label}): {what} {kernel[0]}×{kernel[1]} and stride "
                          f"{stride[0]}×{stride[1]} must be at least 1")
    if kernel[0] > size[0] or kernel[1] > size[1]:
        raise DesignError(f"{name} ({label}): the {what} {kernel[0]}×{kernel[1]} is larger "
                          f"than its input {size[0]}×{size[1]}")
    return window_count(size[0], kernel[0], stride[0]), window_count(size[1], kernel[1],
                                                                     stride[1])


def check_image(name: str, label: str, shape: tuple[int, ...]) -> ImageShape:
    """``shape`` as an ``ImageShape``, or a ``DesignError`` naming the layer if it is not
    three positive sizes (channels, height, width)."""
    if len(shape) != 3 or min(shape) < 1:
        raise DesignError(f"{name} ({label}): needs an image input (channels, height, "
                          f"width) with every size at least 1, got {tuple(shape)}")
    c, h, w = shape
    return int(c), int(h), int(w)


def strided_window(x: np.ndarray, i: int, j: int, out_hw: tuple[int, int],
                   stride: tuple[int, int]) -> np.ndarray:
    """The view ``x[:, :, i + stride*r, j + stride*c]`` for r, c over the output grid:
    kernel offset (i, j) of every window at once. x: (N, C, H, W) -> (N, C, Ho, Wo)."""
    sh, sw = stride
    ho, wo = out_hw
    return x[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]


__all__ = ["ImageShape", "check_image", "check_windows", "pair", "same_padding",
           "strided_window", "window_count"]
