"""One input row drawn as the image it is (the dataset preview's thumbnails, the gallery
of misclassified samples): grey images as dark ink on white, three channels in colour.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

__all__ = ["sample_image"]


def sample_image(values: np.ndarray, shape: tuple[int, ...], lo: float = 0.0,
                 hi: float = 1.0) -> QImage:
    """``values`` (h*w,) or (c*h*w,) as a QImage of ``shape`` (h, w) or (c, h, w),
    channels first; values are scaled from [lo, hi] (the data's range) to [0, 1] and
    clipped. One channel is drawn as ink (high values dark, as pen strokes in the
    digits), three as RGB; of other channel counts the first is drawn."""
    span = hi - lo if hi > lo else 1.0
    pixels = np.clip((np.asarray(values, dtype=np.float64) - lo) / span, 0.0, 1.0)
    if len(shape) == 3:
        c, h, w = shape
        planes = pixels[:c * h * w].reshape(c, h, w)
        if c == 3:
            rgb = np.ascontiguousarray((255 * planes.transpose(1, 2, 0)).astype(np.uint8))
            return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        pixels = planes[0]
    else:
        h, w = shape
        pixels = pixels[:h * w].reshape(h, w)
    gray = np.ascontiguousarray((255 * (1.0 - pixels)).astype(np.uint8))
    # copy(): the QImage must own its pixels, not borrow the temporary array.
    return QImage(gray.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
