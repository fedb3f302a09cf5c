"""In the window: a design too large to step through offers the small example, which
loads as the Lessons menu loads it (asking about unsaved changes the normal way)."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QMessageBox

from core import DenseSpec
from core.design.edit import insert_layer
from core.teach.lessons import LESSONS


def _show_stepthrough(qtbot, window) -> None:
    window.stepthrough_dock.show()
    window.stepthrough_dock.raise_()
    qtbot.waitUntil(lambda: not window.stepthrough.visibleRegion().isEmpty(), timeout=5000)
    window._refresh_stepthrough()


def test_load_the_small_example_from_a_large_design(qtbot, shown_window, monkeypatch):
    window = shown_window
    window.open_example("digits.json")
    _show_stepthrough(qtbot, window)
    panel = window.stepthrough
    assert "too large" in panel.message_text()
    assert panel.small_button.isVisible()
    # Unsaved changes: the normal question comes first; Cancel keeps the design.
    d = window.document.design
    window.document.set_design(replace(d, network=insert_layer(d.network, (0,),
                                                                DenseSpec(4))), "add")
    before = window.document.design
    asked: list[str] = []

    def cancel(_parent, _title, text, *args, **kwargs):
        asked.append(text)
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", cancel)
    panel.small_button.click()
    assert asked and "unsaved changes" in asked[0]
    assert window.document.design == before
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Discard)
    panel.small_button.click()
    lesson = LESSONS["forward_backward"]
    assert window.document.design.network == lesson.variants[0].design.network
    qtbot.waitUntil(lambda: panel.message_text() == "" and bool(panel.stages), timeout=5000)
    assert panel.diagram.widths == [2, 3, 1]


def test_a_conv_net_example_says_the_step_through_is_dense_only(qtbot, shown_window):
    window = shown_window
    window.open_example("conv_digits.json")
    _show_stepthrough(qtbot, window)
    panel = window.stepthrough
    assert "dense networks only" in panel.message_text()
    assert "Conv2D, BatchNorm" not in panel.message_text()  # only the image layers
    assert "(Conv2D, MaxPool, Flatten)" in panel.message_text()
    assert panel.small_button.isVisible()
