"""Colours shared by the layer cards, the plots' curves and the diagram, so a layer has
one colour everywhere. Chosen from a colour-blind-friendly qualitative palette (Tol's
"bright" and "muted" sets)."""

from __future__ import annotations

from PySide6.QtGui import QColor

_PALETTE = ("#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB",
            "#332288", "#117733", "#882255", "#44AA99", "#999933")

#: The accent of every layer kind of ``core.design.spec.LAYER_KINDS`` (tested).
KIND_COLORS = {
    "dense": "#4477AA",
    "activation": "#228833",
    "dropout": "#CCBB44",
    "batchnorm": "#AA3377",
    "residual": "#66CCEE",
    "conv2d": "#332288",
    "maxpool2d": "#117733",
    "avgpool2d": "#44AA99",
    "flatten": "#999933",
    "global_avgpool": "#882255",
}
# Tol's "bright" set without its grey (unreadable on white), then his "muted" set, so
# even a 20-class CSV gets distinct colours before they repeat.
_CLASS_COLORS = ("#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377",
                 "#332288", "#117733", "#999933", "#882255", "#44AA99", "#DDCC77",
                 "#CC6677", "#88CCEE", "#AA4499")
ERROR = QColor("#C0392B")
WARNING = QColor("#D68910")
POSITIVE = QColor("#2E6FBA")  # positive weights in the diagram
NEGATIVE = QColor("#D1495B")  # negative weights
PLOT_TEXT = "#333333"  # titles, labels and tick labels of the plots, and their legends


def series_color(index: int) -> QColor:
    """The colour of the ``index``-th layer with parameters (curves and cards)."""
    return QColor(_PALETTE[index % len(_PALETTE)])


def class_color(index: int) -> QColor:
    """Colour of class ``index``: dataset previews, the decision surface, the diagram's
    output neurons."""
    return QColor(_CLASS_COLORS[index % len(_CLASS_COLORS)])


def kind_color(kind: str) -> QColor:
    """The accent colour of a layer kind (palette icons, card edges)."""
    return QColor(KIND_COLORS.get(kind, "#777777"))
