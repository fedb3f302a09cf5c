"""How the window writes a layer's shape in a few characters, the same on the cards, in
the inspector, the check panel and the diagram: an image ``(C, H, W)`` as "8 @ 13×13"
(eight maps of 13×13, as conv-net figures label them), features ``(n,)`` as "128".
A batch's shape, "(batch, 8, 13, 13)", is ``core.design.shapes.batch_shape_text``;
whole sentences use ``core.design.shapes.shape_words``.
"""

from __future__ import annotations

from core.design.shapes import Shape, is_image
from core.words import plural


def size_text(shape: Shape) -> str:
    """"8 @ 13×13" for an image, "128" for features, "?" when unknown (empty)."""
    if not shape:
        return "?"
    if is_image(shape):
        c, h, w = shape
        return f"{c} @ {h}×{w}"
    return str(shape[0])


def size_words(shape: Shape) -> str:
    """"8 @ 13×13" for an image, "128 features" for features."""
    if shape and not is_image(shape):
        return plural(shape[0], "feature")
    return size_text(shape)


def title_words(shape: Shape) -> str:
    """For titles: "8×8 image, 1 channel", or "64 features"."""
    if is_image(shape):
        c, h, w = shape
        return f"{h}×{w} image, {plural(c, 'channel')}"
    return size_words(shape)


def flow_text(in_shape: Shape, out_shape: Shape) -> str:
    """What a layer does to the shape: "1 @ 8×8 → 8 @ 8×8", "128 → 10 features", or
    the shape alone when it keeps it."""
    if in_shape == out_shape:
        return size_words(out_shape)
    return f"{size_text(in_shape)} → {size_words(out_shape)}"
