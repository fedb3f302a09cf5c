"""The network diagram's neuron pictures: each drawn neuron's output over the input
plane (``map_colours``, drawn as one image per column: ``column_strips``), or its value
for one sample as a fill colour (``sample_fills``). Colours follow
``gui.diagram.heatmap_style``.

Why one image per column: every painter call lets the GUI thread lose the GIL to the
thread reading the training progress, and on a busy machine each such hand-over can
cost milliseconds (measured in ``bench/gui_latency.py``: a picture per neuron made the
diagram's paint several times slower than the outlines alone). So the pictures of a
column are scaled and placed in NumPy, once per new maps or size, and a repaint draws
one image per column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage

from core.training.neuron_maps import NeuronMaps, column_name
from gui.diagram.heatmap_style import RGB, column_scale, neuron_rgb, signed_rgb
from gui.diagram.layout import Layout
from gui.diagram.structure import Structure

#: (column index, position in ``Column.shown``) -> what that neuron shows.
NeuronKey = tuple[int, int]


@dataclass(frozen=True)
class ColumnColours:
    """The pictures of one column's drawn neurons: ``positions`` (n,) their places in
    ``Column.shown``, ``rgb`` (n, ny, nx, 3) uint8 with the plane's top row first."""

    positions: tuple[int, ...]
    rgb: np.ndarray


@dataclass(frozen=True)
class Strip:
    """A column's pictures as one image, to be drawn at ``rect`` (logical pixels)."""

    rect: QRectF
    image: QImage


def map_colours(structure: Structure, maps: NeuronMaps,
                classes: list[RGB]) -> dict[int, ColumnColours]:
    """The colours of every drawn neuron that has a map, by column index. Columns whose
    width differs from the maps' (another network) get none."""
    out: dict[int, ColumnColours] = {}
    for i, col in enumerate(structure.columns):
        cm = maps.columns.get(column_name(col.path))
        if cm is None or cm.units != col.units:
            continue
        drawn = [(k, cm.neurons.index(n)) for k, n in enumerate(col.shown) if n in cm.neurons]
        if not drawn:
            continue
        values = cm.values[[j for _, j in drawn], ::-1]  # (n, ny, nx), top row first
        if cm.probability:
            rgb = np.stack([neuron_rgb(values[m], cm.neurons[j], col.units, True, 1.0,
                                       classes) for m, (_, j) in enumerate(drawn)])
        else:  # one lookup for the whole column
            rgb = signed_rgb(values, column_scale(cm.values))
        out[i] = ColumnColours(tuple(k for k, _ in drawn), rgb)
    return out


def _weights(length: int, size: int) -> np.ndarray:
    """(size, length) bilinear weights from ``length`` points to ``size`` pixels,
    between the points' centres (as a smooth image scaling does)."""
    pos = np.clip((np.arange(size) + 0.5) * length / size - 0.5, 0.0, length - 1.0)
    lo = np.minimum(pos.astype(np.intp), max(length - 2, 0))
    frac = pos - lo
    w = np.zeros((size, length))
    w[np.arange(size), lo] = 1.0 - frac
    w[np.arange(size), np.minimum(lo + 1, length - 1)] += frac
    return w


def resample(rgb: np.ndarray, size: int) -> np.ndarray:
    """``rgb`` (n, h, w, 3) scaled to (n, size, size, 3) by bilinear interpolation, uint8:
    two small matrix products for all pictures at once."""
    n, h, w = rgb.shape[:3]
    wy, wx = _weights(h, size), _weights(w, size)
    planes = np.moveaxis(rgb.astype(np.float64), 3, 1)  # (n, 3, h, w)
    out = wy @ planes @ wx.T  # (n, 3, size, size)
    return np.rint(np.moveaxis(out, 1, 3)).astype(np.uint8)


def column_strips(colours: dict[int, ColumnColours], layout: Layout,
                  scale: float = 1.0) -> dict[int, Strip]:
    """Every column's pictures as one transparent image each, a square of side
    2 * ``layout.radius`` centred on each pictured neuron; ``scale`` device pixels per
    logical pixel. All pictures are scaled in one go."""
    if not colours:
        return {}
    radius = layout.radius
    side = max(int(round(2 * radius * scale)), 1)
    pictures = resample(np.concatenate([c.rgb for c in colours.values()]), side)
    p = pictures.astype(np.uint32)
    argb = (0xFF << 24) | (p[..., 0] << 16) | (p[..., 1] << 8) | p[..., 2]  # (n, side, side)
    out: dict[int, Strip] = {}
    first = 0
    for i, c in colours.items():
        place_ = layout.columns[i]
        centres = place_.ys[list(c.positions)]
        top = float(centres.min()) - radius
        height = int(round((float(centres.max()) - float(centres.min())) * scale)) + side
        buf = np.zeros((height, side), dtype=np.uint32)  # transparent between pictures
        for m, cy in enumerate(centres.tolist()):
            row = min(int(round((cy - radius - top) * scale)), height - side)
            buf[row:row + side] = argb[first + m]
        first += len(c.positions)
        image = QImage(buf.data, side, height, 4 * side,
                       QImage.Format.Format_ARGB32_Premultiplied).copy()
        image.setDevicePixelRatio(scale)
        out[i] = Strip(QRectF(place_.x - side / scale / 2, top, side / scale,
                              height / scale), image)
    return out


def sample_fills(structure: Structure, values: dict[str, np.ndarray], probability: bool,
                 classes: list[RGB]) -> dict[NeuronKey, QColor]:
    """The fill colour of each drawn neuron for one sample's ``values`` (column name to
    (units,) array, ``core.training.neuron_maps.sample_activations``); ``probability``:
    the output column holds class probabilities. The scale of each column is its
    largest |value| over all its neurons, drawn or not."""
    out: dict[NeuronKey, QColor] = {}
    last = len(structure.columns) - 1
    for i, col in enumerate(structure.columns):
        v = values.get(column_name(col.path))
        if v is None or v.shape != (col.units,):
            continue
        scale = column_scale(v)
        prob = probability and i == last and i > 0
        for k, neuron in enumerate(col.shown):
            r, g, b = neuron_rgb(v[neuron], neuron, col.units, prob, scale, classes).tolist()
            out[(i, k)] = QColor(r, g, b)
    return out
