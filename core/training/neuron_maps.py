"""What each neuron computes: its output over the 2-D input plane, or for one sample.

TensorFlow Playground draws every hidden neuron's output over the input plane on the
neuron itself; the window's diagram does the same with ``NeuronMaps``. A *column* is what
the diagram draws as one column of neurons: the inputs, a Dense layer's units, or the
features a Flatten or GlobalAvgPool makes of an image (image layers are stacks of maps
there, with no column of their own here). Its
value is what the rest of the network reads from those neurons: the Dense layer's output
after the activation, dropout and batch-norm layers that follow it (the diagram's badges
under that column), and for the last Dense layer of a residual block, the block's output
(skip added). The output column is the network's output with its final sigmoid/softmax,
so for a two-class set its map is the decision surface.

Cost is bounded: the maps keep only the neurons a viewer draws (``sampled_neurons``: all
of a column up to ``FULL_LIMIT``, else the first ``HEAD`` and last ``TAIL``) on a
``MAP_RESOLUTION`` x ``MAP_RESOLUTION`` grid, every third point of the decision surface's
grid, so both come from one forward pass (``core.training.model_views.grid_views``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.design.edit import runtime_name
from core.design.spec import NetworkSpec
from core.engine.layers import Dense, Layer, Residual
from core.engine.network import Network
from core.training.build import build_network

FULL_LIMIT = 16  # columns up to this many neurons are sampled (and drawn) whole
HEAD = 6  # a wider column keeps its first HEAD and last TAIL neurons
TAIL = 6
MAP_STRIDE = 3  # the maps take every third point of the surface grid (64 points a side)
MAP_RESOLUTION = 22  # so they have 22 a side, both ends included
INPUT = "input"  # the name of the inputs' column


def sampled_neurons(units: int) -> tuple[int, ...]:
    """The neurons kept of a column of ``units`` (the diagram draws the same): all, or
    the first ``HEAD`` and last ``TAIL``."""
    if units <= FULL_LIMIT:
        return tuple(range(units))
    return tuple(range(HEAD)) + tuple(range(units - TAIL, units))


@dataclass(frozen=True)
class ColumnMaps:
    """One column's neurons over the grid: ``neurons`` (k,) their indices (ascending),
    ``values`` (k, ny, nx) their outputs in the network's dtype, ``units`` the column's
    width. ``probability``: the values are class probabilities (the output column of a
    classifier), else raw outputs."""

    units: int
    neurons: tuple[int, ...]
    values: np.ndarray
    probability: bool = False

    def map_of(self, neuron: int) -> np.ndarray | None:
        """The (ny, nx) map of neuron ``neuron``, or None if it was not sampled."""
        try:
            return self.values[self.neurons.index(neuron)]
        except ValueError:
            return None


@dataclass(frozen=True)
class NeuronMaps:
    """Every column's neuron maps over one grid of the raw 2-D input plane.

    ``columns`` by column name (``INPUT`` or the Dense layer's runtime name,
    ``layers.2``); ``x_range``/``y_range`` the raw extents (the decision surface's);
    grid point (i, j) is at y = linspace(*y_range, ny)[i], x = linspace(*x_range, nx)[j].
    """

    columns: dict[str, ColumnMaps]
    x_range: tuple[float, float]
    y_range: tuple[float, float]

    @property
    def resolution(self) -> int:
        first = next(iter(self.columns.values()), None)
        return int(first.values.shape[-1]) if first is not None else 0


def column_outputs(network: Network, x: np.ndarray) -> tuple[dict[str, np.ndarray],
                                                                np.ndarray, np.ndarray]:
    """One evaluation-mode forward pass of ``x`` (n, inputs) that keeps every column's
    value (see the module's description).

    Returns ``(columns, output, before_final)``: ``columns`` maps ``INPUT`` and each Dense
    (or Flatten, GlobalAvgPool) layer's runtime name to a new (n, units) array; ``output``
    (n, outputs) is the network's output (``Network.forward(x, training=False)``);
    ``before_final`` is the input of a final sigmoid/softmax a fused loss absorbs (the
    logits), else ``output``.
    """
    h = np.asarray(x, dtype=network.dtype)
    columns: dict[str, np.ndarray] = {INPUT: h.copy()}
    current = [INPUT]  # the column whose value the next layers transform
    if network.input_shape:  # image layers: each flat row viewed as an image, as in forward
        h = h.reshape(h.shape[0], *network.input_shape)

    def run(layers: list[Layer], h: np.ndarray) -> np.ndarray:
        for layer in layers:
            image_in = h.ndim == 4
            if isinstance(layer, Residual):
                run(layer.layers, h)  # the inner columns' values
                h = layer.forward(h, False)  # the block's output: skip added
            else:
                h = layer.forward(h, False)
                # Flatten and GlobalAvgPool turn an image into a column of features.
                if isinstance(layer, Dense) or (image_in and h.ndim == 2):
                    current[0] = layer.name
            # Each layer writes its own buffer, and runs once per pass (a block's
            # children again, to the same values): references stay valid until the end.
            # Images are stacks of maps in the diagram, not columns of neurons.
            if h.ndim == 2:
                columns[current[0]] = h
        return h

    layers = network.layers
    fused = network.fused_final
    h = run(layers[:-1] if fused else layers, h)
    before = h.copy()
    if fused:
        h = run(layers[-1:], h)
    # The layers' buffers are overwritten by the next pass: copies.
    return {k: v.copy() for k, v in columns.items()}, h.copy(), before


def neuron_maps(columns: dict[str, np.ndarray], resolution: int, probability: bool,
                x_range: tuple[float, float], y_range: tuple[float, float],
                stride: int = MAP_STRIDE) -> NeuronMaps:
    """``NeuronMaps`` from ``column_outputs`` of a ``resolution`` x ``resolution`` grid
    (rows y, columns x, flattened row-major), every ``stride``-th point kept (with
    ``(resolution - 1) % stride == 0`` both ends are kept). ``probability``: the last
    column holds class probabilities."""
    names = list(columns)
    out: dict[str, ColumnMaps] = {}
    for name, values in columns.items():
        units = values.shape[1]
        keep = sampled_neurons(units)
        # Grid points first (a ninth of them with stride 3), then the kept neurons.
        points = values.reshape(resolution, resolution, units)[::stride, ::stride]
        grid = np.ascontiguousarray(np.moveaxis(points[:, :, list(keep)], 2, 0))
        out[name] = ColumnMaps(units, keep, grid, probability and name == names[-1]
                               and name != INPUT)
    return NeuronMaps(out, x_range, y_range)


def network_with(spec: NetworkSpec, weights: dict[str, np.ndarray] | None, seed: int,
                 dtype: type | np.dtype = np.float32) -> Network:
    """A network of ``spec`` holding ``weights`` (``Network.state_dict()`` or
    ``parameters()`` names; batch-norm statistics left out keep their start values), or
    its initial weights from ``seed`` when ``weights`` is None. Raises ``DesignError``
    for an untrainable spec and ``ValueError`` for weights of another shape."""
    net = build_network(spec, seed=seed, dtype=dtype)
    if weights is not None:
        net.set_parameters(weights, strict=False)
    return net


def sample_activations(network: Network, x: np.ndarray) -> dict[str, np.ndarray]:
    """Every column's value for one sample ``x`` (inputs,), as the network reads it
    (standardised, derived inputs included): ``INPUT`` and each Dense layer's runtime
    name to a (units,) float64 array. One evaluation-mode forward pass."""
    row = np.asarray(x, dtype=np.float64).reshape(1, -1)
    if row.shape[1] != network.inputs:
        raise ValueError(f"a sample for this network has {network.inputs} values, "
                         f"not {row.shape[1]}")
    columns, _, _ = column_outputs(network, row)
    return {name: v[0].astype(np.float64) for name, v in columns.items()}


def column_name(path: tuple[int, ...] | None) -> str:
    """The column name of a Dense layer at ``path`` (None: the inputs)."""
    return INPUT if path is None else runtime_name(path)
