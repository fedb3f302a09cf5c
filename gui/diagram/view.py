"""The network diagram: the design drawn as columns of neurons and their connections.

Inputs on the left, one column per Dense layer; activations, dropout and batch norm are
badges under the column they act on; a residual block is an arc (its skip connection)
over its columns. Wide layers are summarised (first and last few neurons around
"⋮ n more"). Once weights are given (``set_weights``, also live during training) each
connection is coloured by the sign of its weight and drawn thicker and more opaque the
larger |w| is relative to its layer's largest. Clicking a column, badge or arc selects
that layer. The geometry lives in ``gui.diagram.layout`` (pure, tested without Qt); this
widget caches it per design and per size, so a repaint only strokes prepared lines.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QLineF, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPolygonF,
)
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from core import LAYER_KINDS, StudioError
from core.design.edit import LayerPath, input_features, layer_at
from core.design.spec import NetworkSpec
from gui import colors
from gui.diagram.layout import (
    LEVELS,
    NEUTRAL,
    Layout,
    Structure,
    bucket_style,
    describe,
    hit_test,
    layer_max_abs,
    output_names,
    path_at,
    place,
    weight_buckets,
)
from gui.project.dataset_state import DatasetState
from gui.project.document import Document, LayerSelection

_NEUTRAL = QColor(120, 120, 120)
_INPUT = QColor("#777777")
_TEXT_DIM = QColor("#666666")
_RESIDUAL = colors.kind_color("residual").darker(160)


def weight_pen(bucket: int, background: QColor | None = None, faint: bool = False) -> QPen:
    """The pen of a connection in style ``bucket`` (see ``diagram_layout.bucket_style``).

    Transparency is pre-blended with ``background`` into an opaque colour: Qt's raster
    engine strokes translucent antialiased lines five to eight times slower than opaque
    ones, and weak lines are painted first, so strong ones still lie on top. ``faint``
    is for blocks with very many drawn connections, which would otherwise merge.
    """
    sign, width, alpha = bucket_style(bucket)
    colour = QColor(_NEUTRAL if sign == 0 else colors.POSITIVE if sign > 0 else
                    colors.NEGATIVE)
    if faint:
        alpha, width = int(alpha * 0.55), width * 0.75
    bg = background if background is not None else QColor(Qt.GlobalColor.white)
    a = alpha / 255.0
    pen = QPen(QColor.fromRgbF(*(a * c + (1 - a) * g for c, g in (
        (colour.redF(), bg.redF()), (colour.greenF(), bg.greenF()),
        (colour.blueF(), bg.blueF())))), width)
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    return pen


DENSE_EDGES = 150  # more drawn connections than this between two columns: fainter pens
# Paint order: grey, then weak to strong so strong lines lie on top.
_ORDER = [(NEUTRAL, True), (NEUTRAL, False)] + [
    (s * lv, faint) for lv in range(1, LEVELS + 1) for faint in (True, False) for s in (-1, 1)]


class NetworkDiagram(QWidget):
    """Draws ``document.design.network``; ``selection`` is highlighted and set by clicks.

    ``set_weights`` colours the connections (``Network.parameters()`` names); weights
    whose shapes do not fit the drawn network are ignored (drawn grey).
    """

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
        self._layout_size: tuple[int, int] | None = None
        self._groups: list[tuple[QPen, list]] | None = None
        self._pen_cache: tuple[int, dict[tuple[int, bool], QPen]] | None = None
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
        self._buckets = self._bucketise(weights) if weights is not None else None
        self._groups = None
        self.update()

    @property
    def has_weights(self) -> bool:
        return self._buckets is not None

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
        self._rebuild()

    def _on_dataset_changed(self) -> None:
        self._rebuild()

    def _rebuild(self) -> None:
        net = self._doc.design.network
        feature_names, out_names = None, None
        dataset = self._data.dataset if self._data is not None else None
        self._error = ""
        try:
            if dataset is not None:
                feature_names = dataset.feature_names
                out_names = output_names(dataset.class_names, dataset.task, net.outputs,
                                         dataset.target_names)
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

    def _small_font(self) -> QFont:
        f = QFont(self.font())
        f.setPointSizeF(max(self.font().pointSizeF() - 1, 7.0))
        return f

    def _title_font(self) -> QFont:
        f = QFont(self.font())
        f.setBold(True)
        return f

    def _pads(self, s: Structure, width: float) -> tuple[float, float]:
        """Room left and right of the outer columns' centres beyond the margin, for the
        input and output labels, half a title and half an ellipsis text."""
        fm, tfm = QFontMetricsF(self._small_font()), QFontMetricsF(self._title_font())
        cap = width * 0.22

        def pad(index: int) -> float:
            col = s.columns[index]
            half = max(tfm.horizontalAdvance(col.title) / 2,
                       fm.horizontalAdvance(f"⋮ {col.hidden:,} more") / 2 if col.hidden else 0,
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
        titles, small = QFontMetricsF(self._title_font()), QFontMetricsF(self._small_font())
        return place(s, w, h, left, right, titles.horizontalAdvance, small.horizontalAdvance)

    def _line_groups(self, layout: Layout) -> list[tuple[QPen, list]]:
        """Connections as (pen, QLineF list) per style bucket, in paint order."""
        by_key: dict[tuple[int, bool], list] = {}
        buckets = self._buckets
        for block in layout.edges:
            lines = [QLineF(*row) for row in block.lines.tolist()]
            # Hundreds of lines between two columns merge into a blur: draw them fainter.
            faint = len(lines) > DENSE_EDGES
            b = buckets.get(block.column) if buckets is not None else None
            if b is None or len(b) != len(lines):
                by_key.setdefault((NEUTRAL, faint), []).extend(lines)
                continue
            for value in np.unique(b).tolist():
                idx = np.flatnonzero(b == value).tolist()
                by_key.setdefault((value, faint), []).extend(lines[k] for k in idx)
        pens = self._pens()
        return [(pens[key], by_key[key]) for key in _ORDER if key in by_key]

    def _pens(self) -> dict[tuple[int, bool], QPen]:
        """Every connection pen, built once per background colour."""
        bg = self._background()
        if self._pen_cache is None or self._pen_cache[0] != bg.rgb():
            self._pen_cache = (bg.rgb(), {key: weight_pen(key[0], bg, key[1])
                                          for key in _ORDER})
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
            groups = self._line_groups(layout)
            selected = None
        else:
            layout = self._current_layout()
            assert layout is not None
            if self._groups is None:
                self._groups = self._line_groups(layout)
            groups = self._groups
            selected = self._sel.path
        text = self.palette().text().color()

        # Bands: every connection between summarised columns, drawn as one shape.
        p.setPen(Qt.PenStyle.NoPen)
        band = QColor(_NEUTRAL)
        band.setAlpha(22)
        p.setBrush(band)
        for block in layout.edges:
            if block.band is not None:
                pts = block.band
                p.drawPolygon(QPolygonF([QPointF(pts[k], pts[k + 1]) for k in range(0, 8, 2)]))

        p.setBrush(Qt.BrushStyle.NoBrush)
        for pen, lines in groups:
            p.setPen(pen)
            p.drawLines(lines)

        # Tints go over the lines (which are opaque, pre-blended with the background).
        self._paint_blocks(p, s, layout, selected, back=True)
        if selected is not None:
            for i, col in enumerate(s.columns):
                if col.path == selected:
                    c = _series(col.series)
                    c.setAlpha(34)
                    p.setPen(Qt.PenStyle.NoPen)
                    p.setBrush(c)
                    p.drawRoundedRect(QRectF(*layout.columns[i].rect), 6, 6)
        self._paint_neurons(p, s, layout, selected, text)
        self._paint_blocks(p, s, layout, selected, back=False)
        self._paint_badges(p, s, layout, selected, text)
        self._paint_legend(p, s, layout, text)
        if len(s.columns) == 1:
            p.setPen(_TEXT_DIM)
            p.setFont(self.font())
            p.drawText(QRectF(0, layout.legend_y - 40, w, 24), Qt.AlignmentFlag.AlignCenter,
                       "No layers yet: add a Dense layer to see neurons and connections.")

    def _paint_neurons(self, p: QPainter, s: Structure, layout: Layout,
                       selected: LayerPath | None, text: QColor) -> None:
        r = layout.radius
        small, title = self._small_font(), self._title_font()
        fm_small, fm_title = QFontMetricsF(small), QFontMetricsF(title)
        base = self._background()

        # Titles above the columns (``place`` chose their texts, rows and positions).
        p.setFont(title)
        for t in layout.titles:
            col = s.columns[t.column]
            p.setPen(_series(col.series).darker(130) if col.path is not None else text)
            rect = QRectF(*t.rect)
            label = fm_title.elidedText(t.text, Qt.TextElideMode.ElideRight, rect.width() + 1)
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)

        for i, col in enumerate(s.columns):
            place_ = layout.columns[i]
            x = place_.x
            edge = _series(col.series) if col.path is not None else QColor(_INPUT)
            is_sel = col.path is not None and col.path == selected
            fill = QColor(edge) if is_sel else QColor(base)
            if is_sel:
                fill.setAlpha(110)
            p.setPen(QPen(edge, 2.2 if is_sel else 1.5))
            p.setBrush(fill)
            for y in place_.ys.tolist():
                p.drawEllipse(QPointF(x, y), r, r)

            p.setFont(small)
            if place_.ellipsis_y is not None:
                words = f"⋮ {col.hidden:,} more"
                if fm_small.horizontalAdvance(words) > layout.spacing - 8:
                    words = f"⋮ {col.hidden:,}"
                tw = fm_small.horizontalAdvance(words) + 6
                th = fm_small.height()
                box = QRectF(x - tw / 2, place_.ellipsis_y - th / 2, tw, th)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(base)
                p.drawRoundedRect(box, 3, 3)
                p.setPen(_TEXT_DIM)
                p.drawText(box, Qt.AlignmentFlag.AlignCenter, words)

            if col.labels:
                p.setPen(text)
                # Input names sit left of the inputs, output names right of the outputs.
                room = (x - r - 10) if i == 0 else (layout.width - x - r - 10)
                for y, name in zip(place_.ys.tolist(), col.labels, strict=True):
                    label = fm_small.elidedText(name, Qt.TextElideMode.ElideRight,
                                                max(room, 10))
                    h = fm_small.height()
                    if i == 0:
                        box = QRectF(x - r - 5 - room, y - h / 2, room, h)
                        align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    else:
                        box = QRectF(x + r + 5, y - h / 2, room, h)
                        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
                    p.drawText(box, align, label)

    def _paint_blocks(self, p: QPainter, s: Structure, layout: Layout,
                      selected: LayerPath | None, back: bool) -> None:
        """Residual blocks: a tint behind their columns (``back``), then the skip arc."""
        fm = QFontMetricsF(self._small_font())
        for block, (xa, xb, y) in zip(s.blocks, layout.arcs, strict=True):
            is_sel = block.path == selected
            if back:
                if block.last > block.first:
                    left = layout.columns[block.first + 1].rect
                    right = layout.columns[block.last].rect
                    bottom = max(layout.columns[k].rect[1] + layout.columns[k].rect[3]
                                 for k in range(block.first + 1, block.last + 1))
                    top = y + layout.arc_h - 6
                    tint = colors.kind_color("residual")
                    tint.setAlpha(55 if is_sel else 24)
                    p.setPen(Qt.PenStyle.NoPen)
                    p.setBrush(tint)
                    p.drawRoundedRect(QRectF(left[0], top, right[0] + right[2] - left[0],
                                             bottom - top), 8, 8)
                continue
            colour = QColor(colors.ERROR) if not block.widths_ok else QColor(_RESIDUAL)
            base_y = y + layout.arc_h - 6
            path = QPainterPath(QPointF(xa, base_y))
            path.cubicTo(QPointF(xa, y), QPointF(xb, y), QPointF(xb, base_y))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(colour, 3.0 if is_sel else 1.6))
            p.drawPath(path)
            # Arrowhead: the skip is added at the block's output.
            p.setBrush(colour)
            p.setPen(Qt.PenStyle.NoPen)
            p.drawPolygon(QPolygonF([QPointF(xb - 4, base_y - 6), QPointF(xb + 4, base_y - 6),
                                     QPointF(xb, base_y)]))
            words = ("skip via projection" if block.projection else
                     "skip: widths differ" if not block.widths_ok else "skip +")
            p.setFont(self._small_font())
            tw = fm.horizontalAdvance(words) + 8
            th = fm.height()
            box = QRectF((xa + xb) / 2 - tw / 2, y + 3 - th / 2 + 2, tw, th)
            p.setBrush(self._background())
            p.drawRoundedRect(box, 3, 3)
            p.setPen(colour)
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, words)

    def _paint_badges(self, p: QPainter, s: Structure, layout: Layout,
                      selected: LayerPath | None, text: QColor) -> None:
        font = self._small_font()
        fm = QFontMetricsF(font)
        p.setFont(font)
        for badge, rect, words in zip(s.badges, layout.badges, layout.badge_texts,
                                      strict=True):
            if rect is None:  # summarised by the note
                continue
            colour = colors.kind_color(badge.kind)
            is_sel = badge.path == selected
            fill = QColor(colour)
            fill.setAlpha(150 if is_sel else 40)
            box = QRectF(*rect)
            # ``place`` sized the badge for its text; only a last-resort layout cuts it.
            words = fm.elidedText(words, Qt.TextElideMode.ElideRight, box.width() - 4)
            p.setPen(QPen(colour.darker(120), 2.0 if is_sel else 1.0))
            p.setBrush(fill)
            p.drawRoundedRect(box, box.height() / 2, box.height() / 2)
            p.setPen(text)
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, words)
        if layout.note is not None:
            words, rect = layout.note
            box = QRectF(*rect)
            kinds = {b.kind for b, r in zip(s.badges, layout.badges, strict=True) if r is None}
            colour = colors.kind_color(kinds.pop() if len(kinds) == 1 else "activation")
            fill = QColor(colour)
            fill.setAlpha(40)
            p.setPen(QPen(colour.darker(120), 1.0))
            p.setBrush(fill)
            p.drawRoundedRect(box, box.height() / 2, box.height() / 2)
            p.setPen(text)
            p.drawText(box, Qt.AlignmentFlag.AlignCenter,
                       fm.elidedText(words, Qt.TextElideMode.ElideRight, box.width() - 8))

    def _paint_legend(self, p: QPainter, s: Structure, layout: Layout, text: QColor) -> None:
        font = self._small_font()
        fm = QFontMetricsF(font)
        p.setFont(font)
        y = layout.legend_y + fm.height() / 2
        x = 8.0
        if self._buckets is not None:
            for colour, words in ((colors.POSITIVE, "positive"), (colors.NEGATIVE, "negative")):
                p.setPen(QPen(colour, 2.5))
                p.drawLine(QPointF(x, y), QPointF(x + 18, y))
                x += 22
                p.setPen(text)
                p.drawText(QPointF(x, y + fm.ascent() / 2 - 1), words)
                x += fm.horizontalAdvance(words) + 12
            note = "weight; thicker = larger |w| in its layer"
        else:
            p.setPen(QPen(_NEUTRAL, 1.2))
            p.drawLine(QPointF(x, y), QPointF(x + 18, y))
            x += 22
            note = "grey: no weights yet (colours appear when training starts)"
        p.setPen(_TEXT_DIM)
        p.drawText(QPointF(x, y + fm.ascent() / 2 - 1),
                   fm.elidedText(note, Qt.TextElideMode.ElideRight, max(layout.width - x - 8, 40)))
        if self._net is not None:
            try:
                shape = "-".join(str(c.units) for c in s.columns)
                info = f"{shape}  ·  {self._net.parameter_count():,} parameters"
            except TypeError:
                info = ""
            wide = fm.horizontalAdvance(info)
            if x + fm.horizontalAdvance(note) + wide + 24 < layout.width:
                p.drawText(QPointF(layout.width - 8 - wide, y + fm.ascent() / 2 - 1), info)

    # --------------------------------------------------------------- interaction
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
            if col.path is None:
                names = ", ".join(col.labels[:4]) + (" …" if len(col.labels) > 4 else "")
                extra = f" ({names})" if names else ""
                return f"Inputs: {col.units} features per sample{extra}."
            n_in = input_features(net, col.path)
            layer = layer_at(net, col.path)
            words = (f"{col.title}: {col.units} neurons, each connected to all {n_in} "
                     f"values before it ({layer.parameter_count(n_in):,} parameters).")
            if col.hidden:
                words += f" {len(col.shown)} neurons are drawn, {col.hidden:,} summarised."
            return words + " Click to select this layer."
        path = path_at(s, hit)
        assert path is not None
        layer = layer_at(net, path)
        info = LAYER_KINDS.get(layer.kind)
        desc = info.description if info else ""
        return f"{layer.summary()}: {desc} Click to select this layer."


def _series(index: int | None) -> QColor:
    return colors.series_color(index) if index is not None else QColor(_INPUT)
