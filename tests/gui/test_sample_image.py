"""An input row drawn as its image: grey as ink on white, three channels as colour."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

from gui.sample_image import sample_image


def test_one_channel_is_ink_scaled_to_the_data_range(qapp):
    image = sample_image(np.array([0.0, 8.0, 16.0, 20.0, 4.0, 0.0]), (2, 3), 0.0, 16.0)
    assert (image.width(), image.height()) == (3, 2)
    grey = [[QColor(image.pixel(x, y)).red() for x in range(3)] for y in range(2)]
    assert grey == [[255, 127, 0], [0, 191, 255]]  # high values dark, clipped at hi


def test_three_channels_first_are_colour(qapp):
    planes = np.zeros((3, 1, 2))
    planes[0, 0, 0] = 1.0  # red at (0, 0)
    planes[2, 0, 1] = 1.0  # blue at (1, 0)
    image = sample_image(planes.ravel(), (3, 1, 2))
    assert QColor(image.pixel(0, 0)).getRgb()[:3] == (255, 0, 0)
    assert QColor(image.pixel(1, 0)).getRgb()[:3] == (0, 0, 255)
