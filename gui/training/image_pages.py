"""The live views of an image network: its first layer's filters, and one chosen
validation sample's feature maps through every image layer.

Both come from the weights the plots already receive (``ProgressBatch.weights``, about
four times a second from the training process, and once from a reopened project's
saved run): ``RunNetwork`` keeps the run's network built in the window and loads the
newest weights into it only when a page draws; the pages read it through
``core.training.image_views``. Choosing another sample redraws at once from the last
weights (one forward pass of one sample; ``bench/gui_latency.py`` measures it). No
pyqtgraph here: the pages are made with the plots' shell, like the gallery.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core import Design, StudioError
from core.engine.network import Network
from core.training.image_views import (
    INPUT,
    MAX_CHANNELS,
    SampleMaps,
    first_filters,
    is_image_network,
    sample_maps,
)
from core.training.misclassified import class_probabilities
from core.training.neuron_maps import network_with
from gui.plain_text import plain
from gui.sample_image import sample_image
from gui.training.image_grid import ImageGrid, shared_scale, signed_image, signed_images
from gui.training.training_ui import layer_labels

__all__ = ["FeatureMapsPage", "FiltersPage", "RunNetwork"]

THUMB = 64  # px: the chosen sample's image (an 8x8 digit at 8 screen pixels a pixel)
TITLE_WIDTH = 190  # px: a layer's title column on the feature-maps page

FILTERS_TIP = (
    "The first convolution's filters, one small image per filter (its input channels "
    "side by side), as the network holds them now. Red is negative, white zero, blue "
    "positive, on ONE scale shared by all filters (the largest |weight|): so a filter "
    "that stays pale has learnt little, and strong filters stand out. Updated about "
    "four times a second while training.")
MAPS_TIP = (
    "What each image layer makes of the chosen validation sample: every channel's map "
    f"(the first {MAX_CHANNELS} of a wider layer), red negative, white zero, blue positive, on one "
    "scale per layer (its largest |value|), so the channels of a layer compare. "
    "Computed here from the newest weights, so choosing another sample shows at once.")

NO_WEIGHTS = ("The newest weights cannot be shown: they do not fit the run's network, or "
              "are not finite (a diverged run).")


class RunNetwork:
    """The run's network in the window, with the newest weights it was given.

    ``set_design`` (each run) forgets the network; ``set_weights`` only keeps the dict
    (cheap: batches arrive while the pages are hidden); ``network()`` builds it once per
    design and loads the newest weights when asked. None weights: the design's initial
    weights from its seed. ``version`` counts the weights given, so a page knows when to
    redraw.
    """

    def __init__(self) -> None:
        self.design: Design | None = None
        self._weights: dict[str, np.ndarray] | None = None
        self._net: Network | None = None
        self._tried = False  # built (or failed to) for this design
        self._loaded = False  # the newest weights are in the network
        self._fits = True  # they could be loaded
        self.version = 0

    def set_design(self, design: Design | None) -> None:
        self.design = design
        self._net, self._tried, self._loaded, self._fits = None, False, False, True
        self._weights = None
        self.version += 1

    def set_weights(self, weights: dict[str, np.ndarray] | None) -> None:
        self._weights, self._loaded = weights, False
        self.version += 1

    def network(self) -> Network | None:
        """The network holding the newest weights, or None (no design, a design that
        cannot be built, or weights that do not fit it)."""
        d = self.design
        if d is None:
            return None
        if not self._tried:
            self._tried = True
            try:
                self._net = network_with(d.network, None, d.training.seed,
                                         np.dtype(d.training.dtype))
            except (StudioError, ValueError, TypeError):
                self._net = None
            self._loaded = self._weights is None
        if self._net is not None and not self._loaded:
            self._loaded = True
            try:
                self._net.set_parameters(self._weights, strict=False)
                self._fits = True
            except ValueError:  # another network's, or diverged (non-finite) weights
                self._fits = False  # the pages say so rather than show stale weights
        return self._net if self._fits else None

    @property
    def images(self) -> bool:
        """Whether the run's network reads images (from its design: nothing is built)."""
        d = self.design
        return d is not None and len(getattr(d.network, "input_shape", ()) or ()) == 3

    def labels(self) -> dict[str, str]:
        """Runtime layer name -> "layers.0 · Conv2D 8@3x3" for the run's design."""
        if self.design is None or self._net is None:
            return {}
        names = tuple(layer.name for layer in self._net.all_layers())
        return dict(zip(names, layer_labels(self.design, names), strict=True))


def _message_label() -> QLabel:
    label = plain(QLabel())
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet("color: #333333; padding: 12px;")
    return label


class FiltersPage(QWidget):
    """The first Conv2D's filters as a grid of small images (see ``FILTERS_TIP``)."""

    def __init__(self, source: RunNetwork, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self._drawn = -1  # the source version last drawn
        self.header = plain(QLabel())
        self.header.setWordWrap(True)
        self.header.setStyleSheet("font-weight: bold;")
        self.scale_label = plain(QLabel())
        self.scale_label.setStyleSheet("color: #666666;")
        self.message = _message_label()
        self.grid = ImageGrid(tile=72)
        self.setToolTip(FILTERS_TIP)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.header)
        layout.addWidget(self.scale_label)
        layout.addWidget(self.message)
        layout.addWidget(self.grid)
        layout.addStretch(1)
        self.filters: np.ndarray | None = None  # (F, C, kh, kw) as drawn
        self.scale = 0.0
        self._show_message("Train a network whose first layer is a Conv2D to see its "
                           "filters here.")

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(True)
        for w in (self.header, self.scale_label, self.grid):
            w.setVisible(False)
        self.filters = None

    def draw(self) -> None:
        """Show the filters of the newest weights (nothing to do if they were drawn)."""
        if self._drawn == self.source.version:
            return
        self._drawn = self.source.version
        net = self.source.network()
        if net is None:
            self._show_message(NO_WEIGHTS if self.source.design is not None else
                               "Train a network whose first layer is a Conv2D to see its "
                               "filters here.")
            return
        found = first_filters(net)
        if found is None:
            self._show_message("The first layer with weights is not a Conv2D: this page "
                               "shows a convolutional network's first filters.")
            return
        name, w = found
        self.filters = w
        with np.errstate(invalid="ignore"):
            self.scale = shared_scale(w)
        f, c, kh, kw = w.shape
        label = self.source.labels().get(name, name)
        channels = f", {c} input channels side by side" if c > 1 else ""
        self.header.setText(f"{label}: {f} filters of {kh}×{kw}{channels}")
        self.scale_label.setText(f"One scale for all filters: red −{self.scale:.3g}, "
                                 f"white 0, blue +{self.scale:.3g}")
        self.grid.set_tiles([signed_image(w[k, :3] if c > 1 else w[k, 0], self.scale)
                             for k in range(f)], [str(k + 1) for k in range(f)])
        self.message.setVisible(False)
        for widget in (self.header, self.scale_label, self.grid):
            widget.setVisible(True)


class _LayerSection(QWidget):
    """One layer: its title at the left, its channels' grid beside it (side by side, so
    a 1280x720 window shows several layers without scrolling)."""

    def __init__(self) -> None:
        super().__init__()
        self.title = plain(QLabel())
        self.title.setWordWrap(True)
        self.title.setFixedWidth(TITLE_WIDTH)
        self.title.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.grid = ImageGrid(tile=40)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 3, 0, 3)
        layout.setSpacing(8)
        layout.addWidget(self.title, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.grid, 1)


class FeatureMapsPage(QWidget):
    """A chosen validation sample's feature maps, layer by layer (see ``MAPS_TIP``).

    ``sample_changed(int)`` carries the chosen validation row."""

    sample_changed = Signal(int)

    def __init__(self, source: RunNetwork, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.dataset = None
        self.maps: SampleMaps | None = None  # as drawn
        self._drawn: tuple[int, int] | None = None  # (source version, row) drawn
        self.spin = QSpinBox()
        self.spin.setMinimum(1)
        self.spin.setToolTip("The validation sample whose feature maps are shown.")
        self.spin.valueChanged.connect(self._on_spin)
        self.previous = QToolButton()
        self.previous.setArrowType(Qt.ArrowType.LeftArrow)
        self.previous.setToolTip("The previous validation sample")
        self.previous.clicked.connect(lambda: self.spin.stepBy(-1))
        self.next = QToolButton()
        self.next.setArrowType(Qt.ArrowType.RightArrow)
        self.next.setToolTip("The next validation sample")
        self.next.clicked.connect(lambda: self.spin.stepBy(1))
        self.image = QLabel()
        self.image.setFixedSize(THUMB, THUMB)
        self.image.setStyleSheet("border: 1px solid #BBBBBB; background: white;")
        self.info = plain(QLabel())
        self.info.setWordWrap(True)
        controls = QHBoxLayout()
        controls.addWidget(plain(QLabel("Validation sample")))
        controls.addWidget(self.previous)
        controls.addWidget(self.spin)
        controls.addWidget(self.next)
        controls.addSpacing(8)
        controls.addWidget(self.image)
        controls.addWidget(self.info, 1)
        self.message = _message_label()
        self._sections: list[_LayerSection] = []
        self._body = QWidget()
        self._body_layout = QVBoxLayout(self._body)
        self._body_layout.setContentsMargins(0, 0, 0, 0)
        self._body_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self._body)
        self.setToolTip(MAPS_TIP)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(controls)
        layout.addWidget(self.message)
        layout.addWidget(self.scroll, 1)
        self.set_dataset(None)

    # ------------------------------------------------------------------ input
    @property
    def row(self) -> int:
        """The chosen validation row (0-based)."""
        return self.spin.value() - 1

    def set_dataset(self, dataset) -> None:
        """A new run's data (a core Dataset or None); the chosen row stays if it fits."""
        self.dataset = dataset
        n = int(getattr(dataset, "n_val", 0) or 0)
        self.spin.blockSignals(True)
        self.spin.setMaximum(max(n, 1))
        self.spin.blockSignals(False)
        self.spin.setSuffix(f" of {n:,}" if n else "")
        for w in (self.spin, self.previous, self.next):
            w.setEnabled(n > 0)
        self._drawn = None

    def choose(self, row: int) -> None:
        """Show validation row ``row`` (0-based)."""
        self.spin.setValue(int(row) + 1)

    def _on_spin(self, _value: int) -> None:
        self.sample_changed.emit(self.row)
        if self.isVisible():
            self.draw()

    # --------------------------------------------------------------- drawing
    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(True)
        self.scroll.setVisible(False)
        self.maps = None

    def draw(self) -> None:
        """Show the chosen sample through the newest weights (nothing to do if that
        is what is shown)."""
        key = (self.source.version, self.row)
        if self._drawn == key:
            return
        self._drawn = key
        d = self.dataset
        if d is None or not getattr(d, "n_val", 0):
            self._show_message("No validation samples: set a validation share in the "
                               "Dataset panel to follow one through the network.")
            return
        self._draw_sample(d)
        net = self.source.network()
        if net is None and self.source.design is not None:
            self._show_message(NO_WEIGHTS)
            return
        if net is None or not is_image_network(net):
            self._show_message("This page shows a convolutional network's feature maps: "
                               "the network does not read images.")
            return
        try:
            with np.errstate(all="ignore"):  # diverged weights: NaN maps, drawn white
                maps = sample_maps(net, d.x_val[self.row])
        except ValueError as exc:
            self._show_message(f"The chosen sample does not fit the network: {exc}.")
            return
        self.maps = maps
        self._draw_prediction(d, net, maps)
        labels = self.source.labels()
        while len(self._sections) < len(maps.layers):
            section = _LayerSection()
            self._body_layout.insertWidget(len(self._sections), section)
            self._sections.append(section)
        for k, section in enumerate(self._sections):
            section.setVisible(k < len(maps.layers))
        for section, layer in zip(self._sections, maps.layers, strict=False):
            scale = shared_scale(layer.maps)
            c, h, w = layer.shape
            name = ("Input, standardised" if layer.name == INPUT
                    else labels.get(layer.name, layer.name))
            more = f" (first {layer.maps.shape[0]} shown)" if layer.maps.shape[0] < c else ""
            section.title.setText(f"{name}\n{c}×{h}×{w}{more}\nscale ±{scale:.3g}")
            section.grid.set_tiles(signed_images(layer.maps, scale),
                                   [str(i + 1) for i in range(layer.maps.shape[0])])
        self.message.setVisible(False)
        self.scroll.setVisible(True)

    def _draw_sample(self, d) -> None:
        row = self.row
        raw = d.x_val_raw[row]
        shape = getattr(d, "image_shape", None)
        if shape is None and self.source.design is not None:
            # Data without an image shape (a CSV of pixels) read as images by the network.
            shape = tuple(self.source.design.network.input_shape) or None
        if shape is not None:
            lo = min(0.0, float(d.x_train_raw.min())) if d.x_train_raw.size else 0.0
            hi = float(d.x_train_raw.max()) if d.x_train_raw.size else 1.0
            image = sample_image(raw, tuple(shape), lo, hi)
            self.image.setPixmap(QPixmap.fromImage(image.scaled(
                THUMB - 2, THUMB - 2, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation)))
        else:
            self.image.clear()

    def _draw_prediction(self, d, net: Network, maps: SampleMaps) -> None:
        names = d.class_names
        text = ""
        if d.task == "classification" and names:
            true = str(names[int(d.y_val[self.row])])
            probs = class_probabilities(maps.output[None, :], not net.fused_final)[0]
            if np.all(np.isfinite(probs)) and probs.size == len(names):
                k = int(np.argmax(probs))
                verdict = "right" if str(names[k]) == true else "wrong"
                text = (f"class {true} · predicted {names[k]} (p {probs[k]:.2f}, "
                        f"{verdict})")
            else:
                text = f"class {true}"
        self.info.setText(text)

