"""Render the hand-written SVG icon to the 256 px PNG shipped beside it.

    .venv/bin/python packaging/make_icon.py

Reads ``resources/icons/backprop-studio.svg`` and writes
``resources/icons/backprop-studio.png`` (256 x 256, transparent corners) with Qt's own SVG
renderer, so the PNG is exactly what the window shows. Run it again after editing the SVG.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZE = 256


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    svg = ROOT / "resources" / "icons" / "backprop-studio.svg"
    png = svg.with_suffix(".png")
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        print(f"make_icon: {svg} is not a valid SVG", file=sys.stderr)
        return 1
    image = QImage(SIZE, SIZE, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    if not image.save(str(png), "PNG"):
        print(f"make_icon: could not write {png}", file=sys.stderr)
        return 1
    print(f"wrote {png.relative_to(ROOT)} ({SIZE} x {SIZE})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
