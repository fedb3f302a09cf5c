"""The confusion matrix keeps every class in view, whatever the window does, and its
class labels never run into each other: abbreviated to fit, full names in tooltips."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QFont, QFontMetrics

from gui.training.prediction_views import ConfusionView, fit_labels

DIGITS = tuple(str(i) for i in range(10))
IRIS = ("setosa", "versicolor", "virginica")


@pytest.fixture
def view(qtbot) -> ConfusionView:
    v = ConfusionView()
    qtbot.addWidget(v)
    return v


def _settle(qtbot) -> None:
    qtbot.wait(30)


def _covers_all(view: ConfusionView, n: int) -> bool:
    (x0, x1), (y0, y1) = view.plot.getViewBox().viewRange()
    return x0 <= -0.5 and x1 >= n - 0.5 and y0 <= -0.5 and y1 >= n - 0.5


@pytest.mark.parametrize("size", [(300, 700), (900, 260), (500, 500)])
def test_every_class_is_in_view_when_the_classes_arrive_in_a_laid_out_view(view, qtbot,
                                                                          size):
    view.resize(*size)
    view.show()
    _settle(qtbot)  # laid out, no resize to come: what was set is what stays
    view.set_classes(DIGITS)
    view.set_confusion(np.eye(10, dtype=np.int64) * 5)
    assert _covers_all(view, 10)


def test_every_class_stays_in_view_after_a_maximise_and_resizes(view, qtbot):
    view.resize(320, 260)
    view.show()
    view.set_classes(DIGITS)
    view.set_confusion(np.eye(10, dtype=np.int64) * 5)
    _settle(qtbot)
    for size in ((1900, 1000), (240, 900), (1300, 300)):
        view.resize(*size)
        _settle(qtbot)
        assert _covers_all(view, 10), size
    view.showMaximized()
    _settle(qtbot)
    assert _covers_all(view, 10)


def _bottom_labels(view: ConfusionView) -> tuple[list[str], float]:
    axis = view.axes["bottom"]
    values = axis.tickValues(*axis.range, axis.size().width())[0][1]
    lo, hi = axis.range
    return axis.tickStrings(values, 1.0, 1.0), axis.size().width() / (hi - lo)


@pytest.mark.parametrize("width", [260, 330, 420])
def test_iris_labels_never_run_together_in_a_small_view(view, qtbot, width):
    view.resize(width, 260)
    view.show()
    view.set_classes(IRIS)
    _settle(qtbot)
    labels, column = _bottom_labels(view)
    metrics = QFontMetrics(QFont())  # the axis's tick font (pyqtgraph's default)
    assert len(labels) == 3 and len(set(labels)) == 3  # still told apart
    for label in labels:
        assert metrics.horizontalAdvance(label) < column  # fits its own column
    assert labels[0] == "setosa" or width < 300  # short names stay whole where they fit


def test_labels_are_whole_when_there_is_room(view, qtbot):
    view.resize(1200, 700)
    view.show()
    view.set_classes(IRIS)
    _settle(qtbot)
    assert _bottom_labels(view)[0] == list(IRIS)


def test_fit_labels_abbreviate_to_distinct_prefixes_then_numbers():
    metrics = QFontMetrics(QFont())
    names = ("versicolor", "virginica", "setosa")
    wide = fit_labels(names, 1000, metrics)
    assert wide == list(names)
    narrow = fit_labels(names, metrics.horizontalAdvance("vir."), metrics)
    assert len(set(narrow)) == 3
    assert all(metrics.horizontalAdvance(t) <= metrics.horizontalAdvance("vir.")
               for t in narrow)
    assert narrow[1].startswith("vi")
    tiny = fit_labels(names, metrics.horizontalAdvance("0"), metrics)
    assert tiny == ["0", "1", "2"]


def test_tooltips_carry_the_full_class_names(view, qtbot):
    view.resize(300, 260)
    view.show()
    view.set_classes(IRIS)
    view.set_confusion(np.array([[5, 0, 0], [0, 4, 1], [0, 2, 3]]))
    _settle(qtbot)
    assert view.cell_text(1, 2) == "true: versicolor\npredicted: virginica\n1 sample"
    vb = view.plot.getViewBox()
    view._on_mouse_moved(vb.mapViewToScene(QPointF(2, 1)))  # over the cell (1, 2)
    assert view.graphics.toolTip() == view.cell_text(1, 2)
    axis = view.axes["bottom"].sceneBoundingRect()
    x = vb.mapViewToScene(QPointF(1, 0)).x()
    view._on_mouse_moved(QPointF(x, axis.center().y()))  # over the second column's label
    assert view.graphics.toolTip() == "predicted: versicolor"
