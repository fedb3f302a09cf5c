"""One-edit cures for network-check problems: a ``Problem`` whose ``fix`` is set names
one of these, and ``apply_fix`` makes the edit (the window offers it as a button and
pushes it as one undoable step; the same edit works headless)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from core.design.edit import insert_layer, layer_at, replace_layer
from core.design.shapes import ADD_PROJECTION, INSERT_FLATTEN, USE_DATA_SHAPE
from core.design.spec import Design, FlattenSpec, ResidualSpec
from core.errors import Problem

FIX_LABELS = {
    INSERT_FLATTEN: "Insert Flatten",
    ADD_PROJECTION: "Turn on projection",
    USE_DATA_SHAPE: "Use the dataset's image shape",
}


def fix_label(problem: Problem) -> str:
    """The button text for ``problem``'s fix ("" when it has none)."""
    return FIX_LABELS.get(problem.fix, "")


def apply_fix(design: Design, problem: Problem,
              image_shape: Sequence[int] | None = None) -> Design:
    """``design`` with ``problem``'s fix made; ``image_shape`` is the dataset's
    ``(C, H, W)`` (needed by the "use the dataset's image shape" fix).

    ``ValueError`` when the problem has no fix or the fix no longer applies."""
    net = design.network
    if problem.fix == INSERT_FLATTEN and problem.layer:
        net = insert_layer(net, problem.layer, FlattenSpec())
    elif problem.fix == ADD_PROJECTION and problem.layer:
        block = layer_at(net, problem.layer)
        if not isinstance(block, ResidualSpec):
            raise ValueError(f"no residual block at {list(problem.layer)}")
        net = replace_layer(net, problem.layer, dataclasses.replace(block, projection=True))
    elif problem.fix == USE_DATA_SHAPE and image_shape:
        net = dataclasses.replace(net, input_shape=tuple(image_shape))
    else:
        raise ValueError(f"no fix for: {problem}")
    return dataclasses.replace(design, network=net)
