"""Pure edits of a network design: insert, remove, move, replace and duplicate layers.

A layer is addressed by a *path*: ``(i,)`` is top-level layer i, ``(i, j)`` is layer j
inside the residual block at i, and so on. Every function returns a new ``NetworkSpec``
and leaves its argument untouched, so the window's undo stack can keep old designs as
they are. Everything the window does to a network goes through here, so it can be done
(and tested) headless.
"""

from __future__ import annotations

import dataclasses

from core.design.shapes import Shape, size
from core.design.spec import LayerSpec, NetworkSpec, ResidualSpec
from core.errors import LayerPath


def _children(net: NetworkSpec, parent: LayerPath) -> tuple[LayerSpec, ...]:
    layers = net.layers
    for i in parent:
        block = layers[i]
        if not isinstance(block, ResidualSpec):
            raise ValueError(f"layer at {list(parent)} is not a residual block")
        layers = block.layers
    return layers


def _with_children(net: NetworkSpec, parent: LayerPath,
                   children: tuple[LayerSpec, ...]) -> NetworkSpec:
    if not parent:
        return dataclasses.replace(net, layers=children)

    def rebuild(layers: tuple[LayerSpec, ...], rest: LayerPath) -> tuple[LayerSpec, ...]:
        i = rest[0]
        block = layers[i]
        assert isinstance(block, ResidualSpec)
        inner = children if len(rest) == 1 else rebuild(block.layers, rest[1:])
        return layers[:i] + (dataclasses.replace(block, layers=inner),) + layers[i + 1:]

    return dataclasses.replace(net, layers=rebuild(net.layers, parent))


def layer_at(net: NetworkSpec, path: LayerPath) -> LayerSpec:
    """The layer at ``path``; ``IndexError``/``ValueError`` if there is none."""
    if not path:
        raise ValueError("empty layer path")
    siblings = _children(net, path[:-1])
    if not 0 <= path[-1] < len(siblings):
        raise IndexError(f"no layer at {list(path)}")
    return siblings[path[-1]]


def insert_layer(net: NetworkSpec, path: LayerPath, layer: LayerSpec) -> NetworkSpec:
    """Insert ``layer`` so it ends up at ``path`` (the last index may equal the count:
    append)."""
    siblings = _children(net, path[:-1])
    i = path[-1]
    if not 0 <= i <= len(siblings):
        raise IndexError(f"cannot insert at {list(path)}")
    return _with_children(net, path[:-1], siblings[:i] + (layer,) + siblings[i:])


def remove_layer(net: NetworkSpec, path: LayerPath) -> NetworkSpec:
    """Remove the layer at ``path`` (a residual block goes with its contents)."""
    layer_at(net, path)
    siblings = _children(net, path[:-1])
    i = path[-1]
    return _with_children(net, path[:-1], siblings[:i] + siblings[i + 1:])


def replace_layer(net: NetworkSpec, path: LayerPath, layer: LayerSpec) -> NetworkSpec:
    """Put ``layer`` in place of the layer at ``path``."""
    layer_at(net, path)
    siblings = _children(net, path[:-1])
    i = path[-1]
    return _with_children(net, path[:-1], siblings[:i] + (layer,) + siblings[i + 1:])


def duplicate_layer(net: NetworkSpec, path: LayerPath) -> NetworkSpec:
    """Insert a copy of the layer at ``path`` right after it."""
    layer = layer_at(net, path)
    return insert_layer(net, path[:-1] + (path[-1] + 1,), layer)


def is_inside(path: LayerPath, ancestor: LayerPath) -> bool:
    """True if ``path`` is ``ancestor`` or lies inside it."""
    return path[: len(ancestor)] == ancestor


def move_layer(net: NetworkSpec, src: LayerPath, dst: LayerPath) -> tuple[NetworkSpec,
                                                                           LayerPath]:
    """Move the layer at ``src`` so it is inserted at ``dst`` as addressed *before* the
    move (the position a drop indicator shows). Returns the new network and the layer's
    new path. Moving a block into itself raises ``ValueError``."""
    if is_inside(dst[:-1], src):
        raise ValueError("a residual block cannot be moved into itself")
    layer = layer_at(net, src)
    removed = remove_layer(net, src)
    # Removing src shifts later siblings (and anything inside them) up by one.
    adjusted = list(dst)
    depth = len(src) - 1
    if len(dst) > depth and dst[:depth] == src[:depth] and dst[depth] > src[depth]:
        adjusted[depth] -= 1
    new_path = tuple(adjusted)
    return insert_layer(removed, new_path, layer), new_path


def all_paths(net: NetworkSpec) -> list[LayerPath]:
    """Every layer's path, parents before their children, in order."""
    out: list[LayerPath] = []

    def walk(layers: tuple[LayerSpec, ...], prefix: LayerPath) -> None:
        for i, layer in enumerate(layers):
            out.append(prefix + (i,))
            if isinstance(layer, ResidualSpec):
                walk(layer.layers, prefix + (i,))

    walk(net.layers, ())
    return out


def runtime_name(path: LayerPath) -> str:
    """The runtime network's name for the layer at ``path`` (``layers.2.layers.0``)."""
    return ".".join(f"layers.{i}" for i in path)


def input_shape(net: NetworkSpec, path: LayerPath) -> Shape:
    """The shape flowing into the layer at ``path`` (``ShapeError`` if a layer before it
    cannot take its own input)."""
    shape = net.in_shape
    layers = net.layers
    for depth, i in enumerate(path):
        for layer in layers[:i]:
            shape = layer.output_shape(shape)
        if depth < len(path) - 1:
            block = layers[i]
            assert isinstance(block, ResidualSpec)
            layers = block.layers
    return shape


def input_features(net: NetworkSpec, path: LayerPath) -> int:
    """How many values per sample flow into the layer at ``path``."""
    return size(input_shape(net, path))


def fit_to_data(net: NetworkSpec, n_features: int,
                image_shape: tuple[int, ...] | None) -> NetworkSpec:
    """``net`` taking a dataset's input: ``n_features`` values per row, and the images'
    ``(C, H, W)`` when the data are images (None or empty: features)."""
    shape = tuple(image_shape or ())
    if len(shape) == 2:  # MERGE: remove once Dataset.image_shape is (C, H, W) (imagedata)
        shape = (1, *shape)
    return dataclasses.replace(net, inputs=n_features, input_shape=shape)
