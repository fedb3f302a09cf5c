"""What the network diagram shows of a network, whatever its size: which columns of
neurons, which badges (activation, dropout, batch norm under the column they act on) and
which residual arcs. Pure (no Qt), so the rules (which layers are summarised, how many
neurons are drawn) are unit-tested without a display.

``describe`` turns a ``NetworkSpec`` into a ``Structure``; the widget recomputes it on
design changes and ``gui.diagram.layout.place`` positions it for a pixel size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.design.edit import LayerPath, input_features, runtime_name
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


@dataclass(frozen=True)
class Column:
    """One column of neurons: the inputs (``path`` None) or a Dense layer's units."""

    path: LayerPath | None
    title: str
    units: int
    shown: tuple[int, ...]  # indices of the neurons drawn, ascending
    series: int | None = None  # colour index (``gui.colors.series_color``); None: inputs
    weight_name: str | None = None  # ``layers.0.weight``: (previous units, units)
    labels: tuple[str, ...] = ()  # one per shown neuron, or empty

    @property
    def hidden(self) -> int:
        """How many neurons the ellipsis stands for."""
        return self.units - len(self.shown)


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
class Structure:
    """What the diagram shows of one network, independent of size."""

    columns: tuple[Column, ...]
    badges: tuple[Badge, ...] = ()
    blocks: tuple[Block, ...] = ()

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


def describe(net: NetworkSpec, feature_names: Sequence[str] | None = None,
             output_labels: Sequence[str] | None = None) -> Structure:
    """The columns, badges and residual arcs of ``net``.

    ``feature_names`` label the input neurons and ``output_labels`` the last Dense
    layer's, each only when its length matches the column.
    """
    units = int(net.inputs)
    shown = shown_indices(units)
    columns: list[Column] = [Column(None, f"Input {units}", units, shown,
                                    labels=_labels(feature_names, units, shown))]
    badges: list[Badge] = []
    blocks: list[Block] = []
    stacked: dict[int, int] = {}
    series = 0

    def has_params(path: LayerPath, layer: LayerSpec) -> bool:
        return layer.parameter_count(input_features(net, path)) > 0

    def walk(layers: tuple[LayerSpec, ...], prefix: LayerPath) -> int:
        """Add the layers' columns; return the height of the deepest arc inside."""
        nonlocal series
        height = 0
        for i, layer in enumerate(layers):
            path = prefix + (i,)
            # Colours follow the runtime's parameter groups (``Network.group_names``):
            # a residual block owns a group only through its projection, before its
            # children.
            if isinstance(layer, ResidualSpec):
                owns = bool(layer.projection) and (
                    layer.output_features(input_features(net, path))
                    != input_features(net, path))
            else:
                owns = has_params(path, layer)
            colour = series if owns else None
            if owns:
                series += 1
            if isinstance(layer, DenseSpec):
                n = int(layer.units)
                s = shown_indices(n)
                columns.append(Column(path, f"Dense {n}", n, s, colour,
                                      runtime_name(path) + ".weight"))
            elif isinstance(layer, ResidualSpec):
                first = len(columns) - 1
                inner = walk(layer.layers, path)
                last = len(columns) - 1
                n_in = input_features(net, path)
                n_out = layer.output_features(n_in)
                proj = bool(layer.projection) and n_out != n_in
                blocks.append(Block(path, first, last, inner, proj, n_out == n_in or proj))
                height = max(height, inner + 1)
            else:
                col = len(columns) - 1
                order = stacked.get(col, 0)
                stacked[col] = order + 1
                badges.append(Badge(path, col, layer.kind, layer.summary(), order,
                                    short_text(layer)))
        return height

    walk(net.layers, ())
    if output_labels and len(columns) > 1:
        last = columns[-1]
        columns[-1] = Column(last.path, last.title, last.units, last.shown, last.series,
                             last.weight_name, _labels(output_labels, last.units, last.shown))
    return Structure(tuple(columns), tuple(badges), tuple(blocks))
