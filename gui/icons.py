"""Layer-kind icons, drawn with QPainter so no image files ship with the program.

Each kind (``core.LAYER_KINDS``) gets a small glyph in its accent colour
(``gui.colors.kind_color``) on a lightly tinted rounded tile: a fully connected pair of
columns for Dense, an S-curve for Activation, a grid with silenced dots for Dropout, a
bell curve for BatchNorm, a skip arrow for a Residual block, and for the image layers a
filter sliding over a grid (Conv2D), a 2×2 window keeping its strongest cell (MaxPool) or
its mean (AvgPool), a grid unrolled into a column (Flatten) and a stack of feature maps
each reduced to one value (GlobalAvgPool). The palette, the layer
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


def _faded(c: QColor, alpha: float) -> QColor:
    out = QColor(c)
    out.setAlphaF(alpha)
    return out


def _grid(p: QPainter, c: QColor, left: float, top: float, cells: int, cell: float,
          alpha: float = 0.45) -> None:
    """A ``cells`` x ``cells`` grid of squares ``cell`` wide: an image or feature map."""
    p.setPen(_pen(_faded(c, alpha), 0.9))
    p.setBrush(Qt.BrushStyle.NoBrush)
    side = cells * cell
    for k in range(cells + 1):
        p.drawLine(QPointF(left + k * cell, top), QPointF(left + k * cell, top + side))
        p.drawLine(QPointF(left, top + k * cell), QPointF(left + side, top + k * cell))


def _arrow(p: QPainter, c: QColor, x0: float, x1: float, y: float) -> None:
    p.setPen(_pen(c, 1.4))
    p.drawLine(QPointF(x0, y), QPointF(x1, y))
    p.drawLine(QPointF(x1 - 2.2, y - 2.2), QPointF(x1, y))
    p.drawLine(QPointF(x1 - 2.2, y + 2.2), QPointF(x1, y))


def _dots(p: QPainter, c: QColor, x: float, top: float, step: float, n: int,
          radius: float) -> None:
    """A column of ``n`` values (dots) from ``top`` down, ``step`` apart."""
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(c)
    for k in range(n):
        p.drawEllipse(QPointF(x, top + step * k), radius, radius)


def _conv2d(p: QPainter, c: QColor) -> None:
    # A filter (the bold 3×3 window) on the image grid; its weighted sum is one cell of
    # the smaller output map (top right).
    _grid(p, c, 2.5, 7.5, 5, 2.8, alpha=0.35)
    p.setBrush(_faded(c, 0.3))
    p.setPen(_pen(c, 1.6))
    p.drawRect(QRectF(2.5, 10.3, 8.4, 8.4))
    p.setPen(_pen(_faded(c, 0.8), 1.0))
    p.drawLine(QPointF(10.9, 10.3), QPointF(17.0, 6.5))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(c)
    p.drawRect(QRectF(17.0, 3.0, 4.5, 4.5))


def _pool_cells(p: QPainter, c: QColor, fills: tuple[float, ...], out: float) -> None:
    """A 2×2 window (``fills``: each cell's opacity, 0 for empty) and an arrow to the one
    cell it becomes (opacity ``out``)."""
    for k, alpha in enumerate(fills):
        rect = QRectF(3.0 + 5.5 * (k % 2), 6.5 + 5.5 * (k // 2), 5.0, 5.0)
        p.setPen(_pen(c, 1.1))
        p.setBrush(_faded(c, alpha) if alpha else Qt.BrushStyle.NoBrush)
        p.drawRect(rect)
    _arrow(p, c, 14.0, 16.6, 12.0)
    p.setPen(_pen(c, 1.1))
    p.setBrush(_faded(c, out))
    p.drawRect(QRectF(18.2, 9.5, 4.5, 5.0))


def _maxpool2d(p: QPainter, c: QColor) -> None:
    # Pooling keeps the strongest response of each window: one solid cell survives.
    _pool_cells(p, c, (0.0, 1.0, 0.0, 0.0), 1.0)


def _avgpool2d(p: QPainter, c: QColor) -> None:
    # Every cell of the window contributes: all half-filled, and so is the result.
    _pool_cells(p, c, (0.25, 0.75, 0.5, 0.35), 0.5)


def _flatten(p: QPainter, c: QColor) -> None:
    # A 3×3 map unrolled row after row into one long column of values.
    _grid(p, c, 2.5, 7.5, 3, 3.0, alpha=0.9)
    _arrow(p, c, 12.0, 15.2, 12.0)
    _dots(p, c, 19.8, 4.8, 3.6, 5, 1.4)


def _global_avgpool(p: QPainter, c: QColor) -> None:
    # A stack of feature maps, each averaged into one value (one dot per map).
    for k in range(3):
        off = 2.2 * k
        p.setPen(_pen(c, 1.1))
        p.setBrush(_faded(c, 0.15 + 0.1 * k))
        p.drawRect(QRectF(6.6 - off, 4.0 + off, 8.5, 8.5))
    _arrow(p, c, 12.0, 16.2, 17.0)
    _dots(p, c, 19.5, 11.5, 4.2, 3, 1.8)


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
    "conv2d": _conv2d,
    "maxpool2d": _maxpool2d,
    "avgpool2d": _avgpool2d,
    "flatten": _flatten,
    "global_avgpool": _global_avgpool,
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
