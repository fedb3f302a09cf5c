"""Small images in a wrapping grid, each with a caption: the filters page's filters and
the feature-maps page's channels. Values become colours on the diagram's diverging scale
(``gui.diagram.heatmap_style``: red negative, white zero, blue positive), so a filter or
a map reads like the diagram's weights.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from gui.diagram.heatmap_style import column_scale, signed_rgb

__all__ = ["ImageGrid", "shared_scale", "signed_image", "signed_images"]

GAP = 6  # px between tiles
CAPTION_COLOR = QColor("#555555")
FRAME_COLOR = QColor("#BBBBBB")


def shared_scale(values: np.ndarray) -> float:
    """The one scale of a set of maps: their largest finite |value| (at least a tiny
    number, so all-zero maps are white)."""
    return column_scale(values)


def signed_image(values: np.ndarray, scale: float) -> QImage:
    """``values`` (h, w) as an RGB QImage on the diverging scale ±``scale``; channels of
    a (c, h, w) array are laid side by side with a one-pixel white gap."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 3:
        c, h, w = v.shape
        wide = np.full((h, c * (w + 1) - 1), 0.0)
        for i in range(c):
            wide[:, i * (w + 1):i * (w + 1) + w] = v[i]
        v = wide
    rgb = np.ascontiguousarray(signed_rgb(v, scale))
    h, w = v.shape
    # copy(): the QImage must own its pixels, not borrow the temporary array.
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def signed_images(maps: np.ndarray, scale: float) -> list[QImage]:
    """Each (h, w) map of ``maps`` (k, h, w) as ``signed_image`` draws it, coloured in
    one call for all k (a layer's channels share their scale)."""
    rgb = signed_rgb(np.asarray(maps, dtype=np.float64), scale)
    k, h, w = rgb.shape[:3]
    out = []
    for i in range(k):
        plane = np.ascontiguousarray(rgb[i])
        out.append(QImage(plane.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy())
    return out


class ImageGrid(QWidget):
    """Tiles of ``tile`` pixels (the longer side; aspect kept, square pixels, no
    smoothing: a 3x3 filter is nine squares) with a caption under each, wrapping to the
    widget's width. Its height follows the width (``heightForWidth``)."""

    def __init__(self, tile: int = 48, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tile = tile
        self._images: list[QImage] = []
        self._captions: list[str] = []
        self._sizes: list[QSize] = []
        self._cell_size = QSize(tile + GAP, tile + GAP)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def set_tiles(self, images: list[QImage], captions: list[str]) -> None:
        """Show ``images`` with ``captions`` (one each)."""
        # Sizes computed once here: layout asks heightForWidth many times per pass.
        sizes = [self._tile_size(im) for im in images]
        line = self.fontMetrics().height()
        widest = max([self.tile] + [s.width() for s in sizes])
        cell = QSize(widest + GAP, self.tile + line + GAP)
        changed = cell != self._cell_size or len(images) != len(self._images)
        self._images, self._captions, self._sizes = list(images), list(captions), sizes
        self._cell_size = cell
        if changed:  # the same tiles again (a live update) need no new layout
            self.updateGeometry()
        self.update()

    @property
    def count(self) -> int:
        return len(self._images)

    def _cell(self) -> QSize:
        return self._cell_size

    def _tile_size(self, image: QImage) -> QSize:
        return image.size().scaled(QSize(self.tile * max(1, image.width() // max(
            image.height(), 1)), self.tile), Qt.AspectRatioMode.KeepAspectRatio)

    def _columns(self, width: int) -> int:
        return max(1, (width + GAP) // self._cell().width())

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        if not self._images:
            return 0
        rows = -(-len(self._images) // self._columns(width))
        return rows * self._cell().height()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        cell = self._cell()
        columns = min(max(len(self._images), 1), 8)
        return QSize(columns * cell.width(), self.heightForWidth(columns * cell.width()))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(self._cell().width(), 0)

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt's name
        if not self._images:
            return
        painter = QPainter(self)
        cell, columns = self._cell(), self._columns(self.width())
        line = self.fontMetrics().height()
        for k, (image, caption, size) in enumerate(zip(self._images, self._captions,
                                                        self._sizes, strict=True)):
            x, y = (k % columns) * cell.width(), (k // columns) * cell.height()
            target = QRect(x + (cell.width() - GAP - size.width()) // 2, y, size.width(),
                           size.height())
            # Fast (nearest) scaling: each weight or pixel stays one flat square.
            painter.drawImage(target, image)
            painter.setPen(QPen(FRAME_COLOR))
            painter.drawRect(target.adjusted(0, 0, -1, -1))
            painter.setPen(QPen(CAPTION_COLOR))
            painter.drawText(QRect(x, y + size.height() + 1, cell.width() - GAP, line),
                             Qt.AlignmentFlag.AlignHCenter, caption)
        painter.end()
