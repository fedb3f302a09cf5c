"""What flows between layers, as the design sees it: a ``Shape`` per sample.

``(n,)`` is ``n`` features (a Dense layer's input); ``(C, H, W)`` is an image of ``C``
channels of ``H`` × ``W`` values (a Conv2D's input). The batch axis is never part of a
``Shape``. A layer spec that cannot take a shape raises ``ShapeError`` with words for the
user and, where one edit cures it, the name of that fix (``core.design.fixes``).
"""

from __future__ import annotations

import math

from core.words import plural

Shape = tuple[int, ...]

INSERT_FLATTEN = "insert_flatten"  # put a Flatten layer before the layer
ADD_PROJECTION = "add_projection"  # turn on a residual block's projection
USE_DATA_SHAPE = "use_data_shape"  # take the dataset's image shape as the input


class ShapeError(TypeError):
    """A layer cannot take its input's shape. ``field`` is the setting to change ("" for
    the layer itself) and ``fix`` the edit that would cure it ("" for none).

    A ``TypeError``: like a width of the wrong type in a malformed design, it leaves the
    network's sizes uncomputable, and code that shows a design while it is being edited
    guards against both with one ``except TypeError``."""

    def __init__(self, message: str, field: str = "", fix: str = "") -> None:
        super().__init__(message)
        self.message, self.field, self.fix = message, field, fix


def is_image(shape: Shape) -> bool:
    """Whether ``shape`` is an image ``(C, H, W)`` rather than features ``(n,)``."""
    return len(shape) == 3


def size(shape: Shape) -> int:
    """Values per sample: ``n`` for ``(n,)``, ``C·H·W`` for an image."""
    return math.prod(shape)


def shape_words(shape: Shape) -> str:
    """``(8, 13, 13)`` -> "a 13×13 image with 8 channels"; ``(10,)`` -> "10 features"."""
    if is_image(shape):
        c, h, w = shape
        article = "an" if str(h).startswith("8") or h in (11, 18) else "a"
        return f"{article} {h}×{w} image with {plural(c, 'channel')}"
    return plural(size(shape), "feature")


def batch_shape_text(shape: Shape) -> str:
    """The shape of a batch as PyTorch prints it: "(batch, 8, 13, 13)", "(batch, 10)"."""
    return "(batch, " + ", ".join(str(n) for n in shape) + ")"


def need_image(label: str, shape: Shape) -> tuple[int, int, int]:
    """``shape`` as (C, H, W), or a ``ShapeError`` saying the layer ``label`` needs an image."""
    if not is_image(shape):
        raise ShapeError(f"{label} needs an image (channels, height, width) but its input is "
                         f"{shape_words(shape)}; choose an image dataset, or remove the layers "
                         "that flatten the image before it")
    c, h, w = shape
    return c, h, w


def need_features(label: str, shape: Shape) -> int:
    """The number of features, or a ``ShapeError`` offering a Flatten when ``shape`` is an
    image."""
    if is_image(shape):
        raise ShapeError(f"{label} needs features but its input is {shape_words(shape)}; "
                         "insert a Flatten (or a GlobalAvgPool) before it", fix=INSERT_FLATTEN)
    return shape[0]
