"""The network diagram's neuron pictures: each drawn neuron's output over the input
plane as a small image (``map_images``), or its value for one sample as a fill colour
(``sample_fills``). Built once per new set of values, so a repaint only draws cached
images. Colours follow ``gui.diagram.heatmap_style``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage

from core.training.neuron_maps import NeuronMaps, column_name
from gui.diagram.heatmap_style import RGB, column_scale, neuron_rgb, signed_rgb
from gui.diagram.structure import Structure

#: (column index, position in ``Column.shown``) -> what that neuron shows.
NeuronKey = tuple[int, int]


def rgb_images(rgb: np.ndarray) -> list[QImage]:
    """Opaque images of ``rgb`` (k, h, w, 3) uint8, row 0 at the top (copies: each
    image owns its pixels)."""
    k, h, w = rgb.shape[:3]
    c = rgb.astype(np.uint32)
    packed = np.ascontiguousarray((0xFF << 24) | (c[..., 0] << 16) | (c[..., 1] << 8)
                                  | c[..., 2])
    return [QImage(packed[i].data, w, h, 4 * w, QImage.Format.Format_RGB32).copy()
            for i in range(k)]


def map_images(structure: Structure, maps: NeuronMaps,
               classes: list[RGB]) -> dict[NeuronKey, QImage]:
    """One image per drawn neuron that has a map, the input plane's y axis pointing up.
    Columns whose width differs from the maps' (another network) get none."""
    out: dict[NeuronKey, QImage] = {}
    for i, col in enumerate(structure.columns):
        cm = maps.columns.get(column_name(col.path))
        if cm is None or cm.units != col.units:
            continue
        drawn = [(k, cm.neurons.index(n)) for k, n in enumerate(col.shown) if n in cm.neurons]
        if not drawn:
            continue
        values = cm.values[[j for _, j in drawn], ::-1]  # (k, ny, nx), top row first
        if cm.probability:
            rgb = np.stack([neuron_rgb(values[m], cm.neurons[j], col.units, True, 1.0,
                                       classes) for m, (_, j) in enumerate(drawn)])
        else:  # one lookup for the whole column
            rgb = signed_rgb(values, column_scale(cm.values))
        for (k, _), image in zip(drawn, rgb_images(rgb), strict=True):
            out[(i, k)] = image
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
