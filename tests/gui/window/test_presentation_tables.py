"""The window's presentation tables keyed by registry names have an entry for every
registry entry: kind colours, kind glyphs and short activation names (issue 12)."""

from __future__ import annotations

from PySide6.QtGui import QColor

from core import ACTIVATIONS, LAYER_KINDS
from gui.colors import KIND_COLORS, kind_color
from gui.diagram.structure import SHORT_ACTIVATIONS
from gui.icons import KIND_GLYPHS, kind_pixmap


def test_every_layer_kind_has_its_own_colour():
    assert set(KIND_COLORS) == set(LAYER_KINDS)
    assert len(set(KIND_COLORS.values())) == len(KIND_COLORS)  # told apart by colour
    assert all(QColor(c).isValid() for c in KIND_COLORS.values())


def test_every_layer_kind_has_its_own_glyph(qapp):
    assert set(KIND_GLYPHS) == set(LAYER_KINDS)
    images = {kind: kind_pixmap(kind, 24).toImage() for kind in LAYER_KINDS}
    assert len({bytes(img.constBits()) for img in images.values()}) == len(images)
    for kind, img in images.items():  # drawn in the kind's colour
        assert img.pixelColor(12, 1).alpha() > 0, kind
        assert kind_color(kind) == QColor(KIND_COLORS[kind])


def test_every_activation_has_a_short_name():
    assert set(SHORT_ACTIVATIONS) == set(ACTIVATIONS)
    assert all(0 < len(text) <= 6 for text in SHORT_ACTIVATIONS.values())
    assert len(set(SHORT_ACTIVATIONS.values())) == len(SHORT_ACTIVATIONS)
