"""How a layer's gradient diagnosis (``core.training.diagnostics``: "ok", "vanishing",
"exploding") is written in the plots' legends and tab titles. Kept apart from the pages
so that the training plots' shell can read it without importing pyqtgraph."""

from __future__ import annotations

STATUS_TEXT = {"vanishing": "⚠ vanishing", "exploding": "⚠ exploding"}
