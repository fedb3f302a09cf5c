"""What the diagram's neurons show inside their outline: their output over the 2-D input
plane (heatmaps), or their values for one chosen sample.

The maps come with the weights: a live or reopened run's from the training side
(``ProgressBatch.neurons``), computed where the network is. For weights without maps
(the project's latest weights between runs) and for no weights at all (the design's
initial weights from its seed) they are computed here, through the core, on demand:
one forward pass of a ``MAP_RESOLUTION``-square grid. Images and colours are built only
when new values arrived and something asks to paint them.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

from core import Design, StudioError
from core.training.model_views import grid_views, on_plane
from core.training.neuron_maps import (
    MAP_RESOLUTION,
    NeuronMaps,
    network_with,
    sample_activations,
)
from gui.colors import class_color
from gui.diagram.heatmap_style import RGB
from gui.diagram.heatmaps import (
    ColumnColours,
    NeuronKey,
    Strip,
    column_strips,
    map_colours,
    sample_fills,
)
from gui.diagram.layout import Layout
from gui.diagram.structure import Structure


def class_rgbs(dataset) -> list[RGB]:
    """The class colours of ``dataset`` as RGB triples (none for regression)."""
    n = int(getattr(dataset, "n_classes", 0) or 0)
    return [(c.red(), c.green(), c.blue()) for c in map(class_color, range(n))]


class NeuronViews:
    """The diagram's neuron pictures and their sources; ``enabled`` switches the maps."""

    def __init__(self) -> None:
        self.enabled = True
        self._weights: dict[str, np.ndarray] | None = None
        self._maps: NeuronMaps | None = None
        self._given = False  # the maps came with the weights (not computed here)
        self._computed = False  # computed here for the current weights and design
        self._colours: dict[int, ColumnColours] | None = None
        # The column images for one geometry: (key, strips).
        self._strips: tuple[tuple, dict[int, Strip]] | None = None
        self._sample: np.ndarray | None = None
        self._fills: dict[NeuronKey, QColor] | None = None

    # ------------------------------------------------------------ new values
    def set_weights(self, weights: dict[str, np.ndarray] | None,
                    maps: NeuronMaps | None = None) -> None:
        """New weights (None: the design's initial ones) with their maps, if known."""
        self._weights = weights
        self._maps, self._given, self._computed = maps, maps is not None, False
        self._colours = self._strips = self._fills = None

    def design_changed(self, same_network: bool, same_data: bool = True) -> None:
        """The design or its data changed: maps computed here are recomputed; maps that
        came with the weights stay while the network and data are the same (a live
        run's settings change), weights while the network is."""
        if not same_network:
            self._weights = None
        if not (same_network and same_data and self._given):
            self._maps, self._given = None, False
        self._computed = False
        self._colours = self._strips = self._fills = None

    def show_sample(self, x: np.ndarray | None) -> None:
        """Colour by one sample ``x`` (inputs,) as the network reads it; None clears."""
        self._sample = None if x is None else np.array(x, dtype=np.float64).ravel()
        self._fills = None

    @property
    def maps(self) -> NeuronMaps | None:
        """The maps last given or computed (None before any)."""
        return self._maps

    @property
    def sample(self) -> np.ndarray | None:
        return self._sample

    # ------------------------------------------------------------ for painting
    def strips(self, structure: Structure, layout: Layout, design: Design, dataset,
               scale: float = 1.0) -> dict[int, Strip] | None:
        """One image per column holding its neurons' pictures, placed for ``layout``
        (``scale`` device pixels per logical pixel), or None when the maps are off or
        cannot be had. Rebuilt only for new maps or another geometry."""
        colours = self.colours(structure, design, dataset)
        if colours is None:
            return None
        key = (layout.width, layout.height, layout.radius, scale)
        if self._strips is None or self._strips[0] != key:
            self._strips = (key, column_strips(colours, layout, scale))
        return self._strips[1]

    def colours(self, structure: Structure, design: Design, dataset
                ) -> dict[int, ColumnColours] | None:
        """Every drawn neuron's picture by column, or None when the maps are off or
        cannot be had."""
        if not self.enabled or not on_plane(dataset):
            return None
        if self._colours is None:
            if self._maps is None and not self._computed:
                self._computed = True
                network = self._network(design)
                if network is not None:
                    try:
                        with np.errstate(all="ignore"):  # diverged weights: NaN maps
                            self._maps = grid_views(network, dataset, False, MAP_RESOLUTION,
                                                    1)[1]
                    except (StudioError, ValueError):
                        self._maps = None
            if self._maps is None:
                return None
            self._colours = map_colours(structure, self._maps, class_rgbs(dataset))
            self._strips = None
        return self._colours

    def fills(self, structure: Structure, design: Design, dataset
              ) -> dict[NeuronKey, QColor] | None:
        """Each drawn neuron's colour for the chosen sample (None: no sample, or it does
        not fit the network)."""
        if self._sample is None:
            return None
        if self._fills is None:
            network = self._network(design)
            if network is None or self._sample.shape != (network.inputs,):
                return None
            with np.errstate(all="ignore"):
                values = sample_activations(network, self._sample)
            probability = getattr(dataset, "task", "") == "classification"
            self._fills = sample_fills(structure, values, probability, class_rgbs(dataset))
        return self._fills

    def _network(self, design: Design):
        """The design's network holding the current weights (or its initial ones), or
        None if it cannot be built or the weights do not fit it."""
        try:
            return network_with(design.network, self._weights, design.training.seed,
                                np.dtype(design.training.dtype))
        except (StudioError, ValueError, TypeError):
            return None
