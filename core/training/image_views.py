"""What an image network shows a viewer: its first layer's filters and one sample's
feature maps through every image layer.

Both are read from a ``Network`` holding the weights a viewer has (the window keeps one
built from the run's design and fills it from each batch's ``ProgressBatch.weights``,
which the training process sends about four times a second and a reopened project
replays). Nothing extra travels over the pipe: the first layer's filters are in the
weights already, and one sample's forward pass through a small conv net costs a
fraction of a millisecond (``bench/gui_latency.py`` measures it), far less than sending
every layer's maps with each view message.

Cost and size are bounded: at most ``MAX_CHANNELS`` channels per layer are kept (the
first ones; a layer's channels have no order worth sampling by), and one sample is one
row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.engine.conv import Conv2D
from core.engine.network import Network

__all__ = ["INPUT", "MAX_CHANNELS", "LayerMaps", "SampleMaps", "first_filters", "is_image_network",
           "sample_maps"]

MAX_CHANNELS = 16  # channels kept per layer: a 4x4 grid of small images
INPUT = "input"  # the name of the input image's entry


@dataclass(frozen=True)
class LayerMaps:
    """One layer's output for one sample: ``name`` its runtime name (``layers.0``, or
    ``INPUT``), ``shape`` its full output (C, H, W), ``maps`` (k, H, W) float64, the
    first k = min(C, cap) channels."""

    name: str
    shape: tuple[int, int, int]
    maps: np.ndarray


@dataclass(frozen=True)
class SampleMaps:
    """One sample through the network: ``layers`` the input image, then every top-level
    layer with an image output (a residual block's output, not its inside), in order;
    ``output`` (outputs,) float64 the network's output (after a final softmax/sigmoid)."""

    layers: tuple[LayerMaps, ...]
    output: np.ndarray


def _image_shape(network: Network) -> tuple[int, int, int] | None:
    """The (C, H, W) the network's input is read as, or None for flat inputs. Taken
    from ``Network.input_shape`` where the network has one, else from its first layer."""
    shape = tuple(getattr(network, "input_shape", ()) or ())
    if len(shape) == 3:
        return shape  # type: ignore[return-value]
    first = network.layers[0] if network.layers else None
    shape = tuple(getattr(first, "in_shape", ()) or ())
    return shape if len(shape) == 3 else None  # type: ignore[return-value]


def is_image_network(network: Network) -> bool:
    """Whether the network reads its input as images (C, H, W)."""
    return _image_shape(network) is not None


def first_filters(network: Network) -> tuple[str, np.ndarray] | None:
    """The first layer with parameters, if it is a Conv2D: (its runtime name, a copy of
    its weight (F, C, kh, kw) float64); None otherwise."""
    for layer in network.all_layers():
        if layer.params:
            if isinstance(layer, Conv2D):
                return layer.name, np.array(layer.params["weight"], dtype=np.float64)
            return None
    return None


def _capped(name: str, h: np.ndarray, cap: int) -> LayerMaps:
    c, height, width = h.shape[1:]
    return LayerMaps(name, (int(c), int(height), int(width)),
                     np.array(h[0, :max(cap, 0)], dtype=np.float64))


def sample_maps(network: Network, x: np.ndarray, cap: int = MAX_CHANNELS) -> SampleMaps:
    """``x`` (inputs,), one row as the network reads it (standardised), through an
    evaluation-mode forward pass, keeping every image layer's output (see
    ``SampleMaps``). Raises ``ValueError`` for a row of the wrong size or a network
    whose input is not an image."""
    shape = _image_shape(network)
    if shape is None:
        raise ValueError("this network does not read images")
    row = np.asarray(x, dtype=network.dtype).reshape(-1)
    if row.size != int(np.prod(shape)):
        raise ValueError(f"a sample for this network has {int(np.prod(shape))} values, "
                         f"not {row.size}")
    h = row.reshape(1, *shape)
    kept = [_capped(INPUT, h, cap)]
    for layer in network.layers:
        h = layer.forward(h, False)
        if h.ndim == 4:
            # Copied now: the layer's buffer is overwritten by its next pass.
            kept.append(_capped(layer.name, h, cap))
    output = np.array(h, dtype=np.float64).reshape(-1)
    return SampleMaps(tuple(kept), output)
