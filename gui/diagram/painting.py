"""Painting the network diagram: the connections (grouped by pen, weak under strong), the
neurons (circles, or squares showing their output over the input plane), the stacks of
feature maps of image layers with their captions, residual blocks, badges and the
legend, for one ``Structure`` laid out as one ``Layout`` (``gui.diagram.layout``). The
widget paints the screen and its PNG and SVG exports through the same :class:`DiagramPainter`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
)

from core.design.edit import LayerPath
from gui import colors
from gui.diagram.heatmaps import NeuronKey, Strip
from gui.diagram.layout import Layout, MapsPlace
from gui.diagram.structure import Structure
from gui.diagram.weight_style import LEVELS, NEUTRAL, bucket_style

_NEUTRAL = QColor(120, 120, 120)
_INPUT = QColor("#777777")
_TEXT_DIM = QColor("#666666")
_RESIDUAL = colors.kind_color("residual").darker(160)


def weight_pen(bucket: int, background: QColor | None = None, faint: bool = False) -> QPen:
    """The pen of a connection in style ``bucket`` (see ``weight_style.bucket_style``).

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


def connection_pens(background: QColor) -> dict[tuple[int, bool], QPen]:
    """Every connection pen by (style bucket, faint), pre-blended with ``background``."""
    return {key: weight_pen(key[0], background, key[1]) for key in _ORDER}


def line_groups(layout: Layout, buckets: dict[int, np.ndarray] | None,
                pens: dict[tuple[int, bool], QPen],
                lines_cache: dict[int, list[QLineF]] | None = None
                ) -> list[tuple[QPen, list]]:
    """Connections as (pen, QLineF list) per style bucket, in paint order. ``buckets``:
    the style bucket of each drawn connection per edge block (None: all grey).
    ``lines_cache``: the QLineF lists of this layout's edge blocks by index, filled on
    first use (making thousands of QLineF took longer than drawing them, and the weights
    change the buckets four times a second while the layout stays)."""
    by_key: dict[tuple[int, bool], list] = {}
    cache = {} if lines_cache is None else lines_cache
    for i, block in enumerate(layout.edges):
        lines = cache.get(i)
        if lines is None:
            lines = cache[i] = [QLineF(*row) for row in block.lines.tolist()]
        # Hundreds of lines between two columns merge into a blur: draw them fainter.
        faint = len(lines) > DENSE_EDGES
        b = buckets.get(block.column) if buckets is not None else None
        if b is None or len(b) != len(lines):
            by_key.setdefault((NEUTRAL, faint), []).extend(lines)
            continue
        for value in np.unique(b).tolist():
            idx = np.flatnonzero(b == value).tolist()
            by_key.setdefault((value, faint), []).extend(lines[k] for k in idx)
    return [(pens[key], by_key[key]) for key in _ORDER if key in by_key]


def small_font(font: QFont) -> QFont:
    """The diagram's small text (labels, badges, legend): a point under ``font``."""
    f = QFont(font)
    f.setPointSizeF(max(font.pointSizeF() - 1, 7.0))
    return f


def title_font(font: QFont) -> QFont:
    """The column titles' font: ``font`` in bold."""
    f = QFont(font)
    f.setBold(True)
    return f


class DiagramPainter:
    """Paints a laid-out diagram in the widget's ``font`` and colours. ``weighted``: the
    connections show weights (the legend says so); ``info``: the network's shape and
    parameter count for the legend's right end ("" for none)."""

    def __init__(self, font: QFont, background: QColor, text: QColor, weighted: bool,
                 info: str, strips: dict[int, Strip] | None = None,
                 pictured: set[NeuronKey] | None = None,
                 fills: dict[NeuronKey, QColor] | None = None, right_reserve: float = 0.0
                 ) -> None:
        self.font = font
        self.small = small_font(font)
        self.title = title_font(font)
        self.background = background
        self.text = text
        self.weighted = weighted
        self.info = info
        # Neurons drawn as squares showing their output over the input plane (one image
        # per column, ``gui.diagram.heatmaps.column_strips``; ``pictured``: the neurons
        # it shows) or filled by one sample's values.
        self.strips = strips or {}
        self.pictured = (pictured or set()) if strips else set()
        self.fills = fills or {}
        self.right_reserve = right_reserve  # legend row space kept free on the right

    def paint(self, p: QPainter, s: Structure, layout: Layout,
              groups: list[tuple[QPen, list]], selected: LayerPath | None, w: float) -> None:
        """Everything on top of the background; ``groups`` from ``line_groups``."""
        text = self.text

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
        self._blocks(p, s, layout, selected, back=True)
        if selected is not None:
            for i, col in enumerate(s.columns):
                if col.path == selected:
                    c = _series(col.series)
                    c.setAlpha(34)
                    p.setPen(Qt.PenStyle.NoPen)
                    p.setBrush(c)
                    p.drawRoundedRect(QRectF(*layout.columns[i].rect), 6, 6)
        self._neurons(p, s, layout, selected, text)
        self._stop(p, s, layout, selected)
        self._blocks(p, s, layout, selected, back=False)
        self._badges(p, s, layout, selected, text)
        self._legend(p, s, layout, text)
        if len(s.columns) == 1 and s.stop is None:
            p.setPen(_TEXT_DIM)
            p.setFont(self.font)
            p.drawText(QRectF(0, layout.legend_y - 40, w, 24), Qt.AlignmentFlag.AlignCenter,
                       "No layers yet: add a Dense layer to see neurons and connections.")

    def _neurons(self, p: QPainter, s: Structure, layout: Layout,
                       selected: LayerPath | None, text: QColor) -> None:
        r = layout.radius
        small, title = self.small, self.title
        fm_small, fm_title = QFontMetricsF(small), QFontMetricsF(title)
        base = self.background

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
            if place_.maps is not None and col.maps is not None:
                m = col.maps
                self._stack(p, place_.maps, (m.caption, col.size_text, f"{m.height}×{m.width}"),
                            edge, is_sel, fm_small)
                continue
            fill = QColor(edge) if is_sel else QColor(base)
            if is_sel:
                fill.setAlpha(110)
            p.setPen(QPen(edge, 2.2 if is_sel else 1.5))
            p.setBrush(fill)
            # As few painter calls as can be: each lets the GUI thread lose the GIL
            # to the progress reader (measured in bench/gui_latency.py).
            strip = self.strips.get(i)
            if strip is not None:
                p.drawImage(strip.rect, strip.image)
            outline = QPainterPath()
            for k, y in enumerate(place_.ys.tolist()):
                key = (i, k)
                if key in self.fills:
                    p.setBrush(self.fills[key])
                    p.drawEllipse(QPointF(x, y), r, r)
                    p.setBrush(fill)
                elif key in self.pictured:
                    outline.addRoundedRect(QRectF(x - r, y - r, 2 * r, 2 * r), 2, 2)
                else:
                    p.drawEllipse(QPointF(x, y), r, r)
            if not outline.isEmpty():
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawPath(outline)

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

    def _stop(self, p: QPainter, s: Structure, layout: Layout,
              selected: LayerPath | None) -> None:
        """The layer that cannot take its input, in the slot after the last column: a
        dashed box in the error colour saying why."""
        if s.stop is None or layout.stop is None:
            return
        box = QRectF(*layout.stop)
        pen = QPen(colors.ERROR, 2.0 if s.stop.path == selected else 1.2)
        pen.setStyle(Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.setBrush(_blend(colors.ERROR, self.background, 0.06))
        p.drawRoundedRect(box, 6, 6)
        inner = box.adjusted(6, 5, -6, -5)
        fm = QFontMetricsF(self.title)
        p.setFont(self.title)
        p.setPen(colors.ERROR)
        p.drawText(QRectF(inner.left(), inner.top(), inner.width(), fm.height()),
                   Qt.AlignmentFlag.AlignLeft,
                   fm.elidedText(f"✗ {s.stop.title}", Qt.TextElideMode.ElideRight,
                                 inner.width()))
        p.setFont(self.small)
        p.setPen(self.text)
        p.drawText(inner.adjusted(0, fm.height() + 3, 0, 0),
                   Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap,
                   s.stop.why[:1].upper() + s.stop.why[1:] + ".")

    def _stack(self, p: QPainter, maps: MapsPlace, captions: tuple[str, ...], edge: QColor,
               selected: bool, fm: QFontMetricsF) -> None:
        """A stack of feature maps: opaque squares back to front (each hides most of the
        one behind), tinted in the layer's colour, and beneath the first of ``captions``
        that fits ("8 @ 8×8", "8@8×8", "8×8": the tooltip has the rest)."""
        p.setPen(QPen(edge, 2.2 if selected else 1.2))
        last = len(maps.squares) - 1
        for k, rect in enumerate(maps.squares):
            # Blend towards the background by hand: opaque fills keep the stack readable.
            share = (0.42 if selected else 0.3) if k == last else 0.14
            p.setBrush(_blend(edge, self.background, share))
            p.drawRect(QRectF(*rect))
        p.setFont(self.small)
        p.setPen(self.text)
        box = QRectF(*maps.caption)
        caption = next((c for c in captions if fm.horizontalAdvance(c) <= box.width()),
                       captions[-1])
        p.drawText(box, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                   fm.elidedText(caption, Qt.TextElideMode.ElideRight, box.width()))

    def _blocks(self, p: QPainter, s: Structure, layout: Layout,
                      selected: LayerPath | None, back: bool) -> None:
        """Residual blocks: a tint behind their columns (``back``), then the skip arc."""
        fm = QFontMetricsF(self.small)
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
            p.setFont(self.small)
            tw = fm.horizontalAdvance(words) + 8
            th = fm.height()
            box = QRectF((xa + xb) / 2 - tw / 2, y + 3 - th / 2 + 2, tw, th)
            p.setBrush(self.background)
            p.drawRoundedRect(box, 3, 3)
            p.setPen(colour)
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, words)

    def _badges(self, p: QPainter, s: Structure, layout: Layout,
                      selected: LayerPath | None, text: QColor) -> None:
        font = self.small
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

    def _legend(self, p: QPainter, s: Structure, layout: Layout, text: QColor) -> None:
        font = self.small
        fm = QFontMetricsF(font)
        p.setFont(font)
        y = layout.legend_y + fm.height() / 2
        x = 8.0
        if self.weighted:
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
        # With pictures on the neurons the line says what they are, in the room left.
        if self.strips:
            note = ("weight  ·  squares: each neuron's output over the input plane"
                    if self.weighted else
                    "no weights yet  ·  squares: the initial network's neuron outputs")
        elif self.fills:
            note = (("weight" if self.weighted else "no weights yet")
                    + "  ·  neuron colours: their values for the chosen sample")
        p.setPen(_TEXT_DIM)
        right = layout.width - self.right_reserve
        p.drawText(QPointF(x, y + fm.ascent() / 2 - 1),
                   fm.elidedText(note, Qt.TextElideMode.ElideRight, max(right - x - 8, 40)))
        if self.info:
            wide = fm.horizontalAdvance(self.info)
            if x + fm.horizontalAdvance(note) + wide + 24 < right:
                p.drawText(QPointF(right - 8 - wide, y + fm.ascent() / 2 - 1), self.info)


def _blend(colour: QColor, background: QColor, share: float) -> QColor:
    """``share`` of ``colour`` over ``background``, as an opaque colour."""
    return QColor.fromRgbF(*(share * c + (1 - share) * b for c, b in (
        (colour.redF(), background.redF()), (colour.greenF(), background.greenF()),
        (colour.blueF(), background.blueF()))))


def _series(index: int | None) -> QColor:
    return colors.series_color(index) if index is not None else QColor(_INPUT)
