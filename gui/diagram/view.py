"""The network diagram: the design drawn as columns of neurons and their connections.

Inputs on the left, one column per Dense layer; activations, dropout and batch norm are
badges under the column they act on; a residual block is an arc (its skip connection)
over its columns. Wide layers are summarised (first and last few neurons around
"⋮ n more"). Once weights are given (``set_weights``, also live during training) each
connection is coloured by the sign of its weight and drawn thicker and more opaque the
larger |w| is relative to its layer's largest. For data with two inputs each neuron is a
small square showing its output over the input plane (TensorFlow Playground's heatmaps;
``gui.diagram.neuron_views``; the context menu and a check box switch them), and
``show_sample`` colours the neurons by one sample's forward pass instead. Clicking a
column, badge or arc selects that layer. What is drawn (``gui.diagram.structure``),
where (``gui.diagram.layout``) and in which line style (``gui.diagram.weight_style``) are
pure and tested without Qt; this widget caches them per design and per size, so a
repaint (``gui.diagram.painting``) only strokes prepared lines and draws cached images.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSettings, QSize, Qt
from PySide6.QtGui import (
    QAction,
    QColor,
    QContextMenuEvent,
    QFontMetricsF,
    QHelpEvent,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QCheckBox, QMenu, QSizePolicy, QToolTip, QWidget

from core import LAYER_KINDS, StudioError
from core.design.edit import LayerPath, input_shape, layer_at
from core.design.shapes import ShapeError
from core.design.spec import DenseSpec, NetworkSpec
from core.training.model_views import on_plane
from core.training.neuron_maps import NeuronMaps
from core.words import plural
from gui import colors
from gui.diagram.layout import Layout, hit_test, path_at, place
from gui.diagram.neuron_views import NeuronViews
from gui.diagram.painting import (
    DiagramPainter,
    connection_pens,
    line_groups,
    small_font,
    title_font,
)
from gui.diagram.structure import Structure, describe, output_names
from gui.diagram.weight_style import layer_max_abs, weight_buckets
from gui.project.dataset_state import DatasetState
from gui.project.document import Document, LayerSelection


class NetworkDiagram(QWidget):
    """Draws ``document.design.network``; ``selection`` is highlighted and set by clicks.

    ``set_weights`` colours the connections (``Network.parameters()`` names); weights
    whose shapes do not fit the drawn network are ignored (drawn grey). With two-input
    data the neurons show their output over the input plane (``show_neuron_outputs``).
    """

    NEURON_OUTPUTS_TIP = ("Draw each neuron as a small picture of its output over the "
                          "input plane (data with two inputs): blue positive, red "
                          "negative, white zero, relative to the largest value in its "
                          "layer. The output neurons show the class probability, so "
                          "the last picture is the decision boundary.")
    NEURON_OUTPUTS_SETTING = "diagram/neuron_outputs"

    def __init__(self, document: Document, selection: LayerSelection,
                 dataset_state: DatasetState | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc = document
        self._sel = selection
        self._data = dataset_state
        self._structure: Structure | None = None
        self._error = ""
        self._net: NetworkSpec | None = None
        self._shapes: dict[str, tuple[int, int]] = {}
        # Per edge block (by column index): style bucket of each drawn connection.
        self._buckets: dict[int, np.ndarray] | None = None
        self._layout: Layout | None = None
        self._lines_cache: dict[int, list] = {}  # QLineF per edge block of _layout
        self._layout_size: tuple[int, int] | None = None
        self._groups: list[tuple[QPen, list]] | None = None
        self._pen_cache: tuple[int, dict[tuple[int, bool], QPen]] | None = None
        self.neurons = NeuronViews()
        # The switch is remembered between sessions.
        self.neurons.enabled = bool(QSettings().value(self.NEURON_OUTPUTS_SETTING, True,
                                                      type=bool))
        self.neuron_outputs_action = QAction("Show neuron outputs", self)
        self.neuron_outputs_action.setCheckable(True)
        self.neuron_outputs_action.setChecked(self.neurons.enabled)
        self.neuron_outputs_action.setToolTip(self.NEURON_OUTPUTS_TIP)
        self.neuron_outputs_action.toggled.connect(self.show_neuron_outputs)
        # The same switch in view: bottom right, in the legend's row.
        self._outputs_box = QCheckBox("Neuron outputs", self)
        self._outputs_box.setObjectName("neuron_outputs_box")
        self._outputs_box.setChecked(self.neurons.enabled)
        self._outputs_box.setToolTip(self.NEURON_OUTPUTS_TIP)
        self._outputs_box.toggled.connect(self.neuron_outputs_action.setChecked)
        self.setMouseTracking(True)
        self.setMinimumSize(240, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("")  # per-item tooltips come from event()
        document.designChanged.connect(self._on_design_changed)
        selection.changed.connect(self.update)
        if dataset_state is not None:
            dataset_state.changed.connect(self._on_dataset_changed)
        self._rebuild()

    # ------------------------------------------------------------------ public API
    @property
    def structure(self) -> Structure | None:
        """What is drawn (None if the design cannot be drawn)."""
        return self._structure

    def set_weights(self, weights: dict[str, np.ndarray] | None) -> None:
        """Colour the connections by ``weights`` (dotted names as ``Network.parameters()``);
        None draws them grey. Cheap: only the drawn part of each matrix is read, and the
        repaint is scheduled (several calls before it draw once)."""
        self.set_neuron_maps(weights, None)

    @property
    def has_weights(self) -> bool:
        return self._buckets is not None

    def set_neuron_maps(self, weights: dict[str, np.ndarray] | None,
                        maps: NeuronMaps | None) -> None:
        """``set_weights`` with the neurons' maps computed with them (a run's
        ``ProgressBatch.neurons``); without maps the diagram computes them when shown."""
        self.neurons.set_weights(weights, maps)
        buckets = self._bucketise(weights) if weights is not None else None
        # Weights stream in four times a second; once training settles their style
        # buckets rarely change, and a large network's repaint costs the window 10-20 ms.
        # Nothing else drawn depends on them unless neurons show pictures or a sample.
        if (_same_buckets(buckets, self._buckets) and not self.showing_neuron_outputs
                and self.neurons.sample is None):
            return
        self._buckets = buckets
        self._groups = None
        self.update()

    def show_neuron_outputs(self, on: bool) -> None:
        """Draw (or stop drawing) each neuron's output over the input plane."""
        if self.neurons.enabled == on:
            return
        self.neurons.enabled = on
        QSettings().setValue(self.NEURON_OUTPUTS_SETTING, on)
        self.neuron_outputs_action.setChecked(on)
        self._outputs_box.setChecked(on)
        self._layout = None  # the neurons change size
        self._groups = None
        self.update()

    @property
    def showing_neuron_outputs(self) -> bool:
        """Whether the neurons show their outputs now (switched on, two-input data)."""
        return self.neurons.enabled and self._plane()

    def show_sample(self, x: np.ndarray | None) -> None:
        """Colour each drawn neuron by its value for one sample ``x`` (shape (features,),
        a row of the dataset's ``x_val`` or ``x_train``: as the network reads it), from
        one evaluation-mode forward pass with the weights the diagram has (the initial
        ones before training). Blue positive, red negative (relative to the largest in
        each layer), output neurons of a classifier by class probability. Meant for
        small networks: only the drawn neurons are coloured. None clears it."""
        self.neurons.show_sample(x)
        self.update()

    def sample_colours(self) -> dict[tuple[int, int], QColor]:
        """The neuron colours of the sample shown, by (column, position among its
        drawn neurons); empty without a sample."""
        if self._structure is None:
            return {}
        return dict(self.neurons.fills(self._structure, self._doc.design,
                                       self._dataset()) or {})

    def render_image(self, size: QSize, scale: float = 1.0) -> QImage:
        """The diagram (without the selection highlight) as an image of ``size`` logical
        pixels, ``scale`` device pixels per logical pixel."""
        w, h = max(size.width(), 1), max(size.height(), 1)
        image = QImage(int(w * scale), int(h * scale), QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(scale)
        image.fill(self._background())
        painter = QPainter(image)
        try:
            self._paint(painter, w, h, export=True)
        finally:
            painter.end()
        return image

    def save_image(self, path: str | Path) -> None:
        """Write the diagram to ``path``: SVG for ``.svg``, otherwise a PNG (or the format
        its suffix names). Raises ``OSError`` if the file cannot be written."""
        path = Path(path)
        size = self._export_size()
        if path.suffix.lower() == ".svg":
            gen = QSvgGenerator()
            gen.setFileName(str(path))
            gen.setSize(size)
            gen.setViewBox(QRectF(0, 0, size.width(), size.height()))
            gen.setTitle(self._doc.design.name or "Network diagram")
            gen.setDescription("Network diagram exported from Backprop Studio")
            painter = QPainter()
            if not painter.begin(gen):
                raise OSError("cannot open the file for writing")
            try:
                painter.fillRect(QRectF(0, 0, size.width(), size.height()), self._background())
                self._paint(painter, size.width(), size.height(), export=True)
            finally:
                painter.end()
            if not path.is_file() or path.stat().st_size == 0:
                raise OSError("the SVG file could not be written")
            return
        fmt = path.suffix.lstrip(".").upper() or "PNG"
        if fmt == "JPG":
            fmt = "JPEG"
        image = self.render_image(size, scale=2.0)
        if not image.save(str(path), fmt):
            raise OSError(f"cannot write a {fmt} image there")

    def item_rect(self, path: LayerPath) -> QRectF | None:
        """Where the layer at ``path`` is drawn (its column, badge or skip arc; a click
        there selects it), or None if it is not drawn."""
        s, layout = self._structure, self._current_layout()
        if s is None or layout is None:
            return None
        for col, place_ in zip(s.columns, layout.columns, strict=True):
            if col.path == path:
                return QRectF(*place_.rect)
        for badge, rect in zip(s.badges, layout.badges, strict=True):
            if badge.path == path:
                return QRectF(*rect) if rect is not None else None  # in the note
        for block, (xa, xb, y) in zip(s.blocks, layout.arcs, strict=True):
            if block.path == path:
                return QRectF(xa - 4, y - 4, xb - xa + 8, layout.arc_h)
        return None

    def layout_at(self, width: int, height: int) -> Layout | None:
        """The geometry the diagram has at ``width`` x ``height`` (None if the design
        cannot be drawn)."""
        return self._layout_for(width, height) if self._structure is not None else None

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(640, 400)

    # -------------------------------------------------------------------- refresh
    def _on_design_changed(self) -> None:
        self.neurons.design_changed(self._doc.design.network == self._net)
        self._rebuild()

    def _on_dataset_changed(self) -> None:
        self.neurons.design_changed(self._doc.design.network == self._net, same_data=False)
        self._rebuild()

    def _dataset(self):
        return self._data.dataset if self._data is not None else None

    def _plane(self) -> bool:
        return self._structure is not None and on_plane(self._dataset())

    def _rebuild(self) -> None:
        net = self._doc.design.network
        feature_names, out_names = None, None
        dataset = self._data.dataset if self._data is not None else None
        self._error = ""
        try:
            if dataset is not None:
                feature_names = dataset.feature_names
                out_names = _output_names(net, dataset)
            structure = describe(net, feature_names, out_names)
        except (TypeError, ValueError, IndexError, StudioError) as exc:
            # A half-edited, malformed design: say so instead of drawing nonsense.
            structure, self._error = None, f"The network cannot be drawn: {exc}"
        shapes = structure.weight_shapes() if structure is not None else {}
        if shapes != self._shapes:
            self._buckets = None  # the old weights belong to another shape
        self._structure, self._net, self._shapes = structure, net, shapes
        self._layout = None
        self._groups = None
        self._place_outputs_box()
        self.update()

    def _bucketise(self, weights: dict[str, np.ndarray]) -> dict[int, np.ndarray] | None:
        s = self._structure
        if s is None:
            return None
        out: dict[int, np.ndarray] = {}
        try:
            for j in range(1, len(s.columns)):
                src, dst = s.columns[j - 1], s.columns[j]
                if dst.weight_name is None:
                    continue
                w = weights.get(dst.weight_name)
                if w is None or np.shape(w) != (src.units, dst.units):
                    return None  # weights of another network (an edit during training)
                arr = np.asarray(w)
                sub = arr[np.ix_(src.shown, dst.shown)]
                out[j] = weight_buckets(sub, layer_max_abs(arr)).ravel()
        except (TypeError, ValueError, IndexError):
            return None
        return out

    # ------------------------------------------------------------------- painting
    def _background(self) -> QColor:
        return self.palette().base().color()

    def _export_size(self) -> QSize:
        w, h = self.width(), self.height()
        if w < 400 or h < 250 or not self.isVisible():
            return QSize(900, 520)
        return QSize(w, h)

    def _pads(self, s: Structure, width: float) -> tuple[float, float]:
        """Room left and right of the outer columns' centres beyond the margin, for the
        input and output labels, half a title and half an ellipsis text."""
        fm = QFontMetricsF(small_font(self.font()))
        tfm = QFontMetricsF(title_font(self.font()))
        cap = width * 0.22

        def pad(index: int) -> float:
            col = s.columns[index]
            half = max(tfm.horizontalAdvance(col.title) / 2,
                       fm.horizontalAdvance(f"⋮ {col.hidden:,} more") / 2 if col.hidden else 0,
                       fm.horizontalAdvance(col.maps.caption) / 2 if col.maps else 0,
                       14.0)
            labels = max((fm.horizontalAdvance(t) for t in col.labels), default=0.0)
            if labels:
                half = max(half, min(labels + 24, cap))
            return half + 2

        left = pad(0)
        right = pad(len(s.columns) - 1) if len(s.columns) > 1 else 0.0
        return left, right

    def _layout_for(self, w: int, h: int) -> Layout:
        s = self._structure
        assert s is not None
        left, right = self._pads(s, w)
        titles = QFontMetricsF(title_font(self.font()))
        small = QFontMetricsF(small_font(self.font()))
        return place(s, w, h, left, right, titles.horizontalAdvance, small.horizontalAdvance,
                     big=self.showing_neuron_outputs)

    def _line_groups(self, layout: Layout, cached: bool = True) -> list[tuple[QPen, list]]:
        return line_groups(layout, self._buckets, self._pens(),
                           self._lines_cache if cached else None)

    def _pens(self) -> dict[tuple[int, bool], QPen]:
        """Every connection pen, built once per background colour."""
        bg = self._background()
        if self._pen_cache is None or self._pen_cache[0] != bg.rgb():
            self._pen_cache = (bg.rgb(), connection_pens(bg))
        return self._pen_cache[1]

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), self._background())
            self._paint(painter, self.width(), self.height(), export=False)
        finally:
            painter.end()

    def _current_layout(self) -> Layout | None:
        if self._structure is None:
            return None
        size = (self.width(), self.height())
        if self._layout is None or self._layout_size != size:
            self._layout = self._layout_for(*size)
            self._layout_size = size
            self._groups = None
            self._lines_cache = {}  # the QLineF of the old layout's connections
        return self._layout

    def _paint(self, p: QPainter, w: int, h: int, export: bool) -> None:
        s = self._structure
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        if s is None:
            p.setPen(colors.ERROR)
            p.drawText(QRectF(12, 12, w - 24, h - 24),
                       Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       self._error or "No network")
            return
        if export:
            layout = self._layout_for(w, h)
            groups = self._line_groups(layout, cached=False)  # a layout of its own
            selected = None
        else:
            layout = self._current_layout()
            assert layout is not None
            if self._groups is None:
                self._groups = self._line_groups(layout)
            groups = self._groups
            selected = self._sel.path
        design, dataset = self._doc.design, self._dataset()
        fills = self.neurons.fills(s, design, dataset)
        strips = None if fills else self.neurons.strips(s, layout, design, dataset,
                                                        p.device().devicePixelRatioF())
        pictured = ({(i, k) for i, c in (self.neurons.colours(s, design, dataset) or {}).items()
                     for k in c.positions} if strips else set())
        box = self._outputs_box
        reserve = box.width() + 8 if box.isVisible() and not export else 0.0
        painter = DiagramPainter(self.font(), self._background(), self.palette().text().color(),
                                 self._buckets is not None, self._network_info(s), strips,
                                 pictured, fills, reserve)
        painter.paint(p, s, layout, groups, selected, w)

    def _network_info(self, s: Structure) -> str:
        """"2-8-1  ·  33 parameters" for the legend ("" if it cannot be counted)."""
        if self._net is None:
            return ""
        try:
            shape = "-".join(c.size_text for c in s.columns)
            return f"{shape}  ·  {plural(self._net.parameter_count(), 'parameter')}"
        except TypeError:
            return ""

    # --------------------------------------------------------------- interaction
    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._place_outputs_box()

    def _place_outputs_box(self) -> None:
        box = self._outputs_box
        box.setVisible(self._plane())
        box.adjustSize()
        box.move(self.width() - box.width() - 6, self.height() - box.height() - 2)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 - Qt's name
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        menu.addAction(self.neuron_outputs_action)
        self.neuron_outputs_action.setEnabled(self._plane())
        if self.neurons.sample is not None:
            menu.addAction("Clear the sample's colours", lambda: self.show_sample(None))
        menu.exec(event.globalPos())
        event.accept()

    def _hit(self, pos: QPointF) -> tuple[str, int] | None:
        layout = self._current_layout()
        if layout is None or self._structure is None:
            return None
        return hit_test(self._structure, layout, pos.x(), pos.y())

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if event.button() != Qt.MouseButton.LeftButton or self._structure is None:
            super().mousePressEvent(event)
            return
        hit = self._hit(event.position())
        path = path_at(self._structure, hit)
        if path is not None:
            self._sel.select(path)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        hit = self._hit(event.position())
        clickable = self._structure is not None and path_at(self._structure, hit) is not None
        if clickable:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            self.unsetCursor()
        super().mouseMoveEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            tip = self._tooltip(self._hit(QPointF(event.pos())))
            if tip:
                QToolTip.showText(event.globalPos(), tip, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def _tooltip(self, hit: tuple[str, int] | None) -> str:
        s, net = self._structure, self._net
        if s is None or net is None:
            return ""
        if hit is None:
            return ("The network as neurons and connections. Click a column, badge or arc to "
                    "select its layer.")
        what, i = hit
        if what == "column":
            col = s.columns[i]
            maps = col.maps
            if col.path is None:
                if maps is not None:
                    return (f"Inputs: {plural(maps.channels, 'channel')} of "
                            f"{maps.height}×{maps.width} pixels per sample.")
                names = ", ".join(col.labels[:4]) + (" …" if len(col.labels) > 4 else "")
                extra = f" ({names})" if names else ""
                return f"Inputs: {plural(col.units, 'feature')} per sample{extra}."
            shape = input_shape(net, col.path)
            layer = layer_at(net, col.path)
            params = plural(layer.parameters_for(shape), 'parameter')
            if maps is not None:
                return (f"{col.title}: {plural(maps.channels, 'feature map')} of "
                        f"{maps.height}×{maps.width} ({params}). Click to select this layer.")
            if not isinstance(layer, DenseSpec):
                return (f"{col.title}: {plural(col.units, 'value')} ({params}). Click to "
                        "select this layer.")
            n_in = math.prod(shape)
            words = (f"{col.title}: {plural(col.units, 'neuron')}, each connected to all "
                     f"{plural(n_in, 'value')} before it ({params}).")
            if col.hidden:
                words += f" {plural(len(col.shown), 'neuron')} drawn, {col.hidden:,} summarised."
            if self.showing_neuron_outputs:
                names = tuple(getattr(self._dataset(), "raw_feature_names", ())) or ("x1",
                                                                                     "x2")
                words += (" Each square is a neuron's output over the input plane "
                          f"({names[0]} to the right, {names[-1]} up).")
            return words + " Click to select this layer."
        if what == "stop" and s.stop is not None:
            return (f"{s.stop.title} cannot take its input: {s.stop.why}. The diagram stops "
                    "here. Click to select this layer.")
        path = path_at(s, hit)
        assert path is not None
        layer = layer_at(net, path)
        info = LAYER_KINDS.get(layer.kind)
        desc = info.description if info else ""
        return f"{layer.summary()}: {desc} Click to select this layer."


def _output_names(net: NetworkSpec, dataset) -> tuple[str, ...] | None:
    """Names for the output neurons, None when the network's output cannot be known (a
    layer that cannot take its input: the diagram draws the layers before it)."""
    try:
        outputs = net.outputs
    except ShapeError:
        return None
    return output_names(dataset.class_names, dataset.task, outputs, dataset.target_names)


def _same_buckets(a: dict[int, np.ndarray] | None, b: dict[int, np.ndarray] | None) -> bool:
    """Whether two sets of connection style buckets (per edge block) draw the same."""
    if a is None or b is None:
        return a is b
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
