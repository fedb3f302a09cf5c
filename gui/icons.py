"""Layer-kind icons, drawn with QPainter so no image files ship with the program.

Each kind (``core.LAYER_KINDS``) gets a small glyph in its accent colour
(``gui.colors.kind_color``) on a lightly tinted rounded tile: a fully connected pair of
columns for Dense, an S-curve for Activation, a grid with silenced dots for Dropout, a
bell curve for BatchNorm and a skip arrow for a Residual block. The palette, the layer
cards and drag pixmaps all use ``kind_icon`` so a kind looks the same everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from gui.colors import kind_color

_SIZES = (16, 20, 24, 32, 48, 64)
_cache: dict[str, QIcon] = {}

# Every glyph is drawn in a 24 x 24 box; the painter is scaled to the pixmap size.
_Glyph = Callable[[QPainter, QColor], None]


def _pen(color: QColor, width: float = 1.6) -> QPen:
    pen = QPen(color, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def _dense(p: QPainter, c: QColor) -> None:
    left = [QPointF(6.5, y) for y in (6.5, 12.0, 17.5)]
    right = [QPointF(17.5, y) for y in (8.5, 15.5)]
    faded = QColor(c)
    faded.setAlphaF(0.55)
    p.setPen(_pen(faded, 1.0))
    for a in left:
        for b in right:
            p.drawLine(a, b)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(c)
    for pt in left + right:
        p.drawEllipse(pt, 2.1, 2.1)


def _activation(p: QPainter, c: QColor) -> None:
    axis = QColor(c)
    axis.setAlphaF(0.4)
    p.setPen(_pen(axis, 1.0))
    p.drawLine(QPointF(4.5, 12.0), QPointF(19.5, 12.0))
    p.drawLine(QPointF(12.0, 4.5), QPointF(12.0, 19.5))
    path = QPainterPath()
    for i in range(41):
        x = 4.5 + 15.0 * i / 40
        y = 12.0 - 6.5 * math.tanh((x - 12.0) / 2.6)
        if i == 0:
            path.moveTo(x, y)
        else:
            path.lineTo(x, y)
    p.setPen(_pen(c, 2.0))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(path)


def _dropout(p: QPainter, c: QColor) -> None:
    silenced = {(0, 1), (1, 2), (2, 0)}
    for row in range(3):
        for col in range(3):
            centre = QPointF(6.5 + 5.5 * col, 6.5 + 5.5 * row)
            if (row, col) in silenced:
                p.setPen(_pen(c, 1.2))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawEllipse(centre, 1.9, 1.9)
            else:
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(c)
                p.drawEllipse(centre, 2.1, 2.1)


def _batchnorm(p: QPainter, c: QColor) -> None:
    path = QPainterPath()
    for i in range(41):
        x = 3.5 + 17.0 * i / 40
        y = 18.5 - 12.0 * math.exp(-((x - 12.0) / 3.4) ** 2)
        if i == 0:
            path.moveTo(x, y)
        else:
            path.lineTo(x, y)
    base = QColor(c)
    base.setAlphaF(0.45)
    p.setPen(_pen(base, 1.0))
    p.drawLine(QPointF(3.5, 19.0), QPointF(20.5, 19.0))
    p.drawLine(QPointF(12.0, 5.5), QPointF(12.0, 19.0))
    p.setPen(_pen(c, 2.0))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(path)


def _residual(p: QPainter, c: QColor) -> None:
    # The layers (a box) on the main path, the skip connection arcing over them into a
    # circled "+" where input and output are added.
    y = 17.5
    p.setPen(_pen(c, 1.4))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRoundedRect(QRectF(7.0, y - 3.0, 7.0, 6.0), 1.5, 1.5)
    p.drawLine(QPointF(2.5, y), QPointF(7.0, y))
    p.drawLine(QPointF(14.0, y), QPointF(16.4, y))
    p.drawEllipse(QPointF(19.0, y), 2.6, 2.6)
    p.drawLine(QPointF(17.7, y), QPointF(20.3, y))
    p.drawLine(QPointF(19.0, y - 1.3), QPointF(19.0, y + 1.3))
    arc = QPainterPath(QPointF(4.5, y))
    arc.cubicTo(QPointF(4.5, 4.0), QPointF(19.0, 3.0), QPointF(19.0, 13.6))
    p.setPen(_pen(c, 1.7))
    p.drawPath(arc)
    p.drawLine(QPointF(17.1, 11.8), QPointF(19.0, 13.8))
    p.drawLine(QPointF(20.9, 11.8), QPointF(19.0, 13.8))


def _generic(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 1.6))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRoundedRect(QRectF(6.0, 6.0, 12.0, 12.0), 2.0, 2.0)


#: The glyph of every layer kind of ``core.design.spec.LAYER_KINDS`` (tested).
KIND_GLYPHS: dict[str, _Glyph] = {
    "dense": _dense,
    "activation": _activation,
    "dropout": _dropout,
    "batchnorm": _batchnorm,
    "residual": _residual,
}


def paint_kind_glyph(painter: QPainter, rect: QRectF, kind: str) -> None:
    """Draw ``kind``'s tile and glyph into ``rect`` (square is best) with ``painter``."""
    color = kind_color(kind)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.translate(rect.topLeft())
    side = min(rect.width(), rect.height())
    painter.scale(side / 24.0, side / 24.0)
    tile = QColor(color)
    tile.setAlphaF(0.16)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(tile)
    painter.drawRoundedRect(QRectF(0.5, 0.5, 23.0, 23.0), 5.0, 5.0)
    KIND_GLYPHS.get(kind, _generic)(painter, color)
    painter.restore()


def kind_pixmap(kind: str, size: int, device_pixel_ratio: float = 1.0) -> QPixmap:
    """``kind``'s icon as a ``size`` x ``size`` (logical pixels) pixmap."""
    physical = max(1, round(size * device_pixel_ratio))
    pm = QPixmap(physical, physical)
    pm.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pm)
    paint_kind_glyph(painter, QRectF(0, 0, physical, physical), kind)
    painter.end()
    pm.setDevicePixelRatio(device_pixel_ratio)
    return pm


def kind_icon(kind: str) -> QIcon:
    """The icon of a layer kind (cached), with pixmaps for the usual sizes."""
    icon = _cache.get(kind)
    if icon is None:
        icon = QIcon()
        for size in _SIZES:
            icon.addPixmap(kind_pixmap(kind, size))
        _cache[kind] = icon
    return icon
