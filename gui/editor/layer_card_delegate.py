"""Paints each layer of the network editor as a card.

A card is a rounded rectangle with the kind's colour on its left edge, the kind's icon,
a title with the key settings (``LayerSpec.summary()``), a line saying what goes in and
out ("128 → 10 features", "1 @ 8×8 → 8 @ 8×8": ``gui.shape_text``), and on the right the
output shape ``(batch, n)`` or ``(batch, C, H, W)`` and the parameter count.
Layers that own parameters carry a small swatch in their series colour (the colour of
their curves in the live plots); layers the network check flags get a red edge and a
"!" badge. Residual blocks get a chevron that folds their children away.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from core import LAYER_KINDS
from core.design.shapes import batch_shape_text
from core.words import plural
from gui.colors import ERROR, WARNING, kind_color, series_color
from gui.editor.layer_model import (
    KIND_ROLE,
    PROBLEMS_ROLE,
    ROW_ROLE,
    SERIES_ROLE,
    SPEC_ROLE,
    TITLE_ROLE,
)
from gui.icons import paint_kind_glyph
from gui.shape_text import flow_text, size_text

MARGIN_Y = 3  # gap above and below each card (half the space between two cards)
MARGIN_X = 4
PAD = 8  # inner padding
EDGE = 5  # width of the coloured kind edge
ICON = 24
CHEVRON = 14
RADIUS = 6.0


def muted_color(palette: QPalette) -> QColor:
    """Secondary text: the text colour, faded towards the background."""
    text = palette.color(QPalette.ColorRole.Text)
    base = palette.color(QPalette.ColorRole.Base)
    return QColor((text.red() * 3 + base.red() * 2) // 5, (text.green() * 3 + base.green() * 2)
                  // 5, (text.blue() * 3 + base.blue() * 2) // 5)


def small_font(font: QFont) -> QFont:
    f = QFont(font)
    if f.pointSizeF() > 0:
        f.setPointSizeF(f.pointSizeF() * 0.9)
    else:
        f.setPixelSize(max(8, round(f.pixelSize() * 0.9)))
    return f


def bold_font(font: QFont) -> QFont:
    f = QFont(font)
    f.setBold(True)
    return f


class LayerCardDelegate(QStyledItemDelegate):
    """Draws a ``LayerModel`` row as a card; ``is_expanded(index)`` tells it whether a
    residual block's children are shown (for the chevron)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.is_expanded = lambda index: True

    # --------------------------------------------------------------- geometry
    @staticmethod
    def card_rect(rect: QRect) -> QRect:
        """The card inside a row's rectangle (the rest is the gap between cards)."""
        return rect.adjusted(MARGIN_X // 2, MARGIN_Y, -MARGIN_X, -MARGIN_Y)

    @staticmethod
    def chevron_rect(rect: QRect) -> QRect:
        """Where a residual block's fold chevron is, for a row's rectangle."""
        card = LayerCardDelegate.card_rect(rect)
        return QRect(card.left() + EDGE + 4, card.center().y() - CHEVRON // 2, CHEVRON,
                     CHEVRON)

    def sizeHint(self, option: QStyleOptionViewItem,  # noqa: N802 - Qt's name
                 index: QModelIndex) -> QSize:
        """As wide as the card needs to show its title, features line and right column
        whole (the view is given at least that width; narrower, the text elides)."""
        title = QFontMetrics(bold_font(option.font))
        small = QFontMetrics(small_font(option.font))
        height = max(title.height() + small.height() + 3, ICON) + 2 * PAD + 2 * MARGIN_Y
        return QSize(self.card_width(option.font, index), height)

    def card_width(self, font: QFont, index: QModelIndex) -> int:
        """The row width (card and gaps) at which nothing on the card is elided."""
        kind = index.data(KIND_ROLE)
        if kind is None:
            return 240
        row = index.data(ROW_ROLE)
        fm_bold, fm_small = QFontMetrics(bold_font(font)), QFontMetrics(small_font(font))
        left = MARGIN_X // 2 + EDGE + 6 + ICON + 8
        if LAYER_KINDS[kind].container:
            left += CHEVRON + 2
        text = max(fm_bold.horizontalAdvance(index.data(TITLE_ROLE) or ""),
                   fm_small.horizontalAdvance(self._subtitle(index, row)))
        shape_text, params_text = self._right_texts(row)
        series = index.data(SERIES_ROLE)
        swatch = 13 if series is not None and series >= 0 else 0
        column = max(fm_small.horizontalAdvance(shape_text),
                     fm_small.horizontalAdvance(params_text) + swatch)
        return left + text + 8 + column + PAD + MARGIN_X + 2

    @staticmethod
    def _right_texts(row) -> tuple[str, str]:
        """The right column: output shape above ("(batch, ?)" when a layer before cannot
        take its input), parameter count below."""
        if row is None:
            shape_text = ""
        else:
            shape_text = batch_shape_text(row.out_shape) if row.out_shape else "(batch, ?)"
        params = row.parameters if row else 0
        return shape_text, plural(params, "param") if params else "no params"

    # ---------------------------------------------------------------- painting
    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex) -> None:
        kind = index.data(KIND_ROLE)
        if kind is None:
            return
        row = index.data(ROW_ROLE)
        problems: list[str] = index.data(PROBLEMS_ROLE) or []
        series: int = index.data(SERIES_ROLE)
        title: str = index.data(TITLE_ROLE)
        info = LAYER_KINDS[kind]
        pal = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        accent = kind_color(kind)
        muted = muted_color(pal)

        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        card = QRectF(self.card_rect(option.rect)).adjusted(0.5, 0.5, -0.5, -0.5)
        shape = QPainterPath()
        shape.addRoundedRect(card, RADIUS, RADIUS)

        fill = QColor(pal.color(QPalette.ColorRole.Base))
        if selected:
            tint = QColor(pal.color(QPalette.ColorRole.Highlight))
            tint.setAlphaF(0.14)
            painter.fillPath(shape, fill)
            fill = tint
        painter.fillPath(shape, fill)
        # The kind's colour along the left edge, clipped to the card's rounded corners.
        painter.save()
        painter.setClipPath(shape)
        painter.fillRect(QRectF(card.left(), card.top(), EDGE, card.height()), accent)
        painter.restore()

        if problems:
            border = QPen(ERROR, 1.6)
        elif selected:
            border = QPen(pal.color(QPalette.ColorRole.Highlight), 2.0)
        else:
            edge = QColor(pal.color(QPalette.ColorRole.Mid))
            if hovered:
                edge = edge.darker(130)
            border = QPen(edge, 1.0)
        painter.setPen(border)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(shape)

        x = card.left() + EDGE + 6
        if info.container and index.model().hasChildren(index):
            self._paint_chevron(painter, self.chevron_rect(option.rect), muted,
                                self.is_expanded(index))
        if info.container:
            x += CHEVRON + 2
        icon_rect = QRectF(x, card.center().y() - ICON / 2, ICON, ICON)
        paint_kind_glyph(painter, icon_rect, kind)
        if problems:  # on the icon's corner, so it takes no room from the text
            self._paint_badge(painter, QRectF(icon_rect.right() - 8, icon_rect.top() - 5,
                                              14, 14), pal.color(QPalette.ColorRole.Base))
        text_left = icon_rect.right() + 8

        # Right column: output shape above, parameters below.
        small = small_font(option.font)
        bold = bold_font(option.font)
        fm_small, fm_bold = QFontMetrics(small), QFontMetrics(bold)
        shape_text, params_text = self._right_texts(row)
        params = row.parameters if row else 0
        right_w = max(fm_small.horizontalAdvance(shape_text),
                      fm_small.horizontalAdvance(params_text))
        right = card.right() - PAD
        line1 = card.center().y() - 1.5 - fm_small.height()
        line2 = card.center().y() + 1.5
        painter.setFont(small)
        painter.setPen(pal.color(QPalette.ColorRole.Text))
        painter.drawText(QRectF(right - right_w, line1, right_w, fm_small.height()),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, shape_text)
        painter.setPen(pal.color(QPalette.ColorRole.Text) if params else muted)
        painter.drawText(QRectF(right - right_w, line2, right_w, fm_small.height()),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         params_text)
        column_left = right - right_w
        if series >= 0:
            pw = fm_small.horizontalAdvance(params_text)
            swatch = QRectF(right - pw - 13, line2 + fm_small.height() / 2 - 4.5, 9, 9)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(series_color(series))
            painter.drawRoundedRect(swatch, 2, 2)
            column_left = min(column_left, swatch.left())

        # Title and the features line on the left, elided to the space that is left.
        text_w = max(10.0, column_left - 8 - text_left)
        top = card.center().y() - (fm_bold.height() + fm_small.height() + 3) / 2
        painter.setFont(bold)
        painter.setPen(pal.color(QPalette.ColorRole.Text))
        painter.drawText(QRectF(text_left, top, text_w, fm_bold.height()),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         fm_bold.elidedText(title, Qt.TextElideMode.ElideRight, int(text_w)))
        sub, sub_color = self._subtitle(index, row), muted
        if info.container and row is not None and not index.model().hasChildren(index):
            sub_color = WARNING
        painter.setFont(small)
        painter.setPen(sub_color)
        painter.drawText(QRectF(text_left, top + fm_bold.height() + 3, text_w,
                                fm_small.height()),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         fm_small.elidedText(sub, Qt.TextElideMode.ElideRight, int(text_w)))
        painter.restore()

    def _subtitle(self, index: QModelIndex, row) -> str:
        if row is None:
            return ""
        kind = index.data(KIND_ROLE)
        if LAYER_KINDS[kind].container:
            n = index.model().rowCount(index)
            if n == 0:
                return "empty: drop layers inside"
            if not self.is_expanded(index):
                return f"{plural(n, 'layer')} folded"
            if row.in_shape == row.out_shape:
                return "skip connection"
            change = f"{size_text(row.in_shape)} → {size_text(row.out_shape)}"
            if getattr(index.data(SPEC_ROLE), "projection", False):
                return f"skip via projection {change}"
            return f"shapes differ: {change}"
        if not row.out_shape:  # this layer or one before cannot take its input
            return "shape unknown"
        return flow_text(row.in_shape, row.out_shape)

    @staticmethod
    def _paint_chevron(painter: QPainter, rect: QRect, color: QColor, expanded: bool) -> None:
        c = QPointF(rect.center()) + QPointF(0.5, 0.5)
        pen = QPen(color, 1.8)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if expanded:
            pts = [c + QPointF(-4, -2), c + QPointF(0, 2), c + QPointF(4, -2)]
        else:
            pts = [c + QPointF(-2, -4), c + QPointF(2, 0), c + QPointF(-2, 4)]
        painter.drawPolyline(pts)

    @staticmethod
    def _paint_badge(painter: QPainter, rect: QRectF, ring: QColor) -> None:
        painter.setPen(QPen(ring, 1.5))
        painter.setBrush(ERROR)
        painter.drawEllipse(rect)
        font = QFont(painter.font())
        font.setBold(True)
        font.setPixelSize(10)
        painter.setFont(font)
        painter.setPen(QColor("white"))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "!")
