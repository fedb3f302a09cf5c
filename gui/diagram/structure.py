"""What the network diagram shows of a network, whatever its size: which columns of
neurons or stacks of feature maps, which badges (activation, dropout, batch norm under
the column they act on) and which residual arcs. Pure (no Qt), so the rules (which
layers are summarised, how many neurons or maps are drawn) are unit-tested without a
display.

A Dense layer is a column of neurons. Any other layer that changes the shape of what
flows through it, or learns weights over an image (a Conv2D keeping its size), gets a
column too: a stack of feature maps when its output is an image
(Conv2D, pooling; ``Maps``), a column of neurons when it is flat (Flatten,
GlobalAvgPool). Layers that keep the shape are badges.

``describe`` turns a ``NetworkSpec`` into a ``Structure``; the widget recomputes it on
design changes and ``gui.diagram.layout.place`` positions it for a pixel size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.design.edit import LayerPath, runtime_name
from core.design.shapes import Shape, ShapeError
from core.design.spec import (
    ActivationSpec,
    BatchNormSpec,
    DenseSpec,
    DropoutSpec,
    LayerSpec,
    NetworkSpec,
    ResidualSpec,
)

# Columns up to FULL_LIMIT neurons are drawn whole; a wider column draws its first HEAD
# and last TAIL neurons around an ellipsis: the neurons whose maps the core computes
# (the layout reads HEAD here).
from core.training.neuron_maps import HEAD, sampled_neurons  # noqa: F401

# Short badge texts, for columns too close together for the full ones.
SHORT_ACTIVATIONS = {
    "sigmoid": "σ", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "LReLU", "elu": "ELU",
    "gelu": "GELU", "softplus": "soft+", "linear": "lin", "softmax": "smax",
}

# An image layer draws one square per channel up to this many; its caption gives the count.
MAX_MAPS = 6


@dataclass(frozen=True)
class Maps:
    """An image as the diagram draws it: ``channels`` feature maps of ``height`` x
    ``width``, as a stack of ``drawn`` offset squares with ``caption`` beneath."""

    channels: int
    height: int
    width: int

    @property
    def drawn(self) -> int:
        return min(self.channels, MAX_MAPS)

    @property
    def caption(self) -> str:
        """"16 @ 13×13": how many maps, and each one's size."""
        return f"{self.channels} @ {self.height}×{self.width}"


@dataclass(frozen=True)
class Column:
    """One column: the inputs (``path`` None), a Dense layer's units, or another layer
    that changes the shape. ``maps`` is set when the column is an image (a stack of
    feature maps: ``shown`` is then empty and ``units`` is C·H·W)."""

    path: LayerPath | None
    title: str
    units: int
    shown: tuple[int, ...]  # indices of the neurons drawn, ascending
    series: int | None = None  # colour index (``gui.colors.series_color``); None: inputs
    weight_name: str | None = None  # ``layers.0.weight``: (previous units, units)
    labels: tuple[str, ...] = ()  # one per shown neuron, or empty
    maps: Maps | None = None
    short: str = ""  # the title for crowded diagrams; "" for the unit count

    @property
    def hidden(self) -> int:
        """How many neurons the ellipsis stands for (none for a stack of maps)."""
        return 0 if self.maps is not None else self.units - len(self.shown)

    @property
    def size_text(self) -> str:
        """The column's size in a few characters: "8" or "16@13×13"."""
        m = self.maps
        return f"{m.channels}@{m.height}×{m.width}" if m is not None else str(self.units)

    @property
    def short_title(self) -> str:
        """The title for crowded diagrams: ``short``, or the unit count."""
        return self.short or str(self.units)


@dataclass(frozen=True)
class Badge:
    """A layer without neurons of its own (activation, dropout, batch norm), shown under
    the column whose values it transforms; ``order`` stacks several under one column."""

    path: LayerPath
    column: int
    kind: str
    text: str
    order: int
    short: str = ""  # a shorter text for crowded diagrams ("σ" for "Sigmoid")


@dataclass(frozen=True)
class Block:
    """A residual block: its skip connection goes from column ``first`` (the block's
    input) to column ``last`` (its output). ``level`` 0 is the innermost arc."""

    path: LayerPath
    first: int
    last: int
    level: int
    projection: bool  # a learned projection carries the skip (widths differ)
    widths_ok: bool  # False: widths differ without a projection (the check reports it)


@dataclass(frozen=True)
class Stop:
    """The layer at ``path`` (``title``) cannot take its input (``why``): the diagram
    draws the layers before it and this in a last, marked slot."""

    path: LayerPath
    title: str
    why: str


@dataclass(frozen=True)
class Structure:
    """What the diagram shows of one network, independent of size."""

    columns: tuple[Column, ...]
    badges: tuple[Badge, ...] = ()
    blocks: tuple[Block, ...] = ()
    stop: Stop | None = None

    def weight_shapes(self) -> dict[str, tuple[int, int]]:
        """The shape ``set_weights`` must supply for each drawn weight matrix."""
        out = {}
        for prev, col in zip(self.columns, self.columns[1:], strict=False):
            if col.weight_name:
                out[col.weight_name] = (prev.units, col.units)
        return out

    def edge_count(self) -> int:
        """Connections drawn (between shown neurons of consecutive columns)."""
        return sum(len(a.shown) * len(b.shown)
                   for a, b in zip(self.columns, self.columns[1:], strict=False))

    def neuron_count(self) -> int:
        return sum(len(c.shown) for c in self.columns)


def short_text(layer: LayerSpec) -> str:
    """The short form of a badge's text (``Badge.short``)."""
    if isinstance(layer, ActivationSpec):
        fn = layer.function
        return SHORT_ACTIVATIONS.get(fn, layer.summary()) if isinstance(fn, str) else "?"
    if isinstance(layer, DropoutSpec):
        return "Drop"
    if isinstance(layer, BatchNormSpec):
        return "BN"
    return layer.summary()[:4]


def shown_indices(units: int) -> tuple[int, ...]:
    """The neurons drawn for a column of ``units``: all, or the first and last few
    (``core.training.neuron_maps.sampled_neurons``, so every drawn neuron has a map)."""
    return sampled_neurons(units)


def _labels(names: Sequence[str] | None, units: int, shown: tuple[int, ...]) -> tuple[str, ...]:
    if not names or len(names) != units:
        return ()
    return tuple(str(names[i]) for i in shown)


def output_names(class_names: Sequence[str], task: str | None, outputs: int,
                 target_names: Sequence[str] = ()) -> tuple[str, ...]:
    """Names for the output neurons: one per class, ``P(class 1)`` for a single sigmoid
    output of a two-class problem, or the regression targets' names."""
    if task == "classification" and class_names:
        if len(class_names) == outputs:
            return tuple(class_names)
        if outputs == 1 and len(class_names) == 2:
            return (f"P({class_names[1]})",)
        return ()
    if task == "regression" and len(target_names) == outputs:
        return tuple(target_names)
    return ()


def _maps_of(shape: Shape) -> Maps | None:
    return Maps(*(int(v) for v in shape)) if len(shape) == 3 else None


def _column(path: LayerPath | None, title: str, shape: Shape, series: int | None = None,
            weight_name: str | None = None, short: str = "") -> Column:
    """A column for an output of ``shape``: neurons for ``(n,)``, maps for ``(C, H, W)``
    (whose caption gives the count, so its ``short`` title is the kind's name)."""
    maps = _maps_of(shape)
    if maps is not None:
        return Column(path, title, maps.channels * maps.height * maps.width, (), series,
                      weight_name, maps=maps, short=short)
    n = int(shape[0]) if shape else 0
    return Column(path, title, n, shown_indices(n), series, weight_name)


def describe(net: NetworkSpec, feature_names: Sequence[str] | None = None,
             output_labels: Sequence[str] | None = None) -> Structure:
    """The columns, badges and residual arcs of ``net``.

    ``feature_names`` label the input neurons and ``output_labels`` the last Dense
    layer's, each only when its length matches the column.
    """
    in_shape = net.in_shape
    first = _column(None, "Input" if len(in_shape) == 3 else f"Input {in_shape[0]}",
                    in_shape, short="Input")
    if first.maps is None:
        first = Column(None, first.title, first.units, first.shown,
                       labels=_labels(feature_names, first.units, first.shown))
    columns: list[Column] = [first]
    badges: list[Badge] = []
    blocks: list[Block] = []
    stacked: dict[int, int] = {}
    series = 0

    def walk(layers: tuple[LayerSpec, ...], prefix: LayerPath, shape: Shape) -> tuple[int,
                                                                                      Shape]:
        """Add the layers' columns, starting from ``shape``; return the height of the
        deepest arc inside and the shape they output."""
        nonlocal series
        height = 0
        for i, layer in enumerate(layers):
            path = prefix + (i,)
            try:
                out = layer.output_shape(shape)
            except ShapeError as e:
                raise _Stopped(Stop(path, layer.summary(), e.message)) from None
            # Colours follow the runtime's parameter groups (``Network.group_names``):
            # a residual block owns a group only through its projection, before its
            # children.
            if isinstance(layer, ResidualSpec):
                owns = bool(layer.projection) and out != shape
            else:
                owns = layer.parameters_for(shape) > 0
            colour = series if owns else None
            if owns:
                series += 1
            if isinstance(layer, DenseSpec):
                columns.append(_column(path, f"Dense {int(layer.units)}", out, colour,
                                       runtime_name(path) + ".weight"))
            elif isinstance(layer, ResidualSpec):
                first = len(columns) - 1
                inner, _ = walk(layer.layers, path, shape)
                last = len(columns) - 1
                proj = bool(layer.projection) and out != shape
                blocks.append(Block(path, first, last, inner, proj, out == shape or proj))
                height = max(height, inner + 1)
            elif out != shape or (owns and layer.needs_image):  # BatchNorm stays a badge
                columns.append(_column(path, layer.summary(), out, colour, short=layer.label))
            else:
                col = len(columns) - 1
                order = stacked.get(col, 0)
                stacked[col] = order + 1
                badges.append(Badge(path, col, layer.kind, layer.summary(), order,
                                    short_text(layer)))
            shape = out
        return height, shape

    stop = None
    try:
        walk(net.layers, (), in_shape)
    except _Stopped as stopped:
        stop = stopped.stop
    if output_labels and stop is None and len(columns) > 1 and columns[-1].maps is None:
        last = columns[-1]
        columns[-1] = Column(last.path, last.title, last.units, last.shown, last.series,
                             last.weight_name, _labels(output_labels, last.units, last.shown))
    return Structure(tuple(columns), tuple(badges), tuple(blocks), stop)


class _Stopped(Exception):
    def __init__(self, stop: Stop) -> None:
        super().__init__(stop.why)
        self.stop = stop
